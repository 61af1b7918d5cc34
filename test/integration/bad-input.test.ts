/**
 * Bad input is refused before anything is paid for: for each node, the mistakes a workflow can
 * make, each a NodeOperationError whose message names the item and whose description says what to
 * do. The bad item is the last of the run and the nodes go one item at a time, so the good items
 * before it are sent, one request each, and the bad one sends nothing. Under Continue On Fail the
 * bad item comes out as it came in, with the error, and the good items still get their images.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { deflateSync } from 'zlib';
import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, INodeExecutionData, INodeType } from 'n8n-workflow';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { ParamValue, RunOptions } from '../helpers/n8nContext';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

type Params = RunOptions['parameters'];
type File = { data: Buffer; fileName: string; mimeType: string };
type Files = Record<string, File>;

const photo = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'photos', name));
const file = (data: Buffer, fileName: string, mimeType: string): File => ({
	data,
	fileName,
	mimeType,
});
const man = file(photo('man.jpg'), 'man.jpg', 'image/jpeg');
const room = file(photo('room.png'), 'room.png', 'image/png');
const top = file(photo('top.png'), 'top.png', 'image/png');
const notes = file(Buffer.from('Remember to buy bananas.\n'), 'notes.txt', 'text/plain');
const truncatedPng = file(photo('room.png').subarray(0, 100_000), 'room.png', 'image/png');
const svg = file(
	Buffer.from(
		'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#f5c518"/></svg>',
	),
	'logo.svg',
	'image/svg+xml',
);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
const crc32 = (bytes: Buffer) =>
	(bytes.reduce((c, byte) => CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>>
	0;

function pngChunk(type: string, data: Buffer): Buffer {
	const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([length, body, crc]);
}

/** A black greyscale PNG; `claimed` is the size its header states, if it is to lie. */
function blackPng(width: number, height: number, claimed = { width, height }): Buffer {
	const header = Buffer.alloc(13);
	header.writeUInt32BE(claimed.width, 0);
	header.writeUInt32BE(claimed.height, 4);
	header[8] = 8; // bits per sample; colour type 0 (grey), default compression, filter and interlace
	const rows = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then black pixels
	return Buffer.concat([
		Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
		pngChunk('IHDR', header),
		pngChunk('IDAT', deflateSync(rows)),
		pngChunk('IEND', Buffer.alloc(0)),
	]);
}

/** A PNG of a hundred bytes whose header claims 100000×100000 pixels: decoding it would take 10 GB. */
const bomb = file(blackPng(1, 1, { width: 100_000, height: 100_000 }), 'bomb.png', 'image/png');
const blackMask = file(blackPng(64, 64), 'mask.png', 'image/png');

/** A 1×1 Windows bitmap, a format this sharp build cannot read. */
function bmp(): File {
	const data = Buffer.alloc(58);
	data.write('BM', 0, 'latin1');
	data.writeUInt32LE(58, 2); // file size
	data.writeUInt32LE(54, 10); // pixel data offset
	data.writeUInt32LE(40, 14); // info header size
	data.writeInt32LE(1, 18); // width
	data.writeInt32LE(1, 22); // height
	data.writeUInt16LE(1, 26); // planes
	data.writeUInt16LE(24, 28); // bits per pixel
	data.writeUInt32LE(4, 34); // pixel data size
	return file(data, 'room.bmp', 'image/bmp');
}

const model = (id: string) => ({ __rl: true, mode: 'id', value: id });
/** Like `{{ $json.bad ? wrong : right }}`: the bad item gets `wrong`, the others `right`. */
const ifBad = (wrong: unknown, right: unknown) => (_i: number, item: INodeExecutionData) =>
	item.json.bad ? wrong : right;
const fromItem = (_i: number, item: INodeExecutionData) => item.json.prompt;
/** One item at a time: the good items before the bad one are done, one request each, before it is reached. */
const oneAtATime =
	(options: ParamValue = {}) =>
	(i: number, item: INodeExecutionData) => ({
		...((typeof options === 'function' ? options(i, item) : options) as IDataObject),
		maxConcurrency: 1,
	});

