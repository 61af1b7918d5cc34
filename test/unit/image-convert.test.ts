import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { crc32 } from 'zlib';
import { buildAiXmp, convertImage } from '../../nodes/shared/image/convert';
import { ImageInputError } from '../../nodes/shared/image/inputError';
import { readImageInfo } from '../../nodes/shared/image/info';

const fixtures = join(__dirname, '../fixtures');
const photo = (name: string) => readFileSync(join(fixtures, 'photos', name));
const geminiPng = () =>
	readFileSync(
		join(fixtures, 'gemini/gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png'),
	);

const MARKER = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** PNG chunks in file order, each with whether its CRC matches. */
function pngChunks(png: Buffer): { type: string; data: Buffer; crcOk: boolean }[] {
	const chunks = [];
	for (let offset = 8; offset < png.length;) {
		const length = png.readUInt32BE(offset);
		const typeAndData = png.subarray(offset + 4, offset + 8 + length);
		chunks.push({
			type: typeAndData.toString('latin1', 0, 4),
			data: typeAndData.subarray(4),
			crcOk: crc32(typeAndData) === png.readUInt32BE(offset + 8 + length),
		});
		offset += 12 + length;
	}
	return chunks;
}

async function pixelAt(image: Buffer, x: number, y: number): Promise<number[]> {
	const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
	const start = (y * info.width + x) * info.channels;
	return [...data.subarray(start, start + info.channels)];
}

describe('buildAiXmp', () => {
	it('is an XMP packet that claims trainedAlgorithmicMedia and nothing about credit', () => {
		const xmp = buildAiXmp();
		expect(xmp.startsWith('<?xpacket begin=')).toBe(true);
		expect(xmp.trimEnd().endsWith('<?xpacket end="w"?>')).toBe(true);
		expect(xmp).toContain(`Iptc4xmpExt:DigitalSourceType="${MARKER}"`);
		expect(xmp).toContain('xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"');
		expect(xmp).not.toMatch(/Credit/i);
	});
});

