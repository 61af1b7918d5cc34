/**
 * The Fuse node against the Gemini simulator over HTTP, through the real SDK: images from the
 * binary properties of each item or gathered across items, role labels interleaved before their
 * images, the models' limits, the shared input path (transparency, re-encoding, Files API), and
 * failures, including one bad image in a gathered fusion.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import type { INodeExecutionData } from 'n8n-workflow';

import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

const node = new NanoBananaFuse();
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

type File = { data: Buffer; fileName: string; mimeType: string };
const photo = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'photos', name));
const file = (name: string): File => ({
	data: photo(name),
	fileName: name,
	mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
});
const PROMPT = 'Place the product from image 1 naturally into the room of image 2';

/** Runs the node on one item per entry of `itemFiles`, each carrying those files; item json is {n}. */
async function fuse(
	parameters: RunOptions['parameters'],
	itemFiles: Array<Record<string, File>>,
	extra: Partial<RunOptions> = {},
) {
	const store = new BinaryStore();
	const items = await Promise.all(itemFiles.map((files, n) => store.binaryItem({ n }, files)));
	return runNode(node, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters: { prompt: PROMPT, ...parameters },
		items,
		binaryStore: store,
		...extra,
	});
}

const generateCalls = () => sim.generateRequests;
const uploads = () => sim.requests.filter((r) => r.path.startsWith('/upload/v1beta/files'));
type Part = {
	text?: string;
	inlineData?: { mimeType: string; data: string };
	fileData?: { fileUri: string; mimeType: string };
};
const partsOf = (call = generateCalls()[0]) => call.body.contents[0].parts as Part[];
/** The request's parts in brief: texts as they are, images as [inline] or [file]. */
const outline = (parts = partsOf()) =>
	parts.map((p) => p.text ?? (p.inlineData ? '[inline]' : '[file]'));
const sentImages = (parts = partsOf()) =>
	parts.filter((p) => p.inlineData).map((p) => Buffer.from(p.inlineData!.data, 'base64'));
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected a failure')),
		(e) => e,
	);
const sizeOf = async (image: Buffer) => {
	const meta = await sharp(image).metadata();
	return [meta.width, meta.height];
};
type InputJson = {
	image: number;
	label?: string;
	type?: string;
	sourceItem?: number;
	binaryProperty: string;
	sentVia: string;
	sentWidth: number;
	sentHeight: number;
	bytesSent: number;
	processing: string[];
};
const inputsOf = (item: INodeExecutionData) => item.json.inputs as InputJson[];

const productAndRoom = { product: file('top.png'), room: file('room.png') };
const labels = {
	values: [
		{ binaryProperty: 'product', label: 'the product' },
		{ binaryProperty: 'room', label: 'the room' },
	],
};

