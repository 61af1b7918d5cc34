/**
 * The execution's request gate and the quota rules of the retry loop: one 429 pauses every
 * request, the in-flight limit halves and climbs back, and a 429 costs wait budget, not attempts.
 */
import { GeminiFailure, RequestGate, serverDelay, withRetry } from '../../nodes/shared/transport';

const quota = (retryDelayMs?: number, retryDelayExact = false) =>
	new GeminiFailure({
		kind: 'http',
		message: 'quota',
		description: '',
		httpCode: 429,
		reason: 'RESOURCE_EXHAUSTED',
		retryable: true,
		retryDelayMs,
		retryDelayExact,
	});
const serverError = () =>
	new GeminiFailure({
		kind: 'http',
		message: 'boom',
		description: '',
		httpCode: 500,
		reason: 'INTERNAL',
		retryable: true,
	});

describe('RequestGate', () => {
	it('lets at most the allowed number run, first come first served', async () => {
		const gate = new RequestGate(2);
		const a = await gate.acquire();
		await gate.acquire();
		let third = false;
		const pending = gate.acquire().then(() => (third = true));
		await new Promise((r) => setTimeout(r, 20));
		expect(third).toBe(false);
		gate.release(a, 'ok');
		await pending;
		expect(third).toBe(true);
	});

	it('halves the limit once for requests that were in flight together, never below 1', async () => {
		const gate = new RequestGate(8);
		const tickets = await Promise.all(Array.from({ length: 8 }, () => gate.acquire()));
		gate.release(tickets[0], 'busy', 0);
		gate.release(tickets[1], 'busy', 0);
		expect(gate.concurrency).toBe(4);
		for (const ticket of tickets.slice(2)) gate.release(ticket, 'ok');
		const later = await gate.acquire();
		gate.release(later, 'busy', 0);
		expect(gate.concurrency).toBe(2);
		for (let n = 0; n < 3; n++) gate.release(await gate.acquire(), 'busy', 0);
		expect(gate.concurrency).toBe(1);
	});

	it('climbs back by one after a run of successes, up to the maximum', async () => {
		const gate = new RequestGate(3);
		gate.release(await gate.acquire(), 'busy', 0);
		expect(gate.concurrency).toBe(1);
		gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(1);
		gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(2);
		for (let n = 0; n < 20; n++) gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(3);
	});

	it('holds every request, not only the one that was refused, until the pause ends', async () => {
		const gate = new RequestGate(4);
		const refused = await gate.acquire();
		gate.release(refused, 'busy', 150);
		const started = Date.now();
		const ticket = await gate.acquire();
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(ticket.pausedMs).toBeGreaterThanOrEqual(140);
	});

	it('lets a retry go before requests that have not been tried yet', async () => {
		const gate = new RequestGate(1);
		const first = await gate.acquire();
		const order: string[] = [];
		const fresh = gate.acquire().then((t) => (order.push('fresh'), gate.release(t, 'ok')));
		const retry = gate
			.acquire(undefined, true)
			.then((t) => (order.push('retry'), gate.release(t, 'ok')));
		gate.release(first, 'ok');
		await Promise.all([fresh, retry]);
		expect(order).toEqual(['retry', 'fresh']);
	});

	it('stops waiting when the execution is cancelled', async () => {
		const gate = new RequestGate(1);
		gate.release(await gate.acquire(), 'busy', 10_000);
		const cancel = new AbortController();
		setTimeout(() => cancel.abort(new Error('cancelled')), 20);
		await expect(gate.acquire(cancel.signal)).rejects.toThrow('cancelled');
	});
});

describe('delays after a 429', () => {
	const policy = { maxAttempts: 4, maxTotalWaitMs: 60_000, baseDelayMs: 1000, jitter: 0 };

	it('adds a second to a whole-second RetryInfo, which Google rounds down', () => {
		expect(serverDelay(quota(5000, false), 1, policy)).toBe(6000);
	});

	it('adds only a little to an exact delay', () => {
		expect(serverDelay(quota(5400, true), 1, policy)).toBe(5550);
	});

	it('treats "0s" or a delay under a second as at least the backoff step', () => {
		expect(serverDelay(quota(0, false), 1, policy)).toBe(1000);
		expect(serverDelay(quota(200, true), 2, policy)).toBe(2000);
		expect(serverDelay(quota(undefined), 3, policy)).toBe(4000);
	});
});

