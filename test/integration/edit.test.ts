/**
 * The Edit node against the Gemini simulator over HTTP: input preparation with real photos,
 * multi-step edits whose history the simulator checks signature by signature, continuing an
 * edit in a second node, region lock, the Files API, and failures.
 */
import { execFile } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { promisify } from 'util';
import sharp from 'sharp';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';
import type { INodeExecutionData } from 'n8n-workflow';

const node = new NanoBananaEdit();
const execFileAsync = promisify(execFile);
const photo = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'photos', name));
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

type Files = Record<string, { data: Buffer; fileName: string; mimeType: string }>;
const upload = (data: Buffer, fileName: string, mimeType = 'image/jpeg') => ({
	data: { data, fileName, mimeType },
});

async function edit(
	files: Files,
	parameters: RunOptions['parameters'],
	extra: Partial<RunOptions> = {},
) {
	const store = extra.binaryStore ?? new BinaryStore();
	const items = extra.items ?? [await store.binaryItem({ from: 'form' }, files)];
	return runNode(node, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters,
		...extra,
		items,
		binaryStore: store,
	});
}
const generateCalls = () => sim.generateRequests;
type Part = {
	text?: string;
	inlineData?: { mimeType: string; data: string };
	fileData?: { fileUri: string };
	thoughtSignature?: string;
};
const sentImage = (call = generateCalls()[0]) => {
	const part = (call.body.contents[0].parts as Part[]).find((p) => p.inlineData)!;
	return Buffer.from(part.inlineData!.data, 'base64');
};
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected a failure')),
		(e) => e,
	);

