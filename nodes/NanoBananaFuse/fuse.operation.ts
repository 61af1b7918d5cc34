/**
 * Fuse: several images, one request. The user turn is the prompt, then for each image a text
 * part naming it ("Image 2 (the product, object):") right before the image, so the prompt can
 * refer to images by number or label. Images come from each item's binary properties (one
 * request per item) or are gathered from all items (one request, paired with every item; the
 * other parameters are read from the first item, labels and types from each image's own item).
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { MODELS, modelsWith } from '../shared/catalogue';
import type { ModelInfo } from '../shared/catalogue';
import { ALL_ITEMS, EACH_ITEM, SAME_AS_IMAGE } from './fuse.description';
import { forItem, forItems, itemError } from '../shared/pipeline/errors';
import { fannedOut, runImageNode } from '../shared/skeleton/imageNode';
import type { FannedRequest, ImageTask } from '../shared/skeleton/imageNode';
import {
	fitImages,
	inputReport,
	readInputImage,
	readInputSettings,
} from '../shared/pipeline/input';
import type { InputImage } from '../shared/pipeline/input';
import { defaultFileBase } from '../shared/pipeline/output';
import { imageNodeSetup } from '../shared/skeleton/setup';
import type { ItemContext } from '../shared/pipeline/runner';
import {
	closestAspectRatio,
	readImageSettings,
	readNumberOfImages,
	readRequestSettings,
} from '../shared/pipeline/settings';
import type { GeminiClient, WirePart } from '../shared/transport';

type ImageType = 'character' | 'object';

/** One image to send: where it is, and what the model is told about it. */
interface ImageSource {
	itemIndex: number;
	property: string;
	label: string;
	type?: ImageType;
}

/** Where a fusion's items are, for messages: one item, or the gathered ones. */
interface Fusion {
	/** The item whose parameters are read, and whose index errors carry. */
	settingsItem: number;
	/** The items the images come from; more than one only when gathering. */
	sources: number[];
	gathered: boolean;
}

function fusionFail(
	ctx: IExecuteFunctions,
	fusion: Fusion,
	message: string,
	description: string,
): NodeOperationError {
	const text = fusion.gathered
		? forItems(message, fusion.sources)
		: forItem(message, fusion.settingsItem);
	return new NodeOperationError(ctx.getNode(), text, {
		itemIndex: fusion.settingsItem,
		description,
	});
}

function readImageType(
	ctx: IExecuteFunctions,
	itemIndex: number,
	value: unknown,
): ImageType | undefined {
	const type = String(value ?? 'unset')
		.trim()
		.toLowerCase();
	if (type === 'character' || type === 'object') return type;
	if (type === 'unset' || type === '') return undefined;
	throw itemError(
		ctx,
		itemIndex,
		`Image type "${String(value)}" is not one of: character, object`,
		'Leave the image type unset, or make the expression return "character" or "object".',
	);
}

/** The item's image properties in sending order: the names given, or every binary property. */
function imageProperties(ctx: IExecuteFunctions, itemIndex: number): string[] {
	if (ctx.getNodeParameter('imageProperties', itemIndex, 'named') === 'all') {
		const names = Object.keys(ctx.getInputData()[itemIndex]?.binary ?? {});
		if (!names.length) {
			throw itemError(
				ctx,
				itemIndex,
				'The item carries no binary data, so it has no image to fuse',
				'Make sure the previous node outputs a file (e.g. an HTTP Request with a file response, a Form upload or Read File).',
			);
		}
		return names;
	}
	const names = String(ctx.getNodeParameter('binaryPropertyNames', itemIndex, 'data'))
		.split(',')
		.map((name) => name.trim())
		.filter(Boolean);
	if (!names.length)
		throw itemError(
			ctx,
			itemIndex,
			'No input binary property is named',
			'Name the binary properties holding the images, separated by commas, e.g. product, room.',
		);
	return names;
}

function eachItemSources(ctx: IExecuteFunctions, itemIndex: number): ImageSource[] {
	const properties = imageProperties(ctx, itemIndex);
	const labels =
		(ctx.getNodeParameter('imageLabels.values', itemIndex, []) as Array<{
			binaryProperty?: string;
			label?: string;
			imageType?: string;
		}>) ?? [];
	const byProperty = new Map<string, { label: string; type?: ImageType }>();
	for (const entry of labels) {
		const property = String(entry.binaryProperty ?? '').trim();
		// A label that matches no image would be dropped without a word; say so instead.
		if (!properties.includes(property)) {
			throw itemError(
				ctx,
				itemIndex,
				`A label is set for binary property "${property}", which is not among the images sent (${properties.join(', ')})`,
				'Correct the binary property name of the label, or remove the label.',
			);
		}
		if (byProperty.has(property))
			throw itemError(
				ctx,
				itemIndex,
				`Binary property "${property}" has two labels`,
				'Keep one label per image.',
			);
		byProperty.set(property, {
			label: String(entry.label ?? '').trim(),
			type: readImageType(ctx, itemIndex, entry.imageType),
		});
	}
	return properties.map((property) => ({
		itemIndex,
		property,
		label: '',
		...byProperty.get(property),
	}));
}

