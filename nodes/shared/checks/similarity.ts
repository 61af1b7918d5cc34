import sharp from 'sharp';
import { ssim } from 'ssim.js';
import type { CheckResult } from './types';

/**
 * 'atLeast': the image must be at least `threshold` similar to the reference (an edit kept the
 * composition). 'atMost': it must be at most that similar (not a near-duplicate of an earlier one).
 */
export type SimilarityMode = 'atLeast' | 'atMost';

export interface SimilarityOptions {
	mode: SimilarityMode;
	/** 0..1 */
	threshold: number;
}

// SSIM on a small fixed-size copy compares layout and shapes, not pixels: a resized or
// recompressed copy stays above 0.95, unrelated photos fall below 0.5.
const COMPARE_SIZE = 64;
export const SIMILARITY_METHOD =
	'SSIM of 64x64 copies (EXIF orientation applied, transparency on white)';

async function comparable(input: Buffer) {
	const { data, info } = await sharp(input)
		.rotate()
		.flatten({ background: '#ffffff' })
		.resize(COMPARE_SIZE, COMPARE_SIZE, { fit: 'fill' })
		.ensureAlpha()
		.raw({ depth: 'uchar' })
		.toBuffer({ resolveWithObject: true });
	return {
		data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
		width: info.width,
		height: info.height,
	};
}

/**
 * 1 for the same picture, about 0 for unrelated ones. Different aspect ratios are stretched to fit.
 */
export async function imageSimilarity(image: Buffer, reference: Buffer): Promise<number> {
	const [a, b] = await Promise.all([comparable(image), comparable(reference)]);
	const { mssim } = ssim(a, b);
	return Math.min(1, Math.max(0, mssim));
}

export async function checkSimilarity(
	image: Buffer,
	reference: Buffer,
	options: SimilarityOptions,
): Promise<CheckResult> {
	if (!(options.threshold >= 0 && options.threshold <= 1)) {
		throw new Error(`The similarity threshold must be between 0 and 1, not ${options.threshold}`);
	}
	const score = Math.round((await imageSimilarity(image, reference)) * 1000) / 1000;
	const passed =
		options.mode === 'atLeast' ? score >= options.threshold : score <= options.threshold;
	return {
		name: 'similarity',
		passed,
		score,
		details: { mode: options.mode, threshold: options.threshold, method: SIMILARITY_METHOD },
	};
}
