/**
 * The spend guards of one node run, checked where a request passes the gate (quota.ts):
 * - Max Spend per Execution: what this node spent in this workflow execution (all its runs, as in
 *   a loop), plus what its requests in flight reserved, plus the next request's estimate, must
 *   stay within the cap;
 * - the credential's Daily Budget: the same, counted per credential and UTC day in the process's
 *   registry (quota.ts), shared through Redis in queue mode (redisQuota.ts).
 * A request reserves its estimate (the catalogue's price) before it is sent, the check and the
 * reservation in one step; its answer's cost (the usage Google reports) then replaces the estimate,
 * and a request Google does not bill (refused, never sent) gives it back. A request that would pass
 * a limit is not sent: it fails with an error naming the limit, the spend and the cure.
 */
import { GeminiFailure } from './failure';
import { nextUtcMidnight, toMicros } from './ledger';
import type { LedgerAnswer, SpendLedger } from './ledger';
import { processQuotaGates } from './quota';
import type { QuotaGates } from './quota';

/** A limit in USD, and what names its count (the execution and node; the credential). */
export interface SpendLimit {
	usd: number;
	/** Only hashed, never kept: it may hold a key. */
	identity: string;
}

export interface SpendLimits {
	/** Max Spend per Execution; undefined: no cap. */
	cap?: SpendLimit;
	/** The credential's Daily Budget; undefined: none. */
	budget?: SpendLimit;
}

/** What a request (or a batch item's requests) will cost, by the catalogue. */
export interface RequestPrice {
	model: string;
	/** Undefined: the catalogue has no price for the model (or its size). */
	estimateUsd?: number;
}

/** A request's reserved estimate, until its answer says what it cost. */
export interface SpendReservation {
	readonly estimateUsd: number;
	/** The answer's cost replaces the estimate. The first of settle, keep and release counts. */
	settle(actualUsd: number): void;
	/** Sent, but no answer says what it cost (timeout, lost connection): the estimate stays spent. */
	keep(): void;
	/** Not billed (refused by Google, never sent): the estimate is given back. */
	release(): void;
}

/** What each output item tells of the Daily Budget. */
export interface SpendReport {
	spentTodayUsd: number;
	budgetUsd: number;
}

const usd = (micros: number) => micros / 1e6;

/** `$0.0672`, `$0.20`, `$12.50`: cents always, and the fractions of a cent image prices have. */
export function formatUsd(amount: number): string {
	const text = amount.toFixed(amount < 1 ? 4 : 2).replace(/(\.\d\d)(\d*?)0+$/, '$1$2');
	return `$${text}`;
}

function spendFailure(message: string, description: string, reason: string): GeminiFailure {
	return new GeminiFailure({ kind: 'setup', message, description, reason, retryable: false });
}

function unpricedFailure(model: string, limits: SpendLimits): GeminiFailure {
	const guards = [
		limits.cap ? 'Max Spend per Execution' : '',
		limits.budget ? "the credential's Daily Budget" : '',
	].filter(Boolean);
	return spendFailure(
		`The model "${model}" has no known price, so ${guards.join(' and ')} cannot be checked`,
		`Nothing was sent. The spend guards count the catalogue's prices, and this model (or its image size) is not in it. Remove ${guards.join(' and ')}, or pick a model from the list.`,
		'SPEND_UNPRICED_MODEL',
	);
}

function capFailure(capUsd: number, countedMicros: number, micros: number): GeminiFailure {
	return spendFailure(
		`Max Spend per Execution of ${formatUsd(capUsd)} reached: this node has spent ${formatUsd(usd(countedMicros))} in this execution (requests in flight at their estimate), and this request would add ${formatUsd(usd(micros))}`,
		"The request was not sent. Raise Max Spend per Execution in the node's options, or remove it for no cap. A loop that keeps sending (Verify failing every time, say) stops here.",
		'SPEND_CAP_REACHED',
	);
}

