/**
 * The Generate node's execute() against the Gemini simulator over HTTP, through the real
 * @google/genai SDK. Nothing here mocks the SDK or fetch.
 */
import { NodeOperationError } from 'n8n-workflow';
import sharp from 'sharp';

import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { GeminiClient } from '../../nodes/shared/transport';
import { GeminiSim } from '../gemini-sim';
import { runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

const node = new NanoBananaGenerate();
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const credentials = () => ({ apiKey: sim.apiKey, host: sim.url });
const generate = (parameters: RunOptions['parameters'], extra: Partial<RunOptions> = {}) =>
	runNode(node, {
		credentials: credentials(),
		parameters: { prompt: 'a yellow banana', ...parameters },
		...extra,
	});
const generateCalls = () => sim.generateRequests;
const promptItems = (...prompts: string[]) =>
	prompts.map((prompt, i) => ({ json: { id: i, prompt } }));
const fromItem = (_i: number, item: { json: Record<string, unknown> }) => item.json.prompt;

describe('Generate: the happy path', () => {
	it("makes one real PNG at the model's square size by default, with its description", async () => {
		const { outputs, store } = await generate({});
		const [item] = outputs[0];
		expect(outputs[0]).toHaveLength(1);
		const file = store.get(item.binary!.data);
		const meta = await sharp(file).metadata();
		expect(meta.format).toBe('png');
		expect([meta.width, meta.height]).toEqual([1024, 1024]);
		expect(item.json).toMatchObject({
			model: 'gemini-nano-banana-2.1',
			modelStatus: 'active',
			prompt: 'a yellow banana',
			aspectRatio: 'auto',
			imageSize: '1K',
			width: 1024,
			height: 1024,
			mimeType: 'image/png',
			fileSize: file.length,
			finishReason: 'STOP',
			estimatedCostUsd: 0.0336,
			imageIndex: 0,
			provenance: { keptOriginalBytes: true },
		});
		expect(item.json.usage).toMatchObject({
			promptTokens: expect.any(Number),
			outputTokens: expect.any(Number),
		});
		expect(item.json.responseId).toEqual(expect.any(String));
		expect(item.binary!.data.fileName).toMatch(/^gemini-nano-banana-2\.1-\d{8}-\d{6}-item0\.png$/);
		expect(item.pairedItem).toEqual({ item: 0 });
	});

	it('sends the key in a header to v1beta and the prompt as the user turn', async () => {
		await generate({ aspectRatio: '16:9', imageSize: '2K' });
		const [call] = generateCalls();
		expect(call.apiVersion).toBe('v1beta');
		expect(call.path).toBe('/v1beta/models/gemini-nano-banana-2.1:generateContent');
		expect(call.headers['x-goog-api-key']).toBe(sim.apiKey);
		expect(call.body.contents).toEqual([{ role: 'user', parts: [{ text: 'a yellow banana' }] }]);
		expect(call.body.generationConfig).toEqual({
			responseModalities: ['TEXT', 'IMAGE'],
			imageConfig: { aspectRatio: '16:9', imageSize: '2K' },
		});
	});

	it('fans out several images per item, in order, each paired with its source item', async () => {
		const { outputs, store } = await generate(
			{ prompt: fromItem, numberOfImages: 2, aspectRatio: '16:9' },
			{ items: promptItems('a red fox', 'a blue whale', 'a green frog') },
		);
		const out = outputs[0];
		expect(out).toHaveLength(6);
		expect(out.map((o) => o.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 0 },
			{ item: 1 },
			{ item: 1 },
			{ item: 2 },
			{ item: 2 },
		]);
		expect(out.map((o) => o.json.prompt)).toEqual([
			'a red fox',
			'a red fox',
			'a blue whale',
			'a blue whale',
			'a green frog',
			'a green frog',
		]);
		expect(out.map((o) => o.json.imageIndex)).toEqual([0, 1, 0, 1, 0, 1]);
		for (const o of out) {
			const meta = await sharp(store.get(o.binary!.data)).metadata();
			expect([meta.width, meta.height]).toEqual([1376, 768]);
		}
		// Each file holds the picture of its own prompt.
		const prompts = out.map((o) => GeminiSim.promptOf(store.get(o.binary!.data)));
		expect(prompts).toEqual(out.map((o) => o.json.prompt));
		expect(new Set(out.map((o) => o.binary!.data.fileName)).size).toBe(6);
		expect(generateCalls()).toHaveLength(6);
	});

	it('pays for each size at its own price and reports the model version', async () => {
		const { outputs } = await generate({
			model: { __rl: true, mode: 'id', value: 'gemini-3-pro-image' },
			imageSize: '4K',
			aspectRatio: '1:1',
		});
		expect(outputs[0][0].json).toMatchObject({
			model: 'gemini-3-pro-image',
			imageSize: '4K',
			width: 4096,
			height: 4096,
			estimatedCostUsd: 0.24,
		});
		expect(outputs[0][0].json.modelVersion).toContain('gemini-3-pro-image');
	});
});

