/**
 * Vertex AI with a service account: read the JSON key, mint an OAuth access token from it (a
 * signed RS256 JWT exchanged at the key's token_uri), and hand the SDK an auth client that holds
 * the token and mints a fresh one shortly before it expires. One token source per GeminiClient,
 * so a token lives for one execution at most; nothing is kept at module level.
 */
import { createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { OAuth2Client } from 'google-auth-library';

import { GeminiFailure } from './failure';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/**
 * Google's longest token life; a token is minted again this long before it ends (long executions
 * run past an hour).
 */
const TOKEN_LIFETIME_S = 3600;
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 30_000;

export interface ServiceAccountKey {
	clientEmail: string;
	privateKeyPem: string;
	privateKey: KeyObject;
	privateKeyId?: string;
	projectId?: string;
	tokenUri: string;
}

const FIX_KEY =
	'Open the Nano Banana credential and paste the whole JSON key file of a service account (Google Cloud console > IAM & Admin > Service Accounts > Keys > Add key > JSON). Nothing was sent to Google.';

function keyProblem(message: string, description = FIX_KEY): GeminiFailure {
	return new GeminiFailure({
		kind: 'setup',
		message,
		description,
		reason: 'SERVICE_ACCOUNT_KEY',
		retryable: false,
	});
}

/**
 * The token endpoint must be https, or plain http on this machine only (a local proxy or a test).
 */
export function tokenUriProblem(uri: string): string | undefined {
	let url: URL;
	try {
		url = new URL(uri);
	} catch {
		return `its token_uri "${uri}" is not a URL`;
	}
	if (url.protocol === 'https:') return undefined;
	if (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
		return undefined;
	return `its token_uri must use https (it is ${url.origin})`;
}

/**
 * The service account JSON key as pasted into the credential; any mistake is a setup failure that
 * says which. JSON.parse's own message is not shown: it quotes the text, which holds the key.
 */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
	const trimmed = text.trim();
	if (!trimmed) throw keyProblem('The Service Account Key (JSON) field is empty');
	let parsed: unknown;
	try {
		parsed = JSON.parse(trimmed);
	} catch {
		throw keyProblem(
			'The Service Account Key is not valid JSON',
			`Paste the whole downloaded .json file, from { to }; a P12 key or a partial copy does not work. ${FIX_KEY}`,
		);
	}
	if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
		throw keyProblem('The Service Account Key is not a JSON object');
	const key = parsed as Record<string, unknown>;
	if (key.type !== undefined && key.type !== 'service_account') {
		throw keyProblem(
			`The Service Account Key is a "${String(key.type)}" key, not a service account key`,
		);
	}
	const missing = ['client_email', 'private_key'].filter(
		(field) => typeof key[field] !== 'string' || !key[field],
	);
	if (missing.length) throw keyProblem(`The Service Account Key lacks ${missing.join(' and ')}`);
	const tokenUri =
		typeof key.token_uri === 'string' && key.token_uri ? key.token_uri : GOOGLE_TOKEN_URI;
	const uriProblem = tokenUriProblem(tokenUri);
	if (uriProblem) throw keyProblem(`The Service Account Key cannot be used: ${uriProblem}`);
	const privateKeyPem = String(key.private_key).replace(/\\n/g, '\n');
	let privateKey: KeyObject;
	try {
		privateKey = createPrivateKey(privateKeyPem);
	} catch {
		throw keyProblem(
			'The private_key in the Service Account Key cannot be read',
			`The key was cut or changed when it was copied. ${FIX_KEY}`,
		);
	}
	return {
		clientEmail: String(key.client_email),
		privateKeyPem,
		privateKey,
		privateKeyId: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
		projectId: typeof key.project_id === 'string' && key.project_id ? key.project_id : undefined,
		tokenUri,
	};
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** The signed JWT a service account exchanges for an access token (RFC 7523). */
export function signAssertion(key: ServiceAccountKey, nowMs: number): string {
	const iat = Math.floor(nowMs / 1000);
	const header = {
		alg: 'RS256',
		typ: 'JWT',
		...(key.privateKeyId ? { kid: key.privateKeyId } : {}),
	};
	const claims = {
		iss: key.clientEmail,
		scope: CLOUD_PLATFORM_SCOPE,
		aud: key.tokenUri,
		iat,
		exp: iat + TOKEN_LIFETIME_S,
	};
	const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
	return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key.privateKey).toString('base64url')}`;
}

export interface MintedToken {
	access_token: string;
	expiry_date: number;
}

interface TokenErrorBody {
	error?: string;
	error_description?: string;
}

/** What to do about a key the token endpoint refused, from Google's error_description. */
function refusalCure(refusal: string, key: ServiceAccountKey): string {
	if (/iat|exp|timeframe|short-lived/i.test(refusal))
		return "The token request was refused for its time stamps: this machine's clock is off. Set the system clock right (NTP) and try again.";
	// The JWT is addressed to the key's token_uri: an endpoint at another address refuses it.
	if (/audience check/i.test(refusal)) {
		const uri = new URL(key.tokenUri);
		return `The token endpoint did not take the key's token_uri (${uri.origin}${uri.pathname}) as its own address. Paste the JSON key file as Google issued it (token_uri ${GOOGLE_TOKEN_URI}); a proxy in between must keep that address.`;
	}
	return `The key of ${key.clientEmail} was refused: it was deleted or disabled, or the service account itself was. Create a new JSON key for the service account and paste it into the Nano Banana credential. If the key is new, check that this machine's clock is right.`;
}