describe('input preparation, shared with Fuse and Verify', () => {
	it("sends the instruction with the image and follows the input's shape", async () => {
		const { outputs, store } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
			prompt: 'Make the background a sunny beach',
		});
		const [item] = outputs[0];
		const call = generateCalls()[0];
		expect(call.body.contents).toHaveLength(1);
		expect((call.body.contents[0].parts as Part[]).map((p) => Object.keys(p)[0])).toEqual([
			'text',
			'inlineData',
		]);
		// No aspect ratio: the model keeps the input's shape.
		expect(call.body.generationConfig.imageConfig).toEqual({ imageSize: '1K' });
		const out = await sharp(store.get(item.binary!.data)).metadata();
		expect([out.width, out.height]).toEqual([1376, 768]);
		expect(item.json.input).toMatchObject({
			binaryProperty: 'data',
			originalWidth: 1408,
			originalHeight: 768,
			sentWidth: 1408,
			sentHeight: 768,
			metadataStripped: false,
			sentVia: 'inline',
		});
		expect(item.json.input).toMatchObject({ bytesSent: sentImage().length });
		expect(item.pairedItem).toEqual({ item: 0 });
	});

	it('applies EXIF orientation 6 before sending', async () => {
		const { outputs } = await edit(upload(photo('Landscape_6.jpg'), 'landscape.jpg'), {
			prompt: 'Brighten it',
		});
		const sent = await sharp(sentImage()).metadata();
		expect([sent.width, sent.height, sent.orientation ?? 1]).toEqual([600, 450, 1]);
		expect(outputs[0][0].json.input).toMatchObject({
			originalWidth: 600,
			originalHeight: 450,
			sentWidth: 600,
			sentHeight: 450,
		});
		expect((outputs[0][0].json.input as { processing: string[] }).processing).toContain('rotated');
	});

	it('strips GPS and camera data before upload unless asked to keep them', async () => {
		const { outputs } = await edit(upload(photo('sunrise_gps.jpg'), 'sunrise.jpg'), {
			prompt: 'Add a sailboat',
		});
		const sent = sentImage();
		expect((await sharp(sent).metadata()).exif).toBeUndefined();
		expect(sent.includes('PENTAX')).toBe(false);
		expect(outputs[0][0].json.input).toMatchObject({ metadataStripped: true });

		sim.reset();
		await edit(upload(photo('sunrise_gps.jpg'), 'sunrise.jpg'), {
			prompt: 'Add a sailboat',
			options: { keepMetadata: true },
		});
		expect((await sharp(sentImage()).metadata()).exif).toBeDefined();
		expect(sentImage().equals(photo('sunrise_gps.jpg'))).toBe(true);
	});

	it('refuses a 280-megapixel image before decoding it, and sends nothing', async () => {
		const error = await failure(
			edit(upload(photo('giant-image.jpg'), 'giant.jpg'), { prompt: 'x' }),
		);
		expect(error.constructor.name).toBe('NodeOperationError');
		expect(error.message).toMatch(
			/Binary property "data": The image is 20000×14000 \(280 MP\).*\(item 0\)/,
		);
		expect(error.description).toMatch(/Downscale/);
		expect(generateCalls()).toHaveLength(0);
	});

	it('downscales it to what the model can use when the pixel limit allows it', async () => {
		const { outputs } = await edit(upload(photo('giant-image.jpg'), 'giant.jpg'), {
			prompt: 'Colourise',
			options: { maxInputMegapixels: 300 },
		});
		const sent = await sharp(sentImage()).metadata();
		expect([sent.width, sent.height]).toEqual([3072, 2150]);
		expect(outputs[0][0].json.input).toMatchObject({
			originalWidth: 20000,
			originalHeight: 14000,
			sentWidth: 3072,
		});
	});

	it('keeps transparency: a product PNG is sent with its alpha channel', async () => {
		await edit(upload(photo('top.png'), 'top.png', 'image/png'), {
			prompt: 'Change the colour to red',
		});
		const sent = await sharp(sentImage()).metadata();
		expect(sent.format).toBe('png');
		expect(sent.hasAlpha).toBe(true);
		const { channels } = await sharp(sentImage()).stats();
		expect(channels[3].min).toBe(0);
	});

	it('converts a TIFF to a format the API takes', async () => {
		const tiff = await sharp(photo('room.png')).tiff().toBuffer();
		const { outputs } = await edit(upload(tiff, 'room.tiff', 'image/tiff'), {
			prompt: 'Add a sofa',
		});
		expect((await sharp(sentImage()).metadata()).format).toMatch(/jpeg|png/);
		expect((outputs[0][0].json.input as { processing: string[] }).processing).toContain(
			'converted-from-tiff',
		);
	});

	it.each([
		[
			'a PDF renamed .png',
			Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF'),
			/PDF/,
		],
		['0 bytes', Buffer.alloc(0), /empty/i],
		['a truncated JPEG', photo('man.jpg').subarray(0, 60_000), /incomplete|truncated|corrupt/i],
	])(
		'refuses %s clearly, naming item and property, and sends nothing',
		async (_name, data, message) => {
			const error = await failure(edit(upload(data, 'photo.png', 'image/png'), { prompt: 'x' }));
			expect(error.constructor.name).toBe('NodeOperationError');
			expect(error.message).toMatch(message);
			expect(error.message).toMatch(/^Binary property "data": .*\(item 0\)$/);
			expect(error.description).toEqual(expect.any(String));
			expect(generateCalls()).toHaveLength(0);
		},
	);

	it('names the binary properties the item does have when the wanted one is missing', async () => {
		const error = await failure(
			edit(upload(photo('man.jpg'), 'man.jpg'), { prompt: 'x', binaryPropertyName: 'photo' }),
		);
		expect(error.message).toMatch(
			/Binary property "photo": no such binary data on the item \(item 0\)/,
		);
		expect(error.description).toMatch(/data/);
	});
});

