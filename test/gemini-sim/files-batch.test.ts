/**
 * The Files API (resumable upload) and the Batch API, through the SDK's ai.files and ai.batches.
 */
import { createPartFromUri, type BatchJob, type GoogleGenAI } from '@google/genai';
import sharp from 'sharp';

import { GeminiSim } from './index';
import { client, failure, finalImage, readJson, solidPng } from './testkit';

let sim: GeminiSim;
let ai: GoogleGenAI;

beforeAll(async () => {
	sim = await GeminiSim.start({ batchDelayMs: 100 });
	ai = client(sim);
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const pngBlob = async (colour: { r: number; g: number; b: number }, width = 900, height = 1200) =>
	new Blob([new Uint8Array(await solidPng(width, height, colour))], { type: 'image/png' });

describe('the Files API', () => {
	it('uploads with the resumable protocol and answers the File resource', async () => {
		const blob = await pngBlob({ r: 250, g: 0, b: 0 });
		const file = await ai.files.upload({
			file: blob,
			config: { mimeType: 'image/png', displayName: 'red.png' },
		});
		expect(file).toMatchObject({
			name: expect.stringMatching(/^files\/[a-z0-9]+$/),
			displayName: 'red.png',
			mimeType: 'image/png',
			sizeBytes: String(blob.size),
			state: 'ACTIVE',
			uri: `${sim.url}/v1beta/${file.name}`,
			expirationTime: expect.any(String),
			sha256Hash: expect.any(String),
		});
		const start = sim.requests[0];
		expect(start).toMatchObject({
			path: '/upload/v1beta/files',
			action: 'uploadFile',
			status: 200,
		});
		expect(start.headers).toMatchObject({
			'x-goog-upload-protocol': 'resumable',
			'x-goog-upload-command': 'start',
		});
		expect(sim.requests[1]).toMatchObject({
			action: 'uploadChunk',
			bodyBytes: blob.size,
			status: 200,
		});
		expect(sim.requests[1].headers['x-goog-upload-command']).toBe('upload, finalize');
	});

	it('lets generateContent use an uploaded image by its URI', async () => {
		const file = await ai.files.upload({
			file: await pngBlob({ r: 0, g: 250, b: 0 }),
			config: { mimeType: 'image/png' },
		});
		const response = await ai.models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: [
				{
					role: 'user',
					parts: [{ text: 'put it on a table' }, createPartFromUri(file.uri!, file.mimeType!)],
				},
			],
		});
		const image = sharp(finalImage(response));
		// 900x1200 is 3:4, and the upload shows in the corner.
		expect(await image.metadata()).toMatchObject({ width: 896, height: 1200 });
		const { data } = await image.raw().toBuffer({ resolveWithObject: true });
		expect([data[0], data[1], data[2]]).toEqual([0, 250, 0]);
	});

	it('refuses a fileUri it does not know', async () => {
		const error = await failure(
			ai.models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: [
					{
						role: 'user',
						parts: [{ text: 'x' }, createPartFromUri(`${sim.url}/v1beta/files/nope`, 'image/png')],
					},
				],
			}),
		);
		expect(error.status).toBe(400);
		expect(error.body?.error.message).toMatch(/File nope is not found/);
	});

	it('gets, lists, downloads and deletes files', async () => {
		const file = await ai.files.upload({
			file: new Blob(['hello'], { type: 'text/plain' }),
			config: { mimeType: 'text/plain' },
		});
		expect(await ai.files.get({ name: file.name! })).toMatchObject({
			name: file.name,
			sizeBytes: '5',
		});
		const listed = [];
		for await (const f of await ai.files.list()) listed.push(f.name);
		expect(listed).toEqual([file.name]);
		const headers = { 'x-goog-api-key': sim.apiKey };
		const download = await fetch(`${sim.url}/download/v1beta/${file.name}:download?alt=media`, {
			headers,
		});
		expect(await download.text()).toBe('hello');
		// Media is served on the /download/ path only, as Google's front end serves it.
		const elsewhere = await fetch(`${sim.url}/v1beta/${file.name}:download?alt=media`, {
			headers,
		});
		expect(elsewhere.status).toBe(404);
		await ai.files.delete({ name: file.name! });
		const error = await failure(ai.files.get({ name: file.name! }));
		expect(error.status).toBe(403);
		expect(error.body?.error.status).toBe('PERMISSION_DENIED');
	});
});