/** What Google would bill or keep: generateContent calls and Files API uploads. */
const paidCalls = () =>
	sim.requests.filter(
		(r) => /:(stream)?generateContent$/i.test(r.path) || r.path.startsWith('/upload/'),
	);
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected the node to refuse')),
		(e) => e,
	);

interface Case {
	kind: string;
	/** Items in the run; the last one (index items - 1) carries the bad input. */
	items: number;
	parameters: Params;
	/** The bad item's json and files, where the bad input is there rather than in a parameter. */
	json?: IDataObject;
	files?: Files;
	message: string;
	cure: RegExp;
}

/** Files in "data" that are not an image to send, refused alike by every node that reads one. */
const unreadableFiles: Case[] = [
	{
		kind: 'a text file instead of an image',
		items: 3,
		parameters: {},
		files: { data: notes },
		message: 'Binary property "data": The file is not an image (notes.txt) (item 2)',
		cure: /^Pass a PNG, JPEG, WebP, HEIC or HEIF image/,
	},
	{
		kind: 'a PNG cut off in transfer',
		items: 1,
		parameters: {},
		files: { data: truncatedPng },
		message:
			'Binary property "data": The image is incomplete: the file ends before the image data does (room.png) (item 0)',
		cure: /fetch it again\.$/,
	},
];

/** The run's items: `good(k)` for each but the last, which is the bad one, marked `bad: true`. */
async function itemsFor(
	store: BinaryStore,
	{ items, json, files }: Case,
	good: (k: number) => { json: IDataObject; files: Files },
): Promise<INodeExecutionData[]> {
	return await Promise.all(
		Array.from({ length: items }, async (_, k) => {
			const item = good(k);
			if (k < items - 1) return await store.binaryItem(item.json, item.files);
			return await store.binaryItem({ ...item.json, ...json, bad: true }, files ?? item.files);
		}),
	);
}

/**
 * Refused with the exact message naming the last item and a description saying what to do.
 * `sent`: the good items' requests before it, one each; nothing of the bad item was sent.
 */
async function expectRefused(
	run: Promise<unknown>,
	{ items, message, cure }: Case,
	sent = items - 1,
) {
	const error = await failure(run);
	expect(error).toBeInstanceOf(NodeOperationError);
	expect(error.message).toBe(message);
	expect(error.description).toMatch(cure);
	expect(error.context.itemIndex).toBe(items - 1);
	expect(paidCalls()).toHaveLength(sent);
}

const credentials = () => ({ apiKey: sim.apiKey, host: sim.url });

/** Runs the node under Continue On Fail (regular output) and returns its outputs. */
async function runContinuing(
	node: INodeType,
	store: BinaryStore,
	items: INodeExecutionData[],
	parameters: Params,
): Promise<INodeExecutionData[][]> {
	const run = { credentials: credentials(), parameters, items, binaryStore: store };
	const { outputs } = await runNode(node, { ...run, continueOnFail: true });
	return outputs;
}

/** The failed item came out as it came in (json, binaries), with the error, paired with itself. */
function expectCameOut(
	failed: INodeExecutionData,
	items: INodeExecutionData[],
	index: number,
	json: IDataObject,
) {
	expect(failed.json).toEqual(json);
	expect(failed.binary).toEqual(items[index].binary);
	expect(failed.pairedItem).toEqual({ item: index });
}

interface Refusals {
	/** The good items' json and files. */
	good: (k: number) => { json: IDataObject; files: Files };
	/** The node's parameters for every case (the prompt from each item's json, unless set). */
	parameters?: Params;
}

/**
 * A node's refusals, one test per case: the bad item last, the nodes one item at a time, so the
 * good items before it are sent and the bad one is not.
 */
function itRefuses(node: INodeType, cases: Case[], { good, parameters }: Refusals) {
	it.each(cases)('refuses $kind', async (row) => {
		const store = new BinaryStore();
		const items = await itemsFor(store, row, good);
		const all = {
			prompt: fromItem,
			...parameters,
			...row.parameters,
			options: oneAtATime(row.parameters.options),
		};
		await expectRefused(
			runNode(node, { credentials: credentials(), parameters: all, items, binaryStore: store }),
			row,
		);
	});
}

