/**
 * The only module that imports @google/genai. A client is made per execution from the
 * credential (never kept at module level), talks `v1beta` to the Gemini API or `v1beta1` to
 * Vertex AI, and turns every answer into a GenerateResult or a GeminiFailure.
 */
import { createWriteStream } from 'fs';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type { ReadableStream as NodeReadableStream } from 'stream/web';

import { ApiError, GoogleGenAI } from '@google/genai';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { RequestInfo as UndiciRequestInfo, RequestInit as UndiciRequestInit } from 'undici';
import type { BatchJob, GenerateContentParameters, InlinedRequest, Model } from '@google/genai';

import {
	answerCostUsd,
	estimateCostUsd,
	estimateTextCostUsd,
	findModel,
	lifecycleAdvice,
	textRequestMaxCostUsd,
} from '../catalogue';
import { DEFAULT_HOST } from '../constants';
import {
	GeminiFailure,
	classifyError,
	parseRetryAfter,
	modelNotFound,
	noApiAtHost,
	redactSecret,
	vertexFailure,
} from './failure';
import { readImageAnswer } from './answer';
import { withKeyKind } from './keyKind';
import { vertexBaseUrl } from './host';
import { answerOutput, parseGenerateResponse, usageOf } from './response';
import type { GenerateResult, WireContent, WireResponse } from './response';
import { answerBytesFor } from './quota';
import type { Admissions } from './quota';
import { withRetry } from './retry';
import type { RequestPrice } from './spend';
import type { RetryObserver, RetryPolicy, RetryStats } from './retry';
import { ServiceAccountTokens } from './vertexAuth';
import type { ServiceAccountKey } from './vertexAuth';

export const API_VERSION = 'v1beta';
export const VERTEX_API_VERSION = 'v1beta1';
export { DEFAULT_HOST };

/**
 * What one request costs by the catalogue (undefined: no known price), for the spend guards: an
 * image request its image; a text request (a judge call) the most it can cost.
 */
function priceOf(request: GenerateRequest, imageSize?: string): RequestPrice {
	const { model } = request;
	if (request.requireImage !== false)
		return { model, estimateUsd: estimateCostUsd(findModel(model), imageSize, 1) };
	const parts = request.contents.flatMap((content) => content.parts ?? []);
	const characters = [request.systemInstruction ?? '', ...parts.map((p) => p.text ?? '')].join(
		'',
	).length;
	const images = parts.filter((p) => p.inlineData || p.fileData).length;
	const maxOutputTokens = request.generationConfig.maxOutputTokens as number | undefined;
	return {
		model,
		estimateUsd: textRequestMaxCostUsd(model, { characters, images }, maxOutputTokens),
	};
}

/** What an answer cost, from the usage it reports (0 for a model with no known price). */
function costOfAnswer(
	request: GenerateRequest,
	imageSize: string | undefined,
	response: WireResponse,
): number {
	const { model } = request;
	if (request.requireImage === false)
		return estimateTextCostUsd(model, usageOf(response.usageMetadata)) ?? 0;
	return answerCostUsd(findModel(model), imageSize, answerOutput(response)) ?? 0;
}

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
	/**
	 * Set for Vertex AI: a service account (project, location) or, without one, express mode with
	 * apiKey.
	 */
	vertex?: VertexConnection;
}

