/**
 * Successful answers of the simulator, driven through the real @google/genai SDK over HTTP.
 */
import { request } from 'http';
import sharp from 'sharp';

import { colourForPrompt, GeminiSim, pixelSize, readImageText, SIM_MODELS } from './index';
import { client, finalImage, partsOf, readJson, solidPng } from './testkit';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

async function imageSize(model: string, aspectRatio: string, imageSize?: string) {
	const response = await client(sim).models.generateContent({
		model,
		contents: `a lighthouse, ${aspectRatio} ${imageSize ?? ''}`,
		config: {
			responseModalities: ['IMAGE'],
			imageConfig: { aspectRatio, ...(imageSize ? { imageSize } : {}) },
		},
	});
	const meta = await sharp(finalImage(response)).metadata();
	return `${meta.width}x${meta.height}`;
}

const GEMINI3_1K: Record<string, string> = {
	'1:1': '1024x1024',
	'2:3': '848x1264',
	'3:2': '1264x848',
	'3:4': '896x1200',
	'4:3': '1200x896',
	'4:5': '928x1152',
	'5:4': '1152x928',
	'9:16': '768x1376',
	'16:9': '1376x768',
	'21:9': '1584x672',
};
const FLASH_EXTRA_1K: Record<string, string> = {
	'1:4': '512x2048',
	'4:1': '2048x512',
	'1:8': '384x3072',
	'8:1': '3072x384',
};
const scaled = (size: string, factor: number) =>
	size
		.split('x')
		.map((n) => Number(n) * factor)
		.join('x');

describe('pixel sizes, as published', () => {
	const flash = { ...GEMINI3_1K, ...FLASH_EXTRA_1K };
	const flashCases = Object.entries(flash).flatMap(([ratio, size]) =>
		(
			[
				['512', 0.5],
				['1K', 1],
				['2K', 2],
				['4K', 4],
			] as const
		).map(([imageSize, factor]) => [ratio, imageSize, scaled(size, factor)]),
	);

	it.each(flashCases)('gemini-3.1-flash-image %s at %s is %s', async (ratio, size, expected) => {
		expect(await imageSize('gemini-3.1-flash-image', ratio, size)).toBe(expected);
	});

	const proCases = Object.entries(GEMINI3_1K).flatMap(([ratio, size]) =>
		(
			[
				['1K', 1],
				['2K', 2],
				['4K', 4],
			] as const
		).map(([imageSize, factor]) => [ratio, imageSize, scaled(size, factor)]),
	);

	it.each(proCases)('gemini-3-pro-image %s at %s is %s', async (ratio, size, expected) => {
		expect(await imageSize('gemini-3-pro-image', ratio, size)).toBe(expected);
	});

	it.each(Object.entries(GEMINI3_1K))(
		'gemini-3.1-flash-lite-image %s is %s',
		async (ratio, expected) => {
			expect(await imageSize('gemini-3.1-flash-lite-image', ratio, '1K')).toBe(expected);
		},
	);

	it('9:21 is 672x1584 on Vertex AI only, where Google lists it for gemini-3.1-flash-image', () => {
		const model = SIM_MODELS.find((m) => m.id === 'gemini-3.1-flash-image')!;
		expect(pixelSize(model, '9:21', '1K')).toEqual([672, 1584]);
		expect(model.aspectRatios).not.toContain('9:21');
		expect(model.vertexAspectRatios).toEqual(['9:21']);
	});

	it('makes a 4K image quickly', async () => {
		const started = Date.now();
		expect(await imageSize('gemini-3-pro-image', '21:9', '4K')).toBe('6336x2688');
		expect(Date.now() - started).toBeLessThan(3000);
	});
});

