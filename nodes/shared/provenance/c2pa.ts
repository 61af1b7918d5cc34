import type { WasmReader } from '@contentauth/c2pa-wasm';
import { loadC2paWasm } from './c2paWasm';
import { isAiGeneratedSourceType, normaliseDigitalSourceType } from './digitalSourceType';

/**
 * embedded: a manifest store is in the file. remote: the file only points to one on the web, which
 * is not fetched. none: no manifest. unreadable: a manifest is there but could not be parsed.
 * unsupportedFormat: c2pa-rs cannot read manifests from this kind of file.
 */
export type C2paManifestPresence =
	'embedded' | 'remote' | 'none' | 'unreadable' | 'unsupportedFormat';

/**
 * valid: manifest, signature and content hashes check out. tampered: the content changed after
 * signing (hash mismatch). invalidSignature: the signature does not match the claim.
 * revoked/expired/untrustedSigner: the certificate is the problem. invalid: any other failure.
 */
export type C2paValidation =
	| 'valid'
	| 'tampered'
	| 'invalidSignature'
	| 'invalid'
	| 'revokedSigner'
	| 'expiredSigner'
	| 'untrustedSigner';

/** Trust is only ever judged against trust anchors the user supplies; otherwise it is unknown. */
export type C2paTrust = 'trusted' | 'untrusted' | 'unknown';

export interface C2paAction {
	action: string;
	digitalSourceType?: string;
	softwareAgent?: string;
	when?: string;
}

export interface C2paSigner {
	/**
	 * The certificate's subject common name, as the certificate states it; not a proof of identity.
	 */
	commonName?: string;
	issuer?: string;
	signedAt?: string;
	algorithm?: string;
}

export interface C2paReport {
	manifest: C2paManifestPresence;
	/** Plain words on the manifest's state, e.g. "remote manifest, not fetched". */
	note?: string;
	remoteManifestUrl?: string;
	/** XMP still names an embedded manifest (self#jumbf=…) that is not in the file: stripped. */
	danglingReference?: string;
	validation?: C2paValidation;
	/** c2pa-rs's own verdict: Valid, Invalid or Trusted. */
	validationState?: string;
	/** What the validation covered, in plain words. */
	checked?: string;
	/**
	 * When c2pa-rs judged the certificate's validity: at the signing time of a time-stamp it
	 * accepted (timeStamp.trusted), or else today.
	 */
	certificateValidityAt?: 'timeStamp' | 'today';
	trust: C2paTrust;
	/** c2pa-rs failure codes for the active manifest, e.g. assertion.dataHash.mismatch. */
	failureCodes: string[];
	ingredientFailureCodes: string[];
	activeManifest?: string;
	title?: string;
	claimGenerator?: string;
	signer?: C2paSigner;
	actions: C2paAction[];
	/** From the c2pa.created action if there is one, else the first action that has one. */
	digitalSourceType?: string;
	digitalSourceTypeCode?: string;
	/** An action's digital source type says a generative model made or changed the image. */
	aiGenerated: boolean;
	ingredients: Array<{ title?: string; relationship?: string }>;
}

export interface C2paReadOptions {
	/** PEM certificates whose chains the user trusts. Without them trust is not judged. */
	trustAnchorsPem?: string;
}

export const REMOTE_MANIFEST_NOT_FETCHED = 'remote manifest, not fetched';

const TAMPERED = new Set([
	'assertion.dataHash.mismatch',
	'assertion.bmffHash.mismatch',
	'assertion.boxesHash.mismatch',
	'assertion.collectionHash.mismatch',
	'assertion.hashedURI.mismatch',
	'hashedURI.mismatch',
]);
const BAD_SIGNATURE = new Set([
	'claimSignature.mismatch',
	'claimSignature.missing',
	'signingCredential.invalid',
]);
const REVOKED = 'signingCredential.ocsp.revoked';
const EXPIRED = new Set(['signingCredential.expired', 'claimSignature.outsideValidity']);
const UNTRUSTED = 'signingCredential.untrusted';
const TRUSTED = 'signingCredential.trusted';
const TIMESTAMP_TRUSTED = 'timeStamp.trusted';

/** The codes c2pa-rs gives for a certificate outside its validity period. */
export function isExpiryCode(code: string): boolean {
	return EXPIRED.has(code);
}