export interface CallSettings {
	retry: RetryPolicy;
	/** Per attempt, in ms. 0 = no client-side limit. */
	timeoutMs: number;
	/** n8n's execution cancel signal, possibly combined with the runner's stop signal. */
	signal?: AbortSignal;
	observer?: RetryObserver;
	/**
	 * The execution's gate, in front of the process's gate of each quota: Max Concurrent Requests,
	 * quota pauses, pacing and adaptive concurrency.
	 */
	gate?: Admissions;
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
	/**
	 * true lets Google keep the request and answer (AI Studio logs, 55 days). Otherwise the Gemini
	 * API is sent `store: false`: projects made since 2026-10-26 store requests by default (Google's
	 * "Logs and datasets" page). Vertex AI has no such field; nothing is sent there.
	 */
	store?: boolean;
	/**
	 * Names of the options used that only Vertex AI takes: refused before sending on the Gemini API.
	 */
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

/** One request of a batch job, found again in the results by its key. */
export interface BatchRequest {
	key: string;
	request: GenerateRequest;
}

/** A batch job's state, in the SDK's names (JOB_STATE_SUCCEEDED, …). */
export interface BatchStatus {
	name: string;
	state: string;
	model?: string;
	createTime?: string;
	endTime?: string;
	/** Request counts, when the API gives them (the SDK drops them; read from the raw answer). */
	stats?: { total: number; succeeded: number; failed: number; pending: number };
	/** Why a failed job failed. */
	error?: { code?: number; message?: string };
	/** Results of an inline job, in request order, each with the key it was sent with. */
	inlineResults?: BatchResultLine[];
	/** The JSONL file (files/…) holding the results of a file job. */
	responsesFile?: string;
}

/** One request's answer: a response to parse, or the error Google reports for it. */
export interface BatchResultLine {
	key?: string;
	response?: WireResponse;
	error?: { code?: number; message?: string };
}

/** The generateContent request body as the REST API takes it (a JSONL batch line's `request`). */
export function restRequest(request: GenerateRequest): Record<string, unknown> {
	// Batch jobs run on the Gemini API only, so `store` always applies.
	return {
		contents: request.contents,
		generationConfig: request.generationConfig,
		...(request.systemInstruction
			? { systemInstruction: { parts: [{ text: request.systemInstruction }] } }
			: {}),
		...(request.safetySettings ? { safetySettings: request.safetySettings } : {}),
		...(request.tools ? { tools: request.tools } : {}),
		store: request.store === true,
	};
}

/**
 * The SDK's config for a request: generation settings plus system instruction, safety, tools and,
 * on the Gemini API, whether Google may store it (the SDK refuses `store` for Vertex AI).
 */
function sdkConfig(request: GenerateRequest, vertex: boolean): GenerateContentParameters['config'] {
	return {
		...request.generationConfig,
		systemInstruction: request.systemInstruction || undefined,
		safetySettings: request.safetySettings as never,
		tools: request.tools as never,
		...(vertex ? {} : { store: request.store === true }),
	};
}

const SMALL_ANSWER_BYTES = 1024 * 1024;

/**
 * The JSON of an answer, read from a copy, if it is small (a job without inline results); else
 * undefined.
 */
async function readSmallJson(response: Response): Promise<Record<string, unknown> | undefined> {
	const reader = response.clone().body?.getReader();
	if (!reader) return undefined;
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.length;
		if (size > SMALL_ANSWER_BYTES) {
			await reader.cancel();
			return undefined;
		}
		chunks.push(value);
	}
	try {
		return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}

/**
 * One connection pool for the whole n8n process (shared on purpose: every execution talks to the
 * same Google host), made on first use so it reads the proxy settings n8n was started with.
 * - Both undici timeouts are off: Node's fetch cuts a request whose headers take over 300 s, and a
 *   4K image can take longer. Our per-attempt timeout (the SDK's `timeout`) still applies.
 * - HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured, as n8n's own HTTP requests honour them
 *   (Node's fetch ignores them unless NODE_USE_ENV_PROXY is set).
 * undici's own fetch goes with its own agent: an agent of one undici version handed to another's
 * fetch (Node's built-in one) is not supported.
 */
let sharedAgent: EnvHttpProxyAgent | undefined;
function geminiAgent(): EnvHttpProxyAgent {
	sharedAgent ??= new EnvHttpProxyAgent({ headersTimeout: 0, bodyTimeout: 0 });
	return sharedAgent;
}

async function geminiFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
	const response = (await undiciFetch(input as UndiciRequestInfo, {
		...(init as UndiciRequestInit),
		dispatcher: geminiAgent(),
	})) as unknown as Response;
	// A web page with 200 is another web app at the Host, not an answer cut off on the way.
	if (response.ok && /^text\/html\b/i.test(response.headers.get('content-type') ?? '')) {
		await response.body?.cancel();
		throw noApiAtHost(response.status, true);
	}
	return response;
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
 * Image answers are asked for uncompressed. Their images are PNG or JPEG already compressed, so
 * gzip wins back only base64's third, and fetch inflates it on n8n's main thread 16 kB at a time:
 * about 11 ms of CPU per 1 MB image, and when several answers land together each waits on the
 * others (four 1 MB answers were ready 160-210 ms after arriving, against 10-30 ms uncompressed).
 * The third more bytes cost 3 ms per 1 MB image at 1 Gbps, 140 ms at 20 Mbps: small beside a
 * generation, which takes seconds.
 */
function uncompressed(init?: RequestInit): RequestInit {
	const headers = new Headers(init?.headers);
	headers.set('accept-encoding', 'identity');
	return { ...init, headers };
}

/**
 * A fetch that remembers the last Retry-After header it saw (one per call, so calls never share it)
 * and reads successful answers with readJson, or, for generateContent, with readImageAnswer.
 * `sent` is told when the request leaves (the quota gate counts it from then).
 */
function headerAwareFetch(imageAnswers = false, sent?: () => void) {
	const seen: { retryAfterMs?: number } = {};
	const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
		sent?.();
		const response = await geminiFetch(input, imageAnswers ? uncompressed(init) : init);
		if (!response.ok) seen.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
		// The body is read when json() is called: a clone() in between (batch calls) replaces it.
		if (response.ok && response.body) {
			// A compressed answer's Content-Length is not the size of the JSON read.
			const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
			const size = encoded ? 0 : Number(response.headers.get('content-length')) || 0;
			const json = imageAnswers
				? async () => await readImageAnswer(response.body!, size)
				: async () => await readJson(response.body!);
			Object.assign(response, { json });
		}
		return response;
	};
	return { fetchFn, seen };
}

