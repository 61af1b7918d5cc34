/**
 * The quota gates of a process, and the per-execution gate in front of them.
 *
 * Google counts a quota per project (or API key), host and model, not per n8n execution, so the
 * gates live at module level and are shared by every execution in the process, deliberately: six
 * executions of one workflow started by six form submissions pause together after a 429 and pace
 * together to the quota it named. In queue mode the pause, the counted starts and the pace are in
 * n8n's Redis as well (redisQuota.ts), shared by every worker. A gate nobody has used for
 * GATE_IDLE_MS is dropped, so the registry stays small. The credentials' Daily Budgets are counted
 * here too, for the same reason: every execution with that credential spends from one count.
 *
 * A secret never becomes a key: a gate is found by an HMAC of the quota's description under a
 * salt made at random for this process; in Redis, by an HMAC under a salt kept in Redis itself.
 */
import { createHmac, randomBytes } from 'crypto';

import { GATE_IDLE_MS, LocalQuotaClock, QuotaGate, Semaphore } from './gate';
import type { Admission, AttemptOutcome, GateTicket, QuotaHint } from './gate';
import { LocalSpendLedger } from './ledger';
import type { SpendLedger, SpendPeriod } from './ledger';
import { RedisQuotaStore, redisSettingsFromEnv } from './redisQuota';
import type { RedisSettings } from './redisQuota';
import type { RequestPrice, SpendGuard, SpendReservation } from './spend';

/** Auto concurrency starts here… */
export const AUTO_START = 4;
/** …and never runs more than this many requests of one execution at once. */
export const AUTO_MAX = 16;
/**
 * Auto keeps the answers in hand in the whole process (from a task's first request until its images
 * are stored) under this many bytes, counted by image size (a 4K answer is about 14 MB of base64):
 * at most 4 4K tasks, or 16 of any smaller size. Measured in n8n with 100 4K images, 96 MiB (6
 * 4K tasks) peaked at +247..+291 MiB of RSS over n8n at rest and 64 MiB at +241 MiB (limit +250).
 */
export const ANSWER_MEMORY_BUDGET = 64 * 1024 * 1024;
/** A spend count unused this long is forgotten (in Redis it expires: see redisQuota.ts). */
const LEDGER_IDLE_MS = 24 * 3600_000;
/** More gates than this at once and the idle ones go first. */
const MAX_GATES = 1000;

const MB = 1024 * 1024;
/** The base64 of an answer's image, by image size (4K: a 10.6 MB PNG). */
const ANSWER_BYTES: Record<string, number> = {
	'512': 0.4 * MB,
	'1K': 1.5 * MB,
	'2K': 4 * MB,
	'4K': 14 * MB,
};

/** About how much memory one answer takes while it arrives; a text answer (a judge) is small. */
export function answerBytesFor(imageSize?: string): number {
	if (!imageSize) return 0.1 * MB;
	return ANSWER_BYTES[imageSize.toUpperCase()] ?? ANSWER_BYTES['1K'];
}

/** Max Concurrent Requests: a number, or found by the gate (Auto). */
export type ConcurrencyLimit = number | 'auto';

export interface QuotaGatesOptions {
	/** Redis shared by the workers (queue mode); undefined: this process only. */
	redis?: RedisSettings;
	/** Why a Redis that is configured is not used (said once in the log). */
	redisProblem?: string;
	/** Where the fall-back to the process gate is said (n8n's logger); console otherwise. */
	warn?: (message: string) => void;
	now?: () => number;
}

export class QuotaGates {
	private readonly gates = new Map<string, QuotaGate>();
	/**
	 * The spend counts: one per credential with a Daily Budget, one per node execution with a cap.
	 * One unused for LEDGER_IDLE_MS is dropped: its day is over, or its execution long ended.
	 */
	private readonly ledgers = new Map<string, { ledger: SpendLedger; lastUsed: number }>();
	private ledgersPrunedAt = 0;
	private readonly salt = randomBytes(32);
	/** Tells this process's starts apart from other workers' in Redis. */
	private readonly worker = randomBytes(6).toString('hex');
	private readonly store?: RedisQuotaStore;
	private problem?: string;
	private readonly now: () => number;
	/** Bytes of answers in flight under Auto, in the whole process. */
	readonly memory = new Semaphore(ANSWER_MEMORY_BUDGET);
	/** The latest execution's logger: used for the one line that says Redis is not used. */
	warn: (message: string) => void;

