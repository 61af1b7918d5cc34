import type { QuotaHint } from './gate';

/**
 * Turning what the Gemini API (through the SDK) throws or answers into one failure shape that
 * says whether to retry, how long to wait, and what to tell the user.
 */

export type FailureKind =
	| 'setup'
	| 'http'
	| 'network'
	| 'timeout'
	| 'malformed'
	| 'prompt-blocked'
	| 'finish-reason'
	| 'text-only'
	| 'no-image'
	| 'empty';

export interface GeminiFailureInit {
	kind: FailureKind;
	message: string;
	description: string;
	httpCode?: number;
	/** Google's status (RESOURCE_EXHAUSTED) or the finish/block reason (IMAGE_SAFETY). */
	reason?: string;
	retryable: boolean;
	/** Server-requested wait (RetryInfo or Retry-After), in ms. */
	retryDelayMs?: number;
	/** false when the delay is whole seconds rounded down (RetryInfo "58s", Retry-After). */
	retryDelayExact?: boolean;
	/** What the model said, for text-only refusals. */
	modelText?: string;
	/** A 429's QuotaFailure: how many requests the quota allows, and per how long when it says. */
	quota?: QuotaHint;
	body?: unknown;
}

/**
 * A failure of one call, carried up to the node, which adds the item and turns it into a
 * NodeApiError.
 */
export class GeminiFailure extends Error {
	readonly kind: FailureKind;
	readonly description: string;
	readonly httpCode?: number;
	readonly reason?: string;
	readonly retryable: boolean;
	readonly retryDelayMs?: number;
	readonly retryDelayExact?: boolean;
	readonly modelText?: string;
	readonly quota?: QuotaHint;
	readonly body?: unknown;
	/** Requests sent for this call, 429s included. */
	attempts = 1;
	/** Time the call waited for quota or an overloaded model. */
	quotaWaitMs = 0;