describe('request size: re-encode first, then the Files API', () => {
	it('re-encodes to fit a small inline limit when that keeps the image large', async () => {
		const { outputs } = await edit(upload(photo('top.png'), 'top.png', 'image/png'), {
			prompt: 'Make it red',
			options: { inlineLimitMb: 0.5 },
		});
		const input = outputs[0][0].json.input as {
			sentVia: string;
			sentWidth: number;
			processing: string[];
			bytesSent: number;
		};
		expect(input.sentVia).toBe('inline');
		expect(input.sentWidth).toBe(1024);
		expect(input.processing.some((p) => p.startsWith('compressed-'))).toBe(true);
		expect(generateCalls()[0].bodyBytes).toBeLessThan(0.5 * 1024 * 1024);
	});

	it('uploads through the Files API when re-encoding would shrink it too far', async () => {
		const { outputs } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
			prompt: 'Give him a hat',
			options: { inlineLimitMb: 0.07 },
		});
		expect(outputs[0][0].json.input).toMatchObject({ sentVia: 'files-api', sentWidth: 1408 });
		expect(sim.requests.some((r) => r.path.startsWith('/upload/v1beta/files'))).toBe(true);
		const parts = generateCalls()[0].body.contents[0].parts as Part[];
		expect(parts[1].fileData?.fileUri).toMatch(/\/files\//);
		expect(outputs[0][0].json.width).toBe(1376);
	});
});

describe('step by step: one conversation that keeps its thought signatures', () => {
	const steps = {
		values: [
			{ instruction: 'Remove all people from the background.' },
			{ instruction: 'Remove skin imperfections and marks.' },
			{ instruction: 'Make the hair color more vibrant and bright.' },
		],
	};

	it('sends each step with the full history and signatures verbatim, and outputs every step', async () => {
		const { outputs, store } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
			mode: 'steps',
			steps,
			options: { thinkingLevel: 'high' },
		});
		const calls = generateCalls();
		expect(calls).toHaveLength(3);
		expect(calls.map((c) => c.status)).toEqual([200, 200, 200]);
		expect(calls.map((c) => (c.body.contents as unknown[]).length)).toEqual([1, 3, 5]);
		// The model turn sent back in step 3 is exactly what step 2 answered, signatures included.
		const thirdHistory = calls[2].body.contents as Array<{ role: string; parts: Part[] }>;
		expect(thirdHistory.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user']);
		const modelImages = thirdHistory
			.filter((c) => c.role === 'model')
			.flatMap((c) => c.parts.filter((p) => p.inlineData));
		expect(modelImages).toHaveLength(2);
		expect(
			modelImages.every(
				(p) => typeof p.thoughtSignature === 'string' && p.thoughtSignature.length > 10,
			),
		).toBe(true);

		const item = outputs[0][0];
		expect(Object.keys(item.binary!).sort()).toEqual([
			'data',
			'editSource',
			'step1',
			'step2',
			'step3',
		]);
		expect(store.get(item.binary!.data).equals(store.get(item.binary!.step3))).toBe(true);
		expect(GeminiSim.promptOf(store.get(item.binary!.step2))).toContain(
			'Remove skin imperfections',
		);
		const stepUsage = (item.json.steps as Array<{ usage: { totalTokens: number } }>).map(
			(s) => s.usage.totalTokens,
		);
		expect((item.json.usage as { totalTokens: number }).totalTokens).toBe(
			stepUsage.reduce((a, b) => a + b),
		);
		expect(item.json.estimatedCostUsd).toBeCloseTo(3 * 0.0336, 6);
		const session = item.json.editSession as {
			model: string;
			steps: number;
			turns: Array<{ role: string }>;
		};
		expect(session).toMatchObject({ version: 1, model: 'gemini-nano-banana-2.1', steps: 3 });
		expect(session.turns).toHaveLength(6);
		expect(JSON.stringify(session)).not.toMatch(/"data":"[A-Za-z0-9+/]{100}/);
	});

	it('continues in a second Edit node, which sends the whole conversation back', async () => {
		const store = new BinaryStore();
		const first = await edit(
			upload(photo('man.jpg'), 'man.jpg'),
			{ mode: 'steps', steps },
			{ binaryStore: store },
		);
		sim.reset();
		const second = await edit(
			{},
			{ continueEdit: true, prompt: 'Now make him smile.' },
			{ items: first.outputs[0], binaryStore: store },
		);
		const [call] = generateCalls();
		const history = call.body.contents as Array<{ role: string; parts: Part[] }>;
		expect(history).toHaveLength(7);
		expect(history[6].parts).toEqual([{ text: 'Now make him smile.' }]);
		expect(call.status).toBe(200);
		const item = second.outputs[0][0];
		expect(item.json.editSession).toMatchObject({ steps: 4 });
		expect(Object.keys(item.binary!)).toEqual(
			expect.arrayContaining(['step1', 'step2', 'step3', 'step4', 'editSource', 'data']),
		);
		expect(GeminiSim.promptOf(store.get(item.binary!.data))).toContain('smile');
	});

	it('is refused by the API when a signature is lost on the way, and says which step failed', async () => {
		const store = new BinaryStore();
		const first = await edit(
			upload(photo('man.jpg'), 'man.jpg'),
			{ prompt: 'Remove the background' },
			{ binaryStore: store },
		);
		const tampered: INodeExecutionData = JSON.parse(JSON.stringify(first.outputs[0][0]));
		for (const turn of (
			tampered.json.editSession as { turns: Array<{ parts: Array<{ thoughtSignature?: string }> }> }
		).turns)
			for (const part of turn.parts) delete part.thoughtSignature;
		const error = await failure(
			edit({}, { continueEdit: true, prompt: 'Smile' }, { items: [tampered], binaryStore: store }),
		);
		expect(error.httpCode).toBe('400');
		expect(error.message).toMatch(/^Step 2 \("Smile"\) failed: .*thought_signature/);
		expect(error.context.failedStep).toBe(2);
	});

	it('under Continue On Fail keeps the images of the steps that succeeded', async () => {
		const failing = {
			values: [
				{ instruction: 'Remove the people.' },
				{ instruction: 'Now something forbidden [[sim:prompt-block]]' },
				{ instruction: 'Brighten.' },
			],
		};
		const { outputs } = await edit(
			upload(photo('man.jpg'), 'man.jpg'),
			{ mode: 'steps', steps: failing },
			{ continueOnFail: true },
		);
		const item = outputs[0][0];
		expect(item.json).toMatchObject({
			from: 'form',
			error: { message: expect.stringMatching(/^Step 2 .*blocked the prompt/) },
		});
		expect(Object.keys(item.binary!).sort()).toEqual(['data', 'step1']);
		expect(item.binary!.data.fileName).toBe('man.jpg');
		expect(generateCalls()).toHaveLength(2);
	});
});

