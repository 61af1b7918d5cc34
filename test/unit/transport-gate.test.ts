/**
 * The quota gates and the quota rules of the retry loop: one 429 pauses every request to the
 * quota, from any execution of the process; the in-flight limit starts low, climbs, halves and
 * climbs back; and a 429 costs wait budget, not attempts.
 */
import { createHash } from 'crypto';

import {
	AUTO_MAX,
	GeminiFailure,
	QuotaGates,
	RequestGate,
	serverDelay,
	withRetry,
} from '../../nodes/shared/transport';
import { LocalQuotaClock, QuotaGate } from '../../nodes/shared/transport/gate';
import { answerBytesFor } from '../../nodes/shared/transport/quota';

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

/** A gate of its own registry (a fresh process), with one execution of `limit` using it. */
async function gateOf(limit: number | 'auto', gates = new QuotaGates()) {
	const execution = new RequestGate(limit, { gates });
	const admission = await execution.admission('quota');
	const gate = await gates.gateFor('quota');
	return { gate, admission, execution, gates };
}

/** A QuotaGate on a clock the test moves, joined by executions of the given limits. */
function manualGate(limits: Array<{ limit: number; start?: number }>) {
	let t = 1_000_000;
	const now = () => t;
	const gate = new QuotaGate(new LocalQuotaClock(now), '', now);
	for (const { limit, start } of limits) gate.join({}, { limit, start: start ?? limit });
	return { gate, advance: (ms: number) => (t += ms) };
}

describe('QuotaGate', () => {
	it('lets at most the allowed number run, first come first served', async () => {
		const { gate } = manualGate([{ limit: 2 }]);
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
		const { gate } = manualGate([{ limit: 8 }]);
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
		const { gate } = manualGate([{ limit: 3 }]);
		gate.release(await gate.acquire(), 'busy', 0);
		expect(gate.concurrency).toBe(1);
		gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(1);
		gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(2);
		for (let n = 0; n < 20; n++) gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(3);
	});

	it('starts low and climbs by one per clean answer (slow start), up to the ceiling', async () => {
		const { gate } = manualGate([{ limit: 16, start: 4 }]);
		expect(gate.concurrency).toBe(4);
		const first = await Promise.all(Array.from({ length: 4 }, () => gate.acquire()));
		for (const ticket of first) gate.release(ticket, 'ok');
		expect(gate.concurrency).toBe(8);
		const second = await Promise.all(Array.from({ length: 8 }, () => gate.acquire()));
		for (const ticket of second) gate.release(ticket, 'ok');
		expect(gate.concurrency).toBe(16);
		for (const ticket of await Promise.all(Array.from({ length: 16 }, () => gate.acquire())))
			gate.release(ticket, 'ok');
		expect(gate.concurrency).toBe(16);
	});

	it('stops climbing when answers slow down as more run at once', async () => {
		const { gate, advance } = manualGate([{ limit: 16, start: 4 }]);
		// Four answers of 2 s: climbs to 8.
		const first = await Promise.all(Array.from({ length: 4 }, () => gate.acquire()));
		advance(2000);
		for (const ticket of first) gate.release(ticket, 'ok');
		expect(gate.concurrency).toBe(8);
		// Eight answers that took 6 s each: latency grew, so no more.
		const second = await Promise.all(Array.from({ length: 8 }, () => gate.acquire()));
		advance(6000);
		for (const ticket of second) gate.release(ticket, 'ok');
		expect(gate.concurrency).toBeLessThanOrEqual(10);
		const settled = gate.concurrency;
		const third = await Promise.all(Array.from({ length: settled }, () => gate.acquire()));
		advance(6000);
		for (const ticket of third) gate.release(ticket, 'ok');
		expect(gate.concurrency).toBe(settled);
	});

	it('allows what the executions using it allow together', async () => {
		const { gate } = manualGate([]);
		const a = {};
		const b = {};
		gate.join(a, { limit: 2, start: 2 });
		gate.join(b, { limit: 3, start: 3 });
		// A fresh gate starts at the first one's start and climbs to the sum.
		expect(gate.concurrency).toBe(2);
		for (let n = 0; n < 6; n++) gate.release(await gate.acquire(), 'ok');
		expect(gate.concurrency).toBe(5);
		gate.leave(b);
		expect(gate.concurrency).toBe(2);
	});

	it('holds every request, not only the one that was refused, until the pause ends', async () => {
		const { gate } = await gateOf(4);
		const refused = await gate.acquire();
		gate.release(refused, 'busy', 150);
		const started = Date.now();
		const ticket = await gate.acquire();
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(ticket.pausedMs).toBeGreaterThanOrEqual(140);
	});

	it('lets a retry go before requests that have not been tried yet', async () => {
		const { gate } = manualGate([{ limit: 1 }]);
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
		const { gate } = await gateOf(1);
		gate.release(await gate.acquire(), 'busy', 10_000);
		const cancel = new AbortController();
		setTimeout(() => cancel.abort(new Error('cancelled')), 20);
		await expect(gate.acquire(cancel.signal)).rejects.toThrow('cancelled');
	});
});

