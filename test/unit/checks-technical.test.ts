import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
	checkNotBlank,
	checkTransparency,
	parseAspectRatio,
	runTechnicalChecks,
} from '../../nodes/shared/checks/technical';

const fixture = (path: string) => readFileSync(join(__dirname, '..', 'fixtures', path));

const MAN = fixture('photos/man.jpg'); // 1408x768 JPEG
const TOP = fixture('photos/top.png'); // 1024x1098 RGBA, transparent background
const ROOM = fixture('photos/room.png'); // 512x509 RGB

async function solid(
	colour: string,
	options: { width?: number; height?: number; alpha?: number } = {},
) {
	const channels = options.alpha === undefined ? 3 : 4;
	return await sharp({
		create: {
			width: options.width ?? 256,
			height: options.height ?? 256,
			channels,
			background: options.alpha === undefined ? colour : { ...hex(colour), alpha: options.alpha },
		},
	})
		.png()
		.toBuffer();
}

function hex(colour: string) {
	const value = parseInt(colour.slice(1), 16);
	return { r: value >> 16, g: (value >> 8) & 0xff, b: value & 0xff };
}

describe('runTechnicalChecks', () => {
	it('runs only the checks that have options, in a fixed order', async () => {
		const results = await runTechnicalChecks(MAN, {
			notBlank: {},
			fileSize: { maxBytes: 200_000 },
			dimensions: { minWidth: 1024 },
		});

		expect(results.map((result) => result.name)).toEqual(['dimensions', 'fileSize', 'notBlank']);
		expect(results.every((result) => result.passed)).toBe(true);
	});

	it('runs nothing when no check is enabled', async () => {
		expect(await runTechnicalChecks(MAN, {})).toEqual([]);
	});

	it('throws for input that is not an image', async () => {
		await expect(runTechnicalChecks(Buffer.from('%PDF-1.7'), { notBlank: {} })).rejects.toThrow(
			/not an image/,
		);
	});
});

describe('dimensions', () => {
	it('passes inside the limits and lists every limit that is broken', async () => {
		const [inside] = await runTechnicalChecks(MAN, {
			dimensions: { minWidth: 1408, maxWidth: 1408, minHeight: 768, maxHeight: 768 },
		});
		const [outside] = await runTechnicalChecks(MAN, {
			dimensions: { minWidth: 2048, maxHeight: 512 },
		});

		expect(inside.passed).toBe(true);
		expect(outside.passed).toBe(false);
		expect(outside.details).toMatchObject({
			width: 1408,
			height: 768,
			problems: ['width 1408 is below 2048', 'height 768 is above 512'],
		});
	});

	it('measures the image as displayed, after EXIF orientation', async () => {
		// Stored 450x600 with orientation 6: shown 600 wide.
		const [result] = await runTechnicalChecks(fixture('photos/Landscape_6.jpg'), {
			dimensions: { maxWidth: 500 },
		});

		expect(result.passed).toBe(false);
		expect(result.details).toMatchObject({ width: 600, height: 450 });
	});

	it('reads a 280-megapixel image from its header alone', async () => {
		const [dimensions, blank] = await runTechnicalChecks(fixture('photos/giant-image.jpg'), {
			dimensions: { maxWidth: 8000 },
			notBlank: {},
		});

		expect(dimensions).toMatchObject({ passed: false, details: { width: 20000, height: 14000 } });
		// Decoding is refused beyond sharp's pixel limit: the pixel check fails and says why.
		expect(blank).toMatchObject({
			passed: false,
			details: { error: expect.stringMatching(/pixel limit/) },
		});
	});
});

describe('aspectRatio', () => {
	it('accepts a generated 16:9 image that is a little off the exact ratio', async () => {
		const [result] = await runTechnicalChecks(MAN, { aspectRatio: { ratio: '16:9' } });

		expect(result.passed).toBe(true);
		expect(result.details).toMatchObject({
			actualRatio: 1.8333,
			expectedRatio: 1.7778,
			deviation: 0.0313,
		});
	});

	it('rejects another ratio, and honours a tighter tolerance', async () => {
		const [square] = await runTechnicalChecks(MAN, { aspectRatio: { ratio: '1:1' } });
		const [strict] = await runTechnicalChecks(MAN, {
			aspectRatio: { ratio: '16:9', tolerance: 0.01 },
		});

		expect(square.passed).toBe(false);
		expect(strict.passed).toBe(false);
	});

	it('takes ratios as 16:9, 16/9, a decimal string or a number', () => {
		expect(parseAspectRatio('16:9')).toBeCloseTo(1.7778, 4);
		expect(parseAspectRatio('16/9')).toBeCloseTo(1.7778, 4);
		expect(parseAspectRatio('1.5')).toBe(1.5);
		expect(parseAspectRatio(0.75)).toBe(0.75);
		expect(() => parseAspectRatio('wide')).toThrow('"wide" is not an aspect ratio');
		expect(() => parseAspectRatio('16:0')).toThrow();
	});
});

