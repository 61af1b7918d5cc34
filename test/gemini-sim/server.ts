import type { IncomingMessage, ServerResponse } from 'node:http';

import { control } from './control';
import {
	apiKeyInvalid,
	BAD_GATEWAY_HTML,
	googleError,
	internalError,
	invalidArgument,
	modelNotFound,
	notFound,
	overloaded,
	payloadTooLarge,
	quotaExceeded,
	quotaExceededNoDetails,
	SimHttpError,
} from './errors';
import { isContentFault } from './faults';
import { encodeJson, readBody, send, sendJson, sendSse } from './http';
import { modelResource, type SimModel } from './models';
import { generateContent } from './pipeline';
import { loadRecording, mergeChunks } from './replay';
import type { SimState } from './state';
import type { Fault, RecordedRequest } from './types';
import { credentialsMissing, publisherModelNotFound, vertexMethod } from './vertex';

/**
 * Routes of the Gemini API (v1, v1beta, v1beta1), the Files upload endpoint, Vertex AI's
 * publisher-model routes with the OAuth token endpoint (/token), and the /__sim control API.
 */
export function createHandler(state: SimState) {
	return (req: IncomingMessage, res: ServerResponse) => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		if (url.pathname.startsWith('/__sim/')) {
			control(state, req, res, url).catch((error: Error) =>
				sendJson(res, 500, { error: { message: error.message } }),
			);
			return;
		}
		const exchange = startExchange(state, req, res, url);
		route(state, exchange).catch((error: unknown) => {
			if (error instanceof SimHttpError) {
				sendJson(res, error.status, error.body, error.headers);
			} else {
				const body = internalError();
				body.error.message += ` (simulator: ${(error as Error)?.message ?? String(error)})`;
				sendJson(res, 500, body);
			}
		});
	};
}

interface Exchange {
	req: IncomingMessage;
	res: ServerResponse;
	url: URL;
	record: RecordedRequest;
	/** Set when the simulator destroys the socket itself ('reset'). */
	resetByUs?: boolean;
}

function startExchange(
	state: SimState,
	req: IncomingMessage,
	res: ServerResponse,
	url: URL,
): Exchange {
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(req.headers)) {
		headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
	}
	const query = Object.fromEntries(url.searchParams);
	const record = state.newRecord({
		method: req.method ?? 'GET',
		path: url.pathname,
		query,
		headers,
	});
	const exchange: Exchange = { req, res, url, record };
	res.once('close', () => {
		record.endedAt = Date.now();
		record.status = res.headersSent ? res.statusCode : 0;
		if (!res.writableFinished && !exchange.resetByUs) record.aborted = true;
	});
	return exchange;
}

const UPLOAD = /^\/upload\/(v1|v1beta|v1beta1)\/files$/;
/** Media downloads (a batch's results file) have their own path, as on Google's front end. */
const DOWNLOAD = /^\/download\/(v1|v1beta|v1beta1)\/files\/([^/:]+):download$/;
const API = /^\/(v1|v1beta|v1beta1)\/(.*)$/;

async function route(state: SimState, exchange: Exchange) {
	const { req, res, url, record } = exchange;
	const upload = UPLOAD.exec(url.pathname);
	const download = DOWNLOAD.exec(url.pathname);
	const api = API.exec(url.pathname);
	const apiVersion = (upload ?? download ?? api)?.[1];
	record.apiVersion = apiVersion;

	const isChunk = upload !== null && url.searchParams.has('upload_id');
	const limit = isChunk
		? Infinity
		: url.pathname.endsWith(':batchGenerateContent')
			? state.batchInlineLimitBytes
			: state.inlineLimitBytes;
	const body = await readBody(req, limit);
	record.bodyBytes = body.bytes;
	if (body.tooLarge) throw payloadTooLarge(limit);

	if (isChunk) return uploadChunk(state, exchange, body.buffer);
	if (url.pathname === '/token' && req.method === 'POST') {
		record.action = 'token';
		const answer = state.vertex.exchange(new URLSearchParams(body.buffer.toString('utf8')));
		return sendJson(res, answer.status, answer.body);
	}
	if (!apiVersion) throw notFound('Method not found.');

	let badJson = false;
	if (body.buffer.length) {
		try {
			record.body = JSON.parse(body.buffer.toString('utf8'));
		} catch {
			badJson = true;
		}
	}
	const vertex = VERTEX.exec(api?.[2] ?? '');
	if (vertex) checkVertexAuth(state, exchange, vertex);
	else checkApiKey(state, exchange);
	if (badJson) throw invalidArgument('Invalid JSON payload received. Unexpected token.');
	if (vertex) return vertexRoute(state, exchange, apiVersion, vertex);
	if (download && req.method === 'GET' && url.searchParams.get('alt') === 'media') {
		record.action = 'downloadFile';
		const file = state.files.get(download[2]);
		return send(res, 200, file.mimeType, file.data);
	}
	if (download) throw notFound('Method not found.');

	if (upload) {
		record.action = 'uploadFile';
		const uploadUrl = state.files.start(apiVersion, record.body, req.headers);
		return send(res, 200, 'text/plain; charset=utf-8', '', {
			'x-goog-upload-url': uploadUrl,
			'x-goog-upload-control-url': uploadUrl,
			'x-goog-upload-status': 'active',
			'x-goog-upload-chunk-granularity': '8388608',
		});
	}
	return apiRoute(state, exchange, apiVersion, api?.[2] ?? '');
}

