/**
 * The only module that imports @google/genai. A client is made per execution from the
 * credential (never kept at module level), talks `v1beta`, and turns every answer into a
 * GenerateResult or a GeminiFailure.
 */
import { GoogleGenAI } from '@google/genai';
import type { GenerateContentParameters, Model } from '@google/genai';

import { DEFAULT_HOST } from '../constants';
import { classifyError, parseRetryAfter, redactSecret } from './errors';
import type { GeminiFailure } from './errors';
import { parseGenerateResponse } from './response';
import type { GenerateResult, WireContent, WireResponse } from './response';
import type { RequestGate } from './gate';
import { withRetry } from './retry';
import type { RetryObserver, RetryPolicy, RetryStats } from './retry';

export const API_VERSION = 'v1beta';
export { DEFAULT_HOST };

export interface GeminiConnection {
	apiKey: string;
	host?: string;
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

/**
 * JSON.parse of the body, decoded chunk by chunk as it arrives. response.json() first copies all
 * chunks into one more buffer: for an image answer that is megabytes of memory outside the V8 heap,
 * and in n8n every such megabyte brings a full garbage collection of its large heap closer.
 */
async function readJson(body: ReadableStream<Uint8Array>): Promise<unknown> {
	const decoder = new TextDecoder();
	let text = '';
	for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
	return JSON.parse(text + decoder.decode());
}

/**
 * A fetch that remembers the last Retry-After header it saw (one per call, so calls never share it)
 * and reads successful answers with readJson.
 */
function headerAwareFetch() {
	const seen: { retryAfterMs?: number } = {};
	const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
		const response = await fetchWithoutHeaderTimeout(input, init);
		if (!response.ok) seen.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
		const body = response.body;
		if (response.ok && body) Object.assign(response, { json: async () => await readJson(body) });
		return response;
	};
	return { fetchFn, seen };
}

export class GeminiClient {
	private readonly sdk: GoogleGenAI;
	private readonly apiKey: string;

	constructor(connection: GeminiConnection) {
		this.apiKey = connection.apiKey;
		this.sdk = new GoogleGenAI({
			apiKey: connection.apiKey,
			httpOptions: {
				baseUrl: (connection.host || DEFAULT_HOST).replace(/\/+$/, ''),
				apiVersion: API_VERSION,
				fetch: fetchWithoutHeaderTimeout,
			},
		});
	}

	/** One generateContent call with retries, parsed; throws GeminiFailure. */
	async generate(request: GenerateRequest, settings: CallSettings): Promise<GenerateResult> {
		const stats: RetryStats = { attempts: 0, quotaWaitMs: 0 };
		const result = await withRetry(
			async () => {
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
					throw this.redact(classifyError(error, seen.retryAfterMs));
				}
			},
			settings.retry,
			settings,
			stats,
		);
		return { ...result, attempts: stats.attempts, quotaWaitMs: stats.quotaWaitMs };
	}

	/** Belt and braces: the key travels in a header, but no message we surface may ever hold it. */
	private redact(failure: GeminiFailure): GeminiFailure {
		failure.message = redactSecret(failure.message, this.apiKey);
		return failure;
	}

	async listModels(signal?: AbortSignal): Promise<RemoteModel[]> {
		const pager = await this.sdk.models.list({ config: { pageSize: 1000, abortSignal: signal } });
		const models: RemoteModel[] = [];
		for await (const model of pager as AsyncIterable<Model>) {
			models.push({
				id: (model.name ?? '').replace(/^models\//, ''),
				displayName: model.displayName ?? model.name ?? '',
				description: model.description,
				methods: model.supportedActions ?? [],
			});
		}
		return models;
	}

	/** Files API (Gemini API only): resumable upload, for requests too large to send inline. */
	async uploadFile(data: Buffer, mimeType: string, displayName: string, settings: CallSettings): Promise<UploadedFile> {
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
