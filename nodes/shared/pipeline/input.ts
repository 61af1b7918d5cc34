/**
 * The input path shared by Edit, Fuse and Verify: read a binary through n8n's helpers (any
 * binary-data mode), prepare it with sharp (orientation, privacy, format, size, bomb guard), and
 * fit the request under the inline limit, by re-encoding first and the Files API after that.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { ModelInfo } from '../catalogue';
import { fetchImageUrl, imageSourceOf, readImageRef, sourceLabel } from './imageSource';
import { OPTION_DEFAULTS } from '../constants';
import { forItem, itemError } from './errors';
import { ImageInputError, base64Length, planRequestBudget, prepareInputImage } from '../image';
import type { PreparedImage } from '../image';
import { VERTEX_MAX_INLINE_IMAGE_BYTES } from '../transport';
import type { CallSettings, GeminiClient, WirePart } from '../transport';

/**
 * Re-encoding may shrink an image to this long side at the least; below it the Files API is kinder.
 */
const MIN_REENCODED_LONG_SIDE = 1024;

export interface InputSettings {
	keepMetadata: boolean;
	maxLongSide?: number;
	limitInputPixels?: number;
	inlineLimitBytes: number;
}

export function readInputSettings(
	options: IDataObject,
	model: ModelInfo | undefined,
): InputSettings {
	const maxLongSide = Number(options.maxInputLongSide ?? 0) || model?.maxInputLongSide;
	return {
		keepMetadata: options.keepMetadata === true,
		maxLongSide,
		limitInputPixels:
			Number(options.maxInputMegapixels ?? OPTION_DEFAULTS.maxInputMegapixels) * 1e6,
		inlineLimitBytes: Number(options.inlineLimitMb ?? OPTION_DEFAULTS.inlineLimitMb) * 1024 * 1024,
	};
}

export interface InputImage {
	/** The item the image came from. */
	itemIndex: number;
	property: string;
	/** The bytes as stored in n8n, kept to re-encode from if the request must shrink. */
	source: Buffer;
	prepared: PreparedImage;
	fileName?: string;
	/** The stored image: the item's binary, or the one a reference or URL named. */
	binary: IBinaryData;
}

/** 'Binary property "data"', or 'Image "https://host/path"' for a reference or URL. */
function named(property: string): string {
	const kind = imageSourceOf(property).kind === 'property' ? 'Binary property' : 'Image';
	return `${kind} "${sourceLabel(property)}"`;
}

function inputError(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
	message: string,
	description: string,
) {
	return new NodeOperationError(
		ctx.getNode(),
		forItem(`${named(property)}: ${message}`, itemIndex),
		{ itemIndex, description },
	);
}

/**
 * The bytes of an input image with its metadata: a binary property as n8n stores it (any
 * binary-data mode), or, when the field holds one, an image reference or an http(s) URL. A
 * missing property is an error that lists the ones the item has.
 */
export async function readBinary(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
): Promise<{ data: Buffer; binary: IBinaryData }> {
	const source = imageSourceOf(property);
	if (source.kind === 'ref') return await readImageRef(ctx, itemIndex, source.ref);
	if (source.kind === 'url') return await fetchImageUrl(ctx, itemIndex, source.url);
	if (source.kind === 'invalid') {
		throw new NodeOperationError(
			ctx.getNode(),
			forItem(`"${source.text.slice(0, 80)}" is not a valid image reference`, itemIndex),
			{
				itemIndex,
				description:
					'Pass the "ref" exactly as a Nano Banana node or tool returned it (nbimg:<store>:<execution>:<id>).',
			},
		);
	}
	let binary: IBinaryData;
	try {
		binary = ctx.helpers.assertBinaryData(itemIndex, source.name);
	} catch {
		const available = Object.keys(ctx.getInputData()[itemIndex]?.binary ?? {});
		throw inputError(
			ctx,
			itemIndex,
			property,
			'no such binary data on the item',
			available.length
				? `The item has these binary properties: ${available.join(', ')}. Set the binary property to one of them.`
				: 'The item carries no binary data. Make sure the previous node outputs a file (e.g. a Form upload, Read File, HTTP Request with a file response, or Nano Banana Generate).',
		);
	}
	return { data: await ctx.helpers.getBinaryDataBuffer(itemIndex, source.name), binary };
}

/**
 * Reads and prepares one input image; a bad one is a NodeOperationError naming item and property.
 */
