import { base64Length, planRequestBudget } from '../../nodes/shared/image/prepare';

const MB = 1024 * 1024;

/** What the request would weigh with every image at its target size. */
function requestBytesAt(targets: number[], overheadBytes: number): number {
	return targets.reduce((sum, bytes) => sum + base64Length(bytes) + 64, overheadBytes);
}

describe('base64Length', () => {
	it('counts 4 characters per started group of 3 bytes', () => {
		expect(base64Length(0)).toBe(0);
		expect(base64Length(1)).toBe(4);
		expect(base64Length(3)).toBe(4);
		expect(base64Length(4)).toBe(8);
		expect(base64Length(3 * MB)).toBe(4 * MB);
	});
});

describe('planRequestBudget', () => {
	it('leaves images alone when the request fits', () => {
		const images = [{ bytes: 2 * MB }, { bytes: 500_000 }];
		const budget = planRequestBudget(images, 20 * MB);
		expect(budget).toEqual({
			fits: true,
			requestBytes: requestBytesAt([2 * MB, 500_000], 64 * 1024),
			scale: 1,
			targetBytes: [2 * MB, 500_000],
		});
	});

	it('shares the limit between images in proportion to their size', () => {
		const images = [{ bytes: 12 * MB }, { bytes: 6 * MB }, { bytes: 3 * MB }];
		const budget = planRequestBudget(images, 20 * MB);
		expect(budget.fits).toBe(false);
		expect(budget.requestBytes).toBeGreaterThan(20 * MB);
		expect(requestBytesAt(budget.targetBytes, 64 * 1024)).toBeLessThanOrEqual(20 * MB);
		// Not much room wasted either.
		expect(requestBytesAt(budget.targetBytes, 64 * 1024)).toBeGreaterThan(19.9 * MB);
		expect(budget.targetBytes[0] / budget.targetBytes[1]).toBeCloseTo(2, 3);
		expect(budget.targetBytes[1] / budget.targetBytes[2]).toBeCloseTo(2, 3);
	});

	it('scales sides by the square root of the bytes factor', () => {
		const images = [{ bytes: 40 * MB }, { bytes: 40 * MB }];
		const budget = planRequestBudget(images, 20 * MB, 0);
		const bytesFactor = budget.targetBytes[0] / images[0].bytes;
		expect(bytesFactor).toBeGreaterThan(0.18);
		expect(bytesFactor).toBeLessThan(0.19);
		expect(budget.scale).toBeCloseTo(Math.sqrt(bytesFactor), 4);
	});

	it('counts the prompt and request overhead against the limit', () => {
		const images = [{ bytes: 700_000 }];
		expect(planRequestBudget(images, MB, 0).fits).toBe(true);
		const withLongPrompt = planRequestBudget(images, MB, 200_000);
		expect(withLongPrompt.fits).toBe(false);
		expect(requestBytesAt(withLongPrompt.targetBytes, 200_000)).toBeLessThanOrEqual(MB);
	});

	it('throws when the overhead alone is over the limit', () => {
		expect(() => planRequestBudget([{ bytes: 10 }], 1000, 2000)).toThrow(RangeError);
	});
});
