/**
 * Admission of requests, in two layers.
 *
 * A QuotaGate stands for one quota as Google counts it (the credential's project or key, the host,
 * the model) and is shared by every execution of the process (see quota.ts):
 * - a 429 (or 503 overload) pauses every request to that quota for the server's delay;
 * - the number in flight adapts: it starts low and climbs while answers come fast and clean (slow
 *   start, then one more after a run of successes), halves on a 429 or 503, and never exceeds what
 *   the executions using the gate allow together;
 * - once a 429 has told the quota (QuotaFailure's quotaValue, per minute or per a window worked
 *   out from the exact retry delay), starts are paced to it, so later ones are not refused.
 * Where the pause, the starts and the pace live is the gate's QuotaClock: this process's memory,
 * or Redis in queue mode (redisQuota.ts), so that workers share them.
 *
 * A RequestGate belongs to one node execution: the node's own Max Concurrent Requests (or Auto) in
 * front of the shared gates it uses.
 */

import { sleepWithAbort } from 'n8n-workflow';

/**
 * What became of one attempt. `quota` = 429, `busy` = 503 overload, `failed` = any other failure.
 */
export type AttemptOutcome = 'ok' | 'quota' | 'busy' | 'failed';

/** What a 429 said about the quota: `requests` per `windowMs` (unknown window: worked out here). */
export interface QuotaHint {
	requests: number;
	windowMs?: number;
	/**
	 * When the oldest counted request leaves the window, from now (the server's delay, rounded up).
	 */
	freesInMs?: number;
}

export interface QuotaPace {
	requests: number;
	windowMs: number;
	/** How far behind the window starts are paced (our clock and the server's differ). */
	marginMs: number;
}

/** What the executions using a gate allow together, and where a fresh gate starts. */
export interface SlotLimits {
	ceiling: number;
	start: number;
}

/** tryStart's answer when a shared count of requests in flight is full: ask again soon. */
export const NO_SHARED_SLOT = -1;

/** Where a quota's pause, counted starts and learned pace are kept. */
export interface QuotaClock {
	/**
	 * Whether the clock keeps the number in flight too (shared by workers, in Redis): the gate then
	 * asks it for every slot, and tells it how each attempt ended.
	 */
	readonly sharesConcurrency?: boolean;
	/**
	 * 0 when a request may start now (the start is then counted as `id`), else ms to wait, or
	 * NO_SHARED_SLOT.
	 */
	tryStart(id: string, limits: SlotLimits): number | Promise<number>;
	/** How the attempt of this start ended; `clean` when it adds to the number in flight. */
	ended?(id: string, outcome: AttemptOutcome, clean: boolean, limits: SlotLimits): void;
	/** The request of this start left now: the server counts it from about now. */
	sent(id: string): void;
	/** The server did not count this start (it answered 429). */
	refused(id: string): void;
	/** No request may start for `ms` from now. */
	pause(ms: number): void;
	/** Takes the pace a 429 told, if this clock's own starts filled that quota. */
	learn(
		hint: QuotaHint,
		limits: SlotLimits,
	): QuotaPace | undefined | Promise<QuotaPace | undefined>;
}

/** Successes in a row, per allowed request, before one more may run at once (after slow start). */
export const GROWTH_RUN = 2;
/** How often a gate asks again for a slot of a shared count that was full. */
const SHARED_SLOT_POLL_MS = 100;
/** Start times kept to work out a quota window; more than any per-request quota we pace to. */
const HISTORY = 1000;
/**
 * Our clock and the server's differ by the network (a request reaches Google a little after it
 * started here): pace a little behind the window…
 */
export const PACE_MARGIN_MS = 100;
/** …and further behind, up to a tenth of the window, after each 429 that came despite the pace. */
export const PACE_MARGIN_STEP_MS = 250;
/**
 * A gate nobody used for this long is forgotten (in Redis too): its pause has ended and its pace
 * may be stale.
 */
export const GATE_IDLE_MS = 10 * 60_000;
/** Latency has grown when its average is this much above the best average seen… */
const LATENCY_GROWTH = 1.5;
/** …and at least this much slower (fast calls jitter by more than half their time). */
const LATENCY_SLACK_MS = 500;
/** Weight of the newest answer in the latency average. */
const LATENCY_WEIGHT = 0.25;

/** The pause, starts and pace in this process's memory. */
export class LocalQuotaClock implements QuotaClock {
	private pausedUntil = 0;
	/** Start times of the requests the server counted (429s are taken out), oldest first. */
	private starts: Array<{ id: string; at: number }> = [];
	private pace?: QuotaPace;

	constructor(private readonly now: () => number = Date.now) {}