describe('what the image shows', () => {
	it('is a PNG filled with the colour of the prompt, which it carries in a tEXt chunk', async () => {
		const prompt = 'a red fox in the snow';
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: prompt,
		});
		const image = finalImage(response);
		const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
		const centre =
			(Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
		expect([data[centre], data[centre + 1], data[centre + 2]]).toEqual(
			Object.values(colourForPrompt(prompt)),
		);
		expect(GeminiSim.promptOf(image)).toBe(prompt);
		expect(readImageText(image)).toMatchObject({ prompt, model: 'gemini-3.1-flash-image' });
		expect(image.toString('latin1')).toContain('trainedAlgorithmicMedia');
	});

	it('keeps a prompt outside Latin-1 intact', async () => {
		const prompt = 'ein Bananenbrot 🍌 — 香蕉';
		const response = await client(sim).models.generateContent({
			model: 'gemini-3-pro-image',
			contents: prompt,
		});
		expect(GeminiSim.promptOf(finalImage(response))).toBe(prompt);
	});

	it('differs between prompts', async () => {
		const ai = client(sim);
		const [a, b] = await Promise.all(
			['a cat', 'a dog'].map((contents) =>
				ai.models.generateContent({ model: 'gemini-3.1-flash-image', contents }),
			),
		);
		expect(finalImage(a).equals(finalImage(b))).toBe(false);
	});

	it('shows the input image in its top-left corner and follows its aspect ratio', async () => {
		const input = await solidPng(1600, 900, { r: 0, g: 0, b: 255 });
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: [
				{
					role: 'user',
					parts: [
						{ text: 'make it cosy' },
						{ inlineData: { mimeType: 'image/png', data: input.toString('base64') } },
					],
				},
			],
		});
		const image = sharp(finalImage(response));
		expect(await image.metadata()).toMatchObject({ width: 1376, height: 768 });
		const { data } = await image.raw().toBuffer({ resolveWithObject: true });
		expect([data[0], data[1], data[2]]).toEqual([0, 0, 255]);
	});

	it('follows a tall input image to the closest supported ratio the model has', async () => {
		const input = await solidPng(300, 1200, { r: 10, g: 200, b: 10 });
		const edit = (model: string) =>
			client(sim).models.generateContent({
				model,
				contents: [
					{
						role: 'user',
						parts: [
							{ text: 'extend it' },
							{ inlineData: { mimeType: 'image/png', data: input.toString('base64') } },
						],
					},
				],
			});
		expect(await sharp(finalImage(await edit('gemini-3.1-flash-image'))).metadata()).toMatchObject({
			width: 512,
			height: 2048,
		});
		expect(await sharp(finalImage(await edit('gemini-3-pro-image'))).metadata()).toMatchObject({
			width: 768,
			height: 1376,
		});
	});

	it('answers JPEG when the simulator is set to', async () => {
		sim.setImageFormat('jpeg');
		try {
			const response = await client(sim).models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: 'a jpeg',
			});
			const part = partsOf(response).find((p) => p.inlineData && !p.thought);
			expect(part?.inlineData?.mimeType).toBe('image/jpeg');
			const image = finalImage(response);
			expect((await sharp(image).metadata()).format).toBe('jpeg');
			expect(GeminiSim.promptOf(image)).toBe('a jpeg');
		} finally {
			sim.setImageFormat('png');
		}
	});
});

