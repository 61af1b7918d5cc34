/**
 * The counts of the spend guards: what was spent and what requests in flight have reserved, in
 * micro-dollars (whole numbers, so sums stay exact here and in Redis). A credential's Daily Budget
 * is counted per UTC day; a node's Max Spend per Execution over the execution's whole life (its
 * node runs in a loop, before and after a Wait). This process's count is here; in queue mode
 * redisQuota.ts keeps it in Redis for every worker, with this one as its fall-back while Redis does
 * not answer.
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

/** Whether a count starts again each UTC day (a Daily Budget) or never (an execution's cap). */
export type SpendPeriod = 'day' | 'execution';

/** The count's period now: the UTC day, or always the same one. */
export function periodOf(period: SpendPeriod, now: number): string {
	return period === 'day' ? utcDay(now) : 'execution';
}

/** One count: a credential's today, or a node's in one execution. */
export interface SpendLedger {
	/**
	 * Reserves `micros` if today's spend and reservations plus `micros` stay within `budgetMicros`.
	 * Check and reservation are one step: racing requests cannot both take the last dollars.
	 */
	reserve(micros: number, budgetMicros: number): LedgerAnswer | Promise<LedgerAnswer>;
	/** Spent (today) plus reserved now. */
	totalMicros(): number | Promise<number>;
}

interface DayCount {
	spent: number;
	reserved: number;
}

/** The count in this process's memory: check and reservation are synchronous. */
export class LocalSpendLedger implements SpendLedger {
	private readonly days = new Map<string, DayCount>();

	constructor(
		readonly period: SpendPeriod = 'day',
		private readonly now: () => number = Date.now,
	) {}

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
		const day = periodOf(this.period, this.now());
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