function uploadChunk(state: SimState, { req, res, url, record }: Exchange, data: Buffer) {
	record.action = 'uploadChunk';
	const command = String(req.headers['x-goog-upload-command'] ?? '');
	const offset = Number(req.headers['x-goog-upload-offset'] ?? 0);
	const result = state.files.chunk(url.searchParams.get('upload_id') ?? '', command, offset, data);
	const headers = {
		'x-goog-upload-status': result.status,
		'x-goog-upload-size-received': String(result.received),
	};
	if (!result.file) return send(res, 200, 'text/plain; charset=utf-8', '', headers);
	return sendJson(
		res,
		200,
		{ file: state.files.resource(result.file, record.apiVersion) },
		headers,
	);
}

function checkApiKey(state: SimState, { req, url, record }: Exchange) {
	const header = req.headers['x-goog-api-key'];
	const fromHeader = Array.isArray(header) ? header[0] : header;
	const fromQuery = url.searchParams.get('key') ?? undefined;
	const key = fromHeader ?? fromQuery;
	record.apiKeySource =
		fromHeader !== undefined ? 'header' : fromQuery !== undefined ? 'query' : undefined;
	record.apiKeyValid = key === state.apiKey;
	if (!record.apiKeyValid) throw apiKeyInvalid();
}

/** Vertex AI paths: project-scoped (service account) or bare publishers/google (express mode, model lists). */
const VERTEX = /^(?:projects\/([^/]+)\/locations\/([^/]+)\/)?publishers\/google\/(models.*)$/;

/**
 * Bearer token when one is sent (service account), else the express API key, which works only on
 * the bare publishers/google path: Vertex refuses any API key on a project path.
 */