describe('region lock (mask)', () => {
	async function halfMask(width: number, height: number) {
		const white = await sharp({
			create: { width: Math.floor(width / 2), height, channels: 3, background: '#ffffff' },
		})
			.png()
			.toBuffer();
		return sharp({ create: { width, height, channels: 3, background: '#000000' } })
			.composite([{ input: white, left: width - Math.floor(width / 2), top: 0 }])
			.png()
			.toBuffer();
	}

	it("keeps pixels outside the mask bit-identical to the original, at the original's size", async () => {
		const room = photo('room.png');
		const mask = await halfMask(256, 256); // a different size: scaled to the image
		const { outputs, store } = await edit(
			{
				...upload(room, 'room.png', 'image/png'),
				mask: { data: mask, fileName: 'mask.png', mimeType: 'image/png' },
			},
			{ prompt: 'Add a plant', options: { maskBinaryProperty: 'mask' } },
		);
		const result = store.get(outputs[0][0].binary!.data);
		const [a, b] = await Promise.all(
			[room, result].map((img) =>
				sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true }),
			),
		);
		expect([b.info.width, b.info.height]).toEqual([512, 509]);
		let changedLeft = 0;
		let changedRight = 0;
		for (let y = 0; y < 509; y++) {
			for (let x = 0; x < 512; x++) {
				const i = (y * 512 + x) * 3;
				const same =
					a.data[i] === b.data[i] &&
					a.data[i + 1] === b.data[i + 1] &&
					a.data[i + 2] === b.data[i + 2];
				if (!same && x < 254) changedLeft++;
				if (!same && x >= 258) changedRight++;
			}
		}
		expect(changedLeft).toBe(0);
		expect(changedRight).toBeGreaterThan(1000);
		const text = (generateCalls()[0].body.contents[0].parts as Part[])[0].text!;
		expect(text).toMatch(
			/Change only the region from 50% to 100% of the width and 0% to 100% of the height/,
		);
		expect(outputs[0][0].json.mask).toMatchObject({
			binaryProperty: 'mask',
			region: { left: 50, right: 100 },
		});
	});

	it('refuses a mask that is not an image, before any request', async () => {
		const files = {
			...upload(photo('room.png'), 'room.png', 'image/png'),
			mask: { data: Buffer.from('not an image'), fileName: 'mask.png', mimeType: 'image/png' },
		};
		const error = await failure(
			edit(files, { prompt: 'x', options: { maskBinaryProperty: 'mask' } }),
		);
		expect(error.message).toMatch(/^Binary property "mask": /);
		expect(generateCalls()).toHaveLength(0);
	});
});