describe('format', () => {
	it('accepts allowed formats, with jpg as another name for jpeg', async () => {
		const [jpeg] = await runTechnicalChecks(MAN, { format: { allowed: ['PNG', 'jpg'] } });
		const [png] = await runTechnicalChecks(ROOM, { format: { allowed: ['jpeg', 'webp'] } });

		expect(jpeg).toMatchObject({
			passed: true,
			details: { format: 'jpeg', allowed: ['png', 'jpeg'] },
		});
		expect(png).toMatchObject({ passed: false, details: { format: 'png' } });
	});

	it('tells WebP from PNG by content', async () => {
		const webp = await sharp(ROOM).webp().toBuffer();
		const [result] = await runTechnicalChecks(webp, { format: { allowed: ['webp'] } });

		expect(result.passed).toBe(true);
	});
});

describe('fileSize', () => {
	it('compares the byte length with the maximum', async () => {
		const [small] = await runTechnicalChecks(MAN, { fileSize: { maxBytes: 130_277 } });
		const [large] = await runTechnicalChecks(MAN, { fileSize: { maxBytes: 130_276 } });

		expect(small).toMatchObject({ passed: true, details: { sizeBytes: 130_277 } });
		expect(large.passed).toBe(false);
	});
});

describe('transparency', () => {
	it('finds the transparent background of a product shot', async () => {
		const result = await checkTransparency(TOP, { expect: 'transparent' });

		expect(result.passed).toBe(true);
		expect(result.details).toMatchObject({
			hasAlphaChannel: true,
			transparent: true,
			minOpacity: 0,
		});
	});

	it('calls an image with an alpha channel that is opaque everywhere opaque', async () => {
		const opaqueRgba = await solid('#336699', { alpha: 1 });

		expect(await checkTransparency(opaqueRgba, { expect: 'opaque' })).toMatchObject({
			passed: true,
			details: { hasAlphaChannel: true, transparent: false, minOpacity: 1 },
		});
		expect((await checkTransparency(opaqueRgba, { expect: 'transparent' })).passed).toBe(false);
	});

	it('counts half-transparent pixels as transparency', async () => {
		const result = await checkTransparency(await solid('#336699', { alpha: 0.5 }), {
			expect: 'transparent',
		});

		expect(result.passed).toBe(true);
		expect(result.details).toMatchObject({ minOpacity: 0.502 });
	});

	it('sees transparency in a palette PNG with a tRNS chunk', async () => {
		const result = await checkTransparency(fixture('c2pa/libpng-test.png'), { expect: 'opaque' });

		expect(result.passed).toBe(false);
	});

	it('calls a JPEG opaque', async () => {
		const result = await checkTransparency(MAN, { expect: 'opaque' });

		expect(result).toMatchObject({
			passed: true,
			details: { hasAlphaChannel: false, transparent: false },
		});
	});
});

describe('notBlank', () => {
	it.each([
		['a grey placeholder', () => solid('#808080')],
		[
			'a black placeholder saved as JPEG',
			async () =>
				await sharp(await solid('#000000'))
					.jpeg()
					.toBuffer(),
		],
		['a fully transparent image', () => solid('#ff0000', { alpha: 0 })],
	])('fails %s', async (_name, make) => {
		const result = await checkNotBlank(await make());

		expect(result.passed).toBe(false);
		expect((result.details as { maxStdev: number }).maxStdev).toBeLessThan(1);
	});

	it('fails an almost uniform image with faint noise', async () => {
		const noise = Buffer.alloc(128 * 128 * 3);
		for (let i = 0; i < noise.length; i++) noise[i] = 128 + ((i * 7919) % 5) - 2;
		const noisy = await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } })
			.png()
			.toBuffer();

		expect((await checkNotBlank(noisy)).passed).toBe(false);
	});

	it.each([
		['photos/man.jpg'],
		['photos/top.png'],
		['c2pa/C.jpg'],
		['gemini/imagen-3.0-generate-002_vertex_raw-api.jpg'],
	])('passes the real image %s', async (path) => {
		const result = await checkNotBlank(fixture(path));

		expect(result.passed).toBe(true);
		expect((result.details as { maxStdev: number }).maxStdev).toBeGreaterThan(10);
	});

	it('uses the threshold it is given', async () => {
		const faint = await sharp({
			create: { width: 64, height: 64, channels: 3, background: '#808080' },
		})
			.composite([{ input: await solid('#888888', { width: 32, height: 64 }), left: 0, top: 0 }])
			.png()
			.toBuffer();

		expect((await checkNotBlank(faint)).passed).toBe(true);
		expect((await checkNotBlank(faint, { minStdev: 10 })).passed).toBe(false);
	});
});