describe('the shape of an answer', () => {
	it('is gzipped for a client that accepts it, its Content-Length the compressed size', async () => {
		const url = `${sim.url}/v1beta/models/gemini-nano-banana-2.1:generateContent`;
		const ask = (acceptEncoding: string) =>
			new Promise<{ headers: Record<string, unknown>; bytes: number }>((resolve, reject) => {
				const req = request(url, {
					method: 'POST',
					headers: {
						'x-goog-api-key': sim.apiKey,
						'content-type': 'application/json',
						'accept-encoding': acceptEncoding,
					},
				});
				req.on('response', (res) => {
					let bytes = 0;
					res.on('data', (chunk: Buffer) => (bytes += chunk.length));
					res.on('end', () => resolve({ headers: res.headers, bytes }));
				});
				req.on('error', reject);
				req.end(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a boat' }] }] }));
			});
		const gzipped = await ask('gzip, deflate');
		const plain = await ask('identity');
		expect(gzipped.headers['content-encoding']).toBe('gzip');
		expect(Number(gzipped.headers['content-length'])).toBe(gzipped.bytes);
		expect(plain.headers['content-encoding']).toBeUndefined();
		expect(Number(plain.headers['content-length'])).toBe(plain.bytes);
		expect(gzipped.bytes).toBeLessThan(plain.bytes);

		// as a proxy in between might: gzipped although the client asked for identity
		sim.setGzipAnswers('always');
		try {
			const forced = await ask('identity');
			expect(forced.headers['content-encoding']).toBe('gzip');
			expect(forced.bytes).toBeLessThan(plain.bytes);
		} finally {
			sim.setGzipAnswers('accepted');
		}
	});

	it('gives text and image by default, with usage, model version and a fresh response id', async () => {
		const ai = client(sim);
		const first = await ai.models.generateContent({
			model: 'gemini-nano-banana-2.1',
			contents: 'a boat',
		});
		const second = await ai.models.generateContent({
			model: 'gemini-nano-banana-2.1',
			contents: 'a boat',
		});
		const parts = partsOf(first);
		expect(parts.map((p) => Object.keys(p).sort())).toEqual([
			['text', 'thoughtSignature'],
			['inlineData', 'thoughtSignature'],
		]);
		expect(first.candidates?.[0].finishReason).toBe('STOP');
		expect(first.modelVersion).toBe('gemini-nano-banana-2.1');
		expect(first.usageMetadata).toMatchObject({
			promptTokenCount: expect.any(Number),
			candidatesTokenCount: expect.any(Number),
			totalTokenCount: expect.any(Number),
			promptTokensDetails: [{ modality: 'TEXT', tokenCount: expect.any(Number) }],
			candidatesTokensDetails: expect.arrayContaining([{ modality: 'IMAGE', tokenCount: 1120 }]),
		});
		expect(first.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
		expect(first.responseId).not.toBe(second.responseId);
	});

	it('bills input images and output sizes per model', async () => {
		const input = await solidPng(64, 64, { r: 1, g: 2, b: 3 });
		const response = await client(sim).models.generateContent({
			model: 'gemini-3-pro-image',
			contents: [
				{
					role: 'user',
					parts: [
						{ text: 'x' },
						{ inlineData: { mimeType: 'image/png', data: input.toString('base64') } },
					],
				},
			],
			config: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '4K' } },
		});
		const usage = response.usageMetadata!;
		expect(usage.promptTokensDetails).toEqual([
			{ modality: 'TEXT', tokenCount: 1 },
			{ modality: 'IMAGE', tokenCount: 560 },
		]);
		expect(usage.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 2000 }]);
		expect(usage.totalTokenCount).toBe(
			usage.promptTokenCount! + usage.candidatesTokenCount! + usage.thoughtsTokenCount!,
		);
	});

	it('leaves out the text part when only IMAGE is asked for', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'only a picture',
			config: { responseModalities: ['IMAGE'] },
		});
		expect(partsOf(response).some((p) => p.text !== undefined)).toBe(false);
		expect(finalImage(response).length).toBeGreaterThan(0);
	});

	it('adds grounding metadata when Google Search is on', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3-pro-image',
			contents: 'the weather in Lisbon today as an infographic',
			config: { tools: [{ googleSearch: {} }] },
		});
		const grounding = response.candidates?.[0].groundingMetadata;
		expect(grounding?.webSearchQueries).toEqual(['the weather in Lisbon today as an infographic']);
		expect(grounding?.groundingChunks?.[0].web).toMatchObject({
			uri: expect.stringMatching(/^https:\/\//),
			title: expect.any(String),
		});
		expect(grounding?.searchEntryPoint?.renderedContent).toContain('<div');
		expect(grounding?.groundingChunks?.some((c) => c.image)).toBe(false);
	});

	it('adds image results when image search is asked for, with the page and the image apart', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'the new city library',
			config: {
				tools: [{ googleSearch: { searchTypes: { webSearch: {}, imageSearch: {} } } as never }],
			},
		});
		const chunks = response.candidates?.[0].groundingMetadata?.groundingChunks ?? [];
		expect(chunks.find((c) => c.image)?.image).toMatchObject({
			sourceUri: expect.stringMatching(/^https:\/\//),
			imageUri: expect.stringMatching(/^https:\/\/.*\.jpg$/),
			title: expect.any(String),
		});
	});

	it('streams one SSE event per part, the last with the finish reason', async () => {
		const stream = await client(sim).models.generateContentStream({
			model: 'gemini-3.1-flash-image',
			contents: 'a streamed banana',
			config: { thinkingConfig: { includeThoughts: true } },
		});
		const chunks = [];
		for await (const chunk of stream) chunks.push(chunk);
		expect(chunks).toHaveLength(4);
		expect(chunks.map((c) => c.candidates?.[0].finishReason)).toEqual([
			undefined,
			undefined,
			undefined,
			'STOP',
		]);
		const last = partsOf(chunks[3])[0];
		expect(GeminiSim.promptOf(Buffer.from(last.inlineData!.data!, 'base64'))).toBe(
			'a streamed banana',
		);
		expect(sim.requests[0]).toMatchObject({
			action: 'streamGenerateContent',
			query: { alt: 'sse' },
			status: 200,
		});
	});
});

