import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { crc32 } from 'zlib';
import {
	ImageInputError,
	prepareInputImage,
	type PrepareOptions,
} from '../../nodes/shared/image/prepare';
import { readImageInfo } from '../../nodes/shared/image/info';

const photo = (name: string) => readFileSync(join(__dirname, '../fixtures/photos', name));

/** Whether EXIF (as sharp returns it, starting with "Exif\0\0") has a GPS IFD pointer in IFD0. */
function hasGpsIfd(exif: Buffer): boolean {
	const tiff = exif.subarray(exif.indexOf('Exif\0\0', 0, 'latin1') + 6);
	const littleEndian = tiff.toString('latin1', 0, 2) === 'II';
	const u16 = (at: number) => (littleEndian ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
	const ifd0 = littleEndian ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
	for (let entry = 0; entry < u16(ifd0); entry++) {
		if (u16(ifd0 + 2 + entry * 12) === 0x8825) return true;
	}
	return false;
}

/** The PNG with a tEXt chunk added after IHDR. */
function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
	const typeAndData = Buffer.from(`tEXt${keyword}\0${text}`, 'latin1');
	const chunk = Buffer.alloc(typeAndData.length + 8);
	chunk.writeUInt32BE(typeAndData.length - 4, 0);
	typeAndData.copy(chunk, 4);
	chunk.writeUInt32BE(crc32(typeAndData), chunk.length - 4);
	return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

async function prepareError(input: Buffer, opts?: PrepareOptions): Promise<ImageInputError> {
	const error = await prepareInputImage(input, opts).catch((e: unknown) => e);
	expect(error).toBeInstanceOf(ImageInputError);
	return error as ImageInputError;
}

async function alphaAt(image: Buffer, x: number, y: number): Promise<number> {
	const { data, info } = await sharp(image)
		.ensureAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return data[(y * info.width + x) * info.channels + 3];
}

describe('prepareInputImage: images that need nothing', () => {
	it.each(['man.jpg', 'room.png', 'top.png'])(
		'sends %s untouched, as the same Buffer',
		async (name) => {
			const input = photo(name);
			const prepared = await prepareInputImage(input, { maxLongSide: 3072 });
			expect(prepared.data).toBe(input);
			expect(prepared).toMatchObject({
				bytesSent: input.length,
				metadataStripped: false,
				converted: false,
				reencoded: false,
				steps: [],
			});
			expect(prepared.sentWidth).toBe(prepared.originalWidth);
			expect(prepared.sentHeight).toBe(prepared.originalHeight);
		},
	);

	it('never upscales', async () => {
		const input = photo('room.png');
		const prepared = await prepareInputImage(input, { maxLongSide: 4096 });
		expect(prepared.data).toBe(input);
		expect(prepared).toMatchObject({ sentWidth: 512, sentHeight: 509 });
	});
});

describe('prepareInputImage: orientation', () => {
	it('rotates an orientation-6 photo upright and drops the tag', async () => {
		const prepared = await prepareInputImage(photo('Landscape_6.jpg'));
		expect(prepared).toMatchObject({
			mimeType: 'image/jpeg',
			originalWidth: 600,
			originalHeight: 450,
			sentWidth: 600,
			sentHeight: 450,
			reencoded: true,
			converted: false,
		});
		expect(prepared.steps).toEqual(['rotated', 'stripped-metadata']);
		const meta = await sharp(prepared.data).metadata();
		expect(meta).toMatchObject({ width: 600, height: 450 });
		expect(meta.orientation).toBeUndefined();
	});

	it('rotates while keeping the rest of the metadata when asked', async () => {
		const prepared = await prepareInputImage(photo('Landscape_6.jpg'), { keepMetadata: true });
		expect(prepared.steps).toEqual(['rotated']);
		expect(prepared.metadataStripped).toBe(false);
		const meta = await sharp(prepared.data).metadata();
		expect(meta).toMatchObject({ width: 600, height: 450 });
		expect(meta.exif).toBeDefined();
		expect(meta.orientation ?? 1).toBe(1);
	});
});

describe('prepareInputImage: privacy', () => {
	const gpsPhoto = photo('sunrise_gps.jpg');

	it('starts from a photo that really has GPS, XMP and IPTC', async () => {
		const meta = await sharp(gpsPhoto).metadata();
		expect(hasGpsIfd(meta.exif!)).toBe(true);
		expect(meta.xmp).toBeDefined();
		expect(meta.iptc).toBeDefined();
	});

	it('strips GPS and all other EXIF, XMP and IPTC by default', async () => {
		const prepared = await prepareInputImage(gpsPhoto);
		expect(prepared).toMatchObject({
			metadataStripped: true,
			reencoded: true,
			mimeType: 'image/jpeg',
		});
		expect(prepared.steps).toEqual(['stripped-metadata']);
		expect(prepared).toMatchObject({ sentWidth: 1024, sentHeight: 640 });
		const meta = await sharp(prepared.data).metadata();
		expect(meta.exif).toBeUndefined();
		expect(meta.xmp).toBeUndefined();
		expect(meta.iptc).toBeUndefined();
		// The APP1 EXIF block (which holds the GPS IFD), the camera make, the XMP and the IPTC block are all gone.
		for (const marker of ['Exif\0\0', 'PENTAX', 'http://ns.adobe.com/xap/1.0/', 'Photoshop 3.0']) {
			expect(gpsPhoto.includes(marker, 0, 'latin1')).toBe(true);
			expect(prepared.data.includes(marker, 0, 'latin1')).toBe(false);
		}
	});

	it('sends the photo untouched, GPS and all, with keepMetadata', async () => {
		const prepared = await prepareInputImage(gpsPhoto, { keepMetadata: true });
		expect(prepared.data).toBe(gpsPhoto);
		expect(prepared.metadataStripped).toBe(false);
	});

	it('keeps the EXIF through a downscale with keepMetadata', async () => {
		const prepared = await prepareInputImage(gpsPhoto, { keepMetadata: true, maxLongSide: 512 });
		expect(prepared).toMatchObject({
			sentWidth: 512,
			sentHeight: 320,
			reencoded: true,
			metadataStripped: false,
		});
		expect(prepared.steps).toEqual(['downscaled']);
		const meta = await sharp(prepared.data).metadata();
		expect(hasGpsIfd(meta.exif!)).toBe(true);
	});

	it('strips PNG text chunks, which can hold a prompt or a name', async () => {
		const withText = withTextChunk(photo('room.png'), 'Author', 'Jane Example, 12 Garden Road');
		expect((await sharp(withText).metadata()).comments).toHaveLength(1);
		const prepared = await prepareInputImage(withText);
		expect(prepared.steps).toEqual(['stripped-metadata']);
		expect(prepared.mimeType).toBe('image/png');
		expect((await sharp(prepared.data).metadata()).comments).toBeUndefined();
		expect(prepared.data.includes('Jane Example', 0, 'latin1')).toBe(false);
	});

	it('strips XMP from a PNG', async () => {
		const withXmp = await sharp(photo('room.png'))
			.png()
			.withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
			.toBuffer();
		const prepared = await prepareInputImage(withXmp);
		expect(prepared.steps).toEqual(['stripped-metadata']);
		expect((await sharp(prepared.data).metadata()).xmp).toBeUndefined();
	});

	it('does not re-encode for an ICC profile alone', async () => {
		const withIcc = await sharp(photo('man.jpg')).withIccProfile('p3').jpeg().toBuffer();
		expect((await sharp(withIcc).metadata()).icc).toBeDefined();
		const prepared = await prepareInputImage(withIcc);
		expect(prepared.data).toBe(withIcc);
	});
});

describe('prepareInputImage: formats', () => {
	it('converts an opaque TIFF to JPEG', async () => {
		const tiff = await sharp(photo('room.png')).tiff().toBuffer();
		const prepared = await prepareInputImage(tiff);
		expect(prepared).toMatchObject({ mimeType: 'image/jpeg', converted: true, reencoded: true });
		expect(prepared.steps).toEqual(['converted-from-tiff']);
		expect(await readImageInfo(prepared.data)).toMatchObject({
			format: 'jpeg',
			width: 512,
			height: 509,
		});
	});

	it('converts a transparent GIF to PNG and keeps the transparency', async () => {
		const gif = await sharp(photo('top.png')).resize(256).gif().toBuffer();
		expect(await alphaAt(gif, 0, 0)).toBe(0);
		const prepared = await prepareInputImage(gif);
		expect(prepared).toMatchObject({ mimeType: 'image/png', converted: true });
		expect(prepared.steps).toEqual(['converted-from-gif']);
		expect(await alphaAt(prepared.data, 0, 0)).toBe(0);
	});

	it('sends the first frame of an animated GIF', async () => {
		const red = await sharp({
			create: { width: 40, height: 30, channels: 3, background: '#ff0000' },
		})
			.png()
			.toBuffer();
		const blue = await sharp({
			create: { width: 40, height: 30, channels: 3, background: '#0000ff' },
		})
			.png()
			.toBuffer();
		const gif = await sharp([red, blue], { join: { animated: true } })
			.gif()
			.toBuffer();
		expect((await sharp(gif).metadata()).pages).toBe(2);
		const prepared = await prepareInputImage(gif);
		expect(prepared).toMatchObject({ sentWidth: 40, sentHeight: 30 });
		const { data } = await sharp(prepared.data).raw().toBuffer({ resolveWithObject: true });
		expect(data[0]).toBeGreaterThan(200);
		expect(data[2]).toBeLessThan(50);
	});

	it('converts AVIF to PNG when transparent and to JPEG when not', async () => {
		const transparent = await prepareInputImage(
			await sharp(photo('top.png')).resize(200).avif().toBuffer(),
		);
		expect(transparent).toMatchObject({ mimeType: 'image/png', steps: ['converted-from-avif'] });
		expect(await alphaAt(transparent.data, 0, 0)).toBe(0);
		const opaque = await prepareInputImage(
			await sharp(photo('man.jpg')).resize(200).avif().toBuffer(),
		);
		expect(opaque).toMatchObject({ mimeType: 'image/jpeg', steps: ['converted-from-avif'] });
	});

	it('keeps WebP as WebP', async () => {
		const webp = await sharp(photo('man.jpg')).webp().toBuffer();
		const untouched = await prepareInputImage(webp);
		expect(untouched).toMatchObject({ mimeType: 'image/webp', reencoded: false });
		const smaller = await prepareInputImage(webp, { maxLongSide: 700 });
		expect(smaller).toMatchObject({
			mimeType: 'image/webp',
			sentWidth: 700,
			reencoded: true,
			converted: false,
		});
	});

	it('refuses SVG', async () => {
		const svg = Buffer.from(
			'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle r="30" cx="32" cy="32"/></svg>',
		);
		const error = await prepareError(svg);
		expect(error.reason).toBe('unsupported-format');
		expect(error.hint).toMatch(/PNG/);
	});

	it('refuses BMP, which this sharp build cannot read', async () => {
		const bmp = Buffer.alloc(128);
		bmp.write('BM', 0, 'latin1');
		expect((await prepareError(bmp)).reason).toBe('unsupported-format');
	});
});

describe('prepareInputImage: CMYK', () => {
	/** A red JPEG in CMYK, as print workflows export them; `profiled` embeds a CMYK ICC profile and EXIF. */
	async function redCmykJpeg(profiled: boolean): Promise<Buffer> {
		const red = sharp({ create: { width: 64, height: 48, channels: 3, background: '#ff0000' } });
		if (!profiled) return await red.toColourspace('cmyk').jpeg().toBuffer();
		return await red
			.withIccProfile('cmyk')
			.withExif({ IFD0: { Copyright: 'Example Print Shop' } })
			.jpeg()
			.toBuffer();
	}

	/** Channels, colour space and the first pixel of what is sent. */
	async function sentColour(prepared: { data: Buffer }) {
		const meta = await sharp(prepared.data).metadata();
		const { data } = await sharp(prepared.data).raw().toBuffer({ resolveWithObject: true });
		return { space: meta.space, channels: meta.channels, rgb: [data[0], data[1], data[2]] };
	}

	it('starts from JPEGs that really are 4-channel CMYK', async () => {
		for (const profiled of [false, true]) {
			expect(await sharp(await redCmykJpeg(profiled)).metadata()).toMatchObject({
				format: 'jpeg',
				space: 'cmyk',
				channels: 4,
			});
		}
	});

	it('converts a CMYK JPEG with no metadata, which would otherwise be sent untouched, to sRGB', async () => {
		const input = await redCmykJpeg(false);
		const prepared = await prepareInputImage(input);
		expect(prepared.data).not.toBe(input);
		expect(prepared).toMatchObject({
			mimeType: 'image/jpeg',
			reencoded: true,
			converted: true,
			steps: ['converted-from-cmyk'],
		});
		const sent = await sentColour(prepared);
		expect(sent).toMatchObject({ space: 'srgb', channels: 3 });
		// Still red: printers' red is a little darker than screen red, never another hue.
		expect(sent.rgb[0]).toBeGreaterThan(200);
		expect(sent.rgb[1]).toBeLessThan(60);
		expect(sent.rgb[2]).toBeLessThan(60);
	});

	it('converts it to sRGB with keepMetadata too, keeping the EXIF and replacing the CMYK profile', async () => {
		const input = await redCmykJpeg(true);
		expect((await sharp(input).metadata()).icc!.toString('latin1', 16, 20)).toBe('CMYK');
		const prepared = await prepareInputImage(input, { keepMetadata: true });
		expect(prepared).toMatchObject({
			reencoded: true,
			converted: true,
			metadataStripped: false,
			steps: ['converted-from-cmyk'],
		});
		const meta = await sharp(prepared.data).metadata();
		expect(meta.exif!.includes('Example Print Shop', 0, 'latin1')).toBe(true);
		// An ICC header names the profile's colour space at byte 16.
		expect(meta.icc!.toString('latin1', 16, 20)).toBe('RGB ');
		const sent = await sentColour(prepared);
		expect(sent).toMatchObject({ space: 'srgb', channels: 3 });
		expect(sent.rgb[0]).toBeGreaterThan(200);
		expect(sent.rgb[1]).toBeLessThan(60);
		expect(sent.rgb[2]).toBeLessThan(60);
	});

	it('stays sRGB when it is also downscaled and compressed', async () => {
		const input = await sharp(photo('man.jpg'))
			.toColourspace('cmyk')
			.jpeg({ quality: 100 })
			.toBuffer();
		const prepared = await prepareInputImage(input, { maxLongSide: 704, targetBytes: 30_000 });
		expect(prepared.steps.slice(0, 2)).toEqual(['converted-from-cmyk', 'downscaled']);
		expect(prepared.bytesSent).toBeLessThanOrEqual(30_000);
		expect(await sentColour(prepared)).toMatchObject({ space: 'srgb', channels: 3 });
	});
});

describe('prepareInputImage: size', () => {
	it('downscales to the longest side, keeping the aspect ratio', async () => {
		const prepared = await prepareInputImage(photo('man.jpg'), { maxLongSide: 704 });
		expect(prepared).toMatchObject({
			originalWidth: 1408,
			originalHeight: 768,
			sentWidth: 704,
			sentHeight: 384,
			mimeType: 'image/jpeg',
			steps: ['downscaled'],
		});
		expect(await readImageInfo(prepared.data)).toMatchObject({ width: 704, height: 384 });
	});

	it('downscales a transparent PNG without losing the transparency', async () => {
		const prepared = await prepareInputImage(photo('top.png'), { maxLongSide: 549 });
		expect(prepared).toMatchObject({ mimeType: 'image/png', sentWidth: 512, sentHeight: 549 });
		expect(await alphaAt(prepared.data, 0, 0)).toBe(0);
	});

	it('recompresses until the file fits targetBytes', async () => {
		const input = photo('man.jpg');
		const prepared = await prepareInputImage(input, { targetBytes: 60_000 });
		expect(prepared.bytesSent).toBeLessThanOrEqual(60_000);
		expect(prepared.data.length).toBe(prepared.bytesSent);
		expect(prepared.reencoded).toBe(true);
		expect(prepared.mimeType).toBe('image/jpeg');
		expect(prepared.steps.some((step) => /^compressed-jpeg-q\d+$/.test(step))).toBe(true);
	});

	it('shrinks the image when quality alone is not enough', async () => {
		const prepared = await prepareInputImage(photo('man.jpg'), { targetBytes: 15_000 });
		expect(prepared.bytesSent).toBeLessThanOrEqual(15_000);
		expect(prepared.sentWidth).toBeLessThan(1408);
		expect(prepared.sentWidth / prepared.sentHeight).toBeCloseTo(1408 / 768, 1);
		expect(prepared.steps).toContain('downscaled');
	});

	it('uses WebP to fit a transparent PNG into targetBytes, keeping the transparency', async () => {
		const input = photo('top.png');
		const prepared = await prepareInputImage(input, { targetBytes: 100_000 });
		expect(prepared.bytesSent).toBeLessThanOrEqual(100_000);
		expect(prepared).toMatchObject({ mimeType: 'image/webp', converted: true });
		expect(await alphaAt(prepared.data, 0, 0)).toBe(0);
	});

	it('leaves an image alone that is already under targetBytes', async () => {
		const input = photo('room.png');
		const prepared = await prepareInputImage(input, { targetBytes: input.length });
		expect(prepared.data).toBe(input);
	});

	it('gives up with too-large when no size gets under targetBytes', async () => {
		const error = await prepareError(photo('man.jpg'), { targetBytes: 300 });
		expect(error.reason).toBe('too-large');
	});
});

describe('prepareInputImage: decompression bomb', () => {
	const giant = photo('giant-image.jpg');

	it('refuses 280 MP under the default 100 MP limit, before decoding', async () => {
		const started = Date.now();
		const error = await prepareError(giant, { maxLongSide: 3072 });
		expect(error.reason).toBe('too-many-pixels');
		expect(error.message).toContain('20000×14000');
		expect(error.message).toContain('280');
		expect(error.hint).not.toBe('');
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('downscales it with shrink-on-load when the limit allows it', async () => {
		const started = Date.now();
		const prepared = await prepareInputImage(giant, {
			limitInputPixels: 300_000_000,
			maxLongSide: 2048,
		});
		expect(prepared).toMatchObject({
			originalWidth: 20000,
			originalHeight: 14000,
			sentWidth: 2048,
			sentHeight: 1434,
			mimeType: 'image/jpeg',
			steps: ['downscaled'],
		});
		expect(await readImageInfo(prepared.data)).toMatchObject({ width: 2048, height: 1434 });
		expect(Date.now() - started).toBeLessThan(10_000);
	});
});

describe('prepareInputImage: refusals', () => {
	it('refuses 0 bytes', async () => {
		const error = await prepareError(Buffer.alloc(0));
		expect(error.reason).toBe('empty');
		expect(error.message).toMatch(/empty/);
	});

	it('refuses a text file named .png', async () => {
		const error = await prepareError(Buffer.from('Meeting notes\n- buy bananas\n'));
		expect(error.reason).toBe('not-an-image');
		expect(error.hint).toMatch(/PNG, JPEG, WebP/);
	});

	it('refuses a PDF renamed .png and says it is a PDF', async () => {
		const pdf = Buffer.from(
			'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
			'latin1',
		);
		const error = await prepareError(pdf);
		expect(error.reason).toBe('not-an-image');
		expect(error.message).toContain('PDF');
	});

	it('refuses a JPEG cut in half even when it would be sent untouched', async () => {
		const man = photo('man.jpg');
		const half = man.subarray(0, man.length >> 1);
		// The header alone reads fine, so only the completeness check catches it.
		await expect(sharp(half).metadata()).resolves.toMatchObject({ width: 1408 });
		expect((await prepareError(half)).reason).toBe('corrupt');
	});

	it('refuses a JPEG cut in half when decoding it', async () => {
		const photoWithGps = photo('sunrise_gps.jpg');
		const error = await prepareError(photoWithGps.subarray(0, photoWithGps.length >> 1));
		expect(error.reason).toBe('corrupt');
		expect(error.hint).toMatch(/fetch it again/);
	});

	it('refuses a PNG with its end cut off', async () => {
		const room = photo('room.png');
		expect((await prepareError(room.subarray(0, room.length - 100))).reason).toBe('corrupt');
	});

	it('is an Error with a name, a message and a hint', async () => {
		const error = await prepareError(Buffer.alloc(0));
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe('ImageInputError');
		expect(typeof error.hint).toBe('string');
	});
});
