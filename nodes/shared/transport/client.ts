/**
 * The only module that imports @google/genai. A client is made per execution from the
 * credential (never kept at module level), talks `v1beta` to the Gemini API or `v1beta1` to
 * Vertex AI, and turns every answer into a GenerateResult or a GeminiFailure.
 */
import { GoogleGenAI } from '@google/genai';
import type { GenerateContentParameters, Model } from '@google/genai';

import { DEFAULT_HOST } from '../constants';
import { GeminiFailure, classifyError, parseRetryAfter, redactSecret, vertexFailure } from './errors';
import { vertexBaseUrl } from './host';
import { parseGenerateResponse } from './response';
import type { GenerateResult, WireContent, WireResponse } from './response';
import type { RequestGate } from './gate';
import { withRetry } from './retry';
import type { RetryObserver, RetryPolicy, RetryStats } from './retry';
import { ServiceAccountTokens } from './vertexAuth';
import type { ServiceAccountKey } from './vertexAuth';

export const API_VERSION = 'v1beta';
export const VERTEX_API_VERSION = 'v1beta1';
export { DEFAULT_HOST };

/** Vertex AI allows 7 MB per inline image, and has no Files API to send a larger one. */
export const VERTEX_MAX_INLINE_IMAGE_BYTES = 7 * 1024 * 1024;

export interface VertexConnection {
	/** With a service account: its project (default: the key's project_id) and location. */
	serviceAccount?: ServiceAccountKey;
	project?: string;
	location?: string;
}

export interface GeminiConnection {
	/** The Gemini API key, or the Vertex AI express key; empty with a service account. */
	apiKey: string;
	/** Base URL; empty means Google's host (for Vertex, the location's). */
	host?: string;
	/** Set for Vertex AI: a service account (project, location) or, without one, express mode with apiKey. */
	vertex?: VertexConnection;
}

export interface CallSettings {
	retry: RetryPolicy;
	/** Per attempt, in ms. 0 = no client-side limit. */
	timeoutMs: number;
	/** n8n's execution cancel signal, possibly combined with the runner's stop signal. */
	signal?: AbortSignal;
	observer?: RetryObserver;
	/** The execution's shared gate: quota pauses and adaptive concurrency across all its requests. */
	gate?: RequestGate;
}

/** What a node asks for; the wire names, so tests can compare with what the server received. */
export interface GenerateRequest {
	model: string;
	contents: WireContent[];
	systemInstruction?: string;
	generationConfig: Record<string, unknown>;
	safetySettings?: Array<{ category: string; threshold: string }>;
	tools?: Array<Record<string, unknown>>;
	/** false for judge calls that answer in text (JSON). */
	requireImage?: boolean;
	/** Names of the options used that only Vertex AI takes: refused before sending on the Gemini API. */
	vertexOnlyOptions?: string[];
}

export interface RemoteModel {
	id: string;
	displayName: string;
	description?: string;
	methods: string[];
}

export interface UploadedFile {
	uri: string;
	mimeType: string;
	name: string;
}

const UNDICI_GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

type Dispatcher = { dispatch: (options: Record<string, unknown>, handler: unknown) => boolean };

/**
 * Node's fetch (undici) cuts a request whose headers take over 300 s, and a 4K image can take
 * longer. The SDK lifts that limit only for its own fetch; since we wrap fetch to read
 * Retry-After, we lift it the same way: delegate to the global dispatcher with both undici
 * timeouts off. Our per-attempt timeout (SDK `timeout`) still applies. Where the global
 * dispatcher is not reachable (a sandboxed realm), fetch keeps its default.
 */
function noHeaderTimeoutDispatcher(): Dispatcher | undefined {
	const globals = globalThis as unknown as Record<symbol, Dispatcher | undefined>;
	if (!globals[UNDICI_GLOBAL_DISPATCHER]) new Headers();
	const global = globals[UNDICI_GLOBAL_DISPATCHER];
	if (typeof global?.dispatch !== 'function') return undefined;
	return { dispatch: (options, handler) => global.dispatch({ ...options, headersTimeout: 0, bodyTimeout: 0 }, handler) };
}