describe('every failure kind from Generate applies', () => {
	it('a text-only refusal under Continue On Fail keeps the uploaded image', async () => {
		const { outputs, store } = await edit(
			upload(photo('man.jpg'), 'man.jpg'),
			{ prompt: 'x [[sim:text-only]]' },
			{ continueOnFail: true },
		);
		const item = outputs[0][0];
		expect(item.json.error).toMatchObject({ reason: 'TEXT_ONLY' });
		expect(store.get(item.binary!.data).equals(photo('man.jpg'))).toBe(true);
		expect(item.pairedItem).toEqual({ item: 0 });
	});
});

describe('many items on one execution', () => {
	it('lets 16 requests run and more wait without a listener-leak warning', async () => {
		// Every waiting or running request listens for the execution's abort: Node warns of a leak
		// when more than 10 listen to one signal. Jest keeps process warnings from a test.
		const { stdout } = await execFileAsync(
			process.execPath,
			['-r', 'ts-node/register/transpile-only', join(__dirname, 'many-requests.script.ts')],
			// The node's .ts, not the codex .json beside it.
			{ env: { ...process.env, TS_NODE_PREFER_TS_EXTS: 'true' }, timeout: 60_000 },
		);
		const result = JSON.parse(stdout.trim().split('\n').pop()!);
		expect(result).toEqual({ items: 24, maxInFlight: 16, warnings: [] });
	});
});

