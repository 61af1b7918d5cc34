/**
 * The count of a credential's Daily Budget: what was spent this UTC day and what requests in flight
 * have reserved, in micro-dollars (whole numbers, so sums stay exact here and in Redis). This
 * process's count is here; in queue mode redisQuota.ts keeps it in Redis for every worker, with
 * this one as its fall-back while Redis does not answer.
 */

/** USD as whole micro-dollars. */
export function toMicros(usd: number): number {
	return Math.round(usd * 1e6);
}

/** The UTC day of a time, as keys name it: `2026-12-07`. */
export function utcDay(now: number): string {
	return new Date(now).toISOString().slice(0, 10);
}

/** When the UTC day of `now` ends: the next 00:00 UTC, when a Daily Budget starts again. */
export function nextUtcMidnight(now: number): Date {
	const day = new Date(now);
	return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1));
}

/** A ledger's answer to a reservation. */
export interface LedgerAnswer {
	/** Spent today plus reserved, this reservation included when it was taken. */
	totalMicros: number;
	/** When the reservation fitted the budget: ends it with what was actually spent (0: nothing). */
	settle?: (actualMicros: number) => Promise<void> | void;
}

/** One credential's daily count. */
export interface DailyLedger {
	/**
	 * Reserves `micros` if today's spend and reservations plus `micros` stay within `budgetMicros`.
	 * Check and reservation are one step: racing requests cannot both take the last dollars.
	 */
	reserve(micros: number, budgetMicros: number): LedgerAnswer | Promise<LedgerAnswer>;
	/** Spent today plus reserved now. */
	totalMicros(): number | Promise<number>;
}

interface DayCount {
	spent: number;
	reserved: number;
}

/** The count in this process's memory: check and reservation are synchronous. */
export class LocalDailyLedger implements DailyLedger {
	private readonly days = new Map<string, DayCount>();

	constructor(private readonly now: () => number = Date.now) {}

	reserve(micros: number, budgetMicros: number): LedgerAnswer {
		const count = this.today();
		const total = count.spent + count.reserved;
		if (total + micros > budgetMicros) return { totalMicros: total };
		count.reserved += micros;
		// A request that ends after midnight settles on the day it was reserved on.
		return {
			totalMicros: total + micros,
			settle: (actualMicros) => {
				count.reserved -= micros;
				count.spent += actualMicros;
			},
		};
	}

	totalMicros(): number {
		const count = this.today();
		return count.spent + count.reserved;
	}

	private today(): DayCount {
		const day = utcDay(this.now());
		let count = this.days.get(day);
		if (!count) {
			// A new day: the earlier ones are over (their late settlements keep their own count).
			this.days.clear();
			count = { spent: 0, reserved: 0 };
			this.days.set(day, count);
		}
		return count;
	}
}
