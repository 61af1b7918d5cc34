/**
 * One gate per node execution, shared by every request the node makes. Quota belongs to the
 * project and model, not to a request, so the gate treats it as shared:
 * - a 429 (or 503 overload) pauses every request for the server's delay, not only the refused one;
 * - the number in flight adapts (AIMD): it halves on such an answer and climbs back by one after
 *   a run of successes, up to Max Concurrent Requests;
 * - once a 429 has told the quota (QuotaFailure's quotaValue, per minute or per a window worked
 *   out from the exact retry delay), requests are paced to it, so later ones are not refused.
 */

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

/** Successes in a row, per allowed request, before one more may run at once. */
const GROWTH_RUN = 2;
/** Start times kept to work out a quota window; more than any per-request quota we pace to. */
const HISTORY = 1000;
/** Our clock and the server's differ by the network: pace a little behind the window. */
const PACE_MARGIN_MS = 100;

interface Waiter {
	enqueuedAt: number;
	/** A pause or the quota pace held it (rather than only a busy slot). */
	held: boolean;
	wake: (ticket: GateTicket) => void;
}

export interface GateTicket {
	/** Order of admission: tells which requests were already in flight at a decrease. */
	seq: number;
	/**
	 * How long this request waited because a pause or the quota pace held it (not for a free slot).
	 */
	pausedMs: number;
}

export class RequestGate {
	private allowed: number;
	private active = 0;
	private successes = 0;
	private pausedUntil = 0;
	private admitted = 0;
	/** Tickets admitted before this one were in flight at the last decrease. */
	private decreaseBoundary = 0;
	/** Start times of the requests the server counted (429s are not counted), oldest first. */
	private starts: Array<{ seq: number; at: number }> = [];
	private pace?: { requests: number; windowMs: number };
	private readonly queue: Waiter[] = [];
	private timer?: NodeJS.Timeout;

	constructor(
		readonly maxConcurrency: number,
		private readonly now: () => number = Date.now,
	) {
		this.allowed = Math.max(1, Math.floor(maxConcurrency) || 1);
	}

	/** How many requests may be in flight right now. */
	get concurrency(): number {
		return this.allowed;
	}

	/** The quota requests are paced to, once a 429 told it. */
	get quotaPace(): { requests: number; windowMs: number } | undefined {
		return this.pace && { ...this.pace };
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
	 * Ends an attempt. For `quota` and `busy`, `pauseMs` is how long every request must wait from
	 * now.
	 */
	release(ticket: GateTicket, outcome: AttemptOutcome, pauseMs = 0, quota?: QuotaHint): void {
		this.active--;
		if (outcome === 'ok') {
			if (++this.successes >= this.allowed * GROWTH_RUN && this.allowed < this.maxConcurrency) {
				this.allowed++;
				this.successes = 0;
			}
		} else if (outcome === 'quota' || outcome === 'busy') {
			this.successes = 0;
			// Requests that were in flight together tell of one overload: halve once for them all.
			if (ticket.seq >= this.decreaseBoundary) {
				this.allowed = Math.max(1, Math.floor(this.allowed / 2));
				this.decreaseBoundary = this.admitted;
			}
			this.pausedUntil = Math.max(this.pausedUntil, this.now() + pauseMs);
			if (outcome === 'quota') {
				this.starts = this.starts.filter((s) => s.seq !== ticket.seq);
				if (quota) this.learnPace(quota);
			}
		}
		this.pump();
	}

	/**
	 * The window of a quota whose 429 did not name it: the server's delay says when the oldest
	 * counted request leaves the window, and the requests-th latest start of ours is that one.
	 */
	private learnPace({ requests, windowMs, freesInMs }: QuotaHint): void {
		if (!(requests > 0)) return;
		if (windowMs === undefined) {
			const oldest = this.starts[this.starts.length - requests];
			if (!oldest || freesInMs === undefined) return;
			windowMs = this.now() + freesInMs - oldest.at;
		}
		// Pace only when our own requests filled the quota: fewer means others share it (the pause
		// and the halving handle that), more means the 429 was about another limit.
		const now = this.now();
		const ours = this.starts.filter((s) => s.at > now - windowMs!).length;
		if (Math.abs(ours - requests) > 1) return;
		this.pace = { requests, windowMs };
		// The pace now keeps requests under the quota; the halving was for a quota not yet known.
		this.allowed = this.maxConcurrency;
	}

	/** ms until the pace allows another start (0: now). */
	private paceWait(now: number): number {
		if (!this.pace) return 0;
		const { requests, windowMs } = this.pace;
		const inWindow = this.starts.filter((s) => s.at > now - windowMs - PACE_MARGIN_MS);
		if (inWindow.length < requests) return 0;
		return inWindow[inWindow.length - requests].at + windowMs + PACE_MARGIN_MS - now;
	}

	private stopTimer(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	private pump(): void {
		while (this.queue.length && this.active < this.allowed) {
			const now = this.now();
			const wait = Math.max(this.pausedUntil - now, this.paceWait(now));
			if (wait > 0) {
				for (const waiter of this.queue) waiter.held = true;
				if (!this.timer) {
					this.timer = setTimeout(() => {
						this.timer = undefined;
						this.pump();
					}, wait);
				}
				return;
			}
			this.active++;
			const seq = this.admitted++;
			this.starts.push({ seq, at: now });
			if (this.starts.length > HISTORY) this.starts.shift();
			const waiter = this.queue.shift()!;
			waiter.wake({ seq, pausedMs: waiter.held ? now - waiter.enqueuedAt : 0 });
		}
	}
}
