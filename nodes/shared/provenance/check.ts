import type { CheckResult } from '../checks/types';
import {
	isExpiryCode,
	readC2pa,
	REMOTE_MANIFEST_NOT_FETCHED,
	type C2paReport,
	type C2paValidation,
} from './c2pa';
import { readEmbeddedMetadata, readIptc, type IptcReport } from './iptc';

export const SYNTH_ID_NOT_CHECKED = 'not checked: Google offers no public SynthID detection API';

/**
 * requireAiMarking: must carry an AI-generation marking (C2PA or IPTC).
 * requireValidC2pa: must carry a C2PA manifest that validates.
 * requireNotAiMarked: must not be marked AI-generated (for uploads that must be real photos).
 * reportOnly: always passes; the report is the point.
 */
export type ProvenanceMode =
	'requireAiMarking' | 'requireValidC2pa' | 'requireNotAiMarked' | 'reportOnly';

export interface ProvenanceOptions {
	/** PEM certificates to judge the C2PA signer against; without them trust is "unknown". */
	trustAnchorsPem?: string;
}

export interface ProvenanceCheckOptions extends ProvenanceOptions {
	mode: ProvenanceMode;
}

export interface ProvenanceReport {
	c2pa: C2paReport;
	iptc: IptcReport;
	synthId: typeof SYNTH_ID_NOT_CHECKED;
	/** A machine-readable AI-generation marking: a C2PA action's or the XMP's digital source type. */
	aiMarked: boolean;
	aiMarkedBy: Array<'c2pa' | 'iptc'>;
	summary: string;
	/** Set when the file's metadata could not be read at all. */
	metadataError?: string;
}

const VALIDATION_WORDS: Record<C2paValidation, string> = {
	valid: 'is valid',
	tampered: 'does not match the content: the image was changed after signing',
	invalidSignature: 'has an invalid signature',
	invalid: 'failed validation',
	revokedSigner: 'was signed with a revoked certificate',
	expiredSigner: 'was signed with a certificate that had expired at the time-stamped signing time',
	untrustedSigner: 'is signed by a certificate outside the given trust anchors',
};

/** Everything that can be learnt offline about where the image came from. */
export async function readProvenance(
	input: Buffer,
	mimeType: string,
	options: ProvenanceOptions = {},
): Promise<ProvenanceReport> {
	const [c2paRead, metadata] = await Promise.all([
		readC2pa(input, mimeType || 'application/octet-stream', options),
		readEmbeddedMetadata(input),
	]);
	const iptc = readIptc(metadata);
	const c2pa = withXmpReference(c2paRead, iptc.manifestReference);
	const aiMarkedBy: Array<'c2pa' | 'iptc'> = [];
	if (c2pa.aiGenerated) aiMarkedBy.push('c2pa');
	if (iptc.aiGenerated) aiMarkedBy.push('iptc');
	return {
		c2pa,
		iptc,
		synthId: SYNTH_ID_NOT_CHECKED,
		aiMarked: aiMarkedBy.length > 0,
		aiMarkedBy,
		summary: summarise(c2pa, iptc),
		metadataError: metadata.error,
	};
}

export async function checkProvenance(
	input: Buffer,
	mimeType: string,
	options: ProvenanceCheckOptions,
): Promise<CheckResult> {
	const report = await readProvenance(input, mimeType, options);
	const { passed, reason, warning } = judgeProvenance(options.mode, report);
	return {
		name: 'provenance',
		passed,
		details: { mode: options.mode, reason, ...(warning ? { warning } : {}), ...report },
	};
}

/**
 * The failure codes when the only problem is an expired certificate, judged against today's date
 * because no trusted time-stamp was verified: the certificate may well have been valid when the
 * image was signed. Undefined for anything else, e.g. a hash mismatch or an untrusted signer.
 */
export function expiredCertificateOnly(c2pa: C2paReport): string[] | undefined {
	if (
		c2pa.manifest !== 'embedded' ||
		c2pa.validation !== 'expiredSigner' ||
		c2pa.certificateValidityAt !== 'today'
	)
		return undefined;
	return c2pa.failureCodes.length > 0 && c2pa.failureCodes.every(isExpiryCode)
		? c2pa.failureCodes
		: undefined;
}

function expiryWarning(c2pa: C2paReport, codes: string[]): string {
	const signed = c2pa.signer?.signedAt
		? `, and the manifest says it was signed at ${c2pa.signer.signedAt}`
		: '';
	return (
		`c2pa-rs reported ${codes.join(', ')}: the signing certificate has expired by today's date. ` +
		`No trusted time-stamp was verified, so the certificate was checked against today's date, not the signing time${signed}. ` +
		'The signature and content hashes check out, so this alone does not fail the image.'
	);
}

/** The XMP dcterms:provenance link explains what c2pa-rs could not find. */
function withXmpReference(c2pa: C2paReport, reference: string | undefined): C2paReport {
	if (!reference || c2pa.manifest !== 'none') return c2pa;
	if (reference.startsWith('self#jumbf=')) {
		return {
			...c2pa,
			danglingReference: reference,
			note: 'The XMP refers to an embedded C2PA manifest that is not in the file (it was probably stripped)',
		};
	}
	if (/^https?:\/\//i.test(reference)) {
		return {
			...c2pa,
			manifest: 'remote',
			remoteManifestUrl: reference,
			note: REMOTE_MANIFEST_NOT_FETCHED,
		};
	}
	return c2pa;
}