describe('RequestGate and the gates of a process', () => {
	it('bounds an execution by its own limit, although the shared gate allows more', async () => {
		const gates = new QuotaGates();
		const small = await new RequestGate(1, { gates }).admission('quota');
		await new RequestGate(4, { gates }).admission('quota');
		expect((await gates.gateFor('quota')).concurrency).toBe(1);
		const held = await small.acquire();
		let second = false;
		const pending = small.acquire().then((t) => ((second = true), t));
		await new Promise((r) => setTimeout(r, 20));
		expect(second).toBe(false);
		small.release(held, 'ok');
		small.release(await pending, 'ok');
		expect(second).toBe(true);
	});

	it('gives one quota one gate, shared by executions, and another quota another', async () => {
		const gates = new QuotaGates();
		expect(await gates.gateFor('["key:A","host","m1"]')).toBe(
			await gates.gateFor('["key:A","host","m1"]'),
		);
		expect(await gates.gateFor('["key:A","host","m2"]')).not.toBe(
			await gates.gateFor('["key:A","host","m1"]'),
		);
		expect(await gates.gateFor('["key:B","host","m1"]')).not.toBe(
			await gates.gateFor('["key:A","host","m1"]'),
		);
	});

	it('keeps no key in clear nor as a plain hash', async () => {
		const gates = new QuotaGates();
		const secret = ['AIza', 'SyTHIS-IS-A-TEST-KEY-000000000000000'].join('');
		await gates.gateFor(`["key:${secret}","host","m1"]`);
		const keys = [...(gates as unknown as { gates: Map<string, unknown> }).gates.keys()];
		expect(keys).toHaveLength(1);
		expect(keys[0]).not.toContain(secret);
		const plain = createHash('sha256').update(`["key:${secret}","host","m1"]`).digest();
		expect(keys[0]).not.toContain(plain.toString('base64url'));
		expect(keys[0]).not.toContain(plain.toString('hex'));
		// Another process (registry) names the same quota differently: the salt is its own.
		const other = new QuotaGates();
		await other.gateFor(`["key:${secret}","host","m1"]`);
		expect([...(other as unknown as { gates: Map<string, unknown> }).gates.keys()]).not.toEqual(
			keys,
		);
	});

	it('a 429 seen by one execution pauses another one using the same quota', async () => {
		const gates = new QuotaGates();
		const first = await new RequestGate(4, { gates }).admission('quota');
		const second = await new RequestGate(4, { gates }).admission('quota');
		const refused = await first.acquire();
		first.release(refused, 'quota', 200);
		const started = Date.now();
		const ticket = await second.acquire();
		expect(Date.now() - started).toBeGreaterThanOrEqual(190);
		expect(ticket.pausedMs).toBeGreaterThanOrEqual(190);
		second.release(ticket, 'ok');
		// Another quota is not paused.
		const other = await new RequestGate(4, { gates }).admission('other quota');
		const quick = Date.now();
		other.release(await other.acquire(), 'ok');
		expect(Date.now() - quick).toBeLessThan(150);
	});

	it('forgets a gate nobody has used for a while, but never one in use', async () => {
		let t = 0;
		const gates = new QuotaGates({ now: () => t });
		const using = new RequestGate(2, { gates });
		await using.admission('used');
		const done = new RequestGate(2, { gates });
		await done.admission('left');
		done.close();
		const kept = await gates.gateFor('used');
		t += 11 * 60_000;
		// Making a gate sweeps: "left" goes, "used" has an execution and stays.
		await gates.gateFor('another');
		expect(gates.size).toBe(2);
		expect(await gates.gateFor('used')).toBe(kept);
		using.close();
		t += 11 * 60_000;
		await gates.gateFor('a last one');
		expect(gates.size).toBe(1);
	});

	it('under Auto, keeps the answers in flight within the memory budget (4K: 4 at once)', async () => {
		const gates = new QuotaGates();
		const executions = [new RequestGate('auto', { gates }), new RequestGate('auto', { gates })];
		const admissions = await Promise.all(
			executions.map((e) => e.admission('quota', answerBytesFor('4K'))),
		);
		// Let the shared gate climb to its ceiling first (32 for two Auto executions).
		const gate = await gates.gateFor('quota');
		for (let n = 0; n < 40; n++) admissions[0].release(await admissions[0].acquire(), 'ok');
		expect(gate.concurrency).toBe(2 * AUTO_MAX);
		let running = 0;
		let most = 0;
		await Promise.all(
			Array.from({ length: 30 }, async (_, n) => {
				const admission = admissions[n % 2];
				const ticket = await admission.acquire();
				most = Math.max(most, ++running);
				await new Promise((r) => setTimeout(r, 10));
				running--;
				admission.release(ticket, 'ok');
			}),
		);
		expect(most).toBe(4);
		// 1K answers are small: each execution's own 16 is the bound.
		const small = await executions[0].admission('quota', answerBytesFor('1K'));
		const tickets = await Promise.all(Array.from({ length: 16 }, () => small.acquire()));
		let seventeenth = false;
		const pending = small.acquire().then((t) => ((seventeenth = true), t));
		await new Promise((r) => setTimeout(r, 20));
		expect(seventeenth).toBe(false);
		for (const ticket of tickets) small.release(ticket, 'ok');
		small.release(await pending, 'ok');
	});
});

