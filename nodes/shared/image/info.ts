import sharp, { type Metadata } from 'sharp';
import { ImageInputError } from './inputError';

export interface ImageInfo {
	/** jpeg, png, webp, gif, tiff, avif, heic, heif, svg */
	format: string;
	mimeType: string;
	/** As displayed, i.e. after EXIF orientation. */
	width: number;
	height: number;
	hasAlpha: boolean;
	orientation?: number;
	sizeBytes: number;
}

const MIME_BY_FORMAT: Record<string, string> = {
	jpeg: 'image/jpeg',
	png: 'image/png',
	webp: 'image/webp',
	gif: 'image/gif',
	tiff: 'image/tiff',
	avif: 'image/avif',
	heic: 'image/heic',
	heif: 'image/heif',
	svg: 'image/svg+xml',
};

const FORMAT_ALIASES: Record<string, string> = { jpg: 'jpeg', jpe: 'jpeg', tif: 'tiff' };

const EXTENSION_BY_MIME: Record<string, string> = {
	'image/jpeg': 'jpg',
	'image/png': 'png',
	'image/webp': 'webp',
	'image/gif': 'gif',
	'image/tiff': 'tiff',
	'image/avif': 'avif',
	'image/heic': 'heic',
	'image/heif': 'heif',
	'image/svg+xml': 'svg',
};

/** `jpeg`, `jpg` or `JPEG` → `image/jpeg`; unknown formats give `application/octet-stream`. */
export function mimeTypeFor(format: string): string {
	const name = format.trim().toLowerCase();
	return MIME_BY_FORMAT[FORMAT_ALIASES[name] ?? name] ?? 'application/octet-stream';
}

/** `image/jpeg` → `jpg`; parameters and case are ignored; unknown types give `bin`. */
export function extensionFor(mimeType: string): string {
	const type = mimeType.split(';')[0].trim().toLowerCase();
	return EXTENSION_BY_MIME[type] ?? 'bin';
}

/** sharp names both AVIF and HEIC `heif`; the codec tells them apart. */
export function formatOf(meta: Metadata): string {
	if (meta.format === 'heif') {
		if (meta.compression === 'av1') return 'avif';
		return meta.compression === 'hevc' ? 'heic' : 'heif';
	}
	return meta.format;
}

/** Width and height as the image is displayed, after EXIF orientation. */
export function displayedSize(meta: Metadata): { width: number; height: number } {
	return { width: meta.autoOrient.width, height: meta.autoOrient.height };
}

/**
 * Formats that files are commonly mistaken for images in, named so the error can say what it is.
 */
function sniffNonImage(input: Buffer): string | undefined {
	const head = input.subarray(0, 8).toString('latin1');
	if (head.startsWith('%PDF')) return 'a PDF document';
	if (head.startsWith('PK\u0003\u0004')) return 'a ZIP archive (or an Office document)';
	if (head.startsWith('<!DOCTYPE') || head.toLowerCase().startsWith('<html')) return 'an HTML page';
	if (head.startsWith('{') || head.startsWith('[')) return 'JSON text';
	if (head.slice(4, 8) === 'ftyp') return 'a video file';
	return undefined;
}

