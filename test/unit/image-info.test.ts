import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { ImageInputError } from '../../nodes/shared/image/inputError';
import {
	extensionFor,
	mimeTypeFor,
	readImageInfo,
	readImageSize,
} from '../../nodes/shared/image/info';

const photo = (name: string) => readFileSync(join(__dirname, '../fixtures/photos', name));

async function infoError(input: Buffer): Promise<ImageInputError> {
	const error = await readImageInfo(input).catch((e: unknown) => e);
	expect(error).toBeInstanceOf(ImageInputError);
	return error as ImageInputError;
}

describe('readImageInfo', () => {
	it('reports the displayed size of a photo with EXIF orientation 6', async () => {
		const input = photo('Landscape_6.jpg');
		const info = await readImageInfo(input);
		expect(info).toEqual({
			format: 'jpeg',
			mimeType: 'image/jpeg',
			width: 600,
			height: 450,
			hasAlpha: false,
			orientation: 6,
			sizeBytes: input.length,
		});
	});

	it('sees the alpha channel of a transparent product PNG', async () => {
		const info = await readImageInfo(photo('top.png'));
		expect(info).toMatchObject({
			format: 'png',
			mimeType: 'image/png',
			width: 1024,
			height: 1098,
			hasAlpha: true,
		});
		expect(info.orientation).toBeUndefined();
	});

	it('reads the header of a 280 MP image without refusing or decoding it', async () => {
		const started = Date.now();
		const info = await readImageInfo(photo('giant-image.jpg'));
		expect(info).toMatchObject({ format: 'jpeg', width: 20000, height: 14000 });
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it('tells AVIF from other HEIF files', async () => {
		const avif = await sharp(photo('room.png')).avif().toBuffer();
		const info = await readImageInfo(avif);
		expect(info).toMatchObject({ format: 'avif', mimeType: 'image/avif', width: 512, height: 509 });
	});

	it('refuses an empty buffer', async () => {
		const error = await infoError(Buffer.alloc(0));
		expect(error.reason).toBe('empty');
		expect(error.hint).not.toBe('');
	});

	it('refuses text and names a PDF for what it is', async () => {
		expect((await infoError(Buffer.from('just some words, saved as photo.png'))).reason).toBe(
			'not-an-image',
		);
		const pdf = await infoError(
			Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n'),
		);
		expect(pdf.reason).toBe('not-an-image');
		expect(pdf.message).toContain('PDF');
	});

	it('calls a BMP an image this build cannot read, not a non-image', async () => {
		const bmp = Buffer.alloc(64);
		bmp.write('BM', 0, 'latin1');
		const error = await infoError(bmp);
		expect(error.reason).toBe('unsupported-format');
		expect(error.message).toContain('BMP');
	});
});

describe('readImageSize', () => {
	it('reads a PNG header to the same size and type as sharp', async () => {
		for (const name of ['top.png', 'room.png', 'objects.png']) {
			const { format, mimeType, width, height } = await readImageInfo(photo(name));
			expect(await readImageSize(photo(name))).toEqual({ format, mimeType, width, height });
		}
	});

	it('gives the displayed size of a PNG with an EXIF orientation, as sharp does', async () => {
		const turned = await sharp({
			create: { width: 40, height: 20, channels: 3, background: '#f80' },
		})
			.png()
			.withMetadata({ orientation: 6 })
			.toBuffer();
		expect(turned.includes('eXIf')).toBe(true);
		expect(await readImageSize(turned)).toEqual({
			format: 'png',
			mimeType: 'image/png',
			width: 20,
			height: 40,
		});
	});

	it('reads other formats through sharp', async () => {
		expect(await readImageSize(photo('Landscape_6.jpg'))).toEqual({
			format: 'jpeg',
			mimeType: 'image/jpeg',
			width: 600,
			height: 450,
		});
		const webp = await sharp(photo('room.png')).webp().toBuffer();
		expect(await readImageSize(webp)).toEqual({
			format: 'webp',
			mimeType: 'image/webp',
			width: 512,
			height: 509,
		});
	});

	it('refuses what is not an image, or a PNG cut off inside its header', async () => {
		await expect(
			readImageSize(Buffer.from('just some words, saved as photo.png')),
		).rejects.toBeInstanceOf(ImageInputError);
		await expect(readImageSize(photo('top.png').subarray(0, 20))).rejects.toBeInstanceOf(
			ImageInputError,
		);
		await expect(readImageSize(Buffer.alloc(0))).rejects.toBeInstanceOf(ImageInputError);
	});
});

describe('mimeTypeFor and extensionFor', () => {
	it('maps format names and their aliases to MIME types', () => {
		expect(mimeTypeFor('jpeg')).toBe('image/jpeg');
		expect(mimeTypeFor('JPG')).toBe('image/jpeg');
		expect(mimeTypeFor('tif')).toBe('image/tiff');
		expect(mimeTypeFor('avif')).toBe('image/avif');
		expect(mimeTypeFor('heic')).toBe('image/heic');
		expect(mimeTypeFor('pdf')).toBe('application/octet-stream');
	});

	it('maps MIME types to file extensions, ignoring case and parameters', () => {
		expect(extensionFor('image/jpeg')).toBe('jpg');
		expect(extensionFor('IMAGE/PNG; charset=binary')).toBe('png');
		expect(extensionFor('image/webp')).toBe('webp');
		expect(extensionFor('image/avif')).toBe('avif');
		expect(extensionFor('application/pdf')).toBe('bin');
	});

	it('round-trips every format the nodes write', () => {
		for (const format of ['png', 'jpeg', 'webp', 'avif']) {
			const extension = extensionFor(mimeTypeFor(format));
			expect(mimeTypeFor(extension)).toBe(mimeTypeFor(format));
		}
	});
});
