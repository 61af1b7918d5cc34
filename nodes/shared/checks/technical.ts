import sharp, { type Metadata } from 'sharp';
import { displayedSize, formatOf, readMetadata } from '../image/info';
import type { CheckResult } from './types';

export interface DimensionOptions {
	minWidth?: number;
	maxWidth?: number;
	minHeight?: number;
	maxHeight?: number;
}

export interface AspectRatioOptions {
	/** '16:9', '16/9' or a number such as 1.7778 (width divided by height). */
	ratio: string | number;
	/** Relative difference allowed, 0.035 = 3.5 % (the default). */
	tolerance?: number;
}

export interface FormatOptions {
	/** jpeg (or jpg), png, webp, gif, tiff, avif, heic, heif, svg */
	allowed: string[];
}

export interface FileSizeOptions {
	maxBytes: number;
}

export interface TransparencyOptions {
	/** 'transparent': at least one pixel is not fully opaque; 'opaque': every pixel is. */
	expect: 'transparent' | 'opaque';
}

export interface NotBlankOptions {
	/**
	 * The image is blank when no colour channel varies more than this (standard deviation, 0..255).
	 */
	minStdev?: number;
}

/** A check runs when its options are present; `notBlank: {}` runs it with the default threshold. */
export interface TechnicalCheckOptions {
	dimensions?: DimensionOptions;
	aspectRatio?: AspectRatioOptions;
	format?: FormatOptions;
	fileSize?: FileSizeOptions;
	transparency?: TransparencyOptions;
	notBlank?: NotBlankOptions;
}

// Generated images miss their nominal ratio by a little (Gemini's 4:3 is 1184x864, 2.8 % off;
// Imagen's 16:9 is 1408x768, 3.1 % off), and the closest standard ratios are 6.7 % apart.
export const DEFAULT_ASPECT_RATIO_TOLERANCE = 0.035;
export const DEFAULT_BLANK_STDEV = 3;
// The blank test looks at a downscaled copy: the spread of a flat placeholder does not depend on
// size, and a 4K photo would cost 50 MB of raw pixels for nothing.
const BLANK_SAMPLE_SIZE = 512;

const FORMAT_ALIASES: Record<string, string> = { jpg: 'jpeg', jpe: 'jpeg', tif: 'tiff' };

export function checkDimensions(meta: Metadata, options: DimensionOptions): CheckResult {
	const { width, height } = displayedSize(meta);
	const problems: string[] = [];
	if (options.minWidth !== undefined && width < options.minWidth) {
		problems.push(`width ${width} is below ${options.minWidth}`);
	}
	if (options.maxWidth !== undefined && width > options.maxWidth) {
		problems.push(`width ${width} is above ${options.maxWidth}`);
	}
	if (options.minHeight !== undefined && height < options.minHeight) {
		problems.push(`height ${height} is below ${options.minHeight}`);
	}
	if (options.maxHeight !== undefined && height > options.maxHeight) {
		problems.push(`height ${height} is above ${options.maxHeight}`);
	}
	return {
		name: 'dimensions',
		passed: problems.length === 0,
		details: { width, height, ...options, problems },
	};
}

/** '16:9', '16/9', '1.5' or 1.5 → width divided by height. */
export function parseAspectRatio(ratio: string | number): number {
	if (typeof ratio === 'number') {
		if (ratio > 0 && Number.isFinite(ratio)) return ratio;
	} else {
		const parts = ratio.trim().split(/\s*[:/x]\s*/);
		const numbers = parts.map(Number);
		if (parts.length === 1 && numbers[0] > 0) return numbers[0];
		if (parts.length === 2 && numbers[0] > 0 && numbers[1] > 0) return numbers[0] / numbers[1];
	}
	throw new Error(`"${ratio}" is not an aspect ratio; use a form such as 16:9 or 1.78`);
}

export function checkAspectRatio(meta: Metadata, options: AspectRatioOptions): CheckResult {
	const { width, height } = displayedSize(meta);
	const expected = parseAspectRatio(options.ratio);
	const tolerance = options.tolerance ?? DEFAULT_ASPECT_RATIO_TOLERANCE;
	const actual = width / height;
	const deviation = Math.abs(actual - expected) / expected;
	return {
		name: 'aspectRatio',
		passed: deviation <= tolerance,
		details: {
			width,
			height,
			expected: options.ratio,
			actualRatio: round(actual, 4),
			expectedRatio: round(expected, 4),
			deviation: round(deviation, 4),
			tolerance,
		},
	};
}

