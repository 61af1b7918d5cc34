import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { displayedSize, formatOf, mimeTypeFor, readMetadata, toImageInputError } from './info';
import { buildAiXmp, insertPngXmp, TRAINED_ALGORITHMIC_MEDIA } from './xmp';

export { buildAiXmp } from './xmp';

export type OutputFormat = 'original' | 'png' | 'jpeg' | 'webp' | 'avif';
export type ResizeFit = 'cover' | 'contain' | 'inside';

export interface ConvertOptions {
	format: OutputFormat;
	/** 1–100; JPEG and WebP default to 90, AVIF to sharp's 50. Ignored for PNG. */
	quality?: number;
	resize?: { width: number; height: number; fit: ResizeFit };
	/** Write the IPTC trainedAlgorithmicMedia marker into a re-encoded image. Default true. */
	markAsAiGenerated?: boolean;
}

export interface ConvertedImage {
	data: Buffer;
	mimeType: string;
	width: number;
	height: number;
	/** False when the input bytes are returned as they came (keeping C2PA and Google's XMP). */
	converted: boolean;
}

type WritableFormat = Exclude<OutputFormat, 'original'>;

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

/** 'original' with a resize keeps the input's format where sharp can write it, else PNG. */
function resolveFormat(requested: OutputFormat, inputFormat: string): WritableFormat {
	if (requested !== 'original') return requested;
	return ['png', 'jpeg', 'webp', 'avif'].includes(inputFormat)
		? (inputFormat as WritableFormat)
		: 'png';
}

function clampQuality(
	quality: number | undefined,
	fallback: number | undefined,
): number | undefined {
	if (quality === undefined) return fallback;
	return Math.min(100, Math.max(1, Math.round(quality)));
}

/**
 * Converts a generated image. Every re-encode drops C2PA and the input's metadata, so the marker
 * is written again: XMP works for PNG (our iTXt chunk), JPEG (APP1), WebP (XMP chunk) and AVIF
 * (XMP item); sharp cannot write XMP into GIF, which is not offered. If the input's own XMP
 * already carries the marker (Google's does, with its credit line), that XMP is kept instead.
 */
export async function convertImage(input: Buffer, opts: ConvertOptions): Promise<ConvertedImage> {
	const meta = await readMetadata(input);
	const inputFormat = formatOf(meta);

	if (opts.format === 'original' && !opts.resize) {
		return {
			data: input,
			mimeType: mimeTypeFor(inputFormat),
			...displayedSize(meta),
			converted: false,
		};
	}

	const format = resolveFormat(opts.format, inputFormat);
	let pipeline = sharp(input, { failOn: 'error' }).autoOrient();
	if (opts.resize) {
		const { width, height, fit } = opts.resize;
		pipeline = pipeline.resize({
			width,
			height,
			fit,
			background: format === 'jpeg' ? WHITE : TRANSPARENT,
		});
	}

	if (format === 'jpeg') {
		// JPEG has no alpha; without this transparent pixels come out black
		pipeline = pipeline
			.flatten({ background: WHITE })
			.jpeg({ quality: clampQuality(opts.quality, 90) });
	} else if (format === 'webp') {
		pipeline = pipeline.webp({ quality: clampQuality(opts.quality, 90) });
	} else if (format === 'avif') {
		pipeline = pipeline.avif({ quality: clampQuality(opts.quality, undefined) });
	} else {
		pipeline = pipeline.png();
	}

	const xmp = opts.markAsAiGenerated === false ? undefined : xmpToWrite(meta);
	if (xmp && format !== 'png') pipeline = pipeline.withXmp(xmp);

	let result: { data: Buffer; info: OutputInfo };
	try {
		result = await pipeline.toBuffer({ resolveWithObject: true });
	} catch (error) {
		throw toImageInputError(error, input);
	}
	const data = xmp && format === 'png' ? insertPngXmp(result.data, xmp) : result.data;
	return {
		data,
		mimeType: mimeTypeFor(format),
		width: result.info.width,
		height: result.info.height,
		converted: true,
	};
}

function xmpToWrite(meta: Metadata): string {
	const existing = meta.xmpAsString;
	return existing?.includes(TRAINED_ALGORITHMIC_MEDIA) ? existing : buildAiXmp();
}
