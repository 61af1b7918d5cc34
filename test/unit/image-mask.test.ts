import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { ImageInputError } from '../../nodes/shared/image/inputError';
import { readImageInfo } from '../../nodes/shared/image/info';
import { compositeWithMask } from '../../nodes/shared/image/mask';

const photo = (name: string) => readFileSync(join(__dirname, '../fixtures/photos', name));

interface Raw {
	data: Buffer;
	width: number;
	height: number;
	channels: number;
}

async function raw(image: Buffer): Promise<Raw> {
	const { data, info } = await sharp(image)
		.autoOrient()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { data, width: info.width, height: info.height, channels: info.channels };
}

function pixel(image: Raw, x: number, y: number): number[] {
	const start = (y * image.width + x) * image.channels;
	return [...image.data.subarray(start, start + image.channels)];
}

/** A solid colour standing in for the model's edit; deliberately not the original's size. */
function solid(width: number, height: number, colour: string): Promise<Buffer> {
	return sharp({ create: { width, height, channels: 3, background: colour } })
		.png()
		.toBuffer();
}

/** Black mask with the left `whiteWidth` columns white. */
function leftWhiteMask(width: number, height: number, whiteWidth: number): Promise<Buffer> {
	return sharp({ create: { width, height, channels: 3, background: '#000000' } })
		.composite([
			{
				input: { create: { width: whiteWidth, height, channels: 3, background: '#ffffff' } },
				left: 0,
				top: 0,
			},
		])
		.png()
		.toBuffer();
}

/** Every pixel in columns [from, to) is identical in both images. */
function columnsIdentical(a: Raw, b: Raw, from: number, to: number): boolean {
	for (let y = 0; y < a.height; y++) {
		for (let x = from; x < to; x++) {
			const start = (y * a.width + x) * a.channels;
			if (
				!a.data
					.subarray(start, start + a.channels)
					.equals(b.data.subarray(start, start + b.channels))
			)
				return false;
		}
	}
	return true;
}