describe('Generate', () => {
	const node = new NanoBananaGenerate();
	const pro = model('gemini-3-pro-image');
	const unsupported =
		/^Nothing was sent to Google\. Change the setting to one the message lists, or pick another model\.$/;
	const resize = /^Nothing was sent to Google\. Change /;

	const cases: Case[] = [
		{
			kind: 'an empty prompt',
			items: 3,
			parameters: {},
			json: { prompt: '' },
			message: 'The prompt is empty (item 2)',
			cure: /^Write a prompt, or check that the expression returns text for this item\.$/,
		},
		{
			kind: 'a prompt of only spaces and line breaks',
			items: 1,
			parameters: {},
			json: { prompt: ' \n\t ' },
			message: 'The prompt is empty (item 0)',
			cure: /^Write a prompt/,
		},
		{
			kind: 'an aspect ratio the model does not make',
			items: 3,
			parameters: { model: pro, aspectRatio: ifBad('4:1', 'auto') },
			message:
				'Nano Banana Pro (gemini-3-pro-image) does not support aspect ratio "4:1". Supported: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9. (item 2)',
			cure: unsupported,
		},
		{
			kind: 'an aspect ratio no model makes',
			items: 1,
			parameters: { aspectRatio: '7:5' },
			message:
				'Nano Banana 2.1 (gemini-nano-banana-2.1) does not support aspect ratio "7:5". Supported: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9, 1:4, 4:1, 1:8, 8:1. (item 0)',
			cure: unsupported,
		},
		{
			kind: 'an image size the model does not make',
			items: 2,
			parameters: { model: pro, imageSize: ifBad('512', '1K') },
			message:
				'Nano Banana Pro (gemini-3-pro-image) does not support image size "512". Supported: 1K, 2K, 4K. (item 1)',
			cure: unsupported,
		},
		{
			kind: 'an image size no model makes (8k, read as 8K)',
			items: 1,
			parameters: { imageSize: '8k' },
			message:
				'Nano Banana 2.1 (gemini-nano-banana-2.1) does not support image size "8K". Supported: 1K, 2K, 4K. (item 0)',
			cure: unsupported,
		},
		{
			kind: 'a thinking level on a model that always thinks',
			items: 3,
			parameters: { model: pro, options: ifBad({ thinkingLevel: 'high' }, {}) },
			message:
				'Nano Banana Pro (gemini-3-pro-image) does not support thinking level "high". Supported: Model Default (it always thinks). (item 2)',
			cure: unsupported,
		},
		{
			kind: 'a thinking level on a model that does not think',
			items: 1,
			parameters: { model: model('gemini-2.5-flash-image'), options: { thinkingLevel: 'minimal' } },
			message:
				'Nano Banana (gemini-2.5-flash-image) does not support thinking level "minimal". Supported: Model Default (it does not think). (item 0)',
			cure: unsupported,
		},
		{
			kind: 'Google Search on a model without it',
			items: 2,
			parameters: {
				model: model('gemini-3.1-flash-lite-image'),
				options: ifBad({ googleSearch: true }, {}),
			},
			message:
				'Nano Banana 2 Lite (gemini-3.1-flash-lite-image) does not support Google Search grounding "on". Supported: off. (item 1)',
			cure: unsupported,
		},
		{
			kind: 'no model',
			items: 3,
			parameters: { model: ifBad(model('  '), model('gemini-3.1-flash-image')) },
			message: 'No model is selected. Pick one from the list or type a model ID. (item 2)',
			cure: unsupported,
		},
		{
			kind: 'a resize with only a width',
			items: 2,
			parameters: { options: ifBad({ resizeWidth: 800 }, {}) },
			message:
				'Set both Resize Width and Resize Height, or neither: a resize needs the whole target size (item 1)',
			cure: resize,
		},
		{
			kind: 'a resize with only a height',
			items: 1,
			parameters: { options: { resizeHeight: 600 } },
			message:
				'Set both Resize Width and Resize Height, or neither: a resize needs the whole target size (item 0)',
			cure: resize,
		},
	];

	itRefuses(node, cases, {
		good: (k) => ({ json: { n: k, prompt: `a lighthouse at dusk #${k}` }, files: {} }),
	});

	it('under Continue On Fail the item with an empty prompt comes out as it came in, with the error; the others get their images', async () => {
		const store = new BinaryStore();
		const logo = { logo: top };
		const items = [
			await store.binaryItem({ prompt: 'a calm sea' }, {}),
			await store.binaryItem({ campaign: 'spring', prompt: '   ' }, logo),
			await store.binaryItem({ prompt: 'a pine forest' }, {}),
		];
		const outputs = await runContinuing(node, store, items, { prompt: fromItem });
		const [first, bad, last] = outputs[0];
		expect(outputs[0]).toHaveLength(3);
		expectCameOut(bad, items, 1, {
			campaign: 'spring',
			prompt: '   ',
			error: {
				message: 'The prompt is empty (item 1)',
				description: 'Write a prompt, or check that the expression returns text for this item.',
			},
		});
		expect(store.get(bad.binary!.logo).equals(top.data)).toBe(true);
		expect([first.json.prompt, first.json.width, first.binary!.data.mimeType]).toEqual([
			'a calm sea',
			1024,
			'image/png',
		]);
		expect([last.json.prompt, last.json.width, last.binary!.data.mimeType]).toEqual([
			'a pine forest',
			1024,
			'image/png',
		]);
		expect(paidCalls()).toHaveLength(2);
	});
});