describe('binary properties of each item', () => {
	it('sends the prompt, then each label right before its image, in the order named', async () => {
		const { outputs, store } = await fuse(
			{ binaryPropertyNames: 'product, room', imageLabels: labels },
			[productAndRoom],
		);
		expect(outline()).toEqual([
			PROMPT,
			'Image 1 (the product):',
			'[inline]',
			'Image 2 (the room):',
			'[inline]',
		]);
		const [product, room] = sentImages();
		expect(await sizeOf(product)).toEqual([1024, 1098]);
		expect(await sizeOf(room)).toEqual([512, 509]);

		expect(outputs[0]).toHaveLength(1);
		const [item] = outputs[0];
		expect(item.pairedItem).toEqual({ item: 0 });
		expect(item.json).toMatchObject({
			model: 'gemini-nano-banana-2.1',
			source: 'eachItem',
			prompt: PROMPT,
			aspectRatio: 'auto',
			imageSize: '1K',
			finishReason: 'STOP',
			estimatedCostUsd: 0.0336,
			imageIndex: 0,
		});
		expect(inputsOf(item)).toEqual([
			expect.objectContaining({
				image: 1,
				label: 'the product',
				binaryProperty: 'product',
				originalWidth: 1024,
				sentVia: 'inline',
				bytesSent: product.length,
			}),
			expect.objectContaining({
				image: 2,
				label: 'the room',
				binaryProperty: 'room',
				originalWidth: 512,
				sentVia: 'inline',
				bytesSent: room.length,
			}),
		]);
		expect(inputsOf(item)[0]).not.toHaveProperty('sourceItem');
		const result = store.get(item.binary!.data);
		expect(await sizeOf(result)).toEqual([item.json.width, item.json.height]);
		expect(GeminiSim.promptOf(result)).toContain(PROMPT);
		expect(Object.keys(item.binary!)).toEqual(['data']);
	});

	it('numbers images without a label, and takes every binary property in the order it appears', async () => {
		await fuse(
			{
				imageProperties: 'all',
				imageLabels: { values: [{ binaryProperty: 'scene', label: 'the scene' }] },
			},
			[{ shirt: file('top.png'), person: file('man.jpg'), scene: file('room.png') }],
		);
		expect(outline()).toEqual([
			PROMPT,
			'Image 1:',
			'[inline]',
			'Image 2:',
			'[inline]',
			'Image 3 (the scene):',
			'[inline]',
		]);
		expect(await Promise.all(sentImages().map(sizeOf))).toEqual([
			[1024, 1098],
			[1408, 768],
			[512, 509],
		]);
	});

	it("passes each image's type on in its label", async () => {
		const typed = {
			values: [
				{ binaryProperty: 'person', label: 'the model', imageType: 'character' },
				{ binaryProperty: 'shirt', label: 'the top', imageType: 'object' },
			],
		};
		const { outputs } = await fuse(
			{
				binaryPropertyNames: 'person,shirt',
				imageLabels: typed,
				prompt: 'Dress the model of image 1 in the top of image 2',
			},
			[{ person: file('man.jpg'), shirt: file('top.png') }],
		);
		expect(outline().slice(1)).toEqual([
			'Image 1 (the model, character):',
			'[inline]',
			'Image 2 (the top, object):',
			'[inline]',
		]);
		expect(inputsOf(outputs[0][0]).map((i) => [i.label, i.type])).toEqual([
			['the model', 'character'],
			['the top', 'object'],
		]);
	});

	it('makes one request per item, and fans out several images per item, each paired with its item', async () => {
		const { outputs } = await fuse({ binaryPropertyNames: 'product, room', numberOfImages: 2 }, [
			productAndRoom,
			{ product: file('objects.png'), room: file('room.png') },
		]);
		expect(generateCalls()).toHaveLength(4);
		expect(outputs[0].map((o) => o.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 0 },
			{ item: 1 },
			{ item: 1 },
		]);
		expect(outputs[0].map((o) => o.json.imageIndex)).toEqual([0, 1, 0, 1]);
		expect(outputs[0].map((o) => o.binary!.data.fileName)).toEqual([
			expect.stringMatching(/-item0-1\.png$/),
			expect.stringMatching(/-item0-2\.png$/),
			expect.stringMatching(/-item1-1\.png$/),
			expect.stringMatching(/-item1-2\.png$/),
		]);
	});
});

