/**
 * The quota gates of a process, and the per-execution gate in front of them.
 *
 * Google counts a quota per project (or API key), host and model, not per n8n execution, so the
 * gates live at module level and are shared by every execution in the process, deliberately: six
 * executions of one workflow started by six form submissions pause together after a 429 and pace
 * together to the quota it named. In queue mode the pause, the counted starts and the pace are in
 * n8n's Redis as well (redisQuota.ts), shared by every worker. A gate nobody has used for
 * GATE_IDLE_MS is dropped, so the registry stays small.
 *
 * A secret never becomes a key: a gate is found by an HMAC of the quota's description under a
 * salt made at random for this process; in Redis, by an HMAC under a salt kept in Redis itself.
 */
import { createHmac, randomBytes } from 'crypto';

import { GATE_IDLE_MS, LocalQuotaClock, QuotaGate, Semaphore } from './gate';
import type { Admission, AttemptOutcome, GateTicket, QuotaHint } from './gate';
import { RedisQuotaStore, redisSettingsFromEnv } from './redisQuota';
import type { RedisSettings } from './redisQuota';

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
		if (this.problem) {
			this.warn(this.problem);
			this.problem = undefined;
		}
		const key = createHmac('sha256', this.salt).update(identity).digest('base64url');
		let gate = this.gates.get(key);
		if (!gate) {
			this.forgetIdle();
			gate = new QuotaGate(new LocalQuotaClock(this.now), `${this.worker}:`, this.now);
			this.gates.set(key, gate);
		}
		if (this.store && gate.clock instanceof LocalQuotaClock) {
			const salt = await this.store.salt();
			if (salt) {
				const name = createHmac('sha256', salt).update(identity).digest('base64url');
				gate.clock = this.store.clock(name, gate.clock);
			}
		}
		return gate;
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
}

/** What a call asks for its admission: an execution's gate, or one task's within it. */
export interface Admissions {
	/**
	 * How requests to one quota are admitted. `identity` describes the quota and is only hashed;
	 * `answerBytes` is what one answer takes in memory (counted under Auto).
	 */
	admission(identity: string, answerBytes?: number): Promise<Admission>;
}

/**
 * One node execution's gate: at most its Max Concurrent Requests in flight (Auto: as many as the
 * shared gates allow, at most AUTO_MAX, within the process's answer memory), in front of the
 * shared gate of each quota it uses.
 */
export class RequestGate implements Admissions {
	private readonly own: Semaphore;
	private readonly auto: boolean;
	private readonly gates: QuotaGates;
	private readonly joined = new Set<QuotaGate>();

	constructor(
		readonly limit: ConcurrencyLimit,
		options: RequestGateOptions = {},
	) {
		this.auto = limit === 'auto';
		this.gates = options.gates ?? processQuotaGates();
		if (options.warn) this.gates.warn = options.warn;
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
	async admission(identity: string, answerBytes = 0, task?: TaskGate): Promise<Admission> {
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
		return {
			acquire: async (signal?: AbortSignal, retry = false): Promise<GateTicket> => {
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
			},
			sent: (ticket: GateTicket) => gate.sent(ticket),
			release: (
				ticket: GateTicket,
				outcome: AttemptOutcome,
				pauseMs?: number,
				quota?: QuotaHint,
			) => {
				gate.release(ticket, outcome, pauseMs, quota);
				memory.give(perAttempt);
				this.own.give(1);
			},
		};
	}

	/** The execution is over: the shared gates no longer count its limit. */
	close(): void {
		for (const gate of this.joined) gate.leave(this);
		this.joined.clear();
	}
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

	async admission(identity: string, answerBytes = 0): Promise<Admission> {
		return await this.execution.admission(identity, answerBytes, this);
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
