import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DEFAULT_INPUT_PIXEL_LIMIT } from '../constants';
import { ImageInputError } from './inputError';
import { displayedSize, formatOf, mimeTypeFor, readMetadata, toImageInputError } from './info';

export { ImageInputError } from './inputError';
export type { ImageInputReason } from './inputError';

/** What generateContent takes as inlineData. Everything else is converted before sending. */
export const ACCEPTED_INPUT_FORMATS = ['png', 'jpeg', 'webp', 'heic', 'heif'];

export interface PrepareOptions {
	/** Downscale (never upscale) so the longest side is at most this. */
	maxLongSide?: number;
	/** Keep EXIF, XMP, IPTC and ICC. By default they are removed, GPS included. */
	keepMetadata?: boolean;
	/** Refuse images with more pixels than this before decoding them. */
	limitInputPixels?: number;
	/** Re-encode with lower quality, then smaller, until the file is at most this big. */
	targetBytes?: number;
}

export interface PreparedImage {
	data: Buffer;
	mimeType: string;
	originalWidth: number;
	originalHeight: number;
	sentWidth: number;
	sentHeight: number;
	bytesSent: number;
	metadataStripped: boolean;
	/** The format or the colour space changed (e.g. TIFF to PNG, CMYK to sRGB). */
	converted: boolean;
	/** The bytes are not the input's; false means the input is sent untouched. */
	reencoded: boolean;
	/**
	 * What was done, in order: rotated, stripped-metadata, converted-from-tiff, converted-from-cmyk,
	 * downscaled, compressed-jpeg-q75, ...
	 */
	steps: string[];
}

type EncodeFormat = 'png' | 'jpeg' | 'webp';

interface EncodeParams {
	format: EncodeFormat;
	quality?: number;
	longSide?: number;
	keepMetadata: boolean;
	pixelLimit: number;
	toSrgb: boolean;
}

const COMPRESSION_QUALITIES = [85, 75, 65, 55];
const SHRINK_STEP = 0.75;
const SMALLEST_LONG_SIDE = 256;

/**
 * Readies an image for the API: orientation applied, private metadata removed, format accepted,
 * size within bounds. An image that needs none of this is returned as the same Buffer, undecoded.
 */
export async function prepareInputImage(
	input: Buffer,
	opts: PrepareOptions = {},
): Promise<PreparedImage> {
	const meta = await readMetadata(input);
	const format = formatOf(meta);
	const pixelLimit = opts.limitInputPixels ?? DEFAULT_INPUT_PIXEL_LIMIT;
	refuseUnpreparable(meta, format, pixelLimit);

	const { width, height } = displayedSize(meta);
	const { steps, strip, cmyk, params: planned } = planEncoding(meta, format, pixelLimit, opts);
	let params = planned;
	let data = input;
	let mimeType = mimeTypeFor(format);
	let sent = { width, height };
	if (steps.length > 0) {
		const encoded = await encode(input, params).catch((error: unknown) => {
			throw format === 'heic' || format === 'heif' ? undecodableHeic(error, steps) : error;
		});
		data = encoded.data;
		sent = { width: encoded.info.width, height: encoded.info.height };
		mimeType = mimeTypeFor(params.format);
	} else {
		assertComplete(input, format);
	}

	if (opts.targetBytes !== undefined && data.length > opts.targetBytes) {
		({ data, sent, params } = await compressToTarget(
			input,
			{ data, sent, params },
			{
				targetBytes: opts.targetBytes,
				hasAlpha: meta.hasAlpha,
				original: { width, height },
				steps,
			},
		));
		mimeType = mimeTypeFor(params.format);
	}

	const reencoded = data !== input;
	return {
		data,
		mimeType,
		originalWidth: width,
		originalHeight: height,
		sentWidth: sent.width,
		sentHeight: sent.height,
		bytesSent: data.length,
		metadataStripped: reencoded && strip,
		converted: reencoded && (params.format !== format || cmyk),
		reencoded,
		steps,
	};
}

/** What an image needs before it is sent (the steps), and how it would be encoded for them. */
function planEncoding(meta: Metadata, format: string, pixelLimit: number, opts: PrepareOptions) {
	const { width, height } = displayedSize(meta);
	const keepMetadata = opts.keepMetadata === true;
	const accepted = ACCEPTED_INPUT_FORMATS.includes(format);
	const rotate = (meta.orientation ?? 1) !== 1;
	const strip = !keepMetadata && hasPrivateMetadata(meta);
	const cmyk = isCmyk(meta, format);
	const downscale = opts.maxLongSide !== undefined && Math.max(width, height) > opts.maxLongSide;

	const steps: string[] = [];
	if (rotate) steps.push('rotated');
	if (strip) steps.push('stripped-metadata');
	if (!accepted) steps.push(`converted-from-${format}`);
	if (cmyk) steps.push('converted-from-cmyk');
	if (downscale) steps.push('downscaled');

	const outputFormat = encodeFormatFor(format, meta.hasAlpha);
	let params: EncodeParams = {
		format: outputFormat,
		quality: outputFormat === 'png' ? undefined : 90,
		longSide: downscale ? opts.maxLongSide : undefined,
		keepMetadata,
		pixelLimit,
		toSrgb: cmyk,
	};
	return { steps, strip, cmyk, params };
}