describe('all input items together', () => {
	const gathered = {
		source: 'allItems',
		label: (_: number, item: INodeExecutionData) =>
			['the product', 'the room'][item.json.n as number],
	};

	it('gathers one image per item into one request and one output item paired with every source', async () => {
		const { outputs } = await fuse(gathered, [
			{ data: file('top.png') },
			{ data: file('room.png') },
		]);
		expect(generateCalls()).toHaveLength(1);
		expect(outline()).toEqual([
			PROMPT,
			'Image 1 (the product):',
			'[inline]',
			'Image 2 (the room):',
			'[inline]',
		]);
		expect(sentImages()[0].equals(photo('top.png'))).toBe(true);
		expect(outputs[0]).toHaveLength(1);
		const [item] = outputs[0];
		expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(item.json.source).toBe('allItems');
		expect(inputsOf(item).map((i) => [i.image, i.label, i.sourceItem, i.binaryProperty])).toEqual([
			[1, 'the product', 0, 'data'],
			[2, 'the room', 1, 'data'],
		]);
	});

	it('takes every binary property of every item, in item order, and fans out with every output paired to all sources', async () => {
		const { outputs } = await fuse({ ...gathered, imageProperties: 'all', numberOfImages: 2 }, [
			{ front: file('top.png'), props: file('objects.png') },
			{ data: file('room.png') },
		]);
		expect(generateCalls()).toHaveLength(2);
		expect(outline()).toEqual([
			PROMPT,
			'Image 1 (the product):',
			'[inline]',
			'Image 2 (the product):',
			'[inline]',
			'Image 3 (the room):',
			'[inline]',
		]);
		expect(outputs[0]).toHaveLength(2);
		for (const item of outputs[0]) expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(inputsOf(outputs[0][1]).map((i) => [i.sourceItem, i.binaryProperty])).toEqual([
			[0, 'front'],
			[0, 'props'],
			[1, 'data'],
		]);
	});

	it("reads the type for each source item and checks the model's limit on characters", async () => {
		const people = Array.from({ length: 5 }, () => ({ data: file('man.jpg') }));
		const error = await failure(fuse({ source: 'allItems', imageType: 'character' }, people));
		expect(error.message).toBe(
			'5 character images, but Nano Banana 2.1 (gemini-nano-banana-2.1) keeps at most 4 characters consistent (item 0 and items 1-4)',
		);
		expect(generateCalls()).toHaveLength(0);

		const { outputs } = await fuse(
			{ source: 'allItems', imageType: (i: number) => (i < 4 ? 'character' : 'object') },
			people,
		);
		expect(outline().filter((t) => t.startsWith('Image'))).toEqual([
			'Image 1 (character):',
			'Image 2 (character):',
			'Image 3 (character):',
			'Image 4 (character):',
			'Image 5 (object):',
		]);
		expect(outputs[0][0].pairedItem).toHaveLength(5);
	});
});

describe("the models' limits, checked before anything is sent", () => {
	const rooms = (count: number) =>
		Array.from({ length: count }, () => ({ data: file('room.png') }));
	const onModel = (model: string) => ({
		source: 'allItems',
		model: { __rl: true, mode: 'id', value: model },
	});

	it('refuses 4 images on Nano Banana (2.5), which takes 3', async () => {
		const error = await failure(fuse(onModel('gemini-2.5-flash-image'), rooms(4)));
		expect(error.constructor.name).toBe('NodeOperationError');
		expect(error.message).toBe(
			'4 images, but Nano Banana (gemini-2.5-flash-image) takes at most 3 per request (item 0 and items 1-3)',
		);
		expect(error.description).toMatch(/No image was left out/);
		expect(sim.requests).toHaveLength(0);
	});

	it('sends 14 images to Nano Banana 2 and refuses 15', async () => {
		const { outputs } = await fuse(onModel('gemini-3.1-flash-image'), rooms(14));
		expect(sentImages()).toHaveLength(14);
		expect(outputs[0]).toHaveLength(1);
		sim.reset();
		const error = await failure(fuse(onModel('gemini-3.1-flash-image'), rooms(15)));
		expect(error.message).toMatch(
			/^15 images, but Nano Banana 2 \(gemini-3\.1-flash-image\) takes at most 14 per request/,
		);
		expect(sim.requests).toHaveLength(0);
	});

	it('refuses more objects than Nano Banana Pro keeps at high fidelity', async () => {
		const objects = {
			values: Array.from({ length: 7 }, (_, n) => ({
				binaryProperty: `p${n}`,
				label: `item ${n}`,
				imageType: 'object',
			})),
		};
		const files = Object.fromEntries(
			Array.from({ length: 7 }, (_, n) => [`p${n}`, file('objects.png')]),
		);
		const error = await failure(
			fuse(
				{
					model: { __rl: true, mode: 'list', value: 'gemini-3-pro-image' },
					imageProperties: 'all',
					imageLabels: objects,
				},
				[files],
			),
		);
		expect(error.message).toBe(
			'7 object images, but Nano Banana Pro (gemini-3-pro-image) keeps at most 6 objects at high fidelity (item 0)',
		);
	});

	it('refuses more images than the Max Images option, whatever the model takes', async () => {
		const error = await failure(
			fuse({ ...onModel('gemini-3.1-flash-image'), options: { maxImages: 2 } }, rooms(3)),
		);
		expect(error.message).toBe(
			'3 images, more than the 2 allowed by the Max Images option (item 0 and items 1-2)',
		);
		expect(sim.requests).toHaveLength(0);
	});
});

