import sharp, { type Sharp } from 'sharp';
import { emptyImageError, toImageInputError } from './info';

export interface MaskOptions {
	/** Soften the inside edge of the white area over about this many pixels. 0 = hard edge. */
	featherPx?: number;
}

interface RawImage {
	data: Buffer;
	width: number;
	height: number;
	channels: number;
}

async function decodeRaw(input: Buffer, pipeline: (image: Sharp) => Sharp): Promise<RawImage> {
	if (input.length === 0) throw emptyImageError();
	try {
		const { data, info } = await pipeline(sharp(input, { failOn: 'error' }).autoOrient())
			.raw()
			.toBuffer({ resolveWithObject: true });
		return { data, width: info.width, height: info.height, channels: info.channels };
	} catch (error) {
		throw toImageInputError(error, input);
	}
}

/**
 * Region lock for edits: where the mask is black the result is the original, bit for bit; where it
 * is white it is the edited image. The mask is read as black or white (threshold at mid-grey,
 * transparent counts as black) so JPEG noise cannot leak edits into the locked area. Feathering
 * only fades the white area's inside edge, never reaching into the black area.
 *
 * The edited image is stretched to the original's size: the model redraws the whole frame, so
 * stretching lines its content up better than cropping would. Output is PNG, lossless, so the
 * identity survives encoding.
 */
export async function compositeWithMask(
	original: Buffer,
	edited: Buffer,
	mask: Buffer,
	opts: MaskOptions = {},
): Promise<Buffer> {
	const base = await decodeRaw(original, (image) => image.toColourspace('srgb'));
	const { width, height, channels } = base;
	const hasAlpha = channels === 4;
	const top = await decodeRaw(edited, (image) => {
		const sized = image.resize(width, height, { fit: 'fill' }).toColourspace('srgb');
		return hasAlpha ? sized.ensureAlpha() : sized.removeAlpha();
	});
	const lock = await decodeRaw(mask, (image) =>
		image
			.flatten({ background: '#000000' })
			.greyscale()
			// linear: no ringing, so black stays exactly black next to the edge
			.resize(width, height, { fit: 'fill', kernel: 'linear' })
			.threshold(128)
			.extractChannel(0),
	);
	const weights = await featherWeights(lock, opts.featherPx ?? 0);

	// Mixed here rather than with sharp's composite, which premultiplies alpha in floating point
	// and so does not promise to give back the original's exact values.
	const out = Buffer.alloc(base.data.length);
	for (let pixel = 0; pixel < width * height; pixel++) {
		const weight = weights[pixel];
		for (let c = 0; c < channels; c++) {
			const i = pixel * channels + c;
			if (weight === 0) out[i] = base.data[i];
			else if (weight === 255) out[i] = top.data[i];
			else out[i] = Math.round((base.data[i] * (255 - weight) + top.data[i] * weight) / 255);
		}
	}
	return await sharp(out, { raw: { width, height, channels: channels as 3 | 4 } })
		.png()
		.toBuffer();
}

/**
 * A blurred copy of the mask, stretched so that it is 0 at the white area's edge and 255 about
 * featherPx inside it, then cut to the mask so black pixels stay 0.
 */
async function featherWeights(lock: RawImage, featherPx: number): Promise<Uint8Array> {
	if (featherPx <= 0) return lock.data;
	const blurred = await sharp(lock.data, {
		raw: { width: lock.width, height: lock.height, channels: 1 },
	})
		.blur(Math.max(0.3, featherPx / 2))
		.linear(2, -255)
		.raw()
		.toBuffer();
	for (let i = 0; i < blurred.length; i++) {
		if (lock.data[i] === 0) blurred[i] = 0;
	}
	return blurred;
}

export interface MaskRegion {
	/** Percent of width/height, from the top-left corner. */
	left: number;
	top: number;
	right: number;
	bottom: number;
	/** Share of the image the white area covers, 0..1. */
	coverage: number;
}

/**
 * Where the mask is white, as a box in percent, so the model can be told in words which region
 * to change. Also validates the mask before any paid call.
 */
export async function maskRegion(mask: Buffer): Promise<MaskRegion> {
	const size = 100;
	const { data } = await decodeRaw(mask, (image) =>
		image
			.flatten({ background: '#000000' })
			.greyscale()
			.resize(size, size, { fit: 'fill' })
			.threshold(128)
			.extractChannel(0),
	);
	let [left, top, right, bottom, white] = [size, size, -1, -1, 0];
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			if (data[y * size + x] < 128) continue;
			white++;
			left = Math.min(left, x);
			right = Math.max(right, x);
			top = Math.min(top, y);
			bottom = Math.max(bottom, y);
		}
	}
	if (white === 0) return { left: 0, top: 0, right: 0, bottom: 0, coverage: 0 };
	return { left, top, right: right + 1, bottom: bottom + 1, coverage: white / (size * size) };
}