describe('the Batch API', () => {
	async function finished(name: string): Promise<BatchJob> {
		for (let i = 0; i < 250; i++) {
			const job = await ai.batches.get({ name });
			if (job.state === 'JOB_STATE_SUCCEEDED' || job.state === 'JOB_STATE_CANCELLED') return job;
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		throw new Error('the batch did not finish');
	}
	/** The Operation as Google sends it, before the SDK maps it. */
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	const rawOperation = async (name: string): Promise<any> =>
		await fetch(`${sim.url}/v1beta/${name}`, {
			headers: { 'x-goog-api-key': sim.apiKey },
		}).then((r) => r.json());

	it('runs inline requests and answers each one, or its error, in order', async () => {
		const job = await ai.batches.create({
			model: 'gemini-3.1-flash-image',
			src: [
				{ contents: [{ role: 'user', parts: [{ text: 'a red kite' }] }], metadata: { key: 'r1' } },
				{
					contents: [{ role: 'user', parts: [{ text: 'a wide kite' }] }],
					config: { imageConfig: { aspectRatio: '16:9' } },
					metadata: { key: 'r2' },
				},
				{
					contents: [{ role: 'user', parts: [{ text: 'bad size' }] }],
					config: { imageConfig: { imageSize: '1k' } },
					metadata: { key: 'r3' },
				},
				{
					contents: [{ role: 'user', parts: [{ text: 'busy [[sim:429]]' }] }],
					metadata: { key: 'r4' },
				},
			],
			config: { displayName: 'kites' },
		});
		expect(job).toMatchObject({
			name: expect.stringMatching(/^batches\//),
			displayName: 'kites',
			state: 'JOB_STATE_PENDING',
			model: 'models/gemini-3.1-flash-image',
		});
		expect(sim.requests[0]).toMatchObject({
			path: '/v1beta/models/gemini-3.1-flash-image:batchGenerateContent',
			action: 'batchGenerateContent',
		});
		expect(sim.requests[0].body.batch.inputConfig.requests.requests).toHaveLength(4);
		expect((await ai.batches.get({ name: job.name! })).state).toBe('JOB_STATE_RUNNING');

		const done = await finished(job.name!);
		expect(done.state).toBe('JOB_STATE_SUCCEEDED');
		const results = done.dest!.inlinedResponses!;
		expect(results.map((r) => r.metadata)).toEqual([
			{ key: 'r1' },
			{ key: 'r2' },
			{ key: 'r3' },
			{ key: 'r4' },
		]);
		expect(GeminiSim.promptOf(finalImage(results[0].response!))).toBe('a red kite');
		expect(await sharp(finalImage(results[1].response!)).metadata()).toMatchObject({
			width: 1376,
			height: 768,
		});
		expect(results[2].error).toMatchObject({
			code: 3,
			message: expect.stringMatching(/Unsupported image size "1k"/),
		});
		expect(results[3].error).toMatchObject({ code: 8 });
		expect(sim.generateRequests).toHaveLength(0);
	});

	it('lists, cancels and deletes jobs', async () => {
		sim.setBatchDelay(60_000);
		try {
			const src = [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }];
			const config = { displayName: 'one x' };
			const a = await ai.batches.create({ model: 'gemini-3.1-flash-lite-image', src, config });
			const b = await ai.batches.create({ model: 'gemini-3.1-flash-lite-image', src, config });
			const names = [];
			for await (const job of await ai.batches.list()) names.push(job.name);
			expect(names).toEqual([a.name, b.name]);
			await ai.batches.cancel({ name: a.name! });
			expect((await finished(a.name!)).state).toBe('JOB_STATE_CANCELLED');
			await ai.batches.delete({ name: b.name! });
			const error = await failure(ai.batches.get({ name: b.name! }));
			expect(error.status).toBe(404);
			expect(error.body?.error.message).toBe('Requested entity was not found.');
		} finally {
			sim.setBatchDelay(100);
		}
	});

	it('reads a JSONL file of requests and writes the answers to a file', async () => {
		const lines = [
			{ key: 'one', request: { contents: [{ role: 'user', parts: [{ text: 'a robin' }] }] } },
			{ key: 'two', request: { contents: [{ role: 'user', parts: [{ text: 'a wren' }] }] } },
		];
		const input = await ai.files.upload({
			file: new Blob([lines.map((l) => JSON.stringify(l)).join('\n')], {
				type: 'application/jsonl',
			}),
			config: { mimeType: 'application/jsonl' },
		});
		const job = await ai.batches.create({
			model: 'gemini-3-pro-image',
			src: input.name!,
			config: { displayName: 'birds' },
		});
		const done = await finished(job.name!);
		// Named after the job, as Google names a job's results file.
		const output = done.dest!.fileName!;
		expect(output).toBe(`files/batch-${job.name!.replace('batches/', '')}`);

		const download = await fetch(`${sim.url}/download/v1beta/${output}:download?alt=media`, {
			headers: { 'x-goog-api-key': sim.apiKey },
		});
		const raw = (await download.text()).trim().split('\n');
		// Each line has the answer first and its key last, as Google writes them.
		expect(raw.map((line) => Object.keys(JSON.parse(line)))).toEqual([
			['response', 'key'],
			['response', 'key'],
		]);
		const answers = raw.map((line) => JSON.parse(line));
		expect(answers.map((a) => a.key)).toEqual(['one', 'two']);
		expect(GeminiSim.promptOf(finalImage(answers[1].response))).toBe('a wren');
	});

	it("refuses to upload a MIME type it is told to refuse, as Google's Files API has refused jsonl", async () => {
		const upload = (mimeType: string) =>
			ai.files.upload({
				file: new Blob(['{"key":"a"}\n'], { type: mimeType }),
				config: { mimeType },
			});
		sim.refuseUploadMimeTypes(['application/jsonl']);
		try {
			const error = await failure(upload('application/jsonl'));
			expect(error.status).toBe(400);
			expect(error.body?.error).toMatchObject({
				status: 'INVALID_ARGUMENT',
				message: 'Unsupported MIME type: application/jsonl',
			});
			expect((await upload('text/plain')).mimeType).toBe('text/plain');
		} finally {
			sim.refuseUploadMimeTypes([]);
		}
		const configured = await fetch(`${sim.url}/__sim/config`, {
			method: 'POST',
			body: JSON.stringify({ refuseUploadMimeTypes: ['jsonl'] }),
		});
		expect((await readJson(configured)).refuseUploadMimeTypes).toEqual(['jsonl']);
		try {
			expect((await failure(upload('jsonl'))).body?.error.message).toBe(
				'Unsupported MIME type: jsonl',
			);
			expect((await upload('application/jsonl')).mimeType).toBe('application/jsonl');
		} finally {
			sim.refuseUploadMimeTypes([]);
		}
	});

	it('requires a display name, as the REST reference does', async () => {
		const create = (batch: Record<string, unknown>) =>
			fetch(`${sim.url}/v1beta/models/gemini-3-pro-image:batchGenerateContent`, {
				method: 'POST',
				headers: { 'x-goog-api-key': sim.apiKey },
				body: JSON.stringify({ batch }),
			});
		const requests = { requests: [{ request: { contents: [{ parts: [{ text: 'x' }] }] } }] };
		const without = await create({ inputConfig: { requests } });
		expect(without.status).toBe(400);
		expect((await readJson(without)).error.message).toMatch(/display_name is required/);
		expect((await create({ displayName: 'x', inputConfig: { requests } })).status).toBe(200);
		expect(sim.batches.count).toBe(1);
	});

	it('cancels asynchronously: CANCELLING first, then CANCELLED with error code 1 and what it answered before', async () => {
		// Margins for a busy machine: the cancel comes well before the job would end on its own.
		sim.setBatchDelay(3000);
		sim.setBatchCancelDelay(150);
		try {
			const src = ['a', 'b', 'c', 'd', 'e', 'f'].map((text, n) => ({
				contents: [{ role: 'user', parts: [{ text }] }],
				metadata: { key: `k${n}` },
			}));
			const job = await ai.batches.create({
				model: 'gemini-3.1-flash-image',
				src,
				config: { displayName: 'letters' },
			});
			await new Promise((resolve) => setTimeout(resolve, 1200));
			await ai.batches.cancel({ name: job.name! });
			const cancelling = await rawOperation(job.name!);
			expect(cancelling.metadata.state).toBe('BATCH_STATE_CANCELLING');
			expect(cancelling.done).toBeUndefined();
			const answered = Number(cancelling.metadata.batchStats.successfulRequestCount);
			expect(answered).toBeGreaterThanOrEqual(1);
			expect(answered).toBeLessThan(6);
			// The SDK passes a state it does not know through as it is.
			expect((await ai.batches.get({ name: job.name! })).state).toBe('BATCH_STATE_CANCELLING');

			const ended = await finished(job.name!);
			expect(ended.state).toBe('JOB_STATE_CANCELLED');
			expect(ended.dest!.inlinedResponses!.map((r) => r.metadata!.key)).toEqual(
				src.slice(0, answered).map((r) => r.metadata.key),
			);
			const cancelled = await rawOperation(job.name!);
			expect(cancelled).toMatchObject({
				done: true,
				error: { code: 1 },
				metadata: { state: 'BATCH_STATE_CANCELLED', output: expect.any(Object) },
			});
			expect(cancelled.response).toBeUndefined();
			// Cancelling again, or a job that already ended, changes nothing.
			await ai.batches.cancel({ name: job.name! });
			expect((await rawOperation(job.name!)).metadata.state).toBe('BATCH_STATE_CANCELLED');
		} finally {
			sim.setBatchDelay(100);
			sim.setBatchCancelDelay(100);
		}
	});

	it('ends a job with exactly one of response and error', async () => {
		sim.batches.queueOutcomes({ state: 'BATCH_STATE_EXPIRED', completed: 1 });
		const src = [
			{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] },
			{ contents: [{ role: 'user', parts: [{ text: 'y' }] }] },
		];
		const config = { displayName: 'xy' };
		const expiring = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
		const succeeding = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
		await finished(succeeding.name!);
		for (let i = 0; i < 50 && !(await rawOperation(expiring.name!)).done; i++)
			await new Promise((resolve) => setTimeout(resolve, 20));
		const expired = await rawOperation(expiring.name!);
		expect(expired.error).toMatchObject({ code: 4 });
		expect(expired.response).toBeUndefined();
		expect(expired.metadata.output.inlinedResponses.inlinedResponses).toHaveLength(1);
		const succeeded = await rawOperation(succeeding.name!);
		expect(succeeded.error).toBeUndefined();
		expect(succeeded.response.inlinedResponses.inlinedResponses).toHaveLength(2);
	});

	it('reports progress while running, and ends as queued: failed with partial results, or expired without', async () => {
		sim.batches.queueOutcomes(
			{ state: 'BATCH_STATE_FAILED', completed: 1, message: 'Internal error.' },
			{ state: 'BATCH_STATE_EXPIRED' },
		);
		sim.setBatchDelay(400);
		try {
			const src = ['a', 'b', 'c', 'd'].map((text, n) => ({
				contents: [{ role: 'user', parts: [{ text }] }],
				metadata: { key: `k${n}` },
			}));
			const config = { displayName: 'abcd' };
			const failing = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
			const expiring = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
			await new Promise((resolve) => setTimeout(resolve, 250));
			const raw = async (name: string) =>
				(await fetch(`${sim.url}/v1beta/${name}`, {
					headers: { 'x-goog-api-key': sim.apiKey },
				}).then((r) => r.json())) as {
					metadata: { state: string; batchStats: Record<string, string> };
				};
			const running = await raw(failing.name!);
			expect(running.metadata.state).toBe('BATCH_STATE_RUNNING');
			expect(Number(running.metadata.batchStats.successfulRequestCount)).toBeGreaterThanOrEqual(1);
			expect(Number(running.metadata.batchStats.pendingRequestCount)).toBe(
				4 - Number(running.metadata.batchStats.successfulRequestCount),
			);

			await new Promise((resolve) => setTimeout(resolve, 250));
			const failed = await raw(failing.name!);
			expect(failed).not.toHaveProperty('response');
			expect(failed).toMatchObject({
				done: true,
				error: { code: 13, message: 'Internal error.' },
				metadata: {
					state: 'BATCH_STATE_FAILED',
					batchStats: { requestCount: '4', successfulRequestCount: '1', pendingRequestCount: '3' },
				},
			});
			const viaSdk = await ai.batches.get({ name: failing.name! });
			expect(viaSdk.state).toBe('JOB_STATE_FAILED');
			expect(viaSdk.dest!.inlinedResponses!.map((r) => r.metadata)).toEqual([{ key: 'k0' }]);
			const expired = await ai.batches.get({ name: expiring.name! });
			expect(expired.state).toBe('JOB_STATE_EXPIRED');
			expect(expired.dest).toBeUndefined();
		} finally {
			sim.setBatchDelay(100);
		}
	});

	it('takes job outcomes from the control API, for a simulator in another process', async () => {
		const configured = await fetch(`${sim.url}/__sim/config`, {
			method: 'POST',
			body: JSON.stringify({ batchOutcomes: [{ state: 'BATCH_STATE_CANCELLED', completed: 1 }] }),
		});
		expect(configured.status).toBe(200);
		const src = [
			{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] },
			{ contents: [{ role: 'user', parts: [{ text: 'y' }] }] },
		];
		const config = { displayName: 'xy' };
		const first = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
		const second = await ai.batches.create({ model: 'gemini-3.1-flash-image', src, config });
		const [cancelled, succeeded] = [await finished(first.name!), await finished(second.name!)];
		expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
		expect(cancelled.dest!.inlinedResponses).toHaveLength(1);
		expect((await rawOperation(first.name!)).error).toMatchObject({ code: 1 });
		expect(succeeded.state).toBe('JOB_STATE_SUCCEEDED');
		expect(succeeded.dest!.inlinedResponses).toHaveLength(2);
	});

	it('refuses an unknown model and an empty batch', async () => {
		expect(
			(await failure(ai.batches.create({ model: 'gemini-0-image', src: [{ contents: 'x' }] })))
				.status,
		).toBe(404);
		const empty = await fetch(`${sim.url}/v1beta/models/gemini-3-pro-image:batchGenerateContent`, {
			method: 'POST',
			headers: { 'x-goog-api-key': sim.apiKey },
			body: JSON.stringify({
				batch: { displayName: 'empty', inputConfig: { requests: { requests: [] } } },
			}),
		});
		expect(empty.status).toBe(400);
		expect((await readJson(empty)).error.message).toMatch(/requests must not be empty/);
	});
});