function gatheredSources(ctx: IExecuteFunctions, itemCount: number): ImageSource[] {
	const sources: ImageSource[] = [];
	for (let k = 0; k < itemCount; k++) {
		const label = String(ctx.getNodeParameter('label', k, '') ?? '').trim();
		const type = readImageType(ctx, k, ctx.getNodeParameter('imageType', k, 'unset'));
		for (const property of imageProperties(ctx, k))
			sources.push({ itemIndex: k, property, label, type });
	}
	return sources;
}

/** The model's limits and the node's own, checked before any image is read or paid for. */
/** Which models take the most images in one request, from the catalogue. */
function mostImages(): string {
	const most = Math.max(...MODELS.map((m) => m.maxReferenceImages));
	return `${modelsWith((m) => m.maxReferenceImages === most)} take up to ${most}.`;
}

function checkLimits(
	ctx: IExecuteFunctions,
	fusion: Fusion,
	sources: ImageSource[],
	model: ModelInfo | undefined,
	maxImages: number,
) {
	const count = sources.length;
	if (count < 2) {
		throw fusionFail(
			ctx,
			fusion,
			`Only ${count} image, but a fusion needs at least two`,
			'Name a second binary property (e.g. product, room) or gather more items. To change a single image, use Nano Banana Edit.',
		);
	}
	const advice =
		'No image was left out. Send fewer images, or split the job into several requests.';
	if (maxImages > 0 && count > maxImages) {
		throw fusionFail(
			ctx,
			fusion,
			`${count} images, more than the ${maxImages} allowed by the Max Images option`,
			`${advice} Or raise Max Images.`,
		);
	}
	if (!model) return;
	const name = `${model.name} (${model.id})`;
	if (count > model.maxReferenceImages) {
		throw fusionFail(
			ctx,
			fusion,
			`${count} images, but ${name} takes at most ${model.maxReferenceImages} per request`,
			`${advice} ${mostImages()}`,
		);
	}
	const characters = sources.filter((s) => s.type === 'character').length;
	if (model.maxCharacterImages !== undefined && characters > model.maxCharacterImages) {
		throw fusionFail(
			ctx,
			fusion,
			`${characters} character images, but ${name} keeps at most ${model.maxCharacterImages} characters consistent`,
			advice,
		);
	}
	const objects = sources.filter((s) => s.type === 'object').length;
	if (model.maxObjectImages !== undefined && objects > model.maxObjectImages) {
		throw fusionFail(
			ctx,
			fusion,
			`${objects} object images, but ${name} keeps at most ${model.maxObjectImages} objects at high fidelity`,
			advice,
		);
	}
}

/** `Image 2 (the product, object):`, sent as a text part right before image 2. */
function labelText(position: number, source: ImageSource): string {
	const about = [source.label, source.type].filter(Boolean).join(', ');
	return about ? `Image ${position} (${about}):` : `Image ${position}:`;
}

/** Same as Image: which image's shape the output follows (1-based), checked against the count. */
function readShapeFrom(
	ctx: IExecuteFunctions,
	i: number,
	aspectRatio: string,
	imageCount: number,
): number | undefined {
	if (aspectRatio !== SAME_AS_IMAGE) return undefined;
	const shapeFrom = Number(ctx.getNodeParameter('sameAsImage', i, 1));
	if (Number.isInteger(shapeFrom) && shapeFrom >= 1 && shapeFrom <= imageCount) return shapeFrom;
	throw itemError(
		ctx,
		i,
		`The aspect ratio is to follow image ${shapeFrom}, but there are ${imageCount} images`,
		`Pick an image number from 1 to ${imageCount}.`,
	);
}

/** A fusion's parameters, read from its settings item and checked before any image is read. */
function readFusion(ctx: IExecuteFunctions, fusion: Fusion, sources: ImageSource[]) {
	const i = fusion.settingsItem;
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	// Unlike Generate and Edit (item 0's), Fuse has always read Max Attempts, Max Retry Wait and
	// Timeout from each fusion's own item, in Realtime; an expression may set them per item, so it
	// keeps doing so. (Batch mode submits and polls with item 0's, as every node does.)
	const { call } = readRequestSettings(options);
	const prompt = String(ctx.getNodeParameter('prompt', i, '')).trim();
	if (!prompt)
		throw itemError(
			ctx,
			i,
			'The prompt is empty',
			'Say what to make of the images, or check that the expression returns text for this item.',
		);
	const aspectRatio = ctx.getNodeParameter('aspectRatio', i, 'auto') as string;
	const count = readNumberOfImages(ctx, i);
	const settingsFor = (ratio: string) =>
		readImageSettings(ctx, i, {
			modelId: ctx.getNodeParameter('model', i, '', { extractValue: true }) as string,
			aspectRatio: ratio,
			imageSize: ctx.getNodeParameter('imageSize', i, '1K') as string,
			options,
		});
	const { request, output } = settingsFor(aspectRatio === SAME_AS_IMAGE ? 'auto' : aspectRatio);
	checkLimits(ctx, fusion, sources, request.modelInfo, Number(options.maxImages ?? 0));
	const shapeFrom = readShapeFrom(ctx, i, aspectRatio, sources.length);
	return { options, call, prompt, count, settingsFor, request, output, shapeFrom };
}