describe('aspect ratio and size, as in Generate', () => {
	it('leaves the ratio to the model by default, and sends a fixed one and the size when chosen', async () => {
		await fuse({ binaryPropertyNames: 'product, room' }, [productAndRoom]);
		expect(generateCalls()[0].body.generationConfig.imageConfig).toEqual({ imageSize: '1K' });
		sim.reset();
		const { outputs } = await fuse(
			{ binaryPropertyNames: 'product, room', aspectRatio: '21:9', imageSize: '2K' },
			[productAndRoom],
		);
		expect(generateCalls()[0].body.generationConfig.imageConfig).toEqual({
			aspectRatio: '21:9',
			imageSize: '2K',
		});
		expect(outputs[0][0].json).toMatchObject({
			aspectRatio: '21:9',
			imageSize: '2K',
			estimatedCostUsd: 0.0504,
		});
	});

	it('follows the shape of image N: the supported ratio closest to it', async () => {
		const { outputs, store } = await fuse(
			{ binaryPropertyNames: 'product, person', aspectRatio: 'sameAsImage', sameAsImage: 2 },
			[{ product: file('top.png'), person: file('man.jpg') }],
		);
		// man.jpg is 1408×768 (1.83): 16:9 (1.78) is the closest ratio.
		expect(generateCalls()[0].body.generationConfig.imageConfig).toEqual({
			aspectRatio: '16:9',
			imageSize: '1K',
		});
		expect(outputs[0][0].json).toMatchObject({ aspectRatio: '16:9', aspectRatioFromImage: 2 });
		expect(await sizeOf(store.get(outputs[0][0].binary!.data))).toEqual([1376, 768]);
	});

	it('refuses an image number beyond the images sent', async () => {
		const error = await failure(
			fuse({ binaryPropertyNames: 'product, room', aspectRatio: 'sameAsImage', sameAsImage: 3 }, [
				productAndRoom,
			]),
		);
		expect(error.message).toBe(
			'The aspect ratio is to follow image 3, but there are 2 images (item 0)',
		);
	});
});

