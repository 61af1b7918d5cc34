/**
 * Queue mode: the workers of one n8n share each quota's pause and pace through n8n's Redis. Here a
 * real redis-server on a free loopback port, and two "workers" (two registries of quota gates, as
 * two worker processes have) sending real requests to the simulator. Without Redis, or when it
 * stops answering, each worker falls back to its own gates and says so once.
 */
import { createHash } from 'crypto';
import Redis from 'ioredis';

import { GeminiClient, QuotaGates, RequestGate } from '../../nodes/shared/transport';
import { GeminiSim } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim/types';
import { queueWorkers } from '../helpers/queueWorkers';
import { RedisServer } from '../helpers/redisServer';

const queue = queueWorkers();
const { worker } = queue;
let sim: GeminiSim;
let redis: RedisServer;
beforeAll(() => {
	({ sim, redis } = queue);
});

/** One request, as one execution on that worker sends it (`gate`: that execution's gate). */
function send(gates: QuotaGates, text: string, gate = new RequestGate(4, { gates })) {
	return new GeminiClient({ apiKey: sim.apiKey, host: sim.url }).generate(
		{
			model: 'gemini-3.1-flash-image',
			contents: [{ role: 'user', parts: [{ text }] }],
			generationConfig: {},
		},
		{ retry: { maxAttempts: 4, maxTotalWaitMs: 60_000 }, timeoutMs: 20_000, gate },
	);
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
	const started = Date.now();
	while (!check()) {
		if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

const sentWith = (text: string): RecordedRequest[] =>
	sim.generateRequests.filter((r) => JSON.stringify(r.body).includes(text));

/**
 * Worker A meets a 429 asking for 4 s; a second later worker B sends. Returns how long after the
 * 429 B's request left, and B's quota wait.
 */
async function pauseSeenByTheOther(a: QuotaGates, b: QuotaGates) {
	sim.inject({ kind: '429', retryDelay: '4s' });
	const first = send(a, 'worker A poster');
	await until(() => sim.generateRequests.some((r) => r.status === 429));
	const refused = sim.generateRequests.find((r) => r.status === 429)!;
	await new Promise((resolve) => setTimeout(resolve, 1000));
	const second = await send(b, 'worker B poster');
	await first;
	return { after: sentWith('worker B poster')[0].startedAt - refused.endedAt, second };
}

describe('workers sharing Redis', () => {
	it('a 429 seen by one worker pauses the other', async () => {
		const a = worker();
		const b = worker();
		const { after, second } = await pauseSeenByTheOther(a, b);
		expect(after).toBeGreaterThanOrEqual(3900);
		expect(second.quotaWaitMs).toBeGreaterThanOrEqual(2500);
		expect(a.shared && b.shared).toBe(true);
	});

	it('without Redis each worker has its own gate: the other one sends at once', async () => {
		const { after, second } = await pauseSeenByTheOther(worker(null), worker(null));
		expect(after).toBeLessThan(3000);
		expect(second.quotaWaitMs).toBe(0);
	});

	it('share the pace: once either learned the quota, neither is refused again', async () => {
		sim.setQuota({ requests: 6, windowMs: 3000 });
		sim.setLatency(300);
		const workers = [worker(), worker()];
		const results = await Promise.all(
			workers.flatMap((gates, w) =>
				Array.from({ length: 9 }, (_, i) => send(gates, `worker ${w} poster ${i}`)),
			),
		);
		expect(results.every((result) => result.images.length === 1)).toBe(true);
		const requests = sim.generateRequests;
		expect(requests.filter((r) => r.status === 200)).toHaveLength(18);
		expect(sentWith('worker 0 poster').length).toBeGreaterThanOrEqual(9);
		expect(sentWith('worker 1 poster').length).toBeGreaterThanOrEqual(9);
		const firstWindowEnds = Math.min(...requests.map((r) => r.startedAt)) + 3000;
		const refused = requests.filter((r) => r.status === 429);
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.filter((r) => r.startedAt >= firstWindowEnds)).toEqual([]);
	});

	it('share the number in flight: two Auto executions on two workers start at 4 together', async () => {
		sim.setLatency(500);
		const workers = [worker(), worker()];
		const executions = workers.map((gates) => new RequestGate('auto', { gates }));
		await Promise.all(
			workers.flatMap((gates, w) =>
				Array.from({ length: 8 }, (_, i) => send(gates, `auto ${w} poster ${i}`, executions[w])),
			),
		);
		const requests = sim.generateRequests;
		expect(requests.filter((r) => r.status === 200)).toHaveLength(16);
		const firstAnswer = Math.min(...requests.map((r) => r.endedAt));
		// One process would start 4 and climb; two workers counting alone would start 8.
		expect(requests.filter((r) => r.startedAt < firstAnswer)).toHaveLength(4);
		for (const execution of executions) execution.close();
	});

	it('name a quota in Redis by an HMAC, the same for every worker, never by the key', async () => {
		await Promise.all([send(worker(), 'one poster'), send(worker(), 'another poster')]);
		const client = new Redis(redis.settings);
		try {
			const keys = await client.keys('nano-banana-studio:*');
			const names = new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1]).filter(Boolean));
			expect(names.size).toBe(1);
			expect(keys).toContain('nano-banana-studio:quota:salt');
			const [name] = [...names] as string[];
			const identity = JSON.stringify([`key:${sim.apiKey}`, sim.url, 'gemini-3.1-flash-image']);
			for (const plain of [sim.apiKey, createHash('sha256').update(identity).digest('base64url')])
				expect(keys.join(' ')).not.toContain(plain);
			expect(name).not.toContain(sim.apiKey);
			const starts = await client.zrange(`nano-banana-studio:quota:{${name}}:starts`, 0, -1);
			expect(starts).toHaveLength(2);
			expect(starts.join(' ')).not.toContain(sim.apiKey);
		} finally {
			client.disconnect();
		}
	});
});

describe('without Redis', () => {
	it('when it does not answer, each worker counts alone and says so once', async () => {
		const closed = await RedisServer.start();
		await closed.stop();
		const warnings: string[] = [];
		const password = 'S3cret#pw@%';
		const gates = worker({ ...closed.settings, password }, (message) => warnings.push(message));
		sim.inject({ kind: '429', retryDelay: '1s' });
		const results = await Promise.all([send(gates, 'alone 1'), send(gates, 'alone 2')]);
		expect(results.every((result) => result.images.length === 1)).toBe(true);
		await send(gates, 'alone 3');
		expect(gates.shared).toBe(false);
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toMatch(
			new RegExp(
				`Redis at 127\\.0\\.0\\.1:${closed.port} does not answer .*this worker's requests only`,
			),
		);
		expect(warnings[0]).not.toContain(password);
	});

	it('when it stops, requests go on, and it is used again once it is back', async () => {
		const own = await RedisServer.start();
		try {
			const warnings: string[] = [];
			const a = worker(own.settings, (message) => warnings.push(message));
			const b = worker(own.settings);
			await Promise.all([send(a, 'before 1'), send(b, 'before 2')]);
			expect(a.shared).toBe(true);
			await own.stop();
			await until(() => !a.shared);
			const during = await send(a, 'while Redis is down');
			expect(during.images).toHaveLength(1);
			expect(warnings).toHaveLength(1);
			await own.restart();
			await until(() => a.shared && b.shared, 20_000);
			const { after } = await pauseSeenByTheOther(a, b);
			expect(after).toBeGreaterThanOrEqual(3900);
			expect(warnings).toHaveLength(1);
		} finally {
			await own.stop();
		}
	});
});
