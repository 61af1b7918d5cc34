/**
 * Vertex AI on the simulator: Google's OAuth token endpoint for service accounts (POST /token,
 * RS256 JWT bearer grant, checked against the registered public keys and its audience), Bearer
 * tokens on the Vertex routes, and the project/IAM answers Vertex gives (403 PERMISSION_DENIED,
 * SERVICE_DISABLED). Express mode takes its own key: a Gemini API key is blocked there
 * (API_KEY_SERVICE_BLOCKED), and any API key on a projects/… path is refused (401
 * CREDENTIALS_MISSING). A model can be withheld from a location (404, as Vertex answers for a
 * model not offered in a region).
 *
 *   const key = sim.vertex.createServiceAccountKey();   // a JSON key whose token_uri is the simulator
 *   // → Authorization: Bearer <token> on /v1beta1/projects/sim-project/locations/global/publishers/google/models/...
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';

import { apiKeyInvalid, googleError, SimHttpError } from './errors';

export const SIM_PROJECT = 'sim-project';

interface IssuedToken {
	email: string;
	expiresAt: number;
}

export interface ServiceAccountKeyJson {
	type: 'service_account';
	project_id: string;
	private_key_id: string;
	private_key: string;
	client_email: string;
	client_id: string;
	token_uri: string;
}

/** One token exchange as the endpoint saw it. */
export interface TokenExchange {
	email?: string;
	/** 'issued' or the OAuth error sent. */
	outcome: string;
	at: number;
}

/** Everything the simulator knows about Vertex: keys, tokens, the project and who may use it. */
export class VertexState {
	/** The one project that exists; any other answers 403 like Vertex does for a project you cannot see. */
	project = SIM_PROJECT;
	/** The Vertex AI API is off for the project (403 SERVICE_DISABLED). */
	serviceDisabled = false;
	/** Seconds a minted token lives (Google: 3599). */
	tokenLifetimeSeconds = 3599;
	/** Answer token and auth errors with the secret in the message, as a hostile proxy might, to test redaction. */
	echoSecrets = false;
	readonly exchanges: TokenExchange[] = [];
	private readonly keys = new Map<string, { email: string; publicKey: KeyObject }>();
	private readonly denied = new Set<string>();
	private readonly tokens = new Map<string, IssuedToken>();
	/** Models not offered in a location, by location. */
	private readonly withheld = new Map<string, Set<string>>();

	constructor(
		private readonly baseUrl: () => string,
		/** The express-mode API key (Google's start with "AQ."). */
		readonly expressKey: string,
	) {}

	/** The model is not offered in the location (404 there), or is again. */
	withholdModel(location: string, model: string, withheld = true) {
		const models = this.withheld.get(location) ?? new Set<string>();
		if (withheld) models.add(model);
		else models.delete(model);
		this.withheld.set(location, models);
	}

	isOffered(location: string, model: string): boolean {
		return !this.withheld.get(location)?.has(model);
	}

	/**
	 * A fresh service account key (2048-bit RSA, made now; no key is committed), registered so its
	 * JWTs verify. token_uri points at this simulator unless given.
	 */
	createServiceAccountKey(
		options: { email?: string; project?: string; tokenUri?: string } = {},
	): ServiceAccountKeyJson {
		const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		const kid = randomBytes(20).toString('hex');
		const email =
			options.email ??
			`n8n-${kid.slice(0, 6)}@${options.project ?? this.project}.iam.gserviceaccount.com`;
		this.keys.set(kid, { email, publicKey });
		return {
			type: 'service_account',
			project_id: options.project ?? this.project,
			private_key_id: kid,
			private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
			client_email: email,
			client_id: String(BigInt(`0x${kid.slice(0, 15)}`)),
			token_uri: options.tokenUri ?? `${this.baseUrl()}/token`,
		};
	}

	/** Deletes a key: its JWTs then fail with invalid_grant, as Google answers. */
	deleteKey(key: { private_key_id: string }) {
		this.keys.delete(key.private_key_id);
	}

	/** Takes the project's permission (roles/aiplatform.user) from a service account, or gives it back. */
	deny(email: string, denied = true) {
		if (denied) this.denied.add(email);
		else this.denied.delete(email);
	}

	/** Forgets every token it issued (as if revoked): the next call with one answers 401. */
	revokeTokens() {
		this.tokens.clear();
	}

	/** A token as if minted elsewhere (an injected token). */
	issueToken(email: string, lifetimeSeconds = this.tokenLifetimeSeconds): string {
		// As long as Google's (about 220 characters): a message that quotes one is cut to length.
		const token = `ya29.sim-${randomBytes(160).toString('base64url')}`;
		this.tokens.set(token, { email, expiresAt: Date.now() + lifetimeSeconds * 1000 });
		return token;
	}