export async function readInputImage(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
	settings: InputSettings,
): Promise<InputImage> {
	return await prepareBinary(
		ctx,
		itemIndex,
		property,
		await readBinary(ctx, itemIndex, property),
		settings,
	);
}

/**
 * Prepares a binary already read with readBinary, so a node that also checks the bytes reads them
 * once.
 */
export async function prepareBinary(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
	{ data: source, binary }: { data: Buffer; binary: IBinaryData },
	settings: InputSettings,
): Promise<InputImage> {
	try {
		const prepared = await prepareInputImage(source, {
			keepMetadata: settings.keepMetadata,
			maxLongSide: settings.maxLongSide,
			limitInputPixels: settings.limitInputPixels,
		});
		return { itemIndex, property, source, prepared, fileName: binary.fileName, binary };
	} catch (error) {
		if (error instanceof ImageInputError) {
			const name = binary.fileName ? ` (${binary.fileName})` : '';
			throw inputError(ctx, itemIndex, property, `${error.message}${name}`, error.hint);
		}
		throw itemError(ctx, itemIndex, (error as Error).message);
	}
}

/** What the item's json says about an input image. */
export function inputReport(image: InputImage & { via?: string }): IDataObject {
	const p = image.prepared;
	return {
		binaryProperty: image.property,
		originalWidth: p.originalWidth,
		originalHeight: p.originalHeight,
		sentWidth: p.sentWidth,
		sentHeight: p.sentHeight,
		bytesSent: p.bytesSent,
		mimeTypeSent: p.mimeType,
		metadataStripped: p.metadataStripped,
		processing: p.steps,
		sentVia: image.via ?? 'inline',
	};
}

export interface FittedImages {
	parts: WirePart[];
	images: Array<InputImage & { via: 'inline' | 'files-api' }>;
}

const inline = (p: PreparedImage): WirePart => ({
	inlineData: { mimeType: p.mimeType, data: p.data.toString('base64') },
});

/**
 * Turns prepared images into request parts that fit under the inline limit: as they are if they
 * fit; else all re-encoded evenly (never below 1024 px long side); else the largest go through
 * the Files API until the rest fits. `otherBytes` is the rest of the request (text, history).
 */
export async function fitImages(
	ctx: IExecuteFunctions,
	itemIndex: number,
	images: InputImage[],
	settings: InputSettings,
	client: GeminiClient,
	call: CallSettings,
	otherBytes = 0,
): Promise<FittedImages> {
	if (!client.hasFilesApi)
		return await fitImagesInline(ctx, itemIndex, images, settings, otherBytes);
	const plan = planRequestBudget(
		images.map((i) => ({ bytes: i.prepared.data.length })),
		settings.inlineLimitBytes,
		otherBytes + 64 * 1024,
	);
	if (plan.fits)
		return {
			parts: images.map((i) => inline(i.prepared)),
			images: images.map((i) => ({ ...i, via: 'inline' })),
		};
	const evenly = await reencodeEvenly(images, settings, plan.targetBytes);
	if (evenly) return evenly;
	const uploads = { ctx, itemIndex, client, call, limit: settings.inlineLimitBytes, otherBytes };
	return await uploadLargest(images, uploads);
}

/** Every image re-encoded to its share of the budget, or undefined if one would get too small. */
async function reencodeEvenly(
	images: InputImage[],
	settings: InputSettings,
	targetBytes: number[],
): Promise<FittedImages | undefined> {
	const reencoded = await Promise.all(
		images.map((image, n) =>
			prepareInputImage(image.source, {
				keepMetadata: settings.keepMetadata,
				maxLongSide: settings.maxLongSide,
				limitInputPixels: settings.limitInputPixels,
				targetBytes: targetBytes[n],
			}).catch(() => undefined),
		),
	);
	const evenlyFits = reencoded.every(
		(p) =>
			p &&
			Math.max(p.sentWidth, p.sentHeight) >=
				Math.min(MIN_REENCODED_LONG_SIDE, Math.max(p.originalWidth, p.originalHeight)),
	);
	if (!evenlyFits) return undefined;
	const fitted = images.map((image, n) => ({
		...image,
		prepared: reencoded[n]!,
		via: 'inline' as const,
	}));
	return { parts: fitted.map((i) => inline(i.prepared)), images: fitted };
}