/** What the output says of each image sent. */
function inputsReport(
	fusion: Fusion,
	sources: ImageSource[],
	sent: Array<InputImage & { via?: string }>,
) {
	return sent.map((image, n) => ({
		image: n + 1,
		...(sources[n].label ? { label: sources[n].label } : {}),
		...(sources[n].type ? { type: sources[n].type } : {}),
		...(fusion.gathered ? { sourceItem: sources[n].itemIndex } : {}),
		...inputReport(image),
	}));
}

/**
 * A fusion's request, read, checked and fitted before anything is generated: the same for Realtime
 * and Batch.
 */
async function prepareFusion(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	fusion: Fusion,
	sources: ImageSource[],
	context: ItemContext,
): Promise<FannedRequest> {
	const i = fusion.settingsItem;
	const { options, call, prompt, settingsFor, output, shapeFrom, ...read } = readFusion(
		ctx,
		fusion,
		sources,
	);
	let { request } = read;
	// Every image is read and checked before anything is sent; one bad image fails the fusion.
	const inputSettings = readInputSettings(options, request.modelInfo);
	const images: InputImage[] = [];
	for (const source of sources)
		images.push(await readInputImage(ctx, source.itemIndex, source.property, inputSettings));
	if (shapeFrom !== undefined) {
		const { originalWidth, originalHeight } = images[shapeFrom - 1].prepared;
		const ratio = closestAspectRatio(originalWidth, originalHeight, request.modelInfo);
		request = settingsFor(ratio).request;
	}

	const labels = sources.map((source, n) => labelText(n + 1, source));
	const textBytes = Buffer.byteLength(
		[prompt, ...labels, request.systemInstruction ?? ''].join(''),
	);
	const { signal, gate } = context;
	const fitted = await fitImages(
		ctx,
		i,
		images,
		inputSettings,
		client,
		{ ...call, signal, gate },
		textBytes,
	);
	const parts: WirePart[] = [
		{ text: prompt },
		...fitted.parts.flatMap((part, n) => [{ text: labels[n] }, part]),
	];
	return {
		request: { ...request, contents: [{ role: 'user', parts }] },
		count: read.count,
		asked: {
			source: fusion.gathered ? ALL_ITEMS : EACH_ITEM,
			prompt,
			aspectRatio: request.aspectRatio ?? 'auto',
			...(shapeFrom !== undefined ? { aspectRatioFromImage: shapeFrom } : {}),
			inputs: inputsReport(fusion, sources, fitted.images),
		},
		output,
		options,
		fileBase: output.fileName || defaultFileBase(request.model, i),
		call,
		pairedItem: fusion.gathered ? fusion.sources.map((item) => ({ item })) : { item: i },
	};
}

/** What every fusion shares, read before the item loop: a failure here is every item's. */
async function setup(ctx: IExecuteFunctions) {
	const gathered = ctx.getNodeParameter('source', 0, EACH_ITEM) === ALL_ITEMS;
	return { ...(await imageNodeSetup(ctx)), gathered };
}
type Setup = Awaited<ReturnType<typeof setup>>;

/** One fusion per item, or (gathered) one of every item, paired with all of them. */
function fusionOf(ctx: IExecuteFunctions, gathered: boolean, i: number): Fusion {
	return gathered
		? { settingsItem: 0, sources: ctx.getInputData().map((_, k) => k), gathered: true }
		: { settingsItem: i, sources: [i], gathered: false };
}

/** A task's fusion, its images named and checked, its request fitted. */
async function prepare({ ctx, ready, task, context }: ImageTask<Setup>): Promise<FannedRequest> {
	const fusion = fusionOf(ctx, ready.gathered, task);
	const sources = fusion.gathered
		? gatheredSources(ctx, fusion.sources.length)
		: eachItemSources(ctx, fusion.settingsItem);
	return await prepareFusion(ctx, ready.client, fusion, sources, context);
}

const runFuse = runImageNode({
	node: 'Fuse',
	setup,
	plan: (ctx, { gathered }) =>
		gathered ? { tasks: 1, sourcesOf: () => fusionOf(ctx, true, 0).sources } : {},
	...fannedOut(prepare),
});

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	if (!this.getInputData().length) return [[]];
	return await runFuse.call(this);
}