describe('thoughts and search sources, as Generate outputs them', () => {
	const withAll = { includeThoughts: true, outputThoughtImages: true, googleSearch: true };
	type Step = { step: number; thoughtText?: string; groundingSources?: Array<{ uri: string }> };

	it('outputs the thought summary, the thought image and the search sources of a single edit', async () => {
		const { outputs, store } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
			prompt: 'Put him in front of the Eiffel Tower',
			options: withAll,
		});
		const { body } = generateCalls()[0];
		expect(body.generationConfig.thinkingConfig).toEqual({ includeThoughts: true });
		expect(body.tools).toEqual([{ googleSearch: {} }]);
		const item = outputs[0][0];
		expect(item.json.thoughtText).toMatch(/Eiffel Tower/);
		expect(item.json.groundingSources).toEqual(
			expect.arrayContaining([expect.objectContaining({ uri: expect.stringMatching(/^https:/) })]),
		);
		expect((item.json.steps as Step[])[0]).toMatchObject({
			thoughtText: item.json.thoughtText,
			groundingSources: item.json.groundingSources,
		});
		expect(Object.keys(item.binary!).sort()).toEqual(['data', 'editSource', 'step1', 'thought1']);
		// A real image: the simulator's small grey draft, not the final image.
		const thought = store.get(item.binary!.thought1);
		const meta = await sharp(thought).metadata();
		expect(meta.format).toBe('png');
		expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(256);
		expect(GeminiSim.promptOf(thought)).toContain('Eiffel Tower');
		expect(thought.equals(store.get(item.binary!.step1))).toBe(false);
	});

	it('outputs none of them when the options are off', async () => {
		const { outputs } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
			prompt: 'Put him in front of the Eiffel Tower',
		});
		const item = outputs[0][0];
		expect(item.json).not.toHaveProperty('thoughtText');
		expect(item.json).not.toHaveProperty('groundingSources');
		expect((item.json.steps as Step[])[0]).not.toHaveProperty('thoughtText');
		expect(Object.keys(item.binary!).sort()).toEqual(['data', 'editSource', 'step1']);
	});

	it('gives each step its own, names thought images per step, and continues in a second node', async () => {
		const store = new BinaryStore();
		const steps = {
			values: [{ instruction: 'Put him in Paris.' }, { instruction: 'Make it night in Tokyo.' }],
		};
		const first = await edit(
			upload(photo('man.jpg'), 'man.jpg'),
			{ mode: 'steps', steps, options: withAll },
			{ binaryStore: store },
		);
		const item = first.outputs[0][0];
		const [one, two] = item.json.steps as Step[];
		expect(one.thoughtText).toMatch(/Paris/);
		expect(two.thoughtText).toMatch(/Tokyo/);
		expect(one.groundingSources).toHaveLength(2);
		expect(two.groundingSources).toHaveLength(2);
		expect(two.groundingSources![0].uri).not.toBe(one.groundingSources![0].uri);
		expect(item.json).toMatchObject({
			thoughtText: two.thoughtText,
			groundingSources: two.groundingSources,
		});
		expect(Object.keys(item.binary!).sort()).toEqual([
			'data',
			'editSource',
			'step1',
			'step1_thought1',
			'step2',
			'step2_thought1',
		]);
		expect(GeminiSim.promptOf(store.get(item.binary!.step2_thought1))).toContain('Tokyo');
		// Thought parts never go back to the model, and the session names only step images.
		const secondHistory = generateCalls()[1].body.contents as Array<{
			parts: Array<Part & { thought?: boolean }>;
		}>;
		expect(secondHistory.flatMap((c) => c.parts).some((p) => p.thought)).toBe(false);
		expect(JSON.stringify(item.json.editSession)).not.toMatch(/thought\d/);

		sim.reset();
		const second = await edit(
			{},
			{ continueEdit: true, prompt: 'Now add snow.', options: withAll },
			{ items: first.outputs[0], binaryStore: store },
		);
		const [call] = generateCalls();
		expect(call.status).toBe(200);
		expect(call.body.contents).toHaveLength(5);
		const next = second.outputs[0][0];
		expect(next.json).toMatchObject({
			thoughtText: expect.stringMatching(/snow/),
			steps: [{ step: 3, thoughtText: expect.stringMatching(/snow/) }],
		});
		expect(Object.keys(next.binary!).sort()).toEqual([
			'data',
			'editSource',
			'step1',
			'step1_thought1',
			'step2',
			'step2_thought1',
			'step3',
			'step3_thought1',
		]);
		expect(GeminiSim.promptOf(store.get(next.binary!.step3))).toContain('snow');
	});
});