describe('the shared input path', () => {
	/** Alpha of the top-left pixel (transparent in top.png) and the lowest alpha, as the simulator got them. */
	async function transparency(image: Buffer) {
		const { data, info } = await sharp(image)
			.ensureAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true });
		const { channels } = await sharp(image).stats();
		return {
			corner: data[3],
			min: channels[info.channels - 1].min,
			hasAlpha: (await sharp(image).metadata()).hasAlpha,
		};
	}

	it("keeps the product's transparent background transparent, not black", async () => {
		await fuse({ binaryPropertyNames: 'product, room' }, [productAndRoom]);
		const [product] = sentImages();
		expect((await sharp(product).metadata()).format).toBe('png');
		expect(await transparency(product)).toEqual({ corner: 0, min: 0, hasAlpha: true });
	});

	it('over the inline limit, shrinks every image by about the same share, downscaling the large one, and sends all inline', async () => {
		const originals = ['man.jpg', 'room.png', 'objects.png'].map((name) => photo(name).length);
		const { outputs } = await fuse(
			{ binaryPropertyNames: 'person, room, props', options: { inlineLimitMb: 0.18 } },
			[{ person: file('man.jpg'), room: file('room.png'), props: file('objects.png') }],
		);
		const inputs = inputsOf(outputs[0][0]);
		expect(inputs.map((i) => i.sentVia)).toEqual(['inline', 'inline', 'inline']);
		expect(inputs.every((i) => i.processing.some((step) => step.startsWith('compressed-')))).toBe(
			true,
		);
		// Not only the largest: each image is cut to well under a fifth of its bytes.
		expect(inputs.map((i, n) => i.bytesSent / originals[n] < 0.2)).toEqual([true, true, true]);
		expect(inputs.map((i) => [i.sentWidth, i.sentHeight])).toEqual([
			[1056, 576],
			[512, 509],
			[512, 509],
		]);
		expect(inputs[0].processing).toContain('downscaled');
		expect(await Promise.all(sentImages().map(sizeOf))).toEqual([
			[1056, 576],
			[512, 509],
			[512, 509],
		]);
		expect(generateCalls()[0].bodyBytes).toBeLessThan(0.18 * 1024 * 1024);
		expect(uploads()).toHaveLength(0);
	});

	it('keeps transparency when the product is re-encoded to fit', async () => {
		const { outputs } = await fuse(
			{ binaryPropertyNames: 'product, room', options: { inlineLimitMb: 0.3 } },
			[productAndRoom],
		);
		expect(inputsOf(outputs[0][0])[0]).toMatchObject({
			mimeTypeSent: 'image/webp',
			sentVia: 'inline',
			sentWidth: 1024,
		});
		expect(await transparency(sentImages()[0])).toEqual({ corner: 0, min: 0, hasAlpha: true });
	});

	it('moves the largest images to the Files API when re-encoding would shrink them too far, labels still in place', async () => {
		const { outputs } = await fuse(
			{
				binaryPropertyNames: 'product, room, props',
				imageLabels: labels,
				options: { inlineLimitMb: 0.3 },
			},
			[{ product: file('top.png'), room: file('room.png'), props: file('Landscape_6.jpg') }],
		);
		const inputs = inputsOf(outputs[0][0]);
		expect(inputs.map((i) => i.sentVia)).toEqual(['files-api', 'files-api', 'inline']);
		expect(sim.files.list().map((f) => f.displayName)).toEqual([
			'n8n item 0 product',
			'n8n item 0 room',
		]);
		expect(outline()).toEqual([
			PROMPT,
			'Image 1 (the product):',
			'[file]',
			'Image 2 (the room):',
			'[file]',
			'Image 3:',
			'[inline]',
		]);
		const uploaded = sim.files.list().find((f) => f.displayName === 'n8n item 0 product')!;
		expect(partsOf()[2].fileData!.fileUri).toMatch(new RegExp(`/files/${uploaded.id}$`));
		// Uploaded as prepared: the product PNG with its transparency.
		expect(await transparency(uploaded.data)).toEqual({ corner: 0, min: 0, hasAlpha: true });
		expect(outputs[0][0].json.width).toBe(1024);
	});
});