	constructor(init: GeminiFailureInit) {
		super(init.message);
		this.name = 'GeminiFailure';
		this.kind = init.kind;
		this.description = init.description;
		this.httpCode = init.httpCode;
		this.reason = init.reason;
		this.retryable = init.retryable;
		this.retryDelayMs = init.retryDelayMs;
		this.retryDelayExact = init.retryDelayExact;
		this.modelText = init.modelText;
		this.quota = init.quota;
		this.body = init.body;
	}
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * google.rpc.Code → the HTTP status Google's REST API answers it with, and its name: the package's
 * one table. A batch job reports each request's error as google.rpc.Status, whose code is the RPC
 * one, not HTTP.
 */
const RPC_HTTP: Record<number, [number, string]> = {
	1: [499, 'CANCELLED'],
	3: [400, 'INVALID_ARGUMENT'],
	4: [504, 'DEADLINE_EXCEEDED'],
	5: [404, 'NOT_FOUND'],
	7: [403, 'PERMISSION_DENIED'],
	8: [429, 'RESOURCE_EXHAUSTED'],
	9: [400, 'FAILED_PRECONDITION'],
	13: [500, 'INTERNAL'],
	14: [503, 'UNAVAILABLE'],
};

/** An RPC status code as HTTP: no code is INTERNAL; a code not in the table a 500 `RPC_<code>`. */
export function httpOfRpcCode(code: number | undefined): { httpCode: number; reason: string } {
	const [httpCode, reason] = RPC_HTTP[code ?? 13] ?? [500, `RPC_${code}`];
	return { httpCode, reason };
}

/** `"34.4s"` → 34400; also accepts `{seconds, nanos}` as some proxies re-encode it. */
export function parseRetryDelay(value: unknown): number | undefined {
	if (typeof value === 'string') {
		const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
		return match ? Math.round(parseFloat(match[1]) * 1000) : undefined;
	}
	if (value && typeof value === 'object') {
		const { seconds, nanos } = value as { seconds?: number | string; nanos?: number };
		if (seconds === undefined && nanos === undefined) return undefined;
		return Math.round(Number(seconds ?? 0) * 1000 + Number(nanos ?? 0) / 1e6);
	}
	return undefined;
}

/** `Retry-After` is either seconds or an HTTP date. */
export function parseRetryAfter(
	header: string | null | undefined,
	now = Date.now(),
): number | undefined {
	if (!header) return undefined;
	const trimmed = header.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(parseFloat(trimmed) * 1000);
	const date = Date.parse(trimmed);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface GoogleErrorBody {
	error?: {
		code?: number;
		message?: string;
		status?: string;
		details?: Array<Record<string, unknown>>;
	};
}

/** The SDK puts the JSON error body, stringified, into `ApiError.message`. */
export function parseErrorBody(message: string): GoogleErrorBody | undefined {
	try {
		const parsed = JSON.parse(message) as unknown;
		return parsed && typeof parsed === 'object' ? (parsed as GoogleErrorBody) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Google's 429 message carries the exact delay that RetryInfo rounds down: "Please retry in
 * 58.217843437s."
 */
export function retryDelayFromMessage(message: string | undefined): number | undefined {
	const match = /retry in (\d+(?:\.\d+)?)\s*s\b/i.exec(message ?? '');
	return match ? Math.round(parseFloat(match[1]) * 1000) : undefined;
}

export function retryDelayFromDetails(
	details: Array<Record<string, unknown>> | undefined,
): number | undefined {
	const info = details?.find((d) => String(d['@type'] ?? '').endsWith('google.rpc.RetryInfo'));
	return info ? parseRetryDelay(info.retryDelay) : undefined;
}

function errorInfoReason(details: Array<Record<string, unknown>> | undefined): string | undefined {
	const info = details?.find((d) => String(d['@type'] ?? '').endsWith('google.rpc.ErrorInfo'));
	return typeof info?.reason === 'string' ? info.reason : undefined;
}

function quotaIds(details: Array<Record<string, unknown>> | undefined): string[] {
	const quota = details?.find((d) => String(d['@type'] ?? '').endsWith('google.rpc.QuotaFailure'));
	const violations = (quota?.violations as Array<Record<string, unknown>> | undefined) ?? [];
	return violations.map((v) => String(v.quotaId ?? v.quotaMetric ?? '')).filter(Boolean);
}

/**
 * The rate quota a 429 names: `quotaValue` of a per-minute violation, or of one with no period we
 * know (the gate works its window out). Per-day quotas are not paced: their waits run past any
 * budget.
 */
export function quotaHint(
	details: Array<Record<string, unknown>> | undefined,
): QuotaHint | undefined {
	const quota = details?.find((d) => String(d['@type'] ?? '').endsWith('google.rpc.QuotaFailure'));
	const violations = (quota?.violations as Array<Record<string, unknown>> | undefined) ?? [];
	for (const v of violations) {
		const requests = Number(v.quotaValue);
		const id = String(v.quotaId ?? '');
		if (!(requests > 0) || /PerDay/i.test(id)) continue;
		return { requests, windowMs: /PerMinute/i.test(id) ? 60_000 : undefined };
	}
	return undefined;
}

/** Whether an answer's text is a web page (a proxy's, a web server's, another web app's). */
function isHtmlPage(text: string | undefined): boolean {
	return /^\s*<(!doctype|[a-z])/i.test(text ?? '');
}

/**
 * The part of a body worth quoting after our message: none when a page's title says only "Error"
 * or the HTTP status text, which the message already tells.
 */
function worthQuoting(text: string, statusText: string | undefined): string | undefined {
	if (!text || /^error$/i.test(text)) return undefined;
	return statusText && text.toLowerCase() === statusText.toLowerCase() ? undefined : text;
}

/** HTML error pages from proxies and load balancers are noise; keep the title at most. */
function summariseText(text: string): string {
	const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
	const plain = (title ?? text.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
	return plain.length > 300 ? `${plain.slice(0, 300)}…` : plain;
}

function describeHttp(
	code: number,
	status: string | undefined,
	reason: string | undefined,
	retryDelayMs?: number,
	quotas: string[] = [],
) {
	if (reason === 'API_KEY_INVALID' || /API key not valid/i.test(status ?? '')) {
		return {
			message: 'The Gemini API key is not valid',
			description:
				'Open the Nano Banana credential and paste a key from Google AI Studio (https://aistudio.google.com/apikey). Check that the Host field points at the Gemini API or your proxy.',
		};
	}
	switch (code) {
		case 400:
			return {
				message: 'The Gemini API rejected the request',
				description:
					'Check the model, aspect ratio, image size and options. Google said what was wrong in the message above.',
			};
		case 401:
		case 403:
			return {
				message: 'The Gemini API refused access',
				description:
					"The key has no access to this model or API. Enable the Generative Language API for the key's project, check billing (image models need a paid tier), or use another key.",
			};
		case 404:
			return {
				message: 'Not found on the Gemini API',
				description:
					'Google has no such resource: check its name. Batch jobs and files are deleted some time after they end.',
			};
		case 429: {
			const wait =
				retryDelayMs !== undefined
					? ` Google asked to wait ${(retryDelayMs / 1000).toFixed(1)} s.`
					: '';
			const quota = quotas.length ? ` Quota: ${quotas.join(', ')}.` : '';
			return {
				message: 'Gemini API quota exceeded (429 RESOURCE_EXHAUSTED)',
				description: `The per-minute or per-day quota for this model is used up.${wait}${quota} Lower "Max Concurrent Requests", raise "Max Retry Wait", or upgrade the project's quota tier.`,
			};
		}
		case 503:
			return {
				message: 'The model is overloaded (503)',
				description:
					'Google is short of capacity, which is common at 4K. Try again later, lower the concurrency, or use a smaller image size.',
			};
		default:
			return {
				message: `The Gemini API failed with HTTP ${code}`,
				description:
					'This is a server-side error. If it persists, try again later or raise Max Attempts.',
			};
	}
}

const CHECK_CREDENTIAL =
	'Open the Nano Banana credential and fix it. Nothing was sent, and retrying would not help.';

/**
 * What fetch refuses before sending is a setup mistake, not a network fault: it is not retried,
 * and the message names the field. fetch's own text is not shown: it can hold the URL's password.
 */
function setupProblem(text: string): { message: string; description: string } | undefined {
	if (/Invalid URL|Failed to parse URL|Invalid base URL/i.test(text)) {
		return {
			message: "The credential's Host is not a valid URL",
			description: `Set Host to a base URL such as https://generativelanguage.googleapis.com. ${CHECK_CREDENTIAL}`,
		};
	}
	if (/includes credentials/i.test(text)) {
		return {
			message: "The credential's Host contains a user name or password",
			description: `Remove "user:password@" from Host; the key belongs in the API Key field. ${CHECK_CREDENTIAL}`,
		};
	}
	if (/bad port/i.test(text)) {
		return {
			message: "The credential's Host uses a port that fetch refuses to connect to",
			description: `Use the port your API or proxy really listens on (443 for https). ${CHECK_CREDENTIAL}`,
		};
	}
	if (/ByteString|Invalid header value|invalid character in header/i.test(text)) {
		return {
			message: 'The API key contains a character that cannot be sent in a header',
			description: `Paste the key again: a Gemini key has only letters, digits, "-" and "_"; a copied key sometimes carries a hidden space or line break. ${CHECK_CREDENTIAL}`,
		};
	}
	return undefined;
}

/** The messages of an error and its causes: the SDK and fetch wrap the one that tells. */
function causeChain(error: unknown): string {
	const messages: string[] = [];
	for (
		let e = error as { message?: unknown; cause?: unknown } | undefined, depth = 0;
		e && depth < 5;
		e = e.cause as typeof e, depth++
	) {
		messages.push(String(e.message ?? e));
	}
	return messages.join(' ');
}

/**
 * What a model's 404 says, from its id. The one place a 404 for a model is worded, so that what is
 * known about the model (shut down, replaced) can be told here.
 */
export function modelNotFound(model: string): { message: string; description: string } {
	return {
		message: `The model ${model} was not found`,
		description:
			'The model id is wrong or the model was shut down (preview ids answer 404). Pick a model from the list in the node.',
	};
}

/**
 * A server that is not the Gemini API answered (a web server, another web app, a Host with a
 * path): its 404 or 405 without Google's error, or any page of HTML, even with 200. The one wording
 * for the credential's Test and a run.
 */
export function noApiAtHost(status: number, html: boolean, body?: unknown): GeminiFailure {
	const answered = html ? 'with an HTML page' : 'with no Gemini API error';
	return new GeminiFailure({
		kind: 'http',
		message: `No Gemini API at the credential's Host: it answered ${status} ${answered}`,
		description:
			"Check the Host field of the Nano Banana credential: it must be the API's base URL with no path, e.g. https://generativelanguage.googleapis.com, or your proxy's.",
		httpCode: status,
		reason: 'NO_API_AT_HOST',
		retryable: false,
		body,
	});
}

/**
 * Google's own error body (google.rpc.Status as JSON) with this status. A body that is not JSON
 * reaches us wrapped by the SDK in the same shape, but with the HTTP status text ("Not Found", or
 * nothing over HTTP/2) where Google puts the enum name ("NOT_FOUND"): the status tells them apart,
 * never words found in the body, which a web server's page may quote from the request path.
 */
function isGoogleStatus(body: GoogleErrorBody | undefined, code: number, status: string): boolean {
	const error = body?.error;
	return error?.code === code && error.status === status && typeof error.message === 'string';
}

/**
 * What a 404 means. Google's NOT_FOUND for a request about a model is that model's 404; "Method not
 * found." is Google's front end for a path that is not its API; any other body is another server.
 */
function notFoundText(body: GoogleErrorBody | undefined, model: string | undefined) {
	if (!isGoogleStatus(body, 404, 'NOT_FOUND') || /^Method not found/i.test(body!.error!.message!))
		return undefined;
	return model ? modelNotFound(model) : describeHttp(404, undefined, undefined);
}

/** The fields of a thrown error that tell what went wrong. */
interface ThrownError {
	name?: string;
	message?: string;
	status?: number;
	cause?: { code?: string; message?: string };
}

/** An answer with an HTTP status (the SDK's ApiError), told from Google's error body if any. */
function httpFailure(
	status: number,
	message: string,
	retryAfterMs: number | undefined,
	model: string | undefined,
): GeminiFailure {
	const body = parseErrorBody(message);
	const googleStatus = body?.error?.status;
	const googleMessage = body?.error?.message
		? summariseText(body.error.message)
		: summariseText(message);
	const details = body?.error?.details;
	// Google's own status (RESOURCE_EXHAUSTED); a proxy's page only has an HTTP status text.
	const reason =
		errorInfoReason(details) ??
		(googleStatus && /^[A-Z_]+$/.test(googleStatus) ? googleStatus : `HTTP_${status}`);
	const fromInfo = retryDelayFromDetails(details);
	const fromMessage = retryDelayFromMessage(body?.error?.message);
	const retryDelayMs = fromMessage ?? fromInfo ?? retryAfterMs;
	// "34.4s" is exact; "58s" and Retry-After are whole seconds, maybe rounded down.
	const retryDelayExact =
		fromMessage !== undefined || (fromInfo !== undefined && fromInfo % 1000 !== 0);
	const notFound = status === 404 ? notFoundText(body, model) : undefined;
	const page = typeof body?.error?.message === 'string' ? body.error.message : message;
	// Another server's 404 or 405 page says nothing worth repeating (at best "Error").
	if ((status === 404 && !notFound) || (status === 405 && !/^[A-Z_]+$/.test(googleStatus ?? '')))
		return noApiAtHost(status, isHtmlPage(page), body);
	const text =
		notFound ?? describeHttp(status, googleMessage, reason, retryDelayMs, quotaIds(details));
	const quoted = worthQuoting(googleMessage, googleStatus);
	return new GeminiFailure({
		kind: 'http',
		message: quoted ? `${text.message}: ${quoted}` : text.message,
		description: text.description,
		httpCode: status,
		reason,
		retryable: RETRYABLE_STATUS.has(status),
		retryDelayMs,
		retryDelayExact,
		quota: status === 429 ? quotaHint(details) : undefined,
		body,
	});
}

/** No answer in time, or an answer that is not JSON; undefined for any other error. */
function timeoutOrMalformed(err: ThrownError, message: string): GeminiFailure | undefined {
	if (
		err?.name === 'AbortError' ||
		err?.name === 'TimeoutError' ||
		/timed? ?out|aborted/i.test(message)
	) {
		return new GeminiFailure({
			kind: 'timeout',
			message: 'The Gemini API did not answer in time',
			description:
				'The per-attempt timeout ran out. Large (4K) images can take minutes: raise "Timeout (Seconds)" in the node options.',
			reason: 'TIMEOUT',
			retryable: true,
		});
	}
	if (err?.name === 'SyntaxError') {
		return new GeminiFailure({
			kind: 'malformed',
			message: 'The Gemini API sent an answer that is not valid JSON',
			description:
				'The answer was cut off or mangled on the way, often by a proxy. Try again, or check the proxy.',
			reason: 'MALFORMED_RESPONSE',
			retryable: true,
		});
	}
	return undefined;
}

/** A credential's Host or key that fetch refuses before sending; undefined for any other error. */
function setupFailure(error: unknown): GeminiFailure | undefined {
	const setup = setupProblem(causeChain(error));
	return setup && new GeminiFailure({ kind: 'setup', ...setup, reason: 'SETUP', retryable: false });
}

/** A request that never reached the API; undefined for any other error. */
function networkFailure(err: ThrownError, message: string): GeminiFailure | undefined {
	// The SDK wraps fetch failures: Error("exception TypeError: fetch failed sending request",
	// {cause}).
	const root =
		(err?.cause as { cause?: { code?: string } } | undefined)?.cause?.code ?? err?.cause?.code;
	if (!(
		err?.name === 'TypeError' ||
		root ||
		/fetch failed|sending request|ECONN|socket hang up/i.test(message)
	))
		return undefined;
	const cause =
		root ??
		(err?.cause?.message && !/^fetch failed$/.test(err.cause.message)
			? err.cause.message
			: 'connection failed');
	return new GeminiFailure({
		kind: 'network',
		message: `Could not reach the Gemini API (${cause})`,
		description: "Check the network and the credential's Host.",
		reason: 'NETWORK',
		retryable: true,
	});
}

/**
 * Anything the SDK or fetch can throw, as a GeminiFailure. `model`: the model the call was about,
 * when it was about one (its 404 is then that model's). The kinds are tried in this order.
 */
export function classifyError(
	error: unknown,
	retryAfterMs?: number,
	model?: string,
): GeminiFailure {
	if (error instanceof GeminiFailure) return error;
	const err = error as ThrownError;
	const message = String(err?.message ?? error);
	if (err?.name === 'ApiError' && typeof err.status === 'number')
		return httpFailure(err.status, message, retryAfterMs, model);
	return (
		timeoutOrMalformed(err, message) ??
		setupFailure(error) ??
		networkFailure(err, message) ??
		new GeminiFailure({
			kind: 'http',
			message: `Unexpected error from the Gemini client: ${message}`,
			description:
				'This is not an answer from the API. Check the node parameters; if it persists, report it with the execution data.',
			reason: 'UNKNOWN',
			retryable: false,
		})
	);
}

/** The key must never leave this package: scrub it from anything we show. */
export function redactSecret(text: string, secret: string | undefined): string {
	if (!secret || secret.length < 4) return text;
	return text.split(secret).join('***');
}

export interface VertexContext {
	project?: string;
	location?: string;
	/** Express mode: an API key, no project. */
	express: boolean;
}

/** Vertex AI's wording for an HTTP failure, by status; undefined keeps the failure's own. */
function vertexText(
	failure: GeminiFailure,
	google: string,
	scope: string,
	express: boolean,
): { message: string; description: string } | undefined {
	const code = failure.httpCode;
	if (failure.reason === 'API_KEY_INVALID' || (code === 400 && /API key not valid/i.test(google)))
		return {
			message: 'The Vertex AI express API key is not valid',
			description:
				'Open the Nano Banana credential and paste an API key from Vertex AI express mode (Google Cloud console > Vertex AI > API keys).',
		};
	if (code === 401)
		return {
			message: 'Vertex AI did not accept the credential',
			description:
				'The access token or key was refused. Check the service account key (or express API key) in the Nano Banana credential.',
		};
	if (
		code === 403 &&
		(failure.reason === 'SERVICE_DISABLED' || /has not been used|is disabled/i.test(google))
	)
		return {
			message: `The Vertex AI API is not enabled for ${scope}`,
			description:
				'Enable the Vertex AI API (aiplatform.googleapis.com) for the project in the Google Cloud console, wait a few minutes, and try again.',
		};
	if (code === 403)
		return {
			message: `Vertex AI refused access to ${scope}`,
			description: express
				? 'The express key has no access to this model. Check the key in the Google Cloud console.'
				: 'The service account has no permission there, or the project does not exist. Grant it the role "Vertex AI User" (roles/aiplatform.user) on the project, and check the Project ID in the Nano Banana credential.',
		};
	if (code === 404)
		return {
			message: `Not found on Vertex AI (${scope})`,
			description:
				'The model is not offered in this location, or the project or location is wrong. Check Project ID and Location in the Nano Banana credential (many image models are only in "global"), the model id, and the Host if one is set.',
		};
	if (code === 429)
		return {
			message: 'Vertex AI quota exceeded (429 RESOURCE_EXHAUSTED)',
			description: `${failure.description.replace(/upgrade the project's quota tier/, 'request more quota for the project in the Google Cloud console')}`,
		};
	return undefined;
}

/**
 * The same failure told for Vertex AI: access is IAM on a project, not a key's API, and a 404
 * usually means the project, the location or the model's availability there.
 */
export function vertexFailure(failure: GeminiFailure, where: VertexContext): GeminiFailure {
	if (failure.reason?.startsWith('TOKEN_') || failure.kind === 'setup') return failure;
	// Network, timeout and other answers keep their text, told of Vertex AI.
	failure.message = failure.message
		.replace(/\bthe Gemini API\b/g, 'Vertex AI')
		.replace(/^The Gemini API\b/, 'Vertex AI')
		.replace(/^Gemini API\b/, 'Vertex AI');
	if (failure.kind !== 'http' || failure.httpCode === undefined) return failure;
	if (failure.reason === 'NO_API_AT_HOST') {
		failure.message = failure.message.replace(/^No Gemini API\b/, 'No Vertex AI API');
		(failure as { description: string }).description =
			"Check the Host field of the Nano Banana credential: leave it empty for Google's host, or give your proxy's base URL with no /v1beta1 path.";
		return failure;
	}
	const google = failure.message.replace(/^[^:]*: /, '');
	const scope = where.express
		? 'Vertex AI express mode'
		: `project "${where.project}" in ${where.location}`;
	const text = vertexText(failure, google, scope, where.express);
	if (!text) return failure;
	const copy = new GeminiFailure({
		...failure,
		message: `${text.message}: ${google}`,
		description: text.description,
	});
	copy.attempts = failure.attempts;
	copy.quotaWaitMs = failure.quotaWaitMs;
	return copy;
}