describe('Edit', () => {
	const node = new NanoBananaEdit();
	const continuing = { continueEdit: ifBad(true, false) };
	const session = (turns: unknown[]) => ({
		editSession: { version: 1, model: 'gemini-3.1-flash-image', steps: 1, turns },
	});
	const stepOne = [
		{
			role: 'user',
			parts: [
				{ text: 'Give him a hat' },
				{ image: { binaryProperty: 'editSource', mimeType: 'image/jpeg' } },
			],
		},
		{
			role: 'model',
			parts: [
				{ image: { binaryProperty: 'step1', mimeType: 'image/png' }, thoughtSignature: 'c2ln' },
			],
		},
	];
	const keepConversation =
		/^"Continue Previous Edit" needs the item as a previous Nano Banana Edit node output it/;
	const otherProperties =
		/^The item has these binary properties: data\. Set the binary property to one of them\.$/;

	const cases: Case[] = [
		{
			kind: 'an empty instruction',
			items: 3,
			parameters: {},
			json: { prompt: '  ' },
			message: 'The instruction is empty (item 2)',
			cure: /^Write what to change, or check that the expression returns text for this item\.$/,
		},
		{
			kind: 'a step with no instruction',
			items: 2,
			parameters: {
				mode: 'steps',
				steps: ifBad(
					{ values: [{ instruction: 'Brighten it' }, { instruction: ' ' }] },
					{ values: [{ instruction: 'Brighten it' }] },
				),
			},
			message: 'Step 2 has no instruction (item 1)',
			cure: /^Write what to change/,
		},
		{
			kind: 'step by step with every step removed',
			items: 1,
			parameters: { mode: 'steps', steps: {} },
			message: 'Step by Step has no steps (item 0)',
			cure: /^Add a step and write what to change in it\.$/,
		},
		{
			kind: 'an input binary property the item does not have',
			items: 3,
			parameters: { binaryPropertyName: ifBad('photo', 'data') },
			message: 'Binary property "photo": no such binary data on the item (item 2)',
			cure: otherProperties,
		},
		{
			kind: 'an item with no binary data at all',
			items: 2,
			parameters: {},
			files: {},
			message: 'Binary property "data": no such binary data on the item (item 1)',
			cure: /^The item carries no binary data\. Make sure the previous node outputs a file/,
		},
		...unreadableFiles,
		{
			kind: 'a decompression bomb: a tiny PNG claiming 100000×100000 pixels',
			items: 2,
			parameters: {},
			files: { data: bomb },
			message:
				'Binary property "data": The image is 100000×100000 (10000 MP), more than the 100 MP allowed (bomb.png) (item 1)',
			cure: /^Downscale the image first, or raise the input pixel limit if you trust its source\.$/,
		},
		{
			kind: 'an SVG drawing',
			items: 1,
			parameters: {},
			files: { data: svg },
			message: 'Binary property "data": SVG images are not accepted (logo.svg) (item 0)',
			cure: /^Export the drawing as PNG/,
		},
		{
			kind: 'a mask with no white area',
			items: 3,
			parameters: { options: ifBad({ maskBinaryProperty: 'mask' }, {}) },
			files: { data: man, mask: blackMask },
			message: 'Binary property "mask": the mask has no white area, so nothing may change (item 2)',
			cure: /^Paint the region to edit white and the rest black\.$/,
		},
		{
			kind: 'a mask property the item does not have',
			items: 2,
			parameters: { options: ifBad({ maskBinaryProperty: 'mask' }, {}) },
			message: 'Binary property "mask": no such binary data on the item (item 1)',
			cure: otherProperties,
		},
		{
			kind: 'an image size the model does not make',
			items: 2,
			parameters: { model: model('gemini-3.1-flash-lite-image'), imageSize: ifBad('2K', '1K') },
			message:
				'Nano Banana 2 Lite (gemini-3.1-flash-lite-image) does not support image size "2K". Supported: 1K. (item 1)',
			cure: /^Nothing was sent to Google\./,
		},
		{
			kind: 'continuing an edit with no editSession',
			items: 3,
			parameters: continuing,
			message: 'Cannot continue the previous edit: the item has no "editSession" field (item 2)',
			cure: keepConversation,
		},
		{
			kind: 'continuing an editSession of another version',
			items: 2,
			parameters: continuing,
			json: { editSession: { ...session(stepOne).editSession, version: 2 } },
			message:
				'Cannot continue the previous edit: "editSession" is not a conversation this node understands (version 2) (item 1)',
			cure: keepConversation,
		},
		{
			kind: 'continuing when a node in between dropped a step image',
			items: 3,
			parameters: continuing,
			json: session(stepOne),
			files: { editSource: man },
			message:
				'Cannot continue the previous edit: the binary property "step1" it refers to is missing (item 2)',
			cure: keepConversation,
		},
		{
			kind: 'continuing without the editSource binary',
			items: 1,
			parameters: continuing,
			json: session([]),
			files: { data: man },
			message: 'Cannot continue the previous edit: the "editSource" binary is missing (item 0)',
			cure: keepConversation,
		},
	];

	itRefuses(node, cases, {
		good: (k) => ({ json: { n: k, prompt: `Give him a hat #${k}` }, files: { data: man } }),
	});

	it('under Continue On Fail the item holding a text file comes out as it came in, with the error; the others are edited', async () => {
		const store = new BinaryStore();
		const items = [
			await store.binaryItem({ prompt: 'Give him a hat' }, { data: man }),
			await store.binaryItem({ order: 17, prompt: 'Give him a scarf' }, { data: notes }),
			await store.binaryItem({ prompt: 'Give him glasses' }, { data: man }),
		];
		const outputs = await runContinuing(node, store, items, { prompt: fromItem });
		const [first, bad, last] = outputs[0];
		expect(outputs[0]).toHaveLength(3);
		expectCameOut(bad, items, 1, {
			order: 17,
			prompt: 'Give him a scarf',
			error: {
				message: 'Binary property "data": The file is not an image (notes.txt) (item 1)',
				description: 'Pass a PNG, JPEG, WebP, HEIC or HEIF image in this binary property.',
			},
		});
		expect(store.get(bad.binary!.data).toString()).toBe('Remember to buy bananas.\n');
		for (const edited of [first, last]) {
			expect(edited.json).toMatchObject({
				width: 1376,
				height: 768,
				input: { originalWidth: 1408 },
			});
			expect(Object.keys(edited.binary!)).toEqual(['data', 'editSource', 'step1']);
		}
		expect(paidCalls()).toHaveLength(2);
	});
});