describe('failures name the item, and nothing is lost', () => {
	it.each([
		[
			'a missing property',
			{ room: file('room.png') },
			/^Binary property "product": no such binary data on the item \(item 0\)$/,
		],
		[
			'a PDF',
			{
				product: {
					data: Buffer.from('%PDF-1.4\n%%EOF'),
					fileName: 'top.png',
					mimeType: 'image/png',
				},
				room: file('room.png'),
			},
			/^Binary property "product": .*PDF.*\(item 0\)$/,
		],
		[
			'an empty file',
			{
				product: { data: Buffer.alloc(0), fileName: 'top.png', mimeType: 'image/png' },
				room: file('room.png'),
			},
			/^Binary property "product": .*empty.*\(item 0\)$/i,
		],
	])('refuses %s before sending anything', async (_name, files, message) => {
		const error = await failure(
			fuse({ binaryPropertyNames: 'product, room' }, [files as Record<string, File>]),
		);
		expect(error.constructor.name).toBe('NodeOperationError');
		expect(error.message).toMatch(message);
		expect(error.description).toEqual(expect.any(String));
		expect(sim.requests).toHaveLength(0);
	});

	it('refuses a label for an image that is not sent, an empty prompt, and an item without binaries', async () => {
		const typo = { values: [{ binaryProperty: 'prodcut', label: 'the product' }] };
		expect(
			(
				await failure(
					fuse({ binaryPropertyNames: 'product, room', imageLabels: typo }, [productAndRoom]),
				)
			).message,
		).toBe(
			'A label is set for binary property "prodcut", which is not among the images sent (product, room) (item 0)',
		);
		expect(
			(
				await failure(
					fuse({ binaryPropertyNames: 'product, room', prompt: '  ' }, [productAndRoom]),
				)
			).message,
		).toBe('The prompt is empty (item 0)');
		expect(
			(
				await failure(
					fuse({ source: 'allItems', imageProperties: 'all' }, [{ data: file('top.png') }, {}]),
				)
			).message,
		).toBe('The item carries no binary data, so it has no image to fuse (item 1)');
		expect(sim.requests).toHaveLength(0);
	});

	it('an API failure names the item; under Continue On Fail the other items still fuse', async () => {
		const prompt = (i: number) => (i === 1 ? `${PROMPT} [[sim:prompt-block]]` : PROMPT);
		const items = [productAndRoom, productAndRoom, productAndRoom];
		const error = await failure(
			fuse({ binaryPropertyNames: 'product, room', prompt, options: { maxConcurrency: 1 } }, items),
		);
		expect(error.message).toMatch(/^Gemini blocked the prompt \(PROHIBITED_CONTENT\).*\(item 1\)$/);

		const { outputs } = await fuse({ binaryPropertyNames: 'product, room', prompt }, items, {
			continueOnFail: true,
		});
		expect(outputs[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(outputs[0][1].json).toMatchObject({
			n: 1,
			error: { reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT' },
		});
		expect(Object.keys(outputs[0][1].binary!)).toEqual(['product', 'room']);
		expect(outputs[0][0].json.error).toBeUndefined();
		expect(outputs[0][2].binary!.data).toBeDefined();
	});

	it('in gather mode one bad image fails the whole fusion, naming its source item', async () => {
		const items = [
			{ data: file('top.png') },
			{
				data: {
					data: photo('man.jpg').subarray(0, 60_000),
					fileName: 'man.jpg',
					mimeType: 'image/jpeg',
				},
			},
			{ data: file('room.png') },
		];
		const error = await failure(fuse({ source: 'allItems' }, items));
		expect(error.message).toMatch(/^Binary property "data": The image is incomplete.*\(item 1\)$/);
		expect(sim.requests).toHaveLength(0);
	});

	it('names the items of a gathered fusion once, as n8n shows the error', async () => {
		const error = await failure(
			fuse({ source: 'allItems', prompt: `${PROMPT} [[sim:prompt-block]]` }, [
				{ data: file('top.png') },
				{ data: file('room.png') },
			]),
		);
		expect(error.message).toMatch(/^Gemini blocked the prompt.* \(item 0 and item 1\)$/);
		// n8n's editor adds ` [item N]` (N: the error's itemIndex) to a message that does not say
		// `item N`: this one says it, so the editor adds nothing and the label stays single.
		expect(error.context.itemIndex).toBe(0);
		expect(error.message.match(/\bitems? \d+/g)).toEqual(['item 0', 'item 1']);
	});

	it("under Continue On Fail a failed gathered fusion is one error item: first item's json, every source paired, every binary kept", async () => {
		const items: Array<Record<string, File>> = [
			{ data: file('top.png') },
			{ data: file('room.png'), extra: file('objects.png') },
			{ data: file('man.jpg') },
		];
		const { outputs, store } = await fuse(
			{ source: 'allItems', prompt: `${PROMPT} [[sim:prompt-block]]` },
			items,
			{ continueOnFail: true },
		);
		expect(outputs[0]).toHaveLength(1);
		const [item] = outputs[0];
		expect(item.json).toMatchObject({
			n: 0,
			error: {
				message: expect.stringMatching(/^Gemini blocked the prompt.*\(item 0 and items 1-2\)$/),
				reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
			},
		});
		expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(Object.keys(item.binary!)).toEqual(['data', 'data_item1', 'extra', 'data_item2']);
		expect(store.get(item.binary!.data_item2).equals(photo('man.jpg'))).toBe(true);

		sim.reset();
		const bad = await fuse({ source: 'allItems' }, [{ data: file('top.png') }, {}], {
			continueOnFail: true,
		});
		expect(bad.outputs[0]).toHaveLength(1);
		expect(bad.outputs[0][0].json.error).toMatchObject({
			message: 'Binary property "data": no such binary data on the item (item 1)',
		});
		expect(bad.outputs[0][0].pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(sim.requests).toHaveLength(0);
	});
});