	tryStart(id: string): number {
		const now = this.now();
		const wait = Math.max(this.pausedUntil - now, this.paceWait(now));
		if (wait > 0) return wait;
		this.starts.push({ id, at: now });
		if (this.starts.length > HISTORY) this.starts.shift();
		return 0;
	}

	sent(id: string): void {
		const at = this.starts.findIndex((s) => s.id === id);
		if (at < 0) return;
		// At the end, at now: the list stays in time order.
		this.starts.splice(at, 1);
		this.starts.push({ id, at: this.now() });
	}

	refused(id: string): void {
		this.starts = this.starts.filter((s) => s.id !== id);
	}

	pause(ms: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
	}

	/**
	 * The window of a quota whose 429 did not name it: the server's delay says when the oldest
	 * counted request leaves the window, and the requests-th latest start is that one.
	 */
	learn({ requests, windowMs, freesInMs }: QuotaHint): QuotaPace | undefined {
		if (!(requests > 0)) return undefined;
		if (this.pace?.requests === requests) {
			// Refused although paced to this quota: the server's window ends later than ours.
			const most = Math.max(PACE_MARGIN_MS, this.pace.windowMs / 10);
			this.pace.marginMs = Math.min(most, this.pace.marginMs + PACE_MARGIN_STEP_MS);
			return { ...this.pace };
		}
		const now = this.now();
		if (windowMs === undefined) {
			const oldest = this.starts[this.starts.length - requests];
			if (!oldest || freesInMs === undefined) return undefined;
			windowMs = now + freesInMs - oldest.at;
		}
		// Pace only when the starts counted here filled the quota: fewer means others share it (the
		// pause and the halving handle that), more means the 429 was about another limit.
		const counted = this.starts.filter((s) => s.at > now - windowMs!).length;
		if (Math.abs(counted - requests) > 1) return undefined;
		this.pace = { requests, windowMs, marginMs: PACE_MARGIN_MS };
		return { ...this.pace };
	}

	/** ms until the pace allows another start (0: now). */
	private paceWait(now: number): number {
		if (!this.pace) return 0;
		const { requests, windowMs, marginMs } = this.pace;
		const inWindow = this.starts.filter((s) => s.at > now - windowMs - marginMs);
		if (inWindow.length < requests) return 0;
		return inWindow[inWindow.length - requests].at + windowMs + marginMs - now;
	}
}

export interface GateTicket {
	/** Order of admission: tells which requests were already in flight at a decrease. */
	seq: number;
	/** The start as the clock counted it. */
	start: string;
	/** When the request was admitted, then when it left (see `sent`). */
	startedAt: number;
	/**
	 * How long this request waited because a pause or the quota pace held it (not for a free slot).
	 */
	pausedMs: number;
	sent?: boolean;
}

interface Waiter {
	enqueuedAt: number;
	/** A pause or the quota pace held it (rather than only a busy slot). */
	held: boolean;
	wake: (ticket: GateTicket) => void;
}

/** How an execution joins a gate: its own limit, and where a fresh gate starts. */
export interface Membership {
	limit: number;
	start: number;
}

/** The moving average of answer times, and whether it has grown well above its best. */
class LatencyTrend {
	private average?: number;
	private best?: number;

	/** Records an answer's time; true when latency has grown. */
	record(ms: number): boolean {
		this.average =
			this.average === undefined ? ms : this.average + LATENCY_WEIGHT * (ms - this.average);
		this.best = Math.min(this.best ?? this.average, this.average);
		return this.average > this.best * LATENCY_GROWTH && this.average - this.best > LATENCY_SLACK_MS;
	}
}

/** One quota's gate; see the top of this file. */
export class QuotaGate {
	/** Allowed in flight; undefined until the first execution joins. */
	private allowed?: number;
	private slowStart = true;
	private active = 0;
	private successes = 0;
	private admitted = 0;
	private starts = 0;
	/** Tickets admitted before this one were in flight at the last decrease. */
	private decreaseBoundary = 0;
	private pace?: QuotaPace;
	/** Where the gate started: the first execution's start value. */
	private firstStart = 1;
	private readonly members = new Map<object, Membership>();
	private readonly queue: Waiter[] = [];
	private readonly latency = new LatencyTrend();
	/** Aborting it stops the gate's wake-up. */
	private timer?: AbortController;
	private timerAt = 0;
	private asking = false;
	private askAgain = false;
	/** When a request last started or ended, or an execution left. */
	lastUsed: number;

	constructor(
		/** Where the pause, the counted starts and the pace live. */
		public clock: QuotaClock,
		/** Tells this process's starts apart from other workers' in a shared clock. */
		private readonly startPrefix = '',
		private readonly now: () => number = Date.now,
	) {
		this.lastUsed = now();
	}