describe('convertImage', () => {
	it("returns the API's own bytes for 'original' without a resize", async () => {
		const input = geminiPng();
		const result = await convertImage(input, { format: 'original' });
		expect(result.data).toBe(input);
		expect(result).toMatchObject({
			mimeType: 'image/png',
			width: 510,
			height: 1024,
			converted: false,
		});
	});

	it.each([
		['png', 'image/png'],
		['jpeg', 'image/jpeg'],
		['webp', 'image/webp'],
		['avif', 'image/avif'],
	] as const)('writes %s with the AI marker in the file bytes', async (format, mimeType) => {
		const result = await convertImage(photo('room.png'), { format });
		expect(result).toMatchObject({ mimeType, width: 512, height: 509, converted: true });
		const info = await readImageInfo(result.data);
		expect(info).toMatchObject({ mimeType, width: 512, height: 509 });
		expect(result.data.includes(MARKER, 0, 'latin1')).toBe(true);
		const meta = await sharp(result.data).metadata();
		expect(meta.xmpAsString).toContain(MARKER);
	});

	it('puts PNG XMP in an uncompressed iTXt chunk before the image data', async () => {
		const result = await convertImage(photo('objects.png'), { format: 'png' });
		const chunks = pngChunks(result.data);
		const xmpChunks = chunks.filter((chunk) =>
			chunk.data.includes('XML:com.adobe.xmp', 0, 'latin1'),
		);
		expect(xmpChunks.map((chunk) => chunk.type)).toEqual(['iTXt']);
		expect(xmpChunks[0].data.toString('utf8')).toMatch(/^XML:com\.adobe\.xmp\0\0\0\0\0<\?xpacket/);
		expect(chunks.findIndex((chunk) => chunk.type === 'iTXt')).toBeLessThan(
			chunks.findIndex((chunk) => chunk.type === 'IDAT'),
		);
		expect(chunks.every((chunk) => chunk.crcOk)).toBe(true);
		const meta = await sharp(result.data, { failOn: 'warning' }).metadata();
		expect(meta.xmpAsString).toContain(MARKER);
		await expect(
			sharp(result.data, { failOn: 'warning' }).raw().toBuffer(),
		).resolves.toBeInstanceOf(Buffer);
	});

	it('writes no marker when asked not to', async () => {
		for (const format of ['png', 'jpeg', 'webp'] as const) {
			const result = await convertImage(photo('room.png'), { format, markAsAiGenerated: false });
			expect(result.data.includes('trainedAlgorithmicMedia', 0, 'latin1')).toBe(false);
			expect((await sharp(result.data).metadata()).xmp).toBeUndefined();
		}
	});

	it("keeps Google's own XMP, credit included, when it already carries the marker", async () => {
		const result = await convertImage(geminiPng(), { format: 'jpeg' });
		const xmp = (await sharp(result.data).metadata()).xmpAsString;
		expect(xmp).toContain(MARKER);
		expect(xmp).toContain('Made with Google AI');
	});

	it('replaces XMP that only has the bare token with the full marker', async () => {
		const dog = readFileSync(join(fixtures, 'iptc/dog_xmp-dst-bare-TrainedAlgorithmicMedia.jpg'));
		const result = await convertImage(dog, { format: 'webp' });
		const xmp = (await sharp(result.data).metadata()).xmpAsString;
		expect(xmp).toContain(MARKER);
	});

	it('resizes to exactly the box with cover', async () => {
		const result = await convertImage(photo('man.jpg'), {
			format: 'jpeg',
			resize: { width: 1200, height: 628, fit: 'cover' },
		});
		expect(result).toMatchObject({ width: 1200, height: 628 });
		expect(await readImageInfo(result.data)).toMatchObject({
			format: 'jpeg',
			width: 1200,
			height: 628,
		});
	});

	it('pads contain with transparency in PNG and white in JPEG', async () => {
		const resize = { width: 300, height: 300, fit: 'contain' } as const;
		const png = await convertImage(photo('man.jpg'), { format: 'png', resize });
		expect(await readImageInfo(png.data)).toMatchObject({
			width: 300,
			height: 300,
			hasAlpha: true,
		});
		expect((await pixelAt(png.data, 0, 0))[3]).toBe(0);
		const jpeg = await convertImage(photo('man.jpg'), { format: 'jpeg', resize });
		expect(await readImageInfo(jpeg.data)).toMatchObject({ width: 300, height: 300 });
		for (const value of await pixelAt(jpeg.data, 0, 0)) expect(value).toBeGreaterThan(250);
	});

	it('keeps the aspect ratio inside the box with inside', async () => {
		const result = await convertImage(photo('man.jpg'), {
			format: 'webp',
			resize: { width: 300, height: 300, fit: 'inside' },
		});
		expect(result).toMatchObject({ width: 300, height: 164 });
		expect(await readImageInfo(result.data)).toMatchObject({
			format: 'webp',
			width: 300,
			height: 164,
		});
	});

	it("keeps the input format for 'original' with a resize", async () => {
		const result = await convertImage(photo('man.jpg'), {
			format: 'original',
			resize: { width: 100, height: 100, fit: 'cover' },
		});
		expect(result).toMatchObject({
			mimeType: 'image/jpeg',
			width: 100,
			height: 100,
			converted: true,
		});
		expect(result.data.includes(MARKER, 0, 'latin1')).toBe(true);
	});

	it('turns transparent pixels white, not black, in JPEG', async () => {
		const result = await convertImage(photo('top.png'), { format: 'jpeg' });
		const [r, g, b] = await pixelAt(result.data, 0, 0);
		expect(Math.min(r, g, b)).toBeGreaterThan(250);
	});

	it('applies EXIF orientation when converting', async () => {
		const result = await convertImage(photo('Landscape_6.jpg'), { format: 'png' });
		expect(result).toMatchObject({ width: 600, height: 450 });
		expect((await sharp(result.data).metadata()).orientation).toBeUndefined();
	});

	it('uses the quality it is given', async () => {
		const low = await convertImage(photo('man.jpg'), { format: 'jpeg', quality: 20 });
		const high = await convertImage(photo('man.jpg'), { format: 'jpeg', quality: 95 });
		expect(low.data.length).toBeLessThan(high.data.length / 2);
	});

	it('never returns an empty image', async () => {
		for (const [input, reason] of [
			[Buffer.alloc(0), 'empty'],
			[Buffer.from('{"error":"not an image"}'), 'not-an-image'],
		] as const) {
			for (const format of ['original', 'png'] as const) {
				const error = await convertImage(input, { format }).catch((e: unknown) => e);
				expect(error).toBeInstanceOf(ImageInputError);
				expect((error as ImageInputError).reason).toBe(reason);
			}
		}
	});

	it('refuses to convert a truncated image', async () => {
		const man = photo('man.jpg');
		const error = await convertImage(man.subarray(0, man.length >> 1), { format: 'png' }).catch(
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(ImageInputError);
		expect((error as ImageInputError).reason).toBe('corrupt');
	});
});