	constructor(options: QuotaGatesOptions = {}) {
		this.now = options.now ?? Date.now;
		// Every execution hands its n8n logger over before the first request (see RequestGate).
		this.warn = options.warn ?? (() => undefined);
		this.problem = options.redisProblem;
		if (options.redis)
			this.store = new RedisQuotaStore(options.redis, (message) => this.warn(message));
	}

	/** Whether the gates are shared through Redis right now. */
	get shared(): boolean {
		return this.store?.ready ?? false;
	}

	/**
	 * The gate of a quota. `identity` describes it and may hold a secret (an API key): it is only
	 * hashed here, never kept.
	 */
	async gateFor(identity: string): Promise<QuotaGate> {
		this.sayProblem();
		const key = createHmac('sha256', this.salt).update(identity).digest('base64url');
		let gate = this.gates.get(key);
		if (!gate) {
			this.forgetIdle();
			gate = new QuotaGate(new LocalQuotaClock(this.now), `${this.worker}:`, this.now);
			this.gates.set(key, gate);
		}
		if (gate.clock instanceof LocalQuotaClock) {
			const name = await this.redisName(identity);
			if (name) gate.clock = this.store!.clock(name, gate.clock);
		}
		return gate;
	}

	/**
	 * A spend count: a credential's Daily Budget (`day`), or a node's cap in one execution.
	 * `identity` names it and may hold a secret: as for a gate, it is only hashed. In Redis its name
	 * is the HMAC a gate would have.
	 */
	async ledgerFor(identity: string, period: SpendPeriod): Promise<SpendLedger> {
		this.sayProblem();
		this.forgetIdleLedgers();
		const key = createHmac('sha256', this.salt).update(identity).digest('base64url');
		let entry = this.ledgers.get(key);
		if (!entry) {
			entry = { ledger: new LocalSpendLedger(period, this.now), lastUsed: 0 };
			this.ledgers.set(key, entry);
		}
		entry.lastUsed = this.now();
		const local = entry.ledger;
		if (local instanceof LocalSpendLedger) {
			const name = await this.redisName(identity);
			// Calls racing here upgrade it once.
			if (name && entry.ledger === local) entry.ledger = this.store!.ledger(name, local, this.now);
		}
		return entry.ledger;
	}

	/** Drops counts unused for LEDGER_IDLE_MS; looks at most once a minute. */
	private forgetIdleLedgers(): void {
		const now = this.now();
		if (now - this.ledgersPrunedAt < 60_000) return;
		this.ledgersPrunedAt = now;
		for (const [key, entry] of this.ledgers)
			if (now - entry.lastUsed > LEDGER_IDLE_MS) this.ledgers.delete(key);
	}

	/** The name of `identity` in Redis, once Redis has given its salt; else undefined. */
	private async redisName(identity: string): Promise<string | undefined> {
		const salt = await this.store?.salt();
		return salt && createHmac('sha256', salt).update(identity).digest('base64url');
	}

	/** Says once why a configured Redis is not used. */
	private sayProblem(): void {
		if (!this.problem) return;
		this.warn(this.problem);
		this.problem = undefined;
	}

	/** How many gates are kept. */
	get size(): number {
		return this.gates.size;
	}

	/** Drops gates idle for GATE_IDLE_MS, and the oldest idle ones while there are too many. */
	private forgetIdle(): void {
		const now = this.now();
		for (const [key, gate] of this.gates)
			if (gate.idle && now - gate.lastUsed > GATE_IDLE_MS) this.gates.delete(key);
		if (this.gates.size < MAX_GATES) return;
		const idle = [...this.gates].filter(([, gate]) => gate.idle);
		idle.sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
		for (const [key] of idle.slice(0, this.gates.size - MAX_GATES + 1)) this.gates.delete(key);
	}