/** Refuses what no step can make acceptable: SVG, and more pixels than allowed. */
function refuseUnpreparable(meta: Metadata, format: string, pixelLimit: number): void {
	if (format === 'svg') {
		throw new ImageInputError(
			'unsupported-format',
			'SVG images are not accepted',
			'Export the drawing as PNG at the size you want and pass that instead.',
		);
	}
	const pixels = meta.width * meta.height;
	if (pixels > pixelLimit) {
		throw new ImageInputError(
			'too-many-pixels',
			`The image is ${meta.width}×${meta.height} (${megapixels(pixels)} MP), more than the ${megapixels(pixelLimit)} MP allowed`,
			'Downscale the image first, or raise the input pixel limit if you trust its source.',
		);
	}
}

interface Encoding {
	data: Buffer;
	sent: { width: number; height: number };
	params: EncodeParams;
}

interface CompressionGoal {
	targetBytes: number;
	hasAlpha: boolean;
	original: { width: number; height: number };
	/** The steps so far; the compression (and a downscale it caused) is added. */
	steps: string[];
}

/** Lower quality, then smaller sides, until the image fits the byte target; lossy from here on. */
async function compressToTarget(
	input: Buffer,
	start: Encoding,
	{ targetBytes, hasAlpha, original, steps }: CompressionGoal,
): Promise<Encoding> {
	// WebP rather than JPEG where there is transparency to keep.
	const lossy: EncodeFormat = hasAlpha ? 'webp' : 'jpeg';
	let { data, sent, params } = start;
	let longSide = params.longSide ?? Math.max(original.width, original.height);
	let quality = 0;
	for (let attempt = 0; data.length > targetBytes; attempt++) {
		if (attempt < COMPRESSION_QUALITIES.length) {
			quality = COMPRESSION_QUALITIES[attempt];
		} else {
			longSide = Math.floor(longSide * SHRINK_STEP);
			if (longSide < SMALLEST_LONG_SIDE) {
				throw new ImageInputError(
					'too-large',
					`The image cannot be made smaller than ${targetBytes} bytes`,
					'Raise the size limit, or send fewer or simpler images.',
				);
			}
		}
		params = { ...params, format: lossy, quality, longSide };
		const encoded = await encode(input, params);
		data = encoded.data;
		sent = { width: encoded.info.width, height: encoded.info.height };
	}
	steps.push(`compressed-${lossy}-q${quality}`);
	if (
		Math.max(sent.width, sent.height) < Math.max(original.width, original.height) &&
		!steps.includes('downscaled')
	) {
		steps.push('downscaled');
	}
	return { data, sent, params };
}

/**
 * EXIF (GPS, camera serial, time), XMP and IPTC (names, places, edit history) and PNG text chunks
 * can say more than the picture. An ICC profile only describes colour: alone it is no reason to
 * re-encode, and when we do re-encode sharp converts to sRGB so colours stay right without it.
 */
function hasPrivateMetadata(meta: Metadata): boolean {
	return Boolean(
		meta.exif || meta.xmp || meta.iptc || meta.tifftagPhotoshop || meta.comments?.length,
	);
}

/**
 * CMYK (print files) is never sent as it is, even with keepMetadata: the model expects RGB.
 * A 4-channel JPEG is always CMYK (or YCCK, which decodes to CMYK).
 */
function isCmyk(meta: Metadata, format: string): boolean {
	return meta.space === 'cmyk' || (format === 'jpeg' && meta.channels === 4);
}

/**
 * Accepted formats stay as they are; others become PNG if transparent (so it survives), else JPEG.
 */
function encodeFormatFor(format: string, hasAlpha: boolean): EncodeFormat {
	if (format === 'png' || format === 'jpeg' || format === 'webp') return format;
	return hasAlpha ? 'png' : 'jpeg';
}