/**
 * Whether the report meets the mode and why, with a warning when the certificate expired by today's
 * date only.
 */
export function judgeProvenance(
	mode: ProvenanceMode,
	report: ProvenanceReport,
): { passed: boolean; reason: string; warning?: string } {
	const expired = expiredCertificateOnly(report.c2pa);
	const verdict = verdictFor(mode, report, expired);
	return expired ? { ...verdict, warning: expiryWarning(report.c2pa, expired) } : verdict;
}

function verdictFor(
	mode: ProvenanceMode,
	report: ProvenanceReport,
	expired: string[] | undefined,
): { passed: boolean; reason: string } {
	const { c2pa, iptc } = report;
	switch (mode) {
		case 'requireAiMarking':
			return report.aiMarked
				? { passed: true, reason: `Marked as AI-generated by ${report.aiMarkedBy.join(' and ')}` }
				: {
						passed: false,
						reason:
							'No AI-generation marking: neither a C2PA action nor the IPTC digital source type says so',
					};
		case 'requireValidC2pa':
			if (c2pa.manifest !== 'embedded') {
				return { passed: false, reason: c2paPresenceWords(c2pa) };
			}
			if (c2pa.validation === 'valid') {
				return { passed: true, reason: `The C2PA manifest is valid (signer trust: ${c2pa.trust})` };
			}
			if (expired) {
				return {
					passed: true,
					reason: `The C2PA manifest is valid apart from its certificate having expired by today's date (${expired.join(', ')}); see the warning (signer trust: ${c2pa.trust})`,
				};
			}
			return { passed: false, reason: `The C2PA manifest ${validationWords(c2pa)}` };
		case 'requireNotAiMarked':
			if (report.aiMarked) {
				return {
					passed: false,
					reason: `Marked as AI-generated by ${report.aiMarkedBy.join(' and ')}`,
				};
			}
			// A credit line is not a standard marking, but for "must be a real photo" it is enough.
			if (iptc.creditMentionsAi) {
				return { passed: false, reason: `The credit line says "${iptc.credit}"` };
			}
			return { passed: true, reason: 'No AI-generation marking found (SynthID is not checked)' };
		case 'reportOnly':
			return { passed: true, reason: 'Report only' };
	}
	throw new Error(`Unknown provenance mode "${String(mode)}"`);
}

/**
 * The validation in words; an expiry seen only against today's date is not called "signed with an
 * expired certificate".
 */
function validationWords(c2pa: C2paReport): string {
	if (c2pa.validation !== 'expiredSigner' || c2pa.certificateValidityAt !== 'today')
		return VALIDATION_WORDS[c2pa.validation ?? 'invalid'];
	const expired =
		"has a certificate that has expired by today's date (no trusted time-stamp was verified, so its validity at signing was not checked)";
	const others = c2pa.failureCodes.filter((code) => !isExpiryCode(code));
	return others.length
		? `${expired}, and c2pa-rs also reported ${others.join(', ')}`
		: `${expired}; its signature and content hashes are intact`;
}

function c2paPresenceWords(c2pa: C2paReport): string {
	if (c2pa.manifest === 'remote') {
		return `Only a remote C2PA manifest reference (${c2pa.remoteManifestUrl}): ${REMOTE_MANIFEST_NOT_FETCHED}`;
	}
	if (c2pa.manifest === 'none') {
		return c2pa.danglingReference ? `No C2PA manifest. ${c2pa.note}` : 'No C2PA manifest';
	}
	return c2pa.note ?? 'The C2PA manifest could not be read';
}

function summarise(c2pa: C2paReport, iptc: IptcReport): string {
	const parts: string[] = [];
	if (c2pa.manifest === 'embedded') {
		// Names as the certificate states them: a name alone proves nothing, trust says more.
		const signer = c2pa.signer?.commonName ?? 'unnamed';
		const issuer = c2pa.signer?.issuer ? ` issued by "${c2pa.signer.issuer}"` : '';
		const verdict = validationWords(c2pa);
		parts.push(
			`The C2PA manifest ${verdict}; certificate "${signer}"${issuer}; signer trust: ${c2pa.trust}`,
		);
		if (c2pa.digitalSourceTypeCode) {
			parts.push(`C2PA digital source type: ${c2pa.digitalSourceTypeCode}`);
		}
	} else {
		parts.push(c2paPresenceWords(c2pa));
	}
	if (iptc.digitalSourceType) {
		parts.push(`IPTC digital source type: ${iptc.digitalSourceTypeCode ?? iptc.digitalSourceType}`);
	} else {
		parts.push('No IPTC digital source type');
	}
	if (iptc.credit) parts.push(`Credit: "${iptc.credit}"`);
	parts.push('SynthID not checked (no public detection API)');
	return parts.join('. ') + '.';
}
