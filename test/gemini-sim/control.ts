import type { IncomingMessage, ServerResponse } from 'node:http';

import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

import { readBody, send, sendJson } from './http';
import type { BatchOutcome } from './batch';
import type { SimState } from './state';
import type {
	FaultSpec,
	ImageFormat,
	GzipAnswers,
	ImageTexture,
	Quota,
	RandomFaults,
	RecordedRequest,
	TextMisrendering,
} from './types';

/**
 * The control API, for a simulator running in another process (npm run gemini-sim, the e2e suite):
 *   POST /__sim/inject    JSON fault, or array of faults, queued for the next generateContent requests
 *   POST /__sim/random    {percent, kinds, seed?}, or null to switch random faults off
 *   POST /__sim/config    {latencyMs?, imageFormat?, imageTexture?, gzipAnswers?, batchDelayMs?, batchCancelDelayMs?,
 *                          refuseUploadMimeTypes?: string[], quota?: {requests, windowMs} | null,
 *                          misrenderText?: {percent, seed?} | null,
 *                          batchOutcomes?: [{state: 'BATCH_STATE_FAILED' | …, completed?, message?}] for the next batch jobs}
 *   GET  /__sim/requests  recorded requests; ?bodies=0 leaves bodies out, ?since=ID only newer ones
 *   POST /__sim/reset     clears requests, faults, counters, files and batches
 *   POST /__sim/teach     {image: base64, text?: string[], prompt?: string}: what an image shows, for the judge
 *   GET  /__sim/stats     counters
 *   GET  /__sim/photos/NAME  a photo from test/fixtures/photos, so example workflows run offline
 * No API key is needed, and these calls are not recorded.
 */
export async function control(
	state: SimState,
	req: IncomingMessage,
	res: ServerResponse,
	url: URL,
) {
	const body = await readBody(req);
	const text = body.buffer.toString('utf8').trim();
	let json: unknown;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		return sendJson(res, 400, { error: { message: 'The body is not valid JSON.' } });
	}
	const photo = /^\/__sim\/photos\/([\w.-]+)$/.exec(url.pathname);
	if (req.method === 'GET' && photo) return servePhoto(res, photo[1]);
	const action = `${req.method} ${url.pathname}`;
	try {
		switch (action) {
			case 'POST /__sim/inject': {
				const faults = (Array.isArray(json) ? json : [json]) as FaultSpec[];
				state.inject(...faults);
				return sendJson(res, 200, { queued: state.faultsQueued });
			}
			case 'POST /__sim/random':
				state.setRandomFaults((json ?? null) as RandomFaults | null);
				return sendJson(res, 200, {});
			case 'POST /__sim/config': {
				const config = (json ?? {}) as {
					latencyMs?: number;
					imageFormat?: ImageFormat;
					imageTexture?: ImageTexture;
					gzipAnswers?: GzipAnswers;
					batchDelayMs?: number;
					batchCancelDelayMs?: number;
					refuseUploadMimeTypes?: string[];
					quota?: Quota | null;
					misrenderText?: TextMisrendering | null;
					batchOutcomes?: BatchOutcome[];
				};
				if (config.misrenderText !== undefined) state.setTextMisrendering(config.misrenderText);
				if (Array.isArray(config.batchOutcomes))
					state.batches.queueOutcomes(...config.batchOutcomes);
				if (config.quota !== undefined) state.quota = config.quota ?? undefined;
				if (config.latencyMs !== undefined) state.latencyMs = Number(config.latencyMs);
				if (config.batchDelayMs !== undefined) state.batchDelayMs = Number(config.batchDelayMs);
				if (config.batchCancelDelayMs !== undefined)
					state.batchCancelDelayMs = Number(config.batchCancelDelayMs);
				if (Array.isArray(config.refuseUploadMimeTypes)) {
					state.files.refusedMimeTypes.clear();
					for (const type of config.refuseUploadMimeTypes)
						state.files.refusedMimeTypes.add(String(type));
				}
				if (config.imageFormat === 'png' || config.imageFormat === 'jpeg')
					state.imageFormat = config.imageFormat;
				if (config.imageTexture === 'flat' || config.imageTexture === 'noise')
					state.imageTexture = config.imageTexture;
				if (config.gzipAnswers === 'accepted' || config.gzipAnswers === 'always')
					state.gzipAnswers = config.gzipAnswers;
				return sendJson(res, 200, {
					latencyMs: state.latencyMs,
					imageFormat: state.imageFormat,
					imageTexture: state.imageTexture,
					gzipAnswers: state.gzipAnswers,
					batchDelayMs: state.batchDelayMs,
					batchCancelDelayMs: state.batchCancelDelayMs,
					refuseUploadMimeTypes: [...state.files.refusedMimeTypes],
					quota: state.quota ?? null,
					misrenderText: state.textMisrendering,
				});
			}
			case 'GET /__sim/requests': {
				const since = Number(url.searchParams.get('since') ?? 0);
				const withBodies = url.searchParams.get('bodies') !== '0';
				const requests = state.requests
					.filter((r) => r.id > since)
					.map((r) => redact(r, withBodies));
				return sendJson(res, 200, requests);
			}
			case 'POST /__sim/reset':
				state.reset();
				return sendJson(res, 200, {});
			case 'POST /__sim/teach': {
				const facts = (json ?? {}) as { image?: string; text?: string[]; prompt?: string };
				if (typeof facts.image !== 'string')
					throw new Error('Give the image as base64 in "image".');
				await state.memory.teach(Buffer.from(facts.image, 'base64'), {
					text: facts.text,
					prompt: facts.prompt,
				});
				return sendJson(res, 200, {});
			}
			case 'GET /__sim/stats':
				return sendJson(res, 200, state.stats());
			default:
				return sendJson(res, 404, { error: { message: `No control route ${action}` } });
		}
	} catch (error) {
		return sendJson(res, 400, { error: { message: (error as Error).message } });
	}
}

const PHOTOS_DIR = join(__dirname, '..', 'fixtures', 'photos');
const PHOTO_TYPES: Record<string, string> = {
	'.png': 'image/png',
	'.jpg': 'image/jpeg',
	'.jpeg': 'image/jpeg',
};

function servePhoto(res: ServerResponse, name: string) {
	const type = PHOTO_TYPES[extname(name).toLowerCase()];
	const file = join(PHOTOS_DIR, name);
	if (!type || !existsSync(file))
		return sendJson(res, 404, { error: { message: `No photo ${name}` } });
	return send(res, 200, type, readFileSync(file));
}

const SECRET = '<redacted>';

/** The control API never shows the API key or a token, not even the one the client sent. */
function redact(record: RecordedRequest, withBody: boolean): RecordedRequest {
	const headers = { ...record.headers };
	if ('x-goog-api-key' in headers) headers['x-goog-api-key'] = SECRET;
	if ('authorization' in headers) headers.authorization = SECRET;
	const query = { ...record.query };
	if ('key' in query) query.key = SECRET;
	return { ...record, headers, query, body: withBody ? record.body : undefined };
}