interface Uploads {
	ctx: IExecuteFunctions;
	itemIndex: number;
	client: GeminiClient;
	call: CallSettings;
	limit: number;
	otherBytes: number;
}

/** Uploads the largest images first through the Files API until what stays inline fits. */
async function uploadLargest(images: InputImage[], u: Uploads): Promise<FittedImages> {
	const order = images
		.map((_, n) => n)
		.sort((a, b) => images[b].prepared.data.length - images[a].prepared.data.length);
	let inlineBytes = images.reduce(
		(sum, i) => sum + base64Length(i.prepared.data.length),
		u.otherBytes + 64 * 1024,
	);
	const uploaded = new Map<number, WirePart>();
	for (const n of order) {
		if (inlineBytes <= u.limit) break;
		const { prepared, property } = images[n];
		const file = await u.client.uploadFile(
			prepared.data,
			prepared.mimeType,
			`n8n item ${images[n].itemIndex} ${sourceLabel(property)}`,
			u.call,
		);
		uploaded.set(n, { fileData: { mimeType: file.mimeType, fileUri: file.uri } });
		inlineBytes -= base64Length(prepared.data.length);
	}
	if (inlineBytes > u.limit) {
		throw new NodeOperationError(
			u.ctx.getNode(),
			forItem(
				'The request is too large even with every image uploaded through the Files API',
				u.itemIndex,
			),
			{
				itemIndex: u.itemIndex,
				description:
					'The text or conversation history alone is over the inline limit. Raise "Max Inline Request Size" or shorten the conversation.',
			},
		);
	}
	return {
		parts: images.map((i, n) => uploaded.get(n) ?? inline(i.prepared)),
		images: images.map((i, n) => ({
			...i,
			via: uploaded.has(n) ? ('files-api' as const) : ('inline' as const),
		})),
	};
}

const MB = 1024 * 1024;

/**
 * Vertex AI has no Files API and takes at most 7 MB per inline image: images over that (or over
 * the request limit) are re-encoded to fit; one that still does not fit is an error saying what to
 * do.
 */
async function fitImagesInline(
	ctx: IExecuteFunctions,
	itemIndex: number,
	images: InputImage[],
	settings: InputSettings,
	otherBytes: number,
): Promise<FittedImages> {
	const limit = settings.inlineLimitBytes;
	const plan = planRequestBudget(
		images.map((i) => ({ bytes: i.prepared.data.length })),
		limit,
		otherBytes + 64 * 1024,
	);
	const fitted = await Promise.all(
		images.map(async (image, n) => {
			const target = Math.min(
				plan.fits ? image.prepared.data.length : plan.targetBytes[n],
				VERTEX_MAX_INLINE_IMAGE_BYTES,
			);
			if (image.prepared.data.length <= target) return image;
			const options = {
				keepMetadata: settings.keepMetadata,
				maxLongSide: settings.maxLongSide,
				limitInputPixels: settings.limitInputPixels,
				targetBytes: target,
			};
			const prepared = await prepareInputImage(image.source, options).catch(() => undefined);
			return prepared ? { ...image, prepared } : image;
		}),
	);
	const tooLarge = fitted.find(
		(image) => image.prepared.data.length > VERTEX_MAX_INLINE_IMAGE_BYTES,
	);
	const requestBytes = fitted.reduce(
		(sum, i) => sum + base64Length(i.prepared.data.length),
		otherBytes + 64 * 1024,
	);
	if (tooLarge || requestBytes > limit) {
		const what = tooLarge
			? `${named(tooLarge.property)} is ${(tooLarge.prepared.data.length / MB).toFixed(1)} MB even re-encoded, over Vertex AI's 7 MB per inline image`
			: `The request is ${(requestBytes / MB).toFixed(1)} MB even re-encoded, over the ${(limit / MB).toFixed(1)} MB inline limit`;
		throw new NodeOperationError(
			ctx.getNode(),
			forItem(`${what}, and Vertex AI has no Files API`, itemIndex),
			{
				itemIndex,
				description:
					'Set "Max Input Long Side (Px)" lower (e.g. 2048) so the image is sent smaller, send fewer images, or use a Gemini API key credential, which uploads large images through the Files API.',
			},
		);
	}
	return {
		parts: fitted.map((i) => inline(i.prepared)),
		images: fitted.map((i) => ({ ...i, via: 'inline' as const })),
	};
}
