import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkSimilarity, imageSimilarity } from '../../nodes/shared/checks/similarity';

const fixture = (path: string) => readFileSync(join(__dirname, '..', 'fixtures', path));

const MAN = fixture('photos/man.jpg');
const SUNRISE = fixture('photos/sunrise_gps.jpg');
const ROOM = fixture('photos/room.png');
const OBJECTS = fixture('photos/objects.png');

describe('imageSimilarity', () => {
	it('is 1 for the same image', async () => {
		expect(await imageSimilarity(MAN, MAN)).toBeCloseTo(1, 6);
	});

	it('stays high for a resized, recompressed copy', async () => {
		const copy = await sharp(SUNRISE).resize({ width: 300 }).jpeg({ quality: 55 }).toBuffer();

		expect(await imageSimilarity(copy, SUNRISE)).toBeGreaterThan(0.95);
	});

	it('stays high for a colour edit that keeps the composition', async () => {
		const edited = await sharp(MAN).modulate({ brightness: 1.15, saturation: 1.3 }).toBuffer();

		expect(await imageSimilarity(edited, MAN)).toBeGreaterThan(0.9);
	});

	it('is low for a different photo', async () => {
		expect(await imageSimilarity(MAN, SUNRISE)).toBeLessThan(0.3);
		expect(await imageSimilarity(ROOM, OBJECTS)).toBeLessThan(0.3);
	});

	it('applies EXIF orientation before comparing', async () => {
		const rotatedOnDisk = fixture('photos/Landscape_6.jpg');
		const upright = await sharp(rotatedOnDisk).rotate().jpeg({ quality: 90 }).toBuffer();

		expect(await imageSimilarity(rotatedOnDisk, upright)).toBeGreaterThan(0.95);
	});

	it('never leaves 0..1', async () => {
		const black = await sharp({
			create: { width: 64, height: 64, channels: 3, background: '#000' },
		})
			.png()
			.toBuffer();
		const score = await imageSimilarity(black, SUNRISE);

		expect(score).toBeGreaterThanOrEqual(0);
		expect(score).toBeLessThanOrEqual(1);
	});
});

describe('checkSimilarity', () => {
	it('"at least" passes an edit that kept the composition and fails an unrelated image', async () => {
		const edit = await sharp(ROOM).modulate({ brightness: 1.1 }).png().toBuffer();

		const kept = await checkSimilarity(edit, ROOM, { mode: 'atLeast', threshold: 0.8 });
		const lost = await checkSimilarity(OBJECTS, ROOM, { mode: 'atLeast', threshold: 0.8 });

		expect(kept).toMatchObject({ name: 'similarity', passed: true });
		expect(kept.score).toBeGreaterThan(0.8);
		expect(lost.passed).toBe(false);
		expect(lost.score).toBeLessThan(0.8);
	});

	it('"at most" fails a near-duplicate of an earlier image and passes a new one', async () => {
		const repost = await sharp(MAN).resize({ width: 700 }).jpeg({ quality: 70 }).toBuffer();

		const duplicate = await checkSimilarity(repost, MAN, { mode: 'atMost', threshold: 0.9 });
		const fresh = await checkSimilarity(SUNRISE, MAN, { mode: 'atMost', threshold: 0.9 });

		expect(duplicate.passed).toBe(false);
		expect(fresh.passed).toBe(true);
	});

	it('reports the mode, threshold and method', async () => {
		const result = await checkSimilarity(MAN, MAN, { mode: 'atLeast', threshold: 0.5 });

		expect(result.score).toBe(1);
		expect(result.details).toEqual({
			mode: 'atLeast',
			threshold: 0.5,
			method: 'SSIM of 64x64 copies (EXIF orientation applied, transparency on white)',
		});
	});

	it('rejects a threshold outside 0..1', async () => {
		await expect(checkSimilarity(MAN, MAN, { mode: 'atLeast', threshold: 80 })).rejects.toThrow(
			'between 0 and 1',
		);
	});
});