function budgetFailure(budgetUsd: number, totalMicros: number, micros: number): GeminiFailure {
	const resets = nextUtcMidnight(Date.now()).toISOString().replace('T00:00:00.000Z', ' 00:00 UTC');
	return spendFailure(
		`Daily Budget of ${formatUsd(budgetUsd)} reached: ${formatUsd(usd(totalMicros))} spent today with this credential (requests in flight at their estimate), and this request would add ${formatUsd(usd(micros))}; the budget resets at ${resets}`,
		'The request was not sent. Raise the Daily Budget in the Nano Banana credential, or wait until it resets.',
		'SPEND_BUDGET_REACHED',
	);
}

/** The limit a reservation went against, and its count's period. */
const GUARDS = {
	cap: { period: 'execution', refused: capFailure },
	budget: { period: 'day', refused: budgetFailure },
} as const;

/**
 * One node run's guards; without limits it reserves nothing. Both are counted in the process's
 * registry (quota.ts), the cap over the whole execution (every run of the node in it, as in a
 * loop), the budget per credential and UTC day.
 */
export class SpendGuard {
	/** Settlements on their way to Redis: a report waits for them. */
	private readonly pending = new Set<Promise<void>>();

	constructor(
		readonly limits: SpendLimits = {},
		private readonly gates?: QuotaGates,
	) {}

	get active(): boolean {
		return this.limits.cap !== undefined || this.limits.budget !== undefined;
	}

	/**
	 * Reserves a request's estimate under both guards, or throws the failure that says which one it
	 * would pass. Undefined without limits.
	 */
	async reserve(price: RequestPrice): Promise<SpendReservation | undefined> {
		if (!this.active) return undefined;
		if (price.estimateUsd === undefined) throw unpricedFailure(price.model, this.limits);
		const micros = toMicros(price.estimateUsd);
		const cap = await this.reserveUnder('cap', micros);
		const day = await this.reserveUnder('budget', micros).catch((error: unknown) => {
			void cap?.settle?.(0);
			throw error;
		});
		return this.reservation(micros, (actual) => {
			for (const answer of [cap, day]) {
				const settling = answer?.settle?.(actual);
				if (!settling) continue;
				this.pending.add(settling);
				void settling.finally(() => this.pending.delete(settling));
			}
		});
	}

	/** Today's spend with the credential, for the output items; undefined without a budget. */
	async report(): Promise<SpendReport | undefined> {
		const budget = this.limits.budget;
		if (!budget) return undefined;
		await Promise.all(this.pending);
		const total = await (await this.ledger('budget')).totalMicros();
		return { spentTodayUsd: usd(total), budgetUsd: budget.usd };
	}

	/**
	 * Reserves under one limit (check and reservation in one step: in the process nothing runs
	 * between them, in Redis one script does both); undefined when that limit is not set.
	 */
	private async reserveUnder(
		guard: keyof typeof GUARDS,
		micros: number,
	): Promise<LedgerAnswer | undefined> {
		const limit = this.limits[guard];
		if (!limit) return undefined;
		const answer = await (await this.ledger(guard)).reserve(micros, toMicros(limit.usd));
		if (!answer.settle) throw GUARDS[guard].refused(limit.usd, answer.totalMicros, micros);
		return answer;
	}

	private async ledger(guard: keyof typeof GUARDS): Promise<SpendLedger> {
		const gates = this.gates ?? processQuotaGates();
		return await gates.ledgerFor(this.limits[guard]!.identity, GUARDS[guard].period);
	}

	private reservation(micros: number, end: (actual: number) => void): SpendReservation {
		let open = true;
		const once = (actual: number) => {
			if (!open) return;
			open = false;
			end(actual);
		};
		return {
			estimateUsd: usd(micros),
			settle: (actualUsd) => once(toMicros(actualUsd)),
			keep: () => once(micros),
			release: () => once(0),
		};
	}
}