	async close(): Promise<void> {
		await this.store?.close();
	}
}

/**
 * The gates of this process, made at first use from n8n's queue-mode settings. Module-level on
 * purpose: see the top of this file.
 */
let processGates: QuotaGates | undefined;

export function processQuotaGates(): QuotaGates {
	if (!processGates) {
		const { settings, problem } = redisSettingsFromEnv(process.env);
		processGates = new QuotaGates({ redis: settings, redisProblem: problem });
	}
	return processGates;
}

/** Forgets every gate (and closes the Redis connection): a fresh process, for tests. */
export async function resetQuotaGates(): Promise<void> {
	const gates = processGates;
	processGates = undefined;
	await gates?.close();
}

export interface RequestGateOptions {
	gates?: QuotaGates;
	/** n8n's logger of the execution. */
	warn?: (message: string) => void;
	/** The execution's spend guards (Max Spend per Execution, the credential's Daily Budget). */
	spend?: SpendGuard;
}

/** What a call asks for its admission: an execution's gate, or one task's within it. */
export interface Admissions {
	/**
	 * How requests to one quota are admitted. `identity` describes the quota and is only hashed;
	 * `answerBytes` is what one answer takes in memory (counted under Auto); `price`, what one
	 * request costs (an image request): the spend guards check it before it is sent.
	 */
	admission(identity: string, answerBytes?: number, price?: RequestPrice): Promise<Admission>;
}

/**
 * One node execution's gate: at most its Max Concurrent Requests in flight (Auto: as many as the
 * shared gates allow, at most AUTO_MAX, within the process's answer memory), in front of the
 * shared gate of each quota it uses; then its spend guards, as a request is about to be sent.
 */
export class RequestGate implements Admissions {
	private readonly own: Semaphore;
	private readonly auto: boolean;
	private readonly gates: QuotaGates;
	private readonly spend?: SpendGuard;
	private readonly joined = new Set<QuotaGate>();

	constructor(
		readonly limit: ConcurrencyLimit,
		options: RequestGateOptions = {},
	) {
		this.auto = limit === 'auto';
		this.gates = options.gates ?? processQuotaGates();
		if (options.warn) this.gates.warn = options.warn;
		this.spend = options.spend?.active ? options.spend : undefined;
		this.own = new Semaphore(this.ownLimit);
	}

	/** The most this execution runs at once. */
	get ownLimit(): number {
		return this.limit === 'auto' ? AUTO_MAX : Math.max(1, Math.floor(this.limit) || 1);
	}

	/**
	 * The gate of one task (an item): under Auto its answers' memory is held from its first request
	 * until the task has stored its images (`TaskGate.done`), not only while a request runs.
	 */
	task(): TaskGate {
		return new TaskGate(this, this.gates.memory);
	}

	/**
	 * See Admissions. Without a task, the memory is counted per attempt, while it runs.
	 */
	async admission(
		identity: string,
		answerBytes = 0,
		price?: RequestPrice,
		task?: TaskGate,
	): Promise<Admission> {
		const gate = await this.gates.gateFor(identity);
		if (!this.joined.has(gate)) {
			this.joined.add(gate);
			gate.join(this, {
				limit: this.ownLimit,
				start: this.auto ? AUTO_START : this.ownLimit,
			});
		}
		const bytes = this.auto ? answerBytes : 0;
		const perAttempt = task ? 0 : bytes;
		const memory = this.gates.memory;
		const spent = new Map<GateTicket, SpendReservation>();
		const free = (
			ticket: GateTicket,
			outcome: AttemptOutcome,
			pauseMs?: number,
			quota?: QuotaHint,
		) => {
			gate.release(ticket, outcome, pauseMs, quota);
			memory.give(perAttempt);
			this.own.give(1);
		};
		return {
			acquire: async (signal?: AbortSignal, retry = false): Promise<GateTicket> => {
				const ticket = await this.admit(gate, { bytes, perAttempt, task, signal, retry });
				const spend = await this.reserveSpend(price).catch((error: unknown) => {
					// Not sent: the quota does not count it.
					free(ticket, 'failed');
					gate.clock.refused(ticket.start);
					throw error;
				});
				if (spend) spent.set(ticket, spend);
				return ticket;
			},
			sent: (ticket: GateTicket) => gate.sent(ticket),
			billed: (ticket: GateTicket, usd: number) => spent.get(ticket)?.settle(usd),
			release: (
				ticket: GateTicket,
				outcome: AttemptOutcome,
				pauseMs?: number,
				quota?: QuotaHint,
			) => {
				free(ticket, outcome, pauseMs, quota);
				endReservation(spent.get(ticket), ticket, outcome);
				spent.delete(ticket);
			},
		};
	}