	/**
	 * How many requests of this process may be in flight right now. When the clock keeps the number
	 * in flight for all workers, it decides, and here only the executions' own limits count.
	 */
	get concurrency(): number {
		if (this.clock.sharesConcurrency) return this.ceiling;
		return Math.max(1, Math.min(this.allowed ?? 1, this.ceiling));
	}

	private get limits(): SlotLimits {
		return { ceiling: this.ceiling, start: this.firstStart };
	}

	/** How many are in flight now. */
	get inFlight(): number {
		return this.active;
	}

	/** The quota requests are paced to, once a 429 told it. */
	get quotaPace(): QuotaPace | undefined {
		return this.pace && { ...this.pace };
	}

	/** No execution uses the gate and nothing waits or runs: it may be forgotten. */
	get idle(): boolean {
		return !this.members.size && !this.active && !this.queue.length;
	}

	/** The most the executions using the gate allow together. */
	private get ceiling(): number {
		let sum = 0;
		for (const member of this.members.values()) sum += member.limit;
		return Math.max(1, sum);
	}

	/** An execution starts using the gate; a fresh gate starts at the first one's start value. */
	join(member: object, membership: Membership): void {
		this.members.set(member, membership);
		if (this.allowed === undefined) {
			this.firstStart = Math.max(1, membership.start);
			this.allowed = this.firstStart;
		}
		this.pump();
	}

	leave(member: object): void {
		this.members.delete(member);
		this.lastUsed = this.now();
	}

	/**
	 * Waits until no pause is in force, the quota pace allows a start and a slot is free. A retry
	 * goes to the front of the queue: it has waited already and must not starve behind new items.
	 */
	async acquire(signal?: AbortSignal, retry = false): Promise<GateTicket> {
		if (signal?.aborted) throw signal.reason;
		return await new Promise<GateTicket>((resolve, reject) => {
			const onAbort = () => {
				const at = this.queue.indexOf(waiter);
				if (at >= 0) this.queue.splice(at, 1);
				if (!this.queue.length) this.stopTimer();
				reject(signal?.reason);
			};
			const waiter: Waiter = {
				enqueuedAt: this.now(),
				held: false,
				wake: (ticket) => {
					signal?.removeEventListener('abort', onAbort);
					resolve(ticket);
				},
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			if (retry) this.queue.unshift(waiter);
			else this.queue.push(waiter);
			this.pump();
		});
	}

	/**
	 * The request left just now. Between admission and sending a busy process may take a while
	 * (other answers are being stored): the quota is counted, and the latency timed, from here.
	 */
	sent(ticket: GateTicket): void {
		if (ticket.sent) return;
		ticket.sent = true;
		ticket.startedAt = this.now();
		this.clock.sent(ticket.start);
	}

	/**
	 * Ends an attempt. For `quota` and `busy`, `pauseMs` is how long every request must wait from
	 * now.
	 */
	release(ticket: GateTicket, outcome: AttemptOutcome, pauseMs = 0, quota?: QuotaHint): void {
		this.active--;
		this.lastUsed = this.now();
		const clean = outcome === 'ok' && this.grow(this.lastUsed - ticket.startedAt);
		this.clock.ended?.(ticket.start, outcome, clean, this.limits);
		if (outcome === 'quota' || outcome === 'busy') {
			this.successes = 0;
			this.slowStart = false;
			// Requests that were in flight together tell of one overload: halve once for them all.
			if (ticket.seq >= this.decreaseBoundary) {
				this.allowed = Math.max(1, Math.floor(this.concurrency / 2));
				this.decreaseBoundary = this.admitted;
			}
			this.clock.pause(pauseMs);
			if (outcome === 'quota') {
				this.clock.refused(ticket.start);
				if (quota) void this.learn(quota);
			}
		}
		this.pump();
	}

	private async learn(hint: QuotaHint): Promise<void> {
		const pace = await this.clock.learn(hint, this.limits);
		if (!pace) return;
		this.pace = pace;
		// The pace now keeps requests under the quota; the halving was for a quota not yet known.
		this.allowed = this.ceiling;
		this.pump();
	}

	/**
	 * One more at once: at each success in slow start, else after a run of them. False when the
	 * answer came slower (latency has grown): then no more.
	 */
	private grow(latencyMs: number): boolean {
		if (this.latency.record(latencyMs)) {
			// Answers slow down as more run at once: this is as many as help.
			this.slowStart = false;
			this.successes = 0;
			return false;
		}
		if (this.allowed === undefined || this.allowed >= this.ceiling) return true;
		if (this.slowStart || ++this.successes >= this.allowed * GROWTH_RUN) {
			this.allowed++;
			this.successes = 0;
		}
		return true;
	}

	private stopTimer(): void {
		this.timer?.abort();
		this.timer = undefined;
	}

	/** Wakes the gate in `wait` ms, or sooner if already set to. */
	private wakeIn(wait: number): void {
		const at = this.now() + wait;
		if (this.timer && this.timerAt <= at) return;
		this.stopTimer();
		this.timerAt = at;
		const timer = new AbortController();
		this.timer = timer;
		void sleepWithAbort(wait, timer.signal).then(
			() => {
				// Stopped or replaced after it ran out, before this ran: that one decides.
				if (this.timer !== timer) return;
				this.timer = undefined;
				this.pump();
			},
			() => undefined,
		);
	}

	/** Admits waiters while slots are free and the clock allows; one clock question at a time. */
	private pump(): void {
		if (this.asking) {
			this.askAgain = true;
			return;
		}
		while (this.queue.length && this.active < this.concurrency) {
			const start = `${this.startPrefix}${++this.starts}`;
			const wait = this.clock.tryStart(start, this.limits);
			if (typeof wait === 'number') {
				if (!this.admit(start, wait)) return;
				continue;
			}
			// A shared clock answers over the network: hold the slot while it does.
			this.asking = true;
			this.active++;
			void wait
				.then(
					(ms) => ms,
					() => 0,
				)
				.then((ms) => {
					this.asking = false;
					this.active--;
					const admitted = this.admit(start, ms);
					if (admitted || this.askAgain) {
						this.askAgain = false;
						this.pump();
					}
				});
			return;
		}
	}

	/** Starts the first waiter if the clock allowed it (`wait` 0); else sets the timer. */
	private admit(start: string, wait: number): boolean {
		if (wait === NO_SHARED_SLOT) {
			// Not a pause: waiting for another worker's request to end is no quota wait.
			this.wakeIn(SHARED_SLOT_POLL_MS);
			return false;
		}
		if (wait > 0) {
			for (const waiter of this.queue) waiter.held = true;
			this.wakeIn(wait);
			return false;
		}
		const waiter = this.queue.shift();
		if (!waiter || this.active >= this.concurrency) {
			// Nobody to start after all (cancelled while the clock answered): do not count it.
			this.clock.ended?.(start, 'failed', false, this.limits);
			this.clock.refused(start);
			if (waiter) this.queue.unshift(waiter);
			return false;
		}
		const now = this.now();
		this.active++;
		this.lastUsed = now;
		waiter.wake({
			seq: this.admitted++,
			start,
			startedAt: now,
			pausedMs: waiter.held ? now - waiter.enqueuedAt : 0,
		});
		return true;
	}
}

/**
 * A counting semaphore of units (requests, or bytes of answers in memory): `take` waits, first
 * come first served, until `units` fit (always when nothing is taken); `give` returns them.
 */
export class Semaphore {
	private used = 0;
	private readonly waiting: Array<{ units: number; wake: () => void }> = [];