describe('compositeWithMask', () => {
	it('keeps black areas bit-identical and takes white areas from the edit', async () => {
		const original = photo('room.png');
		const result = await compositeWithMask(
			original,
			await solid(300, 200, '#ff0000'),
			await leftWhiteMask(512, 509, 200),
		);
		expect(await readImageInfo(result)).toMatchObject({ format: 'png', width: 512, height: 509 });
		const before = await raw(original);
		const after = await raw(result);
		expect(after.channels).toBe(before.channels);
		expect(columnsIdentical(before, after, 200, 512)).toBe(true);
		expect(columnsIdentical(before, after, 0, 200)).toBe(false);
		for (const [x, y] of [
			[0, 0],
			[199, 508],
			[100, 250],
		])
			expect(pixel(after, x, y)).toEqual([255, 0, 0]);
	});

	it('works in the orientation the photo is displayed in', async () => {
		const original = photo('Landscape_6.jpg');
		const result = await compositeWithMask(
			original,
			await solid(64, 64, '#00ff00'),
			await leftWhiteMask(600, 450, 100),
		);
		const before = await raw(original);
		const after = await raw(result);
		expect(after).toMatchObject({ width: 600, height: 450 });
		expect(columnsIdentical(before, after, 100, 600)).toBe(true);
		expect(pixel(after, 50, 225)).toEqual([0, 255, 0]);
	});

	it('scales a mask of another size to the image', async () => {
		const original = photo('objects.png');
		const result = await compositeWithMask(
			original,
			await solid(512, 509, '#0000ff'),
			await leftWhiteMask(64, 64, 32),
		);
		const before = await raw(original);
		const after = await raw(result);
		// The scaled edge lands near column 256; well away from it the rule holds exactly.
		expect(columnsIdentical(before, after, 260, 512)).toBe(true);
		expect(pixel(after, 250, 100)).toEqual([0, 0, 255]);
		expect(pixel(after, 0, 508)).toEqual([0, 0, 255]);
	});

	it('keeps locked pixels exact even with a noisy JPEG mask', async () => {
		const original = photo('room.png');
		const jpegMask = await sharp(await leftWhiteMask(512, 509, 256))
			.jpeg({ quality: 40 })
			.toBuffer();
		const result = await compositeWithMask(original, await solid(10, 10, '#ff00ff'), jpegMask);
		expect(columnsIdentical(await raw(original), await raw(result), 264, 512)).toBe(true);
	});

	it('feathers only the inside of the white edge', async () => {
		const original = photo('room.png');
		const result = await compositeWithMask(
			original,
			await solid(512, 509, '#ff0000'),
			await leftWhiteMask(512, 509, 256),
			{ featherPx: 16 },
		);
		const before = await raw(original);
		const after = await raw(result);
		expect(columnsIdentical(before, after, 256, 512)).toBe(true);
		// Deep inside: all edit. At the edge: a blend, neither the edit nor the original.
		expect(pixel(after, 200, 250)).toEqual([255, 0, 0]);
		const edge = pixel(after, 252, 250);
		expect(edge).not.toEqual([255, 0, 0]);
		expect(edge).not.toEqual(pixel(before, 252, 250));
		// Without feathering the same pixel is pure edit.
		const hard = await raw(
			await compositeWithMask(
				original,
				await solid(8, 8, '#ff0000'),
				await leftWhiteMask(512, 509, 256),
			),
		);
		expect(pixel(hard, 252, 250)).toEqual([255, 0, 0]);
	});

	it('keeps the transparency of a transparent original where locked', async () => {
		const original = photo('top.png');
		const result = await compositeWithMask(
			original,
			await solid(100, 100, '#ffff00'),
			await leftWhiteMask(1024, 1098, 300),
		);
		const before = await raw(original);
		const after = await raw(result);
		expect(after.channels).toBe(4);
		expect(columnsIdentical(before, after, 300, 1024)).toBe(true);
		expect(pixel(after, 1023, 0)[3]).toBe(0);
		expect(pixel(after, 0, 0)).toEqual([255, 255, 0, 255]);
	});

	it('gives a greyscale original colour edits and keeps its grey exactly', async () => {
		const grey = await sharp(photo('man.jpg')).toColourspace('b-w').jpeg().toBuffer();
		expect((await sharp(grey).metadata()).channels).toBe(1);
		const result = await compositeWithMask(
			grey,
			await solid(10, 10, '#ff0000'),
			await leftWhiteMask(1408, 768, 400),
		);
		const after = await raw(result);
		expect(after.channels).toBe(3);
		const before = await raw(await sharp(grey).toColourspace('srgb').png().toBuffer());
		expect(columnsIdentical(before, after, 400, 1408)).toBe(true);
		const [r, g, b] = pixel(after, 1000, 400);
		expect(r === g && g === b).toBe(true);
		expect(pixel(after, 10, 10)).toEqual([255, 0, 0]);
	});

	it('treats a transparent mask area as black', async () => {
		const original = photo('room.png');
		const mask = await sharp({
			create: {
				width: 512,
				height: 509,
				channels: 4,
				background: { r: 255, g: 255, b: 255, alpha: 0 },
			},
		})
			.png()
			.toBuffer();
		const result = await compositeWithMask(original, await solid(10, 10, '#ff0000'), mask);
		expect((await raw(result)).data.equals((await raw(original)).data)).toBe(true);
	});

	it('refuses a mask that is not an image', async () => {
		const original = photo('room.png');
		const edited = await solid(10, 10, '#ff0000');
		for (const [mask, reason] of [
			[Buffer.from('draw here'), 'not-an-image'],
			[Buffer.alloc(0), 'empty'],
		] as const) {
			const error = await compositeWithMask(original, edited, mask).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(ImageInputError);
			expect((error as ImageInputError).reason).toBe(reason);
		}
	});
});