describe('withRetry and quota', () => {
	const fast = {
		maxAttempts: 2,
		maxTotalWaitMs: 5000,
		baseDelayMs: 10,
		maxDelayMs: 20,
		random: () => 0.5,
	};

	it('does not count a 429 as an attempt: five 429s then success, with Max Attempts 2', async () => {
		let calls = 0;
		const stats = { attempts: 0, quotaWaitMs: 0 };
		const value = await withRetry(
			async () => {
				if (++calls <= 5) throw quota(0, true);
				return 'image';
			},
			fast,
			{},
			stats,
		);
		expect(value).toBe('image');
		expect(stats.attempts).toBe(6);
		expect(stats.quotaWaitMs).toBeGreaterThan(0);
	});

	it('still counts server errors against Max Attempts', async () => {
		let calls = 0;
		const error = await withRetry(async () => {
			calls++;
			throw serverError();
		}, fast).catch((e: GeminiFailure) => e);
		expect(calls).toBe(2);
		expect(error.httpCode).toBe(500);
	});

	it('bounds quota waits by the wait budget, and says how long it waited', async () => {
		let calls = 0;
		const started = Date.now();
		const error = await withRetry(
			async () => {
				calls++;
				throw quota(100, true);
			},
			{ ...fast, maxTotalWaitMs: 700 },
		).catch((e: GeminiFailure) => e);
		expect(error.httpCode).toBe(429);
		expect(calls).toBeGreaterThanOrEqual(3);
		expect(Date.now() - started).toBeLessThan(1500);
		expect(error.attempts).toBe(calls);
		expect(error.quotaWaitMs).toBeGreaterThan(0);
	});

	it('with a gate, one 429 makes the other requests wait too', async () => {
		const gate = new RequestGate(4);
		const starts: number[] = [];
		let refused = false;
		const t0 = Date.now();
		await Promise.all(
			Array.from({ length: 4 }, (_, n) =>
				withRetry(
					async () => {
						starts.push(Date.now() - t0);
						if (n === 0 && !refused) {
							refused = true;
							throw quota(300, true);
						}
						await new Promise((r) => setTimeout(r, n === 0 ? 0 : 10));
						return n;
					},
					fast,
					{ gate },
				),
			),
		);
		// Four started together; the retry waited ~450 ms (300 + margin). The limit halved to 2,
		// then four successes in a row let it climb to 3.
		expect(starts).toHaveLength(5);
		expect(starts[4]).toBeGreaterThanOrEqual(440);
		expect(gate.concurrency).toBe(3);
	});
});

describe('pacing to a quota a 429 names', () => {
	it('paces to a per-minute quota once a 429 names it', async () => {
		const gate = new RequestGate(4);
		for (let n = 0; n < 3; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 3, windowMs: 60_000 });
		expect(gate.quotaPace).toEqual({ requests: 3, windowMs: 60_000 });
		// The three counted starts fill the minute: the next one is held.
		let started = false;
		const cancel = new AbortController();
		const next = gate.acquire(cancel.signal).then(() => (started = true));
		await new Promise((r) => setTimeout(r, 30));
		expect(started).toBe(false);
		cancel.abort(new Error('done'));
		await expect(next).rejects.toThrow('done');
	});

	it('works out the window from the exact delay when the 429 does not name it', async () => {
		const gate = new RequestGate(4);
		for (let n = 0; n < 2; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 2, freesInMs: 5000 });
		expect(gate.quotaPace?.requests).toBe(2);
		expect(gate.quotaPace!.windowMs).toBeGreaterThanOrEqual(5000);
		expect(gate.quotaPace!.windowMs).toBeLessThan(5100);
		// Pacing takes over from the halving: all slots are back.
		expect(gate.concurrency).toBe(4);
	});

	it('ignores a quota that our own successes contradict', async () => {
		const gate = new RequestGate(4);
		for (let n = 0; n < 20; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 10, windowMs: 60_000 });
		expect(gate.quotaPace).toBeUndefined();
	});
});