describe('TaskGate: Auto holds the answer memory of a task until the task ends', () => {
	it('takes it at the first request, shares it with the next ones, gives it back when done', async () => {
		const gates = new QuotaGates();
		const execution = new RequestGate('auto', { gates });
		const bytes = answerBytesFor('4K');
		const tasks = Array.from({ length: 5 }, () => execution.task());
		// Four 4K tasks fit in the budget; their requests end, but the tasks still store images.
		for (const task of tasks.slice(0, 4)) {
			const admission = await task.admission('quota', bytes);
			admission.release(await admission.acquire(), 'ok');
		}
		let fifth = false;
		const last = await tasks[4].admission('quota', bytes);
		const pending = last.acquire().then((t) => ((fifth = true), t));
		await new Promise((r) => setTimeout(r, 20));
		expect(fifth).toBe(false);
		// A task that holds memory never waits for more: its second image goes at once.
		const again = await tasks[0].admission('quota', bytes);
		again.release(await again.acquire(), 'ok');
		tasks[0].done();
		last.release(await pending, 'ok');
		expect(fifth).toBe(true);
		for (const task of tasks) task.done();
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
		const { gate: shared, admission: gate } = await gateOf(4);
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
		expect(shared.concurrency).toBe(3);
	});
});

describe('pacing to a quota a 429 names', () => {
	it('paces to a per-minute quota once a 429 names it', async () => {
		const { gate } = await gateOf(4);
		for (let n = 0; n < 3; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 3, windowMs: 60_000 });
		await new Promise((r) => setImmediate(r));
		expect(gate.quotaPace).toEqual({ requests: 3, windowMs: 60_000, marginMs: 100 });
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
		const { gate } = await gateOf(4);
		for (let n = 0; n < 2; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 2, freesInMs: 5000 });
		await new Promise((r) => setImmediate(r));
		expect(gate.quotaPace?.requests).toBe(2);
		expect(gate.quotaPace!.windowMs).toBeGreaterThanOrEqual(5000);
		expect(gate.quotaPace!.windowMs).toBeLessThan(5100);
		// Pacing takes over from the halving: all slots are back.
		expect(gate.concurrency).toBe(4);
	});

	it('paces further behind after each 429 that came despite the pace, up to a tenth', () => {
		const clock = new LocalQuotaClock();
		for (let n = 0; n < 3; n++) clock.tryStart(`s${n}`);
		expect(clock.learn({ requests: 3, windowMs: 2000 })?.marginMs).toBe(100);
		expect(clock.learn({ requests: 3, windowMs: 2000 })?.marginMs).toBe(200);
		expect(clock.learn({ requests: 3, windowMs: 2000 })?.marginMs).toBe(200);
		// The margin holds a start back: three starts in the window plus 200 ms.
		expect(clock.tryStart('s3')).toBeGreaterThan(2100);
	});

	it('ignores a quota that our own successes contradict', async () => {
		const { gate } = await gateOf(4);
		for (let n = 0; n < 20; n++) gate.release(await gate.acquire(), 'ok');
		gate.release(await gate.acquire(), 'quota', 0, { requests: 10, windowMs: 60_000 });
		await new Promise((r) => setImmediate(r));
		expect(gate.quotaPace).toBeUndefined();
	});
});