describe('what the item carries out', () => {
	it('puts the result first and does not store an untouched upload a second time', async () => {
		const png = await sharp({
			create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } },
		})
			.png()
			.toBuffer();
		const { outputs } = await edit(
			{ Photo: { data: png, fileName: 'photo.png', mimeType: 'image/png' } },
			{ binaryPropertyName: 'Photo', prompt: 'Retouch it' },
		);
		const [item] = outputs[0];
		expect(Object.keys(item.binary!)).toEqual(['data', 'Photo', 'editSource', 'step1']);
		expect(item.json.input).toMatchObject({ metadataStripped: false });
		// Sent as it came: the session's source is the upload itself, not a copy.
		expect(item.binary!.editSource).toBe(item.binary!.Photo);
	});

	it('stores what was sent when it differs from the upload (metadata stripped)', async () => {
		const { outputs, store } = await edit(upload(photo('sunrise_gps.jpg'), 'sunrise.jpg'), {
			prompt: 'Warm it up',
		});
		const [item] = outputs[0];
		expect(item.binary!.editSource.id).not.toBe(item.binary!.data.id);
		expect(store.get(item.binary!.editSource).length).toBeLessThan(photo('sunrise_gps.jpg').length);
	});
});

describe('earlier images sent back with each step, within what each API takes', () => {
	const steps = {
		values: [
			{ instruction: 'Make it evening.' },
			{ instruction: 'Add a lamp.' },
			{ instruction: 'Warmer light.' },
		],
	};
	type Turn = { role: string; parts: Part[] };
	const modelParts = (call: { body: { contents: Turn[] } }) =>
		call.body.contents.filter((c) => c.role === 'model').flatMap((c) => c.parts);

	it('on the Gemini API, a history over the inline limit sends its images through the Files API, once each, signatures kept', async () => {
		sim.setImageTexture('noise');
		try {
			// 1K noise images are about 1 MB each: step 3 with both earlier images inline would not fit.
			const { outputs } = await edit(upload(photo('man.jpg'), 'man.jpg'), {
				mode: 'steps',
				steps,
				options: { inlineLimitMb: 2 },
			});
			expect(outputs[0]).toHaveLength(1);
			expect(outputs[0][0].json.error).toBeUndefined();
			expect(Object.keys(outputs[0][0].binary!)).toEqual(
				expect.arrayContaining(['step1', 'step2', 'step3']),
			);
		} finally {
			sim.setImageTexture('flat');
		}
		const calls = generateCalls();
		expect(calls).toHaveLength(3);
		const third = modelParts(calls[2] as never).filter((p) => p.inlineData || p.fileData);
		expect(third).toHaveLength(2);
		expect(third.some((p) => p.fileData)).toBe(true);
		for (const part of third) expect(part.thoughtSignature).toEqual(expect.any(String));
		expect(calls[2].bodyBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
		// an image moved once is named by its URI at every later step, not uploaded again
		const uploads = sim.requests.filter((r) => r.path.startsWith('/upload/v1beta/files'));
		const moved = new Set(third.filter((p) => p.fileData).map((p) => p.fileData!.fileUri));
		expect(uploads.filter((r) => r.query['upload_id'] === undefined).length).toBe(moved.size);
	}, 300_000);

	it('on Vertex AI, an earlier image over 7 MB is refused before the step is sent, the steps made so far kept', async () => {
		sim.setImageTexture('noise');
		try {
			const { outputs } = await edit(
				upload(photo('man.jpg'), 'man.jpg'),
				{ mode: 'steps', steps, imageSize: '4K' },
				{
					credentials: {
						authentication: 'vertexExpress',
						apiKey: sim.expressApiKey,
						vertexHost: sim.url,
					},
					onError: 'continueRegularOutput',
				},
			);
			const [item] = outputs[0];
			expect(item.json.error).toMatchObject({
				message: expect.stringMatching(
					/^Step 2 \("Add a lamp\."\) failed: This step would send back an earlier image of \d+\.\d MB, over Vertex AI's 7 MB per inline image \(item 0\)$/,
				),
				description: expect.stringMatching(/thought signatures belong to their exact bytes/),
			});
			expect(Object.keys(item.binary ?? {})).toContain('step1');
		} finally {
			sim.setImageTexture('flat');
		}
		expect(generateCalls()).toHaveLength(1);
		// Two 4K noise images: seconds on an idle machine, far more on a loaded one.
	}, 300_000);
});
