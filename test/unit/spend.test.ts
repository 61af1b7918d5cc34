/**
 * The spend guards' arithmetic: what an answer cost by its usage, how amounts read in errors, and a
 * Daily Budget's count across midnight (UTC). The guards against the simulator and Redis are in
 * test/integration/spend.test.ts.
 */
import { answerCostUsd, estimateCostUsd, findModel } from '../../nodes/shared/catalogue';
import { LocalSpendLedger, nextUtcMidnight } from '../../nodes/shared/transport/ledger';
import { formatUsd } from '../../nodes/shared/transport';

describe('what an answer cost', () => {
	const nanoBanana21 = findModel('gemini-nano-banana-2.1');
	const nanoBanana2 = findModel('gemini-3.1-flash-image');

	it('is its image tokens at the token price, where the catalogue has one (batch at half)', () => {
		// A 2K answer's 1680 tokens at $30 per 1M, whatever size was asked.
		expect(answerCostUsd(nanoBanana21, '1K', { imageTokens: 1680, images: 1 })).toBe(0.0504);
		expect(answerCostUsd(nanoBanana21, '1K', { imageTokens: 1680, images: 1 }, true)).toBe(0.0252);
		expect(answerCostUsd(nanoBanana21, '1K', { imageTokens: 1120, images: 1 })).toBe(
			estimateCostUsd(nanoBanana21, '1K', 1),
		);
	});

	it('is the per-image price for the images returned, where no token price is known', () => {
		expect(answerCostUsd(nanoBanana2, '2K', { imageTokens: 1680, images: 2 })).toBe(0.202);
		expect(answerCostUsd(nanoBanana2, '2K', { images: 0 })).toBe(0);
	});

	it('is nothing for an answer without an image, and unknown for a model with no price', () => {
		expect(answerCostUsd(nanoBanana21, '1K', { imageTokens: 0, images: 0 })).toBe(0);
		expect(answerCostUsd(undefined, '1K', { imageTokens: 1120, images: 1 })).toBeUndefined();
	});
});

describe('amounts in errors', () => {
	it.each([
		[0.0336, '$0.0336'],
		[0.2, '$0.20'],
		[0.134, '$0.134'],
		[0, '$0.00'],
		[12.5, '$12.50'],
		[1.23456, '$1.23'],
	])('%p reads %s', (amount, text) => expect(formatUsd(amount)).toBe(text));
});

describe("a Daily Budget's count in the process", () => {
	const ONE_CENT = 10_000;

	it('reserves while the budget holds, and never past it', () => {
		const ledger = new LocalSpendLedger('day', () => Date.UTC(2026, 11, 7, 12));
		const first = ledger.reserve(3 * ONE_CENT, 5 * ONE_CENT);
		expect(first.totalMicros).toBe(3 * ONE_CENT);
		const second = ledger.reserve(3 * ONE_CENT, 5 * ONE_CENT);
		expect(second).toEqual({ totalMicros: 3 * ONE_CENT });
		// Settled at less than reserved: the difference is free again.
		void first.settle!(ONE_CENT);
		expect(ledger.reserve(3 * ONE_CENT, 5 * ONE_CENT).settle).toBeDefined();
		expect(ledger.totalMicros()).toBe(4 * ONE_CENT);
	});

	it('starts again at 00:00 UTC; a request reserved before settles on its own day', () => {
		let now = Date.UTC(2026, 11, 7, 23, 59, 59);
		const ledger = new LocalSpendLedger('day', () => now);
		const late = ledger.reserve(4 * ONE_CENT, 5 * ONE_CENT);
		expect(nextUtcMidnight(now).toISOString()).toBe('2026-12-08T00:00:00.000Z');
		now = Date.UTC(2026, 11, 8, 0, 0, 1);
		expect(ledger.totalMicros()).toBe(0);
		void late.settle!(4 * ONE_CENT);
		expect(ledger.totalMicros()).toBe(0);
		expect(ledger.reserve(5 * ONE_CENT, 5 * ONE_CENT).totalMicros).toBe(5 * ONE_CENT);
	});
});