	/** POST /token with grant_type=jwt-bearer: Google's answers, including its error shapes. */
	exchange(form: URLSearchParams): { status: number; body: Record<string, unknown> } {
		const refuse = (status: number, error: string, description: string, email?: string) => {
			this.exchanges.push({ email, outcome: error, at: Date.now() });
			return {
				status,
				body: {
					error,
					error_description: this.echoSecrets
						? `${description} Assertion: ${form.get('assertion')}`
						: description,
				},
			};
		};
		if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
			return refuse(400, 'unsupported_grant_type', 'Invalid grant_type: ');
		const parts = (form.get('assertion') ?? '').split('.');
		if (parts.length !== 3) return refuse(400, 'invalid_request', 'Invalid JWT: malformed.');
		let header: { alg?: string; kid?: string };
		let claims: { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number };
		try {
			header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
			claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
		} catch {
			return refuse(400, 'invalid_request', 'Invalid JWT: malformed.');
		}
		const key = header.kid
			? this.keys.get(header.kid)
			: [...this.keys.values()].find((k) => k.email === claims.iss);
		const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
		const signatureOk =
			!!key &&
			header.alg === 'RS256' &&
			key.email === claims.iss &&
			verify('RSA-SHA256', signed, key.publicKey, Buffer.from(parts[2], 'base64url'));
		if (!signatureOk) return refuse(400, 'invalid_grant', 'Invalid JWT Signature.', claims.iss);
		const now = Math.floor(Date.now() / 1000);
		const { iat = 0, exp = 0 } = claims;
		if (Math.abs(iat - now) > 300 || exp - iat > 3600 || exp <= now) {
			return refuse(
				400,
				'invalid_grant',
				'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
				claims.iss,
			);
		}
		if (claims.aud !== `${this.baseUrl()}/token`)
			return refuse(400, 'invalid_grant', 'Invalid JWT: Failed audience check.', claims.iss);
		if (
			!String(claims.scope ?? '')
				.split(' ')
				.includes('https://www.googleapis.com/auth/cloud-platform')
		) {
			return refuse(
				400,
				'invalid_scope',
				'Invalid OAuth scope or ID token audience provided.',
				claims.iss,
			);
		}
		const token = this.issueToken(key.email);
		this.exchanges.push({ email: key.email, outcome: 'issued', at: Date.now() });
		return {
			status: 200,
			body: { access_token: token, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' },
		};
	}

	/** The service account behind `Authorization: Bearer`, or the 401 Vertex sends. */
	principal(authorization: string): string {
		const token = /^Bearer (.+)$/i.exec(authorization)?.[1] ?? '';
		const issued = this.tokens.get(token);
		if (!issued || issued.expiresAt <= Date.now()) {
			const said = this.echoSecrets ? ` Token: ${token}` : '';
			throw new SimHttpError(
				401,
				googleError(
					401,
					'UNAUTHENTICATED',
					`Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.${said}`,
					[
						{
							'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
							reason: issued ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
							domain: 'googleapis.com',
						},
					],
				),
			);
		}
		return issued.email;
	}

	/** Vertex's IAM check on a project-scoped call, with its answers for a project you cannot use. */
	authorize(email: string, project: string, resource: string) {
		if (project !== this.project || this.denied.has(email)) {
			throw new SimHttpError(
				403,
				googleError(
					403,
					'PERMISSION_DENIED',
					`Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
					[
						{
							'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
							reason: 'IAM_PERMISSION_DENIED',
							domain: 'aiplatform.googleapis.com',
							metadata: { permission: 'aiplatform.endpoints.predict', resource },
						},
					],
				),
			);
		}
		if (this.serviceDisabled) {
			throw new SimHttpError(
				403,
				googleError(
					403,
					'PERMISSION_DENIED',
					`Vertex AI API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=${project} then retry.`,
					[
						{
							'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
							reason: 'SERVICE_DISABLED',
							domain: 'googleapis.com',
							metadata: { service: 'aiplatform.googleapis.com', consumer: `projects/${project}` },
						},
					],
				),
			);
		}
	}

	/**
	 * Express mode's key check: its own key passes; a Gemini API key is blocked from this API, as
	 * an AI Studio key is restricted to the Generative Language API; anything else is not a key.
	 */
	checkExpressKey(key: string | undefined, geminiKey: string, method: string) {
		if (key === this.expressKey) return;
		if (key === geminiKey) {
			throw new SimHttpError(
				403,
				googleError(
					403,
					'PERMISSION_DENIED',
					`Requests to this API aiplatform.googleapis.com method ${method} are blocked.`,
					[
						{
							'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
							reason: 'API_KEY_SERVICE_BLOCKED',
							domain: 'googleapis.com',
							metadata: { service: 'aiplatform.googleapis.com', methodName: method },
						},
					],
				),
			);
		}
		throw apiKeyInvalid('aiplatform.googleapis.com');
	}

	/** Keys and tokens stay (like a real project's); counters and switches go back. */
	reset() {
		this.exchanges.length = 0;
		this.serviceDisabled = false;
		this.echoSecrets = false;
		this.denied.clear();
		this.withheld.clear();
		this.tokenLifetimeSeconds = 3599;
	}
}

/** Vertex's 404 for a model a project cannot use in a location. */
export function publisherModelNotFound(resource: string): SimHttpError {
	return new SimHttpError(
		404,
		googleError(
			404,
			'NOT_FOUND',
			`Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
		),
	);
}

/**
 * What Vertex answers for a project-scoped call without a token: an API key there is refused,
 * whichever key it is (express keys work only on the bare publishers/google path).
 */
export function credentialsMissing(method: string, apiKeySent: boolean): SimHttpError {
	return new SimHttpError(
		401,
		googleError(
			401,
			'UNAUTHENTICATED',
			apiKeySent
				? 'API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal. See https://cloud.google.com/docs/authentication'
				: 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
			[
				{
					'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
					reason: 'CREDENTIALS_MISSING',
					domain: 'googleapis.com',
					metadata: { method, service: 'aiplatform.googleapis.com' },
				},
			],
		),
	);
}

/** The RPC behind a Vertex route, as Google's errors name it. */
export function vertexMethod(rest: string, httpMethod: string): string {
	const action = /:(\w+)$/.exec(rest)?.[1];
	if (!action)
		return httpMethod === 'GET' && rest === 'models'
			? 'google.cloud.aiplatform.v1beta1.ModelGardenService.ListPublisherModels'
			: 'google.cloud.aiplatform.v1beta1.ModelGardenService.GetPublisherModel';
	return `google.cloud.aiplatform.v1beta1.PredictionService.${action[0].toUpperCase()}${action.slice(1)}`;
}