async function encode(
	input: Buffer,
	params: EncodeParams,
): Promise<{ data: Buffer; info: OutputInfo }> {
	// Resizing in the same pipeline lets sharp shrink JPEG and WebP while decoding, so a huge
	// image never sits in memory at full size.
	let pipeline = sharp(input, {
		failOn: 'error',
		limitInputPixels: params.pixelLimit,
	}).autoOrient();
	if (params.longSide) {
		pipeline = pipeline.resize({
			width: params.longSide,
			height: params.longSide,
			fit: 'inside',
			withoutEnlargement: true,
		});
	}
	if (params.keepMetadata) pipeline = pipeline.keepMetadata();
	// sharp converts CMYK to sRGB on output by default; saying so keeps it true if that default
	// changes. With keepMetadata the CMYK ICC profile is replaced by an sRGB one.
	if (params.toSrgb) pipeline = pipeline.toColourspace('srgb');
	if (params.format === 'jpeg') pipeline = pipeline.jpeg({ quality: params.quality });
	else if (params.format === 'webp') pipeline = pipeline.webp({ quality: params.quality });
	else pipeline = pipeline.png();
	try {
		return await pipeline.toBuffer({ resolveWithObject: true });
	} catch (error) {
		throw toImageInputError(error, input);
	}
}

const STEP_WORDS: Record<string, string> = {
	rotated: 'rotation',
	'stripped-metadata': 'metadata removal',
	downscaled: 'downscaling',
};

/** HEIC is sent as it is when it can be; a change needs decoding, which HEVC rules out here. */
function undecodableHeic(error: unknown, steps: string[]): unknown {
	if (!(error instanceof ImageInputError) || error.reason !== 'unsupported-format') return error;
	const onlyMetadata = steps.length === 1 && steps[0] === 'stripped-metadata';
	return new ImageInputError(
		'unsupported-format',
		`This HEIC image cannot be sent as it is (it needs ${steps.map((step) => STEP_WORDS[step] ?? step).join(' and ')}) and HEIC cannot be decoded here`,
		onlyMetadata
			? 'Convert it to JPEG first, or choose to keep metadata to send it unchanged, location data included.'
			: 'Convert it to JPEG first.',
	);
}

/**
 * Reading the header does not decode the pixels, so a file cut off in transfer would otherwise be
 * sent as it is. Checking that it ends where its format says costs nothing.
 */
function assertComplete(input: Buffer, format: string): void {
	let complete = true;
	if (format === 'jpeg') {
		// The last scan (SOS, FF DA) must be followed by the end-of-image marker (FF D9).
		complete =
			input.lastIndexOf(Buffer.from([0xff, 0xd9])) > input.lastIndexOf(Buffer.from([0xff, 0xda]));
	} else if (format === 'png') {
		complete = input.lastIndexOf('IEND', undefined, 'latin1') > 8;
	} else if (format === 'webp') {
		complete = input.readUInt32LE(4) + 8 <= input.length;
	}
	if (!complete) {
		throw new ImageInputError(
			'corrupt',
			'The image is incomplete: the file ends before the image data does',
			'The file may have been cut off during download or upload; fetch it again.',
		);
	}
}

function megapixels(pixels: number): string {
	return String(Math.round(pixels / 1e5) / 10);
}

export interface BudgetImage {
	bytes: number;
}

export interface RequestBudget {
	/** The request fits as it is. */
	fits: boolean;
	/** Estimated request size in bytes with the images as they are. */
	requestBytes: number;
	/** Multiply every image's long side by this (1 when it fits). */
	scale: number;
	/** Bytes each image may take so the request fits; pass as `targetBytes` to prepareInputImage. */
	targetBytes: number[];
}

/** The JSON around one inline image: {"inlineData":{"mimeType":"image/jpeg","data":""}}, */
const PER_IMAGE_JSON_BYTES = 64;

export function base64Length(bytes: number): number {
	return Math.ceil(bytes / 3) * 4;
}

/**
 * Shares an inline request limit between several images. File size roughly follows the pixel
 * count, which goes with the square of the side, so sides shrink by the square root of the bytes
 * factor. `overheadBytes` covers the prompt and the rest of the request.
 */
export function planRequestBudget(
	images: BudgetImage[],
	inlineLimitBytes: number,
	overheadBytes = 64 * 1024,
): RequestBudget {
	const fixed = overheadBytes + PER_IMAGE_JSON_BYTES * images.length;
	const requestBytes = images.reduce((sum, image) => sum + base64Length(image.bytes), fixed);
	if (requestBytes <= inlineLimitBytes) {
		return { fits: true, requestBytes, scale: 1, targetBytes: images.map((image) => image.bytes) };
	}
	// Room for raw bytes, less up to 2 bytes of base64 padding per image.
	const room = ((inlineLimitBytes - fixed) * 3) / 4 - 2 * images.length;
	if (room <= 0) {
		throw new RangeError(
			`The request needs ${fixed} bytes before any image, more than the ${inlineLimitBytes} byte limit`,
		);
	}
	const totalBytes = images.reduce((sum, image) => sum + image.bytes, 0);
	const bytesFactor = room / totalBytes;
	return {
		fits: false,
		requestBytes,
		scale: Math.sqrt(bytesFactor),
		targetBytes: images.map((image) => Math.floor(image.bytes * bytesFactor)),
	};
}