describe('Fuse', () => {
	const node = new NanoBananaFuse();
	const productAndRoom = { product: top, room };
	const fewerImages =
		/^No image was left out\. Send fewer images, or split the job into several requests\./;
	const people = Object.fromEntries(['ann', 'bob', 'cy', 'dee', 'eve'].map((name) => [name, man]));

	const cases: Case[] = [
		{
			kind: 'only one image',
			items: 2,
			parameters: { binaryPropertyNames: ifBad('product', 'product, room') },
			message: 'Only 1 image, but a fusion needs at least two (item 1)',
			cure: /^Name a second binary property \(e\.g\. product, room\) or gather more items\. To change a single image, use Nano Banana Edit\.$/,
		},
		{
			kind: 'more images than the model takes',
			items: 3,
			parameters: { imageProperties: 'all' },
			files: Object.fromEntries(Array.from({ length: 15 }, (_, n) => [`image${n}`, room])),
			message:
				'15 images, but Nano Banana 2.1 (gemini-nano-banana-2.1) takes at most 14 per request (item 2)',
			cure: fewerImages,
		},
		{
			kind: 'more images than the Max Images option',
			items: 2,
			parameters: { options: ifBad({ maxImages: 1 }, {}) },
			message: '2 images, more than the 1 allowed by the Max Images option (item 1)',
			cure: / Or raise Max Images\.$/,
		},
		{
			kind: 'more characters than the model keeps consistent',
			items: 1,
			parameters: {
				imageProperties: 'all',
				imageLabels: {
					values: Object.keys(people).map((name) => ({
						binaryProperty: name,
						label: name,
						imageType: 'character',
					})),
				},
			},
			files: people,
			message:
				'5 character images, but Nano Banana 2.1 (gemini-nano-banana-2.1) keeps at most 4 characters consistent (item 0)',
			cure: fewerImages,
		},
		{
			kind: 'a label for an image that is not sent',
			items: 3,
			parameters: {
				imageLabels: ifBad({ values: [{ binaryProperty: 'prodcut', label: 'the product' }] }, {}),
			},
			message:
				'A label is set for binary property "prodcut", which is not among the images sent (product, room) (item 2)',
			cure: /^Correct the binary property name of the label, or remove the label\.$/,
		},
		{
			kind: 'two labels for one image',
			items: 2,
			parameters: {
				imageLabels: ifBad(
					{
						values: [
							{ binaryProperty: 'room', label: 'the room' },
							{ binaryProperty: 'room', label: 'the scene' },
						],
					},
					{},
				),
			},
			message: 'Binary property "room" has two labels (item 1)',
			cure: /^Keep one label per image\.$/,
		},
		{
			kind: 'an image type that is neither character nor object',
			items: 3,
			parameters: {
				imageLabels: ifBad(
					{ values: [{ binaryProperty: 'product', label: 'the top', imageType: 'garment' }] },
					{},
				),
			},
			message: 'Image type "garment" is not one of: character, object (item 2)',
			cure: /^Leave the image type unset, or make the expression return "character" or "object"\.$/,
		},
		{
			kind: 'no binary property named',
			items: 2,
			parameters: { binaryPropertyNames: ifBad(' , ', 'product, room') },
			message: 'No input binary property is named (item 1)',
			cure: /^Name the binary properties holding the images, separated by commas, e\.g\. product, room\.$/,
		},
		{
			kind: 'an empty prompt',
			items: 3,
			parameters: {},
			json: { prompt: '' },
			message: 'The prompt is empty (item 2)',
			cure: /^Say what to make of the images, or check that the expression returns text for this item\.$/,
		},
		{
			kind: 'an aspect ratio that follows an image that is not there',
			items: 2,
			parameters: { aspectRatio: 'sameAsImage', sameAsImage: ifBad(3, 1) },
			message: 'The aspect ratio is to follow image 3, but there are 2 images (item 1)',
			cure: /^Pick an image number from 1 to 2\.$/,
		},
		{
			kind: 'a BMP, which cannot be read here',
			items: 3,
			parameters: {},
			files: { product: top, room: bmp() },
			message: 'Binary property "room": BMP images cannot be read here (room.bmp) (item 2)',
			cure: /^Convert the image to PNG or JPEG first\.$/,
		},
	];

	itRefuses(node, cases, {
		good: (k) => ({
			json: { n: k, prompt: `Put the product into the room #${k}` },
			files: productAndRoom,
		}),
		parameters: { binaryPropertyNames: 'product, room' },
	});

	const gathered: Case[] = [
		{
			kind: 'an item without the binary',
			items: 3,
			parameters: {},
			files: {},
			message: 'Binary property "data": no such binary data on the item (item 2)',
			cure: /^The item carries no binary data\. Make sure the previous node outputs a file/,
		},
		{
			kind: 'a single item',
			items: 1,
			parameters: {},
			message: 'Only 1 image, but a fusion needs at least two (item 0)',
			cure: /^Name a second binary property/,
		},
	];

	it.each(gathered)(
		'gathering all items into one request, refuses $kind and sends nothing',
		async (row) => {
			const store = new BinaryStore();
			const items = await itemsFor(store, row, (k) => ({
				json: { n: k },
				files: { data: [top, room][k % 2] },
			}));
			const parameters = {
				source: 'allItems',
				prompt: 'Put the product into the room',
				...row.parameters,
			};
			await expectRefused(
				runNode(node, { credentials: credentials(), parameters, items, binaryStore: store }),
				row,
				0,
			);
		},
	);

	it('under Continue On Fail the item missing an image comes out as it came in, with the error; the others are fused', async () => {
		const store = new BinaryStore();
		const items = [
			await store.binaryItem({ n: 0 }, productAndRoom),
			await store.binaryItem({ n: 1, sku: 'TOP-9' }, { product: top }),
			await store.binaryItem({ n: 2 }, productAndRoom),
		];
		const parameters = {
			prompt: 'Put the product into the room',
			binaryPropertyNames: 'product, room',
		};
		const outputs = await runContinuing(node, store, items, parameters);
		const [first, bad, last] = outputs[0];
		expect(outputs[0]).toHaveLength(3);
		expectCameOut(bad, items, 1, {
			n: 1,
			sku: 'TOP-9',
			error: {
				message: 'Binary property "room": no such binary data on the item (item 1)',
				description:
					'The item has these binary properties: product. Set the binary property to one of them.',
			},
		});
		for (const fused of [first, last]) {
			expect(fused.json).toMatchObject({
				source: 'eachItem',
				inputs: [{ binaryProperty: 'product' }, { binaryProperty: 'room' }],
			});
			expect(fused.binary!.data.mimeType).toBe('image/png');
		}
		expect(paidCalls()).toHaveLength(2);
	});
});