	/** The spend guards' reservation for a request about to be sent, if it is priced and guarded. */
	private async reserveSpend(price?: RequestPrice): Promise<SpendReservation | undefined> {
		return price && this.spend ? await this.spend.reserve(price) : undefined;
	}

	/** Waits for the task's memory, an execution slot, the answer memory and the quota gate. */
	private async admit(
		gate: QuotaGate,
		wait: {
			bytes: number;
			perAttempt: number;
			task?: TaskGate;
			signal?: AbortSignal;
			retry: boolean;
		},
	): Promise<GateTicket> {
		const { bytes, perAttempt, task, signal, retry } = wait;
		const memory = this.gates.memory;
		await task?.reserve(bytes, signal);
		await this.own.take(1, signal, retry);
		let memoryTaken = false;
		let ticket: GateTicket | undefined;
		try {
			await memory.take(perAttempt, signal, retry);
			memoryTaken = true;
			ticket = await gate.acquire(signal, retry);
			return ticket;
		} finally {
			// Cancelled while waiting: give back what was taken.
			if (!ticket) {
				if (memoryTaken) memory.give(perAttempt);
				this.own.give(1);
			}
		}
	}

	/** The execution is over: the shared gates no longer count its limit. */
	close(): void {
		for (const gate of this.joined) gate.leave(this);
		this.joined.clear();
	}
}

/**
 * How an attempt's reservation ends when no answer said what it cost (`billed` comes first when
 * one did): a 429 or 503 is not billed; a request sent whose answer never came (a timeout, a lost
 * connection) may have been, so its estimate stays spent; one never sent costs nothing.
 */
function endReservation(
	spend: SpendReservation | undefined,
	ticket: GateTicket,
	outcome: AttemptOutcome,
): void {
	if (ticket.sent && outcome !== 'quota' && outcome !== 'busy') spend?.keep();
	else spend?.release();
}

/**
 * One task's requests. Its answers' memory is taken once, at its first request (later ones, a
 * second image or an Edit's next step, share it: a task holding memory never waits for more), and
 * given back when the task ends, after its images are stored.
 */
export class TaskGate implements Admissions {
	private reserved?: Promise<void>;
	private bytes = 0;

	constructor(
		private readonly execution: RequestGate,
		private readonly memory: Semaphore,
	) {}

	async admission(identity: string, answerBytes = 0, price?: RequestPrice): Promise<Admission> {
		return await this.execution.admission(identity, answerBytes, price, this);
	}

	async reserve(bytes: number, signal?: AbortSignal): Promise<void> {
		if (!this.reserved) {
			this.bytes = bytes;
			this.reserved = this.memory.take(bytes, signal);
			this.reserved.catch(() => {
				this.reserved = undefined;
				this.bytes = 0;
			});
		}
		await this.reserved;
	}

	done(): void {
		const reserved = this.reserved;
		const bytes = this.bytes;
		this.reserved = undefined;
		this.bytes = 0;
		void reserved?.then(
			() => this.memory.give(bytes),
			() => undefined,
		);
	}
}