function checkVertexAuth(
	state: SimState,
	exchange: Exchange,
	[, project, location, rest]: RegExpExecArray,
) {
	const { req, url, record } = exchange;
	const authorization = req.headers.authorization;
	if (authorization) {
		const principal = state.vertex.principal(authorization);
		record.vertex = { auth: 'bearer', principal, project, location };
		return;
	}
	record.vertex = { auth: 'api-key', project, location };
	const header = req.headers['x-goog-api-key'];
	const key =
		(Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key') ?? undefined;
	record.apiKeySource = header !== undefined ? 'header' : key !== undefined ? 'query' : undefined;
	const method = vertexMethod(rest, req.method ?? 'GET');
	if (project) throw credentialsMissing(method, key !== undefined);
	state.vertex.checkExpressKey(key, state.apiKey, method);
	record.apiKeyValid = true;
}

async function vertexRoute(
	state: SimState,
	exchange: Exchange,
	apiVersion: string,
	[, project, location, rest]: RegExpExecArray,
) {
	const { req, res, url, record } = exchange;
	if (rest === 'models' && req.method === 'GET') {
		record.action = 'listModels';
		const list = listModels(url, state.models) as {
			models: Array<{ name: string }>;
			nextPageToken?: string;
		};
		const publisherModels = list.models.map((m) => ({
			name: `publishers/google/${m.name}`,
			versionId: '001',
			openSourceCategory: 'PROPRIETARY',
			launchStage: 'GA',
		}));
		return sendJson(res, 200, {
			publisherModels,
			...(list.nextPageToken ? { nextPageToken: list.nextPageToken } : {}),
		});
	}
	const resource = `${project ? `projects/${project}/locations/${location}/` : ''}publishers/google/${rest.replace(/:\w+$/, '')}`;
	if (project && record.vertex?.principal)
		state.vertex.authorize(record.vertex.principal, project, resource);
	const model = /^models\/([^:]+):\w+$/.exec(rest)?.[1];
	if (model && !state.vertex.isOffered(location ?? 'global', model))
		throw publisherModelNotFound(resource);
	try {
		return await apiRoute(state, exchange, apiVersion, rest);
	} catch (error) {
		if (error instanceof SimHttpError && error.status === 404 && /^models\/[^:]+:\w+$/.test(rest))
			throw publisherModelNotFound(resource);
		throw error;
	}
}

async function apiRoute(state: SimState, exchange: Exchange, apiVersion: string, rest: string) {
	const { req, res, url, record } = exchange;
	const method = req.method ?? 'GET';
	let match: RegExpExecArray | null;

	if (rest === 'models' && method === 'GET') {
		record.action = 'listModels';
		return sendJson(res, 200, listModels(url, state.models));
	}
	if ((match = /^models\/([^:]+)$/.exec(rest)) && method === 'GET') {
		record.action = 'getModel';
		const model = state.findModel(match[1]);
		if (!model) throw modelNotFound(match[1], apiVersion, 'get');
		return sendJson(res, 200, modelResource(model));
	}
	if ((match = /^models\/([^:]+):(\w+)$/.exec(rest)) && method === 'POST') {
		const [, id, action] = match;
		record.action = action;
		const model = state.findModel(id);
		if (!model) throw modelNotFound(id, apiVersion, action);
		record.model = model.id;
		if (action === 'generateContent' || action === 'streamGenerateContent') {
			return generate(state, exchange, model, action === 'streamGenerateContent');
		}
		if (action === 'batchGenerateContent')
			return sendJson(res, 200, state.batches.create(model, record.body));
		if (action === 'countTokens') return sendJson(res, 200, countTokens(record.body));
		throw notFound('Method not found.');
	}
	if (rest === 'files' && method === 'GET') {
		record.action = 'listFiles';
		return sendJson(res, 200, {
			files: state.files.list().map((f) => state.files.resource(f, apiVersion)),
		});
	}
	if ((match = /^files\/([^:]+)$/.exec(rest))) {
		const file = state.files.get(match[1]);
		if (method === 'GET') {
			record.action = 'getFile';
			return sendJson(res, 200, state.files.resource(file, apiVersion));
		}
		if (method === 'DELETE') {
			record.action = 'deleteFile';
			state.files.delete(file.id);
			return sendJson(res, 200, {});
		}
	}
	if (rest === 'batches' && method === 'GET') {
		record.action = 'listBatches';
		return sendJson(res, 200, { operations: await state.batches.list() });
	}
	if ((match = /^batches\/([^:]+):cancel$/.exec(rest)) && method === 'POST') {
		record.action = 'cancelBatch';
		await state.batches.cancel(match[1]);
		return sendJson(res, 200, {});
	}
	if ((match = /^batches\/([^:]+)$/.exec(rest))) {
		if (method === 'GET') {
			record.action = 'getBatch';
			return sendJson(res, 200, await state.batches.get(match[1]));
		}
		if (method === 'DELETE') {
			record.action = 'deleteBatch';
			state.batches.delete(match[1]);
			return sendJson(res, 200, {});
		}
	}
	throw notFound('Method not found.');
}

function listModels(url: URL, models: readonly SimModel[]) {
	const pageSize = Math.min(
		1000,
		Math.max(1, Number(url.searchParams.get('pageSize') ?? 50) || 50),
	);
	const start = Number(
		Buffer.from(url.searchParams.get('pageToken') ?? '', 'base64url').toString() || 0,
	);
	const page = models.slice(start, start + pageSize).map(modelResource);
	const next = start + pageSize;
	return {
		models: page,
		...(next < models.length
			? { nextPageToken: Buffer.from(String(next)).toString('base64url') }
			: {}),
	};
}

function countTokens(body: unknown) {
	const request = (body ?? {}) as {
		contents?: unknown;
		generateContentRequest?: { contents?: unknown };
	};
	const text = JSON.stringify(request.contents ?? request.generateContentRequest?.contents ?? []);
	return { totalTokens: Math.max(1, Math.ceil(text.length / 4)) };
}

async function generate(state: SimState, exchange: Exchange, model: SimModel, stream: boolean) {
	const { res, record } = exchange;
	res.once('close', state.beginGenerate());
	const whenClosed = (cancel: () => void) => res.once('close', cancel);

	// Quota is checked at once, before any work: RetryInfo rounded down to whole seconds, the
	// message exact, as Google sends them.
	const wait = state.takeQuota();
	if (wait !== undefined) {
		record.quotaRefused = true;
		const { requests, windowMs } = state.quota!;
		return sendJson(
			res,
			429,
			quotaExceeded({
				model: model.id,
				retryDelay: `${Math.floor(wait / 1000)}s`,
				messageDelay: `${(wait / 1000).toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}s`,
				quotaValue: String(requests),
				quotaId:
					windowMs === 60_000
						? 'GenerateRequestsPerMinutePerProjectPerModel'
						: `GenerateRequestsPer${windowMs}msPerProjectPerModel`,
			}),
		);
	}

	const fault = state.chooseFault(record.body);
	if (fault) state.noteFault(record, fault);
	const transportFault = fault && !isContentFault(fault);
	// The answer is made while the latency runs, as the model's own time to answer includes
	// making it: a client waits L, not L plus the simulator's work (which shares its CPUs).
	const making = transportFault ? undefined : makeAnswer(state, exchange, model, stream, fault);
	making?.catch(() => undefined); // awaited below, after the latency
	if (state.latencyMs > 0 && !(await state.delay(state.latencyMs, whenClosed))) return;
	if (transportFault && (await serveFault(state, exchange, model, fault, stream))) return;
	(await (making ?? makeAnswer(state, exchange, model, stream, fault)))();
}

/** Makes the answer and returns what sends it. */
async function makeAnswer(
	state: SimState,
	{ res, record, url }: Exchange,
	model: SimModel,
	stream: boolean,
	fault: Fault | undefined,
): Promise<() => void> {
	const response = await generateContent(
		{ ...state.pipeline, vertex: record.vertex !== undefined },
		model,
		record.body,
		fault,
	);
	record.answerMadeAt = Date.now();
	if (!stream) {
		const body = encodeJson(res, response, state.gzipAnswers === 'always');
		return () => send(res, 200, 'application/json; charset=UTF-8', body);
	}
	const chunks = streamChunks(response);
	return url.searchParams.get('alt') === 'sse'
		? () => sendSse(res, chunks)
		: () => sendJson(res, 200, chunks);
}

/** Answers a transport-level fault. Returns false when the fault only delayed a normal answer. */
async function serveFault(
	state: SimState,
	exchange: Exchange,
	model: SimModel,
	fault: Fault,
	stream: boolean,
): Promise<boolean> {
	const { req, res } = exchange;
	const headers: Record<string, string> =
		fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
	const whenClosed = (cancel: () => void) => res.once('close', cancel);
	switch (fault.kind) {
		case '429':
			sendJson(
				res,
				429,
				quotaExceeded({
					model: model.id,
					retryDelay: fault.retryDelay ?? '0.35s',
					quotaValue: fault.quotaValue,
				}),
				headers,
			);
			return true;
		case '429-no-details':
			sendJson(res, 429, quotaExceededNoDetails(), headers);
			return true;
		case '500':
			sendJson(res, 500, internalError(), headers);
			return true;
		case '503':
			sendJson(res, 503, overloaded(), headers);
			return true;
		case 'html':
			send(res, 502, 'text/html; charset=UTF-8', BAD_GATEWAY_HTML, headers);
			return true;
		case 'malformed-json': {
			const whole = JSON.stringify({
				candidates: [
					{ content: { parts: [{ text: 'Here is the image you asked for.' }], role: 'model' } },
				],
			});
			const cut = whole.slice(0, Math.floor(whole.length / 2));
			if (stream) sendSse(res, [cut]);
			else send(res, 200, 'application/json; charset=UTF-8', cut);
			return true;
		}
		case 'echo-key': {
			const key = String(
				req.headers['x-goog-api-key'] ?? exchange.url.searchParams.get('key') ?? '',
			);
			sendJson(
				res,
				400,
				googleError(
					400,
					'INVALID_ARGUMENT',
					`API key ${key} is not allowed to call ${model.id} from this address.`,
				),
			);
			return true;
		}
		case 'reset':
			exchange.resetByUs = true;
			req.socket.destroy();
			return true;
		case 'hang':
			// No ms: held until the client gives up or the simulator stops.
			return !(await state.delay(fault.ms, whenClosed));
		case 'slow':
			return !(await state.delay(fault.ms ?? 1000, whenClosed));
		case 'replay': {
			if (!fault.file) throw new Error("A 'replay' fault needs a file");
			const recording = loadRecording(fault.file, state.fixturesDir);
			if (recording.status !== 200) sendJson(res, recording.status, recording.chunks[0], headers);
			else if (stream) sendSse(res, recording.chunks);
			else sendJson(res, 200, mergeChunks(recording.chunks));
			return true;
		}
		default:
			return false;
	}
}

/** One event per part; the last one carries the finish reason and grounding, every one the usage. */
function streamChunks(response: Record<string, unknown>): Array<Record<string, unknown>> {
	const candidate = (response.candidates as Array<Record<string, unknown>> | undefined)?.[0];
	const parts = (candidate?.content as { parts?: unknown[] } | undefined)?.parts;
	if (!candidate || !parts || parts.length <= 1) return [response];
	const { content: _content, finishReason, groundingMetadata, ...others } = candidate;
	return parts.map((part, i) => {
		const last = i === parts.length - 1;
		return {
			candidates: [
				{
					content: { parts: [part], role: 'model' },
					...(last ? { finishReason, ...(groundingMetadata ? { groundingMetadata } : {}) } : {}),
					...others,
				},
			],
			usageMetadata: response.usageMetadata,
			modelVersion: response.modelVersion,
			...(response.createTime ? { createTime: response.createTime } : {}),
			responseId: response.responseId,
		};
	});
}