export function checkFormat(meta: Metadata, options: FormatOptions): CheckResult {
	const format = formatOf(meta);
	const allowed = options.allowed.map((name) => {
		const lower = name.trim().toLowerCase();
		return FORMAT_ALIASES[lower] ?? lower;
	});
	return { name: 'format', passed: allowed.includes(format), details: { format, allowed } };
}

export function checkFileSize(input: Buffer, options: FileSizeOptions): CheckResult {
	return {
		name: 'fileSize',
		passed: input.length <= options.maxBytes,
		details: { sizeBytes: input.length, maxBytes: options.maxBytes },
	};
}

/** Looks at the alpha values themselves: an alpha channel that is 255 everywhere is opaque. */
export async function checkTransparency(
	input: Buffer,
	options: TransparencyOptions,
): Promise<CheckResult> {
	const name = 'transparency';
	try {
		const image = sharp(input);
		const [meta, stats] = await Promise.all([image.metadata(), image.stats()]);
		const transparent = !stats.isOpaque;
		const details: Record<string, unknown> = {
			expect: options.expect,
			hasAlphaChannel: meta.hasAlpha,
			transparent,
		};
		if (meta.hasAlpha) {
			const alpha = stats.channels[stats.channels.length - 1];
			const full = meta.depth === 'ushort' ? 65535 : 255;
			details.minOpacity = round(alpha.min / full, 4);
			details.meanOpacity = round(alpha.mean / full, 4);
		}
		return { name, passed: transparent === (options.expect === 'transparent'), details };
	} catch (error) {
		return pixelError(name, error);
	}
}

/**
 * Catches grey, black or single-colour placeholders: the image is blank when no colour channel
 * varies more than `minStdev`. Transparent areas count as white.
 */
export async function checkNotBlank(
	input: Buffer,
	options: NotBlankOptions = {},
): Promise<CheckResult> {
	const name = 'notBlank';
	const threshold = options.minStdev ?? DEFAULT_BLANK_STDEV;
	try {
		const { data, info } = await sharp(input)
			.flatten({ background: '#ffffff' })
			.resize(BLANK_SAMPLE_SIZE, BLANK_SAMPLE_SIZE, { fit: 'inside', withoutEnlargement: true })
			.raw({ depth: 'uchar' })
			.toBuffer({ resolveWithObject: true });
		const stats = await sharp(data, {
			raw: { width: info.width, height: info.height, channels: info.channels },
		}).stats();
		const maxStdev = Math.max(...stats.channels.map((channel) => channel.stdev));
		return {
			name,
			passed: maxStdev >= threshold,
			details: {
				maxStdev: round(maxStdev, 2),
				minStdev: threshold,
				meanColour: stats.channels.map((channel) => Math.round(channel.mean)),
			},
		};
	} catch (error) {
		return pixelError(name, error);
	}
}

/** Runs the checks whose options are given, in a fixed order; the header is read only once. */
export async function runTechnicalChecks(
	input: Buffer,
	options: TechnicalCheckOptions,
): Promise<CheckResult[]> {
	const meta = await readMetadata(input);
	const results: CheckResult[] = [];
	if (options.dimensions) results.push(checkDimensions(meta, options.dimensions));
	if (options.aspectRatio) results.push(checkAspectRatio(meta, options.aspectRatio));
	if (options.format) results.push(checkFormat(meta, options.format));
	if (options.fileSize) results.push(checkFileSize(input, options.fileSize));
	if (options.transparency) results.push(await checkTransparency(input, options.transparency));
	if (options.notBlank) results.push(await checkNotBlank(input, options.notBlank));
	return results;
}

/** A check that needs pixels fails, rather than throws, when they cannot be decoded. */
function pixelError(name: string, error: unknown): CheckResult {
	const message = error instanceof Error ? error.message : String(error);
	return { name, passed: false, details: { error: `The pixels could not be read: ${message}` } };
}

function round(value: number, digits: number): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}