describe('Verify, where the AI judge would have been asked', () => {
	const node = new NanoBananaVerify();
	const otherProperties =
		/^The item has these binary properties: data\. Set the binary property to one of them\.$/;
	const score = /^Set a score from 0 \(not met\) to 1 \(fully met\); for 70 % write 0\.7\.$/;

	const cases: Case[] = [
		{
			kind: 'the AI judge with nothing to judge',
			items: 3,
			parameters: { promptAdherence: ifBad(false, true) },
			message: 'The AI judge is on but has nothing to judge (item 2)',
			cure: /^Switch on Check Prompt Adherence or Check Same Subject, add expected text or a custom rule, or switch the AI judge off\.$/,
		},
		{
			kind: 'an empty prompt to check adherence to',
			items: 2,
			parameters: {},
			json: { prompt: '' },
			message: 'Prompt adherence needs a prompt, and the prompt is empty (item 1)',
			cure: /Type the prompt, or switch Check Prompt Adherence off\.$/,
		},
		{
			kind: 'a threshold given in percent',
			items: 3,
			parameters: { promptAdherenceThreshold: ifBad(70, 0.7) },
			message: 'The threshold for prompt adherence must be between 0 and 1, not 70 (item 2)',
			cure: score,
		},
		{
			kind: 'an expected-text threshold that is not a number',
			items: 1,
			parameters: { expectedText: { values: [{ text: 'SUMMER SALE', threshold: 'high' }] } },
			message: 'The threshold for expected text 1 must be between 0 and 1, not high (item 0)',
			cure: score,
		},
		{
			kind: 'same subject with no reference property named',
			items: 2,
			parameters: { sameSubject: ifBad(true, false), referenceBinaryProperties: ' , ' },
			message: 'Same subject needs at least one reference binary property (item 1)',
			cure: /^Name the binary properties that hold the reference images, separated by commas\.$/,
		},
		{
			kind: 'a reference image the item does not have',
			items: 3,
			parameters: { sameSubject: ifBad(true, false) },
			message: 'Binary property "reference": no such binary data on the item (item 2)',
			cure: otherProperties,
		},
		{
			kind: 'no judge model',
			items: 1,
			parameters: { judgeModel: model('') },
			message: 'No judge model is selected (item 0)',
			cure: /^Pick a model from the list or type a model ID, e\.g\. gemini-3\.8-flash\.$/,
		},
		{
			kind: 'an image model as the judge',
			items: 2,
			parameters: {
				judgeModel: ifBad(model('gemini-nano-banana-2.1'), model('gemini-3.8-flash')),
			},
			message: '"gemini-nano-banana-2.1" is not a text model, so it cannot judge (item 1)',
			cure: /^The AI judge needs a Gemini text model that reads images\. Pick one from the list, e\.g\. gemini-3\.8-flash\.$/,
		},
		{
			kind: 'an aspect ratio check that is not a ratio',
			items: 3,
			parameters: { technicalChecks: ifBad({ aspectRatio: 'wide' }, {}) },
			message: '"wide" is not an aspect ratio; use a form such as 16:9 or 1.78 (item 2)',
			cure: /^Write the aspect ratio as width:height, e\.g\. 16:9, or as a number such as 1\.78\.$/,
		},
		{
			kind: 'a similarity reference the item does not have',
			items: 2,
			parameters: { similarity: ifBad({ check: { referenceBinaryProperty: 'before' } }, {}) },
			message: 'Binary property "before": no such binary data on the item (item 1)',
			cure: otherProperties,
		},
		...unreadableFiles,
	];

	itRefuses(node, cases, {
		good: (k) => ({
			json: { n: k, prompt: `an empty room with a window #${k}` },
			files: { data: room },
		}),
	});

	it('under Continue On Fail the item with a bad threshold goes to Fail as it came in, with the error; the others are judged', async () => {
		const store = new BinaryStore();
		const items = [
			await store.binaryItem({ prompt: 'an empty room with a window' }, { data: room }),
			await store.binaryItem(
				{ prompt: 'an empty room with a window', threshold: 70 },
				{ data: room },
			),
			await store.binaryItem({ prompt: 'an empty room with a window' }, { data: room }),
		];
		const threshold = (_i: number, item: INodeExecutionData) => item.json.threshold ?? 0.7;
		const parameters = { prompt: fromItem, promptAdherenceThreshold: threshold };
		const outputs = await runContinuing(node, store, items, parameters);
		const [pass, fail] = outputs;
		const byItem = [...pass, ...fail].sort(
			(a, b) => (a.pairedItem as { item: number }).item - (b.pairedItem as { item: number }).item,
		);
		expect(byItem).toHaveLength(3);
		const bad = byItem[1];
		const message = 'The threshold for prompt adherence must be between 0 and 1, not 70 (item 1)';
		expect(fail).toContain(bad);
		expectCameOut(bad, items, 1, {
			prompt: 'an empty room with a window',
			threshold: 70,
			verification: expect.objectContaining({ passed: false, checks: [], error: message }),
			error: {
				message,
				description: 'Set a score from 0 (not met) to 1 (fully met); for 70 % write 0.7.',
			},
		});
		for (const judged of [byItem[0], byItem[2]]) {
			expect(judged.json.verification).toMatchObject({
				judgeModel: 'gemini-3.8-flash',
				checks: [{ name: 'promptAdherence', score: expect.any(Number) }],
			});
		}
		expect(paidCalls()).toHaveLength(2);
	});
});