/** The worst problem among the failure codes, content first, then signature, then certificate. */
export function classifyValidation(
	failureCodes: string[],
	validationState?: string,
): C2paValidation {
	if (failureCodes.some((code) => TAMPERED.has(code))) return 'tampered';
	if (failureCodes.some((code) => BAD_SIGNATURE.has(code))) return 'invalidSignature';
	const isCertificateCode = (code: string) =>
		code === REVOKED || isExpiryCode(code) || code === UNTRUSTED;
	if (failureCodes.some((code) => !isCertificateCode(code))) return 'invalid';
	if (failureCodes.includes(REVOKED)) return 'revokedSigner';
	if (failureCodes.some(isExpiryCode)) return 'expiredSigner';
	if (failureCodes.includes(UNTRUSTED)) return 'untrustedSigner';
	return validationState === 'Invalid' ? 'invalid' : 'valid';
}

/** Reads and validates the C2PA manifest store with c2pa-rs, offline. */
export async function readC2pa(
	input: Buffer,
	mimeType: string,
	options: C2paReadOptions = {},
): Promise<C2paReport> {
	const anchors = options.trustAnchorsPem?.trim() || undefined;
	if (anchors && !anchors.includes('-----BEGIN CERTIFICATE-----')) {
		throw new Error('The trust anchors must be PEM certificates (-----BEGIN CERTIFICATE-----)');
	}
	const c2pa = await loadC2paWasm();
	let reader: WasmReader | undefined;
	let readError = '';
	try {
		reader = await c2pa.WasmReader.fromBytes(mimeType, input, readerSettings(anchors));
	} catch (error) {
		readError = errorText(error);
	}
	if (!reader) {
		// c2pa-rs checks its settings first, so bad anchors fail every read the same way. Its message
		// quotes the whole configuration and blames TOML, so it is not passed on.
		if (anchors && readError.includes('BadParam')) {
			throw new Error('The trust anchors could not be read as PEM certificates');
		}
		return reportFromReadError(readError);
	}
	try {
		return reportFromStore(JSON.parse(reader.json()) as ManifestStoreJson, anchors !== undefined);
	} finally {
		reader.free();
	}
}

function readerSettings(trustAnchorsPem: string | undefined): string {
	return JSON.stringify({
		verify: {
			// Offline: neither remote manifests nor OCSP responses are fetched.
			remote_manifest_fetch: false,
			ocsp_fetch: false,
			verify_trust: trustAnchorsPem !== undefined,
		},
		...(trustAnchorsPem ? { trust: { trust_anchors: trustAnchorsPem } } : {}),
	});
}

function errorText(error: unknown): string {
	if (typeof error === 'string') return error;
	return error instanceof Error ? error.message : String(error);
}

function emptyReport(manifest: C2paManifestPresence, note?: string): C2paReport {
	return {
		manifest,
		note,
		trust: 'unknown',
		failureCodes: [],
		ingredientFailureCodes: [],
		actions: [],
		aiGenerated: false,
		ingredients: [],
	};
}

/** c2pa-rs reports "no manifest" and "remote manifest" as errors such as C2pa(JumbfNotFound). */
function reportFromReadError(message: string): C2paReport {
	if (/JumbfNotFound|ProvenanceMissing/.test(message)) return emptyReport('none');
	const remote = /RemoteManifestUrl\("([^"]*)"\)/.exec(message);
	if (remote) {
		return { ...emptyReport('remote', REMOTE_MANIFEST_NOT_FETCHED), remoteManifestUrl: remote[1] };
	}
	if (/UnsupportedType/.test(message)) {
		return emptyReport('unsupportedFormat', 'C2PA cannot be read from this file format');
	}
	return emptyReport('unreadable', `The C2PA manifest could not be read: ${message}`);
}

interface StatusJson {
	code: string;
}

interface ManifestJson {
	title?: string;
	claim_generator?: string;
	claim_generator_info?: Array<{ name?: string; version?: string }>;
	signature_info?: { common_name?: string; issuer?: string; time?: string; alg?: string };
	assertions?: Array<{ label: string; data?: { actions?: ActionJson[] } }>;
	ingredients?: Array<{ title?: string; relationship?: string }>;
}

interface ActionJson {
	action: string;
	digitalSourceType?: string;
	softwareAgent?: string | { name?: string; version?: string };
	when?: string;
}

interface ManifestStoreJson {
	active_manifest?: string;
	manifests?: Record<string, ManifestJson>;
	validation_state?: string;
	validation_status?: StatusJson[];
	validation_results?: {
		activeManifest?: { success?: StatusJson[]; failure?: StatusJson[] };
		ingredientDeltas?: Array<{ validationDeltas?: { failure?: StatusJson[] } }>;
	};
}

const ACTIONS_LABEL = /^c2pa\.actions(\.v\d+)?(__\d+)?$/;

/** What c2pa-rs's validation of the active manifest says, and what it covered. */
function validationOf(
	store: ManifestStoreJson,
	trustChecked: boolean,
): Pick<
	C2paReport,
	| 'validation'
	| 'validationState'
	| 'checked'
	| 'certificateValidityAt'
	| 'trust'
	| 'failureCodes'
	| 'ingredientFailureCodes'