describe('text models', () => {
	it('answer in words', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.5-flash-lite',
			contents: 'hello',
		});
		expect(response.text).toContain('hello');
	});

	it('fill a response schema with plausible values by default', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.8-flash',
			contents: 'Does the image match the brief?',
			config: {
				responseMimeType: 'application/json',
				responseSchema: {
					type: 'OBJECT' as never,
					properties: {
						verdict: { type: 'STRING' as never, enum: ['pass', 'fail'] },
						score: { type: 'NUMBER' as never, minimum: 0, maximum: 10 },
						issues: { type: 'ARRAY' as never, items: { type: 'STRING' as never } },
					},
					required: ['verdict', 'score'],
				},
			},
		});
		expect(JSON.parse(response.text!)).toEqual({
			verdict: 'pass',
			score: 5,
			issues: ['issues1 (simulated)'],
		});
	});

	it('ask sim.judge for the verdict, which sees the request and the JSON schema', async () => {
		const seen: unknown[] = [];
		const previous = sim.judge;
		sim.judge = (request, context) => {
			seen.push(context.schema);
			return {
				verdict: request.contents?.[0]?.parts?.[0]?.text === 'is it blue?' ? 'fail' : 'pass',
			};
		};
		try {
			const schema = { type: 'object', properties: { verdict: { type: 'string' } } };
			const response = await client(sim).models.generateContent({
				model: 'gemini-3.8-flash',
				contents: 'is it blue?',
				config: { responseMimeType: 'application/json', responseJsonSchema: schema },
			});
			expect(JSON.parse(response.text!)).toEqual({ verdict: 'fail' });
			expect(seen).toEqual([schema]);
		} finally {
			sim.judge = previous;
		}
	});
});

describe('the model list', () => {
	it('lists image and text models the way clients tell them apart', async () => {
		const names: string[] = [];
		for await (const model of await client(sim).models.list()) names.push(model.name!);
		// Google reports no output modality: the image models are told by name (and 2.1 has no
		// "image" in its id), and by what they answer.
		expect(names).toEqual([
			'models/gemini-nano-banana-2.1',
			'models/gemini-3.1-flash-image',
			'models/gemini-3-pro-image',
			'models/gemini-3.1-flash-lite-image',
			'models/gemini-3.8-flash',
			'models/gemini-3.6-flash',
			'models/gemini-3.5-flash-lite',
			'models/gemini-3.1-flash-lite',
		]);
		expect(names).not.toContain('models/gemini-2.5-flash-image');
	});

	it('pages with pageSize and nextPageToken', async () => {
		const first = await readJson(
			await fetch(`${sim.url}/v1beta/models?pageSize=4&key=${sim.apiKey}`),
		);
		expect(first.models).toHaveLength(4);
		expect(first.models[0]).toMatchObject({
			name: 'models/gemini-nano-banana-2.1',
			displayName: 'Nano Banana 2.1',
			supportedGenerationMethods: expect.arrayContaining(['generateContent']),
			inputTokenLimit: expect.any(Number),
			outputTokenLimit: expect.any(Number),
		});
		const second = await readJson(
			await fetch(
				`${sim.url}/v1beta/models?pageSize=4&pageToken=${first.nextPageToken}&key=${sim.apiKey}`,
			),
		);
		expect(second.models.map((m: { name: string }) => m.name)).toEqual([
			'models/gemini-3.8-flash',
			'models/gemini-3.6-flash',
			'models/gemini-3.5-flash-lite',
			'models/gemini-3.1-flash-lite',
		]);
		expect(second.nextPageToken).toBeUndefined();
	});

	it('gets one model, on every API version', async () => {
		for (const apiVersion of ['v1', 'v1beta', 'v1beta1']) {
			const model = await client(sim, { apiVersion }).models.get({ model: 'gemini-3-pro-image' });
			expect(model).toMatchObject({
				name: 'models/gemini-3-pro-image',
				displayName: 'Nano Banana Pro',
			});
		}
	});
});
