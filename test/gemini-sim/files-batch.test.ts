/**
 * The Files API (resumable upload) and the Batch API, through the SDK's ai.files and ai.batches.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createPartFromUri, type BatchJob, type GoogleGenAI } from '@google/genai';
import sharp from 'sharp';

import { GeminiSim } from './index';
import { client, failure, finalImage, solidPng } from './testkit';

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
		const download = await fetch(`${sim.url}/v1beta/${file.name}:download?alt=media`, {
			headers: { 'x-goog-api-key': sim.apiKey },
		});
		expect(await download.text()).toBe('hello');
		await ai.files.delete({ name: file.name! });
		const error = await failure(ai.files.get({ name: file.name! }));
		expect(error.status).toBe(403);
		expect(error.body?.error.status).toBe('PERMISSION_DENIED');
	});
});

describe('the Batch API', () => {
	async function finished(name: string): Promise<BatchJob> {
		for (let i = 0; i < 50; i++) {
			const job = await ai.batches.get({ name });
			if (job.state === 'JOB_STATE_SUCCEEDED' || job.state === 'JOB_STATE_CANCELLED') return job;
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		throw new Error('the batch did not finish');
	}

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
			const a = await ai.batches.create({ model: 'gemini-3.1-flash-lite-image', src });
			const b = await ai.batches.create({ model: 'gemini-3.1-flash-lite-image', src });
			const names = [];
			for await (const job of await ai.batches.list()) names.push(job.name);
			expect(names).toEqual([a.name, b.name]);
			await ai.batches.cancel({ name: a.name! });
			expect((await ai.batches.get({ name: a.name! })).state).toBe('JOB_STATE_CANCELLED');
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
		const job = await ai.batches.create({ model: 'gemini-3-pro-image', src: input.name! });
		const done = await finished(job.name!);
		const output = done.dest!.fileName!;
		expect(output).toMatch(/^files\//);

		const dir = await mkdtemp(join(tmpdir(), 'gemini-sim-'));
		try {
			const path = join(dir, 'out.jsonl');
			await ai.files.download({ file: output, downloadPath: path });
			await waitForFile(path);
			const answers = (await readFile(path, 'utf8'))
				.trim()
				.split('\n')
				.map((line) => JSON.parse(line));
			expect(answers.map((a) => a.key)).toEqual(['one', 'two']);
			expect(GeminiSim.promptOf(finalImage(answers[1].response))).toBe('a wren');
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
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
			const failing = await ai.batches.create({ model: 'gemini-3.1-flash-image', src });
			const expiring = await ai.batches.create({ model: 'gemini-3.1-flash-image', src });
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
		const first = await ai.batches.create({ model: 'gemini-3.1-flash-image', src });
		const second = await ai.batches.create({ model: 'gemini-3.1-flash-image', src });
		const [cancelled, succeeded] = [await finished(first.name!), await finished(second.name!)];
		expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
		expect(cancelled.dest!.inlinedResponses).toHaveLength(1);
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
			body: JSON.stringify({ batch: { inputConfig: { requests: { requests: [] } } } }),
		});
		expect(empty.status).toBe(400);
	});
});

async function waitForFile(path: string) {
	for (let i = 0; i < 50; i++) {
		const text = await readFile(path, 'utf8').catch(() => '');
		if (text.endsWith('\n')) return;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