> {
	const results = store.validation_results;
	const failureCodes = codes(results?.activeManifest?.failure ?? store.validation_status);
	const successCodes = codes(results?.activeManifest?.success);
	const ingredientFailureCodes = (results?.ingredientDeltas ?? []).flatMap((delta) =>
		codes(delta.validationDeltas?.failure),
	);

	// Without a time-stamp it trusts, c2pa-rs checks the certificate against today's date, so a
	// certificate that has since expired reads as expired even if it was valid at signing.
	const timeStamped = successCodes.includes(TIMESTAMP_TRUSTED);

	let trust: C2paTrust = 'unknown';
	if (trustChecked && successCodes.includes(TRUSTED)) trust = 'trusted';
	else if (trustChecked && failureCodes.includes(UNTRUSTED)) trust = 'untrusted';

	return {
		validation: classifyValidation(failureCodes, store.validation_state),
		validationState: store.validation_state,
		checked: checkedWords(timeStamped, trustChecked),
		certificateValidityAt: timeStamped ? 'timeStamp' : 'today',
		trust,
		failureCodes,
		ingredientFailureCodes,
	};
}

/** The actions of every actions assertion, and the digital source type they name. */
function actionsOf(
	manifest: ManifestJson,
): Pick<C2paReport, 'actions' | 'digitalSourceType' | 'digitalSourceTypeCode' | 'aiGenerated'> {
	const actions = (manifest.assertions ?? [])
		.filter((assertion) => ACTIONS_LABEL.test(assertion.label))
		.flatMap((assertion) => assertion.data?.actions ?? [])
		.map(toAction);
	const sourceAction =
		actions.find((action) => action.action === 'c2pa.created' && action.digitalSourceType) ??
		actions.find((action) => action.digitalSourceType);
	const digitalSourceType = sourceAction?.digitalSourceType;
	return {
		actions,
		digitalSourceType,
		digitalSourceTypeCode: digitalSourceType
			? normaliseDigitalSourceType(digitalSourceType)
			: undefined,
		aiGenerated: actions.some((action) =>
			isAiGeneratedSourceType(
				action.digitalSourceType ? normaliseDigitalSourceType(action.digitalSourceType) : undefined,
			),
		),
	};
}

/** The active manifest's report: its validation, then what it says of the image's making. */
function reportFromStore(store: ManifestStoreJson, trustChecked: boolean): C2paReport {
	const label = store.active_manifest;
	const manifest = label ? store.manifests?.[label] : undefined;
	if (!label || !manifest)
		return emptyReport('unreadable', 'The manifest store has no active manifest');
	const signature = manifest.signature_info;

	return {
		manifest: 'embedded',
		...validationOf(store, trustChecked),
		activeManifest: label,
		title: manifest.title,
		claimGenerator: manifest.claim_generator ?? generatorFromInfo(manifest),
		signer: signature && {
			commonName: signature.common_name,
			issuer: signature.issuer,
			signedAt: signature.time,
			algorithm: signature.alg,
		},
		...actionsOf(manifest),
		ingredients: (manifest.ingredients ?? []).map(({ title, relationship }) => ({
			title,
			relationship,
		})),
	};
}

function checkedWords(timeStamped: boolean, trustChecked: boolean): string {
	const validity = timeStamped
		? "the certificate's validity at the signing time of a time-stamp c2pa-rs accepted (timeStamp.trusted)"
		: "the certificate's validity against today's date, because no trusted time-stamp was verified (c2pa-rs has no list of trusted time-stamp authorities here)";
	const chain = trustChecked
		? 'the certificate chain against the trust anchors given'
		: 'not the certificate chain (no trust anchors given)';
	return `The signature and the content hashes; ${validity}; ${chain}`;
}

function codes(statuses: StatusJson[] | undefined): string[] {
	return (statuses ?? []).map((status) => status.code);
}

/** Claims v2 have no claim_generator string, only claim_generator_info. */
function generatorFromInfo(manifest: ManifestJson): string | undefined {
	const parts = (manifest.claim_generator_info ?? []).map((info) =>
		[info.name, info.version].filter(Boolean).join('/'),
	);
	return parts.length > 0 ? parts.join(' ') : undefined;
}

function toAction(action: ActionJson): C2paAction {
	const agent = action.softwareAgent;
	return {
		action: action.action,
		digitalSourceType: action.digitalSourceType,
		softwareAgent:
			typeof agent === 'string'
				? agent
				: agent && [agent.name, agent.version].filter(Boolean).join(' '),
		when: action.when,
	};
}