async function fetchWithoutHeaderTimeout(input: string | URL | Request, init?: RequestInit): Promise<Response> {
	const dispatcher = noHeaderTimeoutDispatcher();
	return await fetch(input, (dispatcher ? { ...init, dispatcher } : init) as RequestInit);
}

/** A fetch that remembers the last Retry-After header it saw; one per call, so calls never share it. */
function headerAwareFetch() {
	const seen: { retryAfterMs?: number } = {};
	const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
		const response = await fetchWithoutHeaderTimeout(input, init);
		if (!response.ok) seen.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
		return response;
	};
	return { fetchFn, seen };
}

/** Gemini lists `models/ID`; Vertex lists `publishers/google/models/ID` with no supported actions. */
function remoteModel(model: Model): RemoteModel {
	const id = (model.name ?? '').replace(/^(publishers\/[^/]+\/)?models\//, '');
	return {
		id,
		displayName: model.displayName ?? id,
		description: model.description,
		methods: model.supportedActions ?? [],
	};
}

function vertexOnlyFailure(options: string[]): GeminiFailure {
	const names = options.map((o) => `"${o}"`).join(' and ');
	return new GeminiFailure({
		kind: 'setup',
		message: `${names} ${options.length > 1 ? 'work' : 'works'} only with Vertex AI`,
		description: `The credential uses a Gemini API key, and the Gemini API refuses ${options.length > 1 ? 'these options' : 'this option'}. Remove ${options.length > 1 ? 'them' : 'it'} from the node's options, or switch the Nano Banana credential to Vertex AI. Nothing was sent to Google.`,
		reason: 'VERTEX_ONLY_OPTION',
		retryable: false,
	});
}

export class GeminiClient {
	private readonly sdk: GoogleGenAI;
	private readonly apiKey: string;
	/** Service-account tokens for this client (this execution) only. */
	readonly tokens?: ServiceAccountTokens;
	readonly project?: string;
	readonly location?: string;
	/** Where requests go: the credential's Host, or Google's host (for Vertex, the location's). */
	readonly baseUrl: string;

	constructor(connection: GeminiConnection) {
		this.apiKey = connection.apiKey;
		const vertex = connection.vertex;
		if (!vertex) {
			this.baseUrl = (connection.host || DEFAULT_HOST).replace(/\/+$/, '');
			this.sdk = new GoogleGenAI({
				apiKey: connection.apiKey,
				httpOptions: { baseUrl: this.baseUrl, apiVersion: API_VERSION, fetch: fetchWithoutHeaderTimeout },
			});
			return;
		}
		this.location = vertex.serviceAccount ? vertex.location || 'global' : undefined;
		this.project = vertex.serviceAccount ? vertex.project || vertex.serviceAccount.projectId : undefined;
		if (vertex.serviceAccount && !this.project) {
			throw new GeminiFailure({
				kind: 'setup',
				message: 'No Google Cloud project for Vertex AI',
				description: 'The service account key has no project_id. Enter the Project ID in the Nano Banana credential.',
				reason: 'SETUP',
				retryable: false,
			});
		}
		this.baseUrl = (connection.host || vertexBaseUrl(this.location)).replace(/\/+$/, '');
		const httpOptions = { baseUrl: this.baseUrl, apiVersion: VERTEX_API_VERSION, fetch: fetchWithoutHeaderTimeout };
		if (vertex.serviceAccount) {
			this.tokens = new ServiceAccountTokens(vertex.serviceAccount);
			this.sdk = new GoogleGenAI({
				vertexai: true,
				project: this.project,
				location: this.location,
				googleAuthOptions: { authClient: this.tokens.authClient() },
				httpOptions,
			});
		} else {
			// Express mode: an API key and no project; paths start at publishers/google/models.
			this.sdk = new GoogleGenAI({ vertexai: true, apiKey: connection.apiKey, httpOptions });
		}
	}

	/** Vertex AI (service account or express): no Files API and no Batch API there. */
	get isVertex(): boolean {
		return this.sdk.vertexai;
	}

	/** Where large inputs may go when they do not fit inline. */
	get hasFilesApi(): boolean {
		return !this.isVertex;
	}

	/** One generateContent call with retries, parsed; throws GeminiFailure. */
	async generate(request: GenerateRequest, settings: CallSettings): Promise<GenerateResult> {
		const stats: RetryStats = { attempts: 0, quotaWaitMs: 0 };
		const result = await withRetry(
			async () => {
				if (request.vertexOnlyOptions?.length && !this.isVertex) throw vertexOnlyFailure(request.vertexOnlyOptions);
				const { fetchFn, seen } = headerAwareFetch();
				const params: GenerateContentParameters = {
					model: request.model,
					contents: request.contents as GenerateContentParameters['contents'],
					config: {
						...request.generationConfig,
						systemInstruction: request.systemInstruction || undefined,
						safetySettings: request.safetySettings as never,
						tools: request.tools as never,
						abortSignal: settings.signal,
						httpOptions: { timeout: settings.timeoutMs || undefined, fetch: fetchFn },
					},
				};
				try {
					const response = await this.sdk.models.generateContent(params);
					return parseGenerateResponse(response as WireResponse, request.requireImage !== false);
				} catch (error) {
					throw this.forUser(classifyError(error, seen.retryAfterMs));
				}
			},
			settings.retry,
			settings,
			stats,
		);
		return { ...result, attempts: stats.attempts, quotaWaitMs: stats.quotaWaitMs };
	}

	/**
	 * A failure as the user reads it: told of Vertex AI when the client talks to it, and with no
	 * secret in it. Belt and braces: the key and tokens travel in headers, but no message we
	 * surface may ever hold them, nor the service account's private key or signed assertion.
	 */
	private forUser(failure: GeminiFailure): GeminiFailure {
		if (this.isVertex) failure = vertexFailure(failure, { project: this.project, location: this.location, express: !this.tokens });
		for (const secret of [this.apiKey, ...(this.tokens?.secrets() ?? [])]) {
			failure.message = redactSecret(failure.message, secret);
			(failure as { description: string }).description = redactSecret(failure.description, secret);
		}
		return failure;
	}

	async listModels(signal?: AbortSignal): Promise<RemoteModel[]> {
		const models: RemoteModel[] = [];
		try {
			const pager = await this.sdk.models.list({ config: { pageSize: 1000, abortSignal: signal } });
			for await (const model of pager as AsyncIterable<Model>) models.push(remoteModel(model));
		} catch (error) {
			throw this.forUser(classifyError(error));
		}
		return models;
	}

	/**
	 * The credential's Test button: one cheap call that needs what generation needs. The Gemini
	 * API lists models; Vertex counts the tokens of a word with `model` in the credential's
	 * project and location, which checks the token, the project, the permission and the region.
	 */
	async testConnection(model: string, signal?: AbortSignal): Promise<void> {
		try {
			if (this.isVertex) await this.sdk.models.countTokens({ model, contents: 'test', config: { abortSignal: signal } });
			else await this.sdk.models.list({ config: { pageSize: 1, abortSignal: signal } });
		} catch (error) {
			throw this.forUser(classifyError(error));
		}
	}

	/** Files API (Gemini API only): resumable upload, for requests too large to send inline. */
	async uploadFile(data: Buffer, mimeType: string, displayName: string, settings: CallSettings): Promise<UploadedFile> {
		if (this.isVertex) {
			throw new GeminiFailure({
				kind: 'setup',
				message: 'Vertex AI has no Files API',
				description: 'Vertex AI takes images inline, up to 7 MB each. With a Gemini API key credential larger images are uploaded through the Files API.',
				reason: 'SETUP',
				retryable: false,
			});
		}
		return await withRetry(
			async () => {
				const file = await this.sdk.files.upload({
					file: new Blob([data], { type: mimeType }),
					config: { mimeType, displayName, abortSignal: settings.signal },
				});
				if (!file.uri) throw new Error('The Files API did not return a file URI');
				return { uri: file.uri, mimeType: file.mimeType ?? mimeType, name: file.name ?? '' };
			},
			settings.retry,
			settings,
		);
	}
}