	constructor(private readonly capacity: number) {}

	async take(units: number, signal?: AbortSignal, front = false): Promise<void> {
		if (signal?.aborted) throw signal.reason;
		// Nothing to take (a fixed limit counts no memory): never queue behind those who wait.
		if (units <= 0) return;
		if (!this.waiting.length && this.fits(units)) {
			this.used += units;
			return;
		}
		await new Promise<void>((resolve, reject) => {
			const entry = {
				units,
				wake: () => {
					signal?.removeEventListener('abort', onAbort);
					resolve();
				},
			};
			const onAbort = () => {
				const at = this.waiting.indexOf(entry);
				if (at >= 0) this.waiting.splice(at, 1);
				reject(signal?.reason);
				this.wakeWaiters();
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			if (front) this.waiting.unshift(entry);
			else this.waiting.push(entry);
		});
	}

	give(units: number): void {
		if (units <= 0) return;
		this.used = Math.max(0, this.used - units);
		this.wakeWaiters();
	}

	private fits(units: number): boolean {
		return this.used === 0 || this.used + units <= this.capacity;
	}

	private wakeWaiters(): void {
		while (this.waiting.length && this.fits(this.waiting[0].units)) {
			const next = this.waiting.shift()!;
			this.used += next.units;
			next.wake();
		}
	}
}

/** What the retry loop waits on before each attempt, and tells how the attempt went. */
export interface Admission {
	acquire(signal?: AbortSignal, retry?: boolean): Promise<GateTicket>;
	/** The admitted request left now. */
	sent(ticket: GateTicket): void;
	/** Its answer says what it cost (USD; 0: not billed), which replaces the spend estimate. */
	billed?(ticket: GateTicket, usd: number): void;
	release(ticket: GateTicket, outcome: AttemptOutcome, pauseMs?: number, quota?: QuotaHint): void;
}