/** What the token endpoint's refusal means for the user. */
function tokenRefusal(status: number, body: TokenErrorBody, key: ServiceAccountKey): GeminiFailure {
	const code = body.error ?? `HTTP ${status}`;
	const said = body.error_description ? `${code}: ${body.error_description}` : code;
	const base = {
		httpCode: status,
		reason: body.error ? body.error.toUpperCase() : `HTTP_${status}`,
		body,
	};
	if (status >= 500 || status === 429) {
		return new GeminiFailure({
			...base,
			reason: `TOKEN_ENDPOINT_${status}`,
			kind: 'http',
			message: `Google's token endpoint failed (${said})`,
			description: 'Google could not issue an access token just now. Try again later.',
			retryable: true,
		});
	}
	const description = refusalCure(body.error_description ?? '', key);
	return new GeminiFailure({
		...base,
		kind: 'setup',
		message: `Google refused the service account key (${said})`,
		description,
		retryable: false,
	});
}

function unreachable(tokenUri: string, error: unknown): GeminiFailure {
	const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
	return new GeminiFailure({
		kind: 'network',
		message: `Could not reach Google's token endpoint ${new URL(tokenUri).origin} (${cause})`,
		description:
			'The access token for the service account could not be fetched. Check the network (and a proxy, if any).',
		reason: 'NETWORK',
		retryable: true,
	});
}

/**
 * Mints access tokens for one service account key; `mint` is deduplicated so requests that find
 * the token expiring at the same time share one exchange. `secrets` lists what must be redacted.
 */
export class ServiceAccountTokens {
	/** How many tokens were minted, for tests and the execution's statistics. */
	minted = 0;
	private pending?: Promise<MintedToken>;
	private refused?: GeminiFailure;
	private readonly issued: string[] = [];

	constructor(
		readonly key: ServiceAccountKey,
		private readonly now: () => number = Date.now,
	) {}

	/**
	 * An auth client for the SDK (googleAuthOptions.authClient) that holds the token and refreshes it
	 * near expiry.
	 */
	authClient(): OAuth2Client {
		const client = new OAuth2Client({ eagerRefreshThresholdMillis: REFRESH_BEFORE_EXPIRY_MS });
		client.refreshHandler = async () => await this.token();
		return client;
	}

	async token(): Promise<MintedToken> {
		// A refused key stays refused for this execution: the other items get the same answer.
		if (this.refused) throw this.refused;
		this.pending ??= this.mint()
			.catch((error: unknown) => {
				if (error instanceof GeminiFailure && !error.retryable) this.refused = error;
				throw error;
			})
			.finally(() => (this.pending = undefined));
		return await this.pending;
	}

	/**
	 * Strings that must never reach a message: the private key and every assertion and token of this
	 * source.
	 */
	secrets(): string[] {
		const keyBody = this.key.privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
		return [this.key.privateKeyPem, keyBody, ...this.issued];
	}

	private async mint(): Promise<MintedToken> {
		const assertion = signAssertion(this.key, this.now());
		this.issued.push(assertion);
		let response: Response;
		try {
			response = await fetch(this.key.tokenUri, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({
					grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
					assertion,
				}).toString(),
				signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
			});
		} catch (error) {
			throw unreachable(this.key.tokenUri, error);
		}
		const text = await response.text();
		let body: TokenErrorBody & { access_token?: string; expires_in?: number } = {};
		try {
			body = JSON.parse(text) as typeof body;
		} catch {
			// A proxy's page: the status says enough.
		}
		if (!response.ok) throw tokenRefusal(response.status, body, this.key);
		if (!body.access_token) {
			throw new GeminiFailure({
				kind: 'malformed',
				message: "Google's token endpoint answered without an access token",
				description:
					"The answer was cut off or came from something else than Google's token endpoint. Try again.",
				reason: 'MALFORMED_TOKEN_RESPONSE',
				retryable: true,
			});
		}
		this.issued.push(body.access_token);
		this.minted++;
		return {
			access_token: body.access_token,
			expiry_date: this.now() + Number(body.expires_in ?? TOKEN_LIFETIME_S) * 1000,
		};
	}
}