describe('Generate: every option reaches the wire', () => {
	it('sends system instruction, sampling, seed, safety, modality, thinking and search', async () => {
		const { outputs } = await generate({
			options: {
				systemInstruction: 'House style: flat pastel illustration.',
				temperature: 0.3,
				topP: 0.5,
				seed: 1234,
				responseFormat: 'image',
				thinkingLevel: 'high',
				includeThoughts: true,
				googleSearch: true,
				safetySettings: {
					values: [{ category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_LOW_AND_ABOVE' }],
				},
			},
		});
		const { body } = generateCalls()[0];
		expect(body.systemInstruction).toEqual({
			parts: [{ text: 'House style: flat pastel illustration.' }],
			role: 'user',
		});
		expect(body.generationConfig).toMatchObject({
			temperature: 0.3,
			topP: 0.5,
			seed: 1234,
			responseModalities: ['IMAGE'],
			thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true },
		});
		expect(body.safetySettings).toEqual([
			{ category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_LOW_AND_ABOVE' },
		]);
		expect(body.tools).toEqual([{ googleSearch: {} }]);
		const json = outputs[0][0].json;
		expect(json.thoughtText).toEqual(expect.any(String));
		expect((json.thoughtText as string).length).toBeGreaterThan(0);
		expect(json.groundingSources).toEqual(
			expect.arrayContaining([expect.objectContaining({ uri: expect.stringMatching(/^https?:/) })]),
		);
	});

	it('outputs the thought images as their own binary properties when asked', async () => {
		const { outputs, store } = await generate({
			options: { includeThoughts: true, outputThoughtImages: true },
		});
		const binary = outputs[0][0].binary!;
		expect(Object.keys(binary).sort()).toEqual(['data', 'thought1']);
		expect((await sharp(store.get(binary.thought1)).metadata()).format).toBe('png');
	});

	it('writes to the chosen binary property and file name, with the real extension', async () => {
		const { outputs } = await generate({
			numberOfImages: 2,
			options: { binaryPropertyName: 'banner', fileName: 'weekly-post.jpg' },
		});
		expect(outputs[0].map((o) => Object.keys(o.binary!))).toEqual([['banner'], ['banner']]);
		expect(outputs[0].map((o) => o.binary!.banner.fileName)).toEqual([
			'weekly-post-1.png',
			'weekly-post-2.png',
		]);
	});

	it.each([
		['jpeg', 'jpeg', 'image/jpeg'],
		['webp', 'webp', 'image/webp'],
		['avif', 'heif', 'image/avif'],
		['png', 'png', 'image/png'],
	])(
		'converts to %s with sharp and says provenance was not carried over',
		async (outputFormat, sharpFormat, mimeType) => {
			const { outputs, store } = await generate({ options: { outputFormat, quality: 70 } });
			const item = outputs[0][0];
			const file = store.get(item.binary!.data);
			expect((await sharp(file).metadata()).format).toBe(sharpFormat);
			expect(item.json).toMatchObject({
				mimeType,
				fileSize: file.length,
				provenance: { keptOriginalBytes: false },
			});
			expect(item.json.provenance).toMatchObject({
				note: expect.stringMatching(/not carried over/),
			});
			expect(file.includes('trainedAlgorithmicMedia')).toBe(true);
		},
	);

	it.each([
		['cover', 1200, 628],
		['contain', 1200, 628],
		['inside', 628, 628],
	])('resizes with fit %s', async (resizeFit, width, height) => {
		const { outputs, store } = await generate({
			options: { outputFormat: 'jpeg', resizeWidth: 1200, resizeHeight: 628, resizeFit },
		});
		const meta = await sharp(store.get(outputs[0][0].binary!.data)).metadata();
		expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
		expect(outputs[0][0].json).toMatchObject({ width, height });
	});
});

describe('Generate: checks before any paid call', () => {
	it('refuses a ratio the model lacks, listing what it supports, and sends nothing', async () => {
		const error = await generate({
			model: { __rl: true, mode: 'list', value: 'gemini-3-pro-image' },
			aspectRatio: '8:1',
		}).catch((e) => e);
		expect(error.message).toMatch(
			/Nano Banana Pro .* does not support aspect ratio "8:1". Supported: 1:1, 2:3/,
		);
		expect(error.message).toContain('(item 0)');
		expect(generateCalls()).toHaveLength(0);
	});

	it('refuses a 20000×20000 resize, which would take half a minute of CPU, and sends nothing', async () => {
		const error = await generate({ options: { resizeWidth: 20000, resizeHeight: 20000 } }).catch(
			(e) => e,
		);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toMatch(
			/^A resize to 20000×20000 is too large: the limit is 16383 px a side and 100 megapixels in all\. .* \(item 0\)$/,
		);
		expect(error.description).toBe(
			'Nothing was sent to Google. Change the output option as the message says.',
		);
		expect(generateCalls()).toHaveLength(0);
	});

	it('refuses an empty prompt for the item that has one', async () => {
		const { outputs } = await generate(
			{ prompt: fromItem },
			{ items: promptItems('a cat', '  '), continueOnFail: true },
		);
		expect(outputs[0][1].json.error).toMatchObject({
			message: expect.stringMatching(/prompt is empty \(item 1\)/),
		});
		expect(generateCalls()).toHaveLength(1);
	});

	it("passes an unknown model id through, and shows Google's 404 without retrying", async () => {
		const error = await generate({
			model: { __rl: true, mode: 'id', value: 'gemini-2.5-flash-image-preview' },
		}).catch((e) => e);
		expect(error.httpCode).toBe('404');
		expect(error.message).toMatch(
			/^The model gemini-2\.5-flash-image-preview was not found: Google shut it down on 2026-01-15/,
		);
		expect(generateCalls()).toHaveLength(1);
	});
});

describe('the answer is read as the API sent it', () => {
	it("keeps multi-byte text that the body's chunks cut through", async () => {
		// 400 kB of two- and four-byte characters: the body arrives in many chunks, and a chunk
		// boundary almost surely falls inside a character.
		const text = Array.from({ length: 120_000 }, (_, i) => (i % 3 ? '🍌' : 'é')).join('');
		sim.inject({ kind: 'text-only', text });
		const client = new GeminiClient(credentials());
		const request = {
			model: 'gemini-3.1-flash-image',
			contents: [{ role: 'user', parts: [{ text: 'say it' }] }],
			generationConfig: {},
			requireImage: false,
		};
		const result = await client.generate(request, {
			retry: { maxAttempts: 1, maxTotalWaitMs: 0 },
			timeoutMs: 20_000,
		});
		expect(result.text).toBe(text);
	});

	it('asks for the image answer uncompressed, and gets every byte of a real-sized image', async () => {
		sim.setImageTexture('noise');
		try {
			const { outputs, store } = await generate({});
			const [call] = generateCalls();
			expect(call.headers['accept-encoding']).toBe('identity');
			const file = store.get(outputs[0][0].binary!.data);
			expect(file.length).toBeGreaterThan(500_000);
			expect(outputs[0][0].json.fileSize).toBe(file.length);
			expect((await sharp(file).stats()).isOpaque).toBe(true);
		} finally {
			sim.setImageTexture('flat');
		}
	});

	it('still reads an image answer that a server or proxy gzips anyway', async () => {
		sim.setImageTexture('noise');
		sim.setGzipAnswers('always');
		try {
			const { outputs, store } = await generate({});
			const file = store.get(outputs[0][0].binary!.data);
			expect(file.length).toBeGreaterThan(500_000);
			const { width, height } = await sharp(file).metadata();
			expect([width, height]).toEqual([1024, 1024]);
			expect(outputs[0][0].json.fileSize).toBe(file.length);
		} finally {
			sim.setImageTexture('flat');
			sim.setGzipAnswers('accepted');
		}
	});
});