/**
 * Gemini lists `models/ID`; Vertex lists `publishers/google/models/ID` with no supported actions.
 */
function remoteModel(model: Model): RemoteModel {
	const id = (model.name ?? '').replace(/^(publishers\/[^/]+\/)?models\//, '');
	return {
		id,
		displayName: model.displayName ?? id,
		description: model.description,
		methods: model.supportedActions ?? [],
	};
}

/**
 * Google's model-404 (its JSON error, status NOT_FOUND) told what Google's pages say of that
 * model, when the catalogue knows: shut down when, and what to use instead.
 */
function withLifecycle(failure: GeminiFailure, model: string): GeminiFailure {
	const advice =
		failure.httpCode === 404 && failure.reason === 'NOT_FOUND' ? lifecycleAdvice(model) : '';
	if (!advice) return failure;
	const prefix = `${modelNotFound(model).message}: `;
	const google = failure.message.startsWith(prefix)
		? failure.message.slice(prefix.length)
		: failure.message;
	(failure as { description: string }).description = `Google said: ${google}`;
	failure.message = `${modelNotFound(model).message}: ${advice}`;
	return failure;
}

export function vertexOnlyFailure(options: string[]): GeminiFailure {
	const names = options.map((o) => `"${o}"`).join(' and ');
	return new GeminiFailure({
		kind: 'setup',
		message: `${names} ${options.length > 1 ? 'work' : 'works'} only with Vertex AI`,
		description: `The credential uses a Gemini API key, and the Gemini API refuses ${options.length > 1 ? 'these options' : 'this option'}. Remove ${options.length > 1 ? 'them' : 'it'} from the node's options, or switch the Nano Banana credential to Vertex AI. Nothing was sent to Google.`,
		reason: 'VERTEX_ONLY_OPTION',
		retryable: false,
	});
}

/** The Files API refused an upload for its MIME type, not for its content or the key. */
function isMimeTypeRefusal(error: unknown): boolean {
	return (
		error instanceof GeminiFailure &&
		error.httpCode === 400 &&
		/Unsupported MIME type/i.test(error.message)
	);
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
				httpOptions: {
					baseUrl: this.baseUrl,
					apiVersion: API_VERSION,
					fetch: geminiFetch,
				},
			});
			return;
		}
		this.location = vertex.serviceAccount ? vertex.location || 'global' : undefined;
		this.project = vertex.serviceAccount
			? vertex.project || vertex.serviceAccount.projectId
			: undefined;
		if (vertex.serviceAccount && !this.project) {
			throw new GeminiFailure({
				kind: 'setup',
				message: 'No Google Cloud project for Vertex AI',
				description:
					'The service account key has no project_id. Enter the Project ID in the Nano Banana credential.',
				reason: 'SETUP',
				retryable: false,
			});
		}
		this.baseUrl = (connection.host || vertexBaseUrl(this.location)).replace(/\/+$/, '');
		const httpOptions = {
			baseUrl: this.baseUrl,
			apiVersion: VERTEX_API_VERSION,
			fetch: geminiFetch,
		};
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

	/** Throws, before anything is sent, when the request uses options this back end refuses. */
	checkSendable(request: GenerateRequest): void {
		if (request.vertexOnlyOptions?.length && !this.isVertex)
			throw vertexOnlyFailure(request.vertexOnlyOptions);
	}

	/** One generateContent call with retries, parsed; throws GeminiFailure. */
	async generate(request: GenerateRequest, settings: CallSettings): Promise<GenerateResult> {
		const stats: RetryStats = { attempts: 0, quotaWaitMs: 0 };
		const imageConfig = request.generationConfig.imageConfig as { imageSize?: string } | undefined;
		const gate = await settings.gate?.admission(
			this.quotaIdentity(request.model),
			answerBytesFor(request.requireImage === false ? undefined : (imageConfig?.imageSize ?? '1K')),
			priceOf(request, imageConfig?.imageSize),
		);
		const result = await withRetry(
			async (_attempt, sent, billed, signal) => {
				this.checkSendable(request);
				const { fetchFn, seen } = headerAwareFetch(true, sent);
				const params: GenerateContentParameters = {
					model: request.model,
					contents: request.contents as GenerateContentParameters['contents'],
					config: {
						...sdkConfig(request, this.isVertex),
						abortSignal: signal,
						httpOptions: { timeout: settings.timeoutMs || undefined, fetch: fetchFn },
					},
				};
				try {
					const response = (await this.sdk.models.generateContent(params)) as WireResponse;
					billed(costOfAnswer(request, imageConfig?.imageSize, response));
					return parseGenerateResponse(response, request.requireImage !== false);
				} catch (error) {
					const failure = classifyError(this.scrubbed(error), seen.retryAfterMs, request.model);
					// Google bills no request it answered with an HTTP error.
					if (failure.kind === 'http') billed(0);
					throw this.forUser(withLifecycle(failure, request.model));
				}
			},
			settings.retry,
			{ ...settings, gate },
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
		if (this.isVertex)
			failure = vertexFailure(failure, {
				project: this.project,
				location: this.location,
				express: !this.tokens,
			});
		failure = withKeyKind(failure, {
			apiKey: this.apiKey,
			vertex: this.isVertex,
			express: this.isVertex && !this.tokens,
		});
		for (const secret of this.secrets()) {
			failure.message = redactSecret(failure.message, secret);
			(failure as { description: string }).description = redactSecret(failure.description, secret);
		}
		return failure;
	}

	/**
	 * What Google counts a request against: the project (service account) or the key, the host, and
	 * the model or API. It holds the key: it goes only to the gates, which keep an HMAC of it.
	 */
	private quotaIdentity(scope: string): string {
		const who = this.tokens ? `project:${this.project}:${this.location}` : `key:${this.apiKey}`;
		return JSON.stringify([who, this.baseUrl, scope]);
	}

	/** The gate of a quota for a call, when the execution gives one. */
	private async admission(settings: CallSettings, scope: string, answerBytes?: number) {
		return await settings.gate?.admission(this.quotaIdentity(scope), answerBytes);
	}

	private secrets(): string[] {
		return [this.apiKey, ...(this.tokens?.secrets() ?? [])];
	}

	/**
	 * What the SDK threw, with the secrets taken out of its message before classifyError cuts a long
	 * message to length: a secret cut in two would no longer be found to redact.
	 */
	private scrubbed(error: unknown): unknown {
		const thrown = error as { message?: unknown } | undefined;
		if (typeof thrown?.message === 'string') {
			let message = thrown.message;
			for (const secret of this.secrets()) message = redactSecret(message, secret);
			if (message !== thrown.message) thrown.message = message;
		}
		return error;
	}

	async listModels(signal?: AbortSignal): Promise<RemoteModel[]> {
		const models: RemoteModel[] = [];
		try {
			const pager = await this.sdk.models.list({ config: { pageSize: 1000, abortSignal: signal } });
			for await (const model of pager as AsyncIterable<Model>) models.push(remoteModel(model));
		} catch (error) {
			throw this.forUser(classifyError(this.scrubbed(error)));
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
			if (this.isVertex)
				await this.sdk.models.countTokens({
					model,
					contents: 'test',
					config: { abortSignal: signal },
				});
			else await this.sdk.models.list({ config: { pageSize: 1, abortSignal: signal } });
		} catch (error) {
			throw this.forUser(
				classifyError(this.scrubbed(error), undefined, this.isVertex ? model : undefined),
			);
		}
	}

	/** Files API (Gemini API only): resumable upload, for requests too large to send inline. */
	async uploadFile(
		data: Buffer,
		mimeType: string,
		displayName: string,
		settings: CallSettings,
	): Promise<UploadedFile> {
		if (this.isVertex) {
			throw new GeminiFailure({
				kind: 'setup',
				message: 'Vertex AI has no Files API',
				description:
					'Vertex AI takes images inline, up to 7 MB each. With a Gemini API key credential larger images are uploaded through the Files API.',
				reason: 'SETUP',
				retryable: false,
			});
		}
		return await withRetry(
			async (_attempt, _sent, _billed, signal) => {
				const file = await this.sdk.files.upload({
					file: new Blob([data], { type: mimeType }),
					config: { mimeType, displayName, abortSignal: signal },
				});
				if (!file.uri) throw new Error('The Files API did not return a file URI');
				return { uri: file.uri, mimeType: file.mimeType ?? mimeType, name: file.name ?? '' };
			},
			settings.retry,
			{ ...settings, gate: await this.admission(settings, 'files') },
		);
	}

	/**
	 * Batch API (Gemini API only): one job for many requests, inline or from a JSONL file (files/…).
	 */
	async createBatch(
		model: string,
		input: { requests: BatchRequest[] } | { fileName: string },
		displayName: string,
		settings: CallSettings,
	): Promise<BatchStatus> {
		const src =
			'fileName' in input
				? input.fileName
				: input.requests.map(({ key, request }): InlinedRequest => ({
						contents: request.contents as InlinedRequest['contents'],
						config: sdkConfig(request, this.isVertex),
						metadata: { key },
					}));
		// Not retried past a network error: a job created whose answer was lost would run twice.
		return await this.call(
			async (fetchFn, raw, signal) =>
				this.batchStatus(
					await this.sdk.batches.create({
						model,
						src,
						config: { displayName, abortSignal: signal, httpOptions: { fetch: fetchFn } },
					}),
					raw.body,
				),
			settings,
			'batches',
			false,
			model,
		);
	}

	async getBatch(name: string, settings: CallSettings): Promise<BatchStatus> {
		return await this.call(
			async (fetchFn, raw, signal) => {
				const job = await this.sdk.batches.get({
					name,
					config: { abortSignal: signal, httpOptions: { fetch: fetchFn } },
				});
				return this.batchStatus(job, raw.body);
			},
			settings,
			'batches',
		);
	}

	async cancelBatch(name: string, settings: CallSettings): Promise<void> {
		await this.call(
			async (_fetchFn, _raw, signal) =>
				await this.sdk.batches.cancel({ name, config: { abortSignal: signal } }),
			settings,
			'batches',
		);
	}

	/**
	 * Uploads a file from disk in chunks (a batch's JSONL requests), so it is never whole in memory.
	 * When the Files API refuses `mimeType` itself (400 "Unsupported MIME type"), the file goes once
	 * more as `fallbackMimeType`, if given.
	 */
	async uploadFilePath(
		path: string,
		mimeType: string,
		displayName: string,
		settings: CallSettings,
		fallbackMimeType?: string,
	): Promise<UploadedFile> {
		const upload = async (type: string) =>
			await this.call(
				async (_fetchFn, _raw, signal) => {
					const file = await this.sdk.files.upload({
						file: path,
						config: { mimeType: type, displayName, abortSignal: signal },
					});
					return { uri: file.uri ?? '', mimeType: file.mimeType ?? type, name: file.name ?? '' };
				},
				settings,
				'files',
			);
		return await upload(mimeType).catch(async (error: unknown) => {
			if (fallbackMimeType && isMimeTypeRefusal(error)) return await upload(fallbackMimeType);
			throw error;
		});
	}

	/**
	 * Streams a generated file (a batch's JSONL results) to disk. Google serves file contents at
	 * `{base}/download/{version}/files/{id}:download?alt=media` only, not on the API path the SDK's
	 * files.download asks.
	 */
	async downloadFile(name: string, path: string, settings: CallSettings): Promise<void> {
		const id = name.replace(/^files\//, '');
		const url = `${this.baseUrl}/download/${API_VERSION}/files/${encodeURIComponent(id)}:download?alt=media`;
		await withRetry(
			async (_attempt, _sent, _billed, signal) => {
				let retryAfterMs: number | undefined;
				try {
					const response = await geminiFetch(url, {
						headers: { 'x-goog-api-key': this.apiKey },
						signal,
					});
					if (!response.ok) {
						retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
						// The SDK's error shape, so it is read as any other answer is.
						throw new ApiError({ message: await response.text(), status: response.status });
					}
					if (!response.body) throw new Error('The download answer has no body');
					await pipeline(
						Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>),
						createWriteStream(path),
					);
				} catch (error) {
					throw this.forUser(classifyError(this.scrubbed(error), retryAfterMs));
				}
			},
			settings.retry,
			{ ...settings, gate: await this.admission(settings, 'files') },
		);
	}

	/**
	 * A call with retries whose failure is a redacted GeminiFailure; `raw` holds the answer's JSON
	 * when it is small. `model`: the model the call is about, if any (its 404 is the model's).
	 */
	private async call<T>(
		run: (
			fetchFn: typeof fetch,
			raw: { body?: Record<string, unknown> },
			signal?: AbortSignal,
		) => Promise<T>,
		settings: CallSettings,
		scope: string,
		retry = true,
		model?: string,
	): Promise<T> {
		const gate = await this.admission(settings, scope);
		return await withRetry(
			async (_attempt, sent, _billed, signal) => {
				const { fetchFn: headerFetch, seen } = headerAwareFetch(false, sent);
				const raw: { body?: Record<string, unknown> } = {};
				const fetchFn = async (input: string | URL | Request, init?: RequestInit) => {
					const response = await headerFetch(input, init);
					if (response.ok) raw.body = await readSmallJson(response);
					return response;
				};
				try {
					return await run(fetchFn as typeof fetch, raw, signal);
				} catch (error) {
					throw this.forUser(classifyError(this.scrubbed(error), seen.retryAfterMs, model));
				}
			},
			retry ? settings.retry : { ...settings.retry, maxAttempts: 1 },
			{ ...settings, gate },
		);
	}

	private batchStatus(job: BatchJob, raw: Record<string, unknown> | undefined): BatchStatus {
		const counts = ((raw?.metadata as Record<string, unknown> | undefined)?.batchStats ??
			{}) as Record<string, string | undefined>;
		const error = raw?.error as BatchStatus['error'];
		const inline = job.dest?.inlinedResponses;
		return {
			name: job.name ?? '',
			state: String(job.state ?? 'JOB_STATE_UNSPECIFIED'),
			model: job.model?.replace(/^models\//, ''),
			createTime: job.createTime,
			endTime: job.endTime,
			stats:
				counts.requestCount !== undefined
					? {
							total: Number(counts.requestCount),
							succeeded: Number(counts.successfulRequestCount ?? 0),
							failed: Number(counts.failedRequestCount ?? 0),
							pending: Number(counts.pendingRequestCount ?? 0),
						}
					: undefined,
			error: error
				? { code: error.code, message: error.message && redactSecret(error.message, this.apiKey) }
				: undefined,
			inlineResults: inline?.map((r) => ({
				key: r.metadata?.key,
				response: r.response as WireResponse | undefined,
				error: r.error,
			})),
			responsesFile: job.dest?.fileName,
		};
	}
}