/** Image formats this sharp build cannot read. */
function sniffUnreadableImage(input: Buffer): string | undefined {
	if (input.subarray(0, 2).toString('latin1') === 'BM') return 'BMP';
	if (input.subarray(0, 4).toString('hex') === '00000100') return 'ICO';
	const isoBrand = input.subarray(4, 12).toString('latin1');
	if (/^ftyp(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(isoBrand)) return 'HEIC/HEIF';
	return undefined;
}

/** Turns what sharp throws into an error the user can act on. */
export function toImageInputError(error: unknown, input: Buffer): ImageInputError {
	if (error instanceof ImageInputError) return error;
	const detail = error instanceof Error ? error.message : String(error);
	if (input.length === 0 || /buffer is empty/i.test(detail)) return emptyImageError();
	if (/unsupported image format/i.test(detail)) {
		const unreadable = sniffUnreadableImage(input);
		if (unreadable) {
			return new ImageInputError(
				'unsupported-format',
				`${unreadable} images cannot be read here`,
				'Convert the image to PNG or JPEG first.',
			);
		}
		const what = sniffNonImage(input);
		return new ImageInputError(
			'not-an-image',
			what ? `The file is ${what}, not an image` : 'The file is not an image',
			'Pass a PNG, JPEG, WebP, HEIC or HEIF image in this binary property.',
		);
	}
	if (/pixel limit/i.test(detail)) {
		return new ImageInputError(
			'too-many-pixels',
			'The image has more pixels than allowed',
			'Downscale the image first, or raise the input pixel limit if you trust its source.',
		);
	}
	// e.g. HEVC-coded HEIC: the prebuilt libvips has no HEVC decoder (patents)
	const codec = /compression format has not been built in: (\w+)/i.exec(detail);
	if (codec || /unsupported (codec|feature)|no decoder/i.test(detail)) {
		return new ImageInputError(
			'unsupported-format',
			`The image is compressed with ${codec ? codec[1] : 'a codec'} which cannot be decoded here`,
			'Convert the image to PNG or JPEG first.',
		);
	}
	return new ImageInputError(
		'corrupt',
		`The image is damaged or incomplete (${cleanDetail(detail)})`,
		'The file may have been cut off during download or upload; fetch it again.',
	);
}

/**
 * libvips piles up low-level lines (seeks, the failed write); keep the ones that say what broke.
 */
function cleanDetail(detail: string): string {
	const lines = detail
		.split('\n')
		.map((line) => line.trim())
		.filter((line) => line && !/^source: |unable to write to target/.test(line));
	return lines.join('; ') || detail.trim();
}

export function emptyImageError(): ImageInputError {
	return new ImageInputError(
		'empty',
		'The image is empty (0 bytes)',
		'Check that the previous node put a file into this binary property.',
	);
}

/** Reads the header only: no pixels are decoded, so a huge image costs nothing here. */
export async function readMetadata(input: Buffer): Promise<Metadata> {
	if (input.length === 0) throw emptyImageError();
	try {
		return await sharp(input, { limitInputPixels: false }).metadata();
	} catch (error) {
		throw toImageInputError(error, input);
	}
}

export async function readImageInfo(input: Buffer): Promise<ImageInfo> {
	const meta = await readMetadata(input);
	const format = formatOf(meta);
	return {
		format,
		mimeType: mimeTypeFor(format),
		...displayedSize(meta),
		hasAlpha: meta.hasAlpha,
		orientation: meta.orientation,
		sizeBytes: input.length,
	};
}

export interface ImageSize {
	format: string;
	mimeType: string;
	/** As displayed, i.e. after EXIF orientation. */
	width: number;
	height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height from a PNG's IHDR, if it is a PNG with no EXIF (eXIf) chunk before its pixels.
 */
function plainPngSize(input: Buffer): { width: number; height: number } | undefined {
	if (
		input.length < 33 ||
		!input.subarray(0, 8).equals(PNG_SIGNATURE) ||
		input.toString('latin1', 12, 16) !== 'IHDR'
	)
		return undefined;
	const width = input.readUInt32BE(16);
	const height = input.readUInt32BE(20);
	if (width === 0 || height === 0) return undefined;
	// chunks: length, type, data, CRC; an EXIF orientation could turn the displayed image
	for (let at = 8; at + 8 <= input.length; at += 12 + input.readUInt32BE(at)) {
		const type = input.toString('latin1', at + 4, at + 8);
		if (type === 'eXIf') return undefined;
		if (type === 'IDAT') return { width, height };
	}
	return undefined;
}

/**
 * Format and displayed size. A PNG's size is read from its header, without a libvips call: the API
 * answers with PNGs as a rule, and this runs for every image. Anything else goes through
 * readImageInfo.
 */
export async function readImageSize(input: Buffer): Promise<ImageSize> {
	const png = plainPngSize(input);
	if (png) return { format: 'png', mimeType: 'image/png', ...png };
	const { format, mimeType, width, height } = await readImageInfo(input);
	return { format, mimeType, width, height };
}
