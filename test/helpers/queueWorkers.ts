/**
 * For a test file about queue mode: the simulator, a real redis-server, and "workers" (registries
 * of quota gates and budgets, as worker processes have) sharing through that Redis. Each test
 * starts with an empty Redis, as a fresh queue-mode installation has, and the workers it opened
 * are closed after it. Call once at the top of the file; read `sim` and `redis` inside tests.
 */
import Redis from 'ioredis';

import { QuotaGates } from '../../nodes/shared/transport';
import type { RedisSettings } from '../../nodes/shared/transport/redisQuota';
import { GeminiSim } from '../gemini-sim';
import { RedisServer } from './redisServer';

export function queueWorkers() {
	const started = {} as { sim: GeminiSim; redis: RedisServer };
	const opened: QuotaGates[] = [];

	beforeAll(async () => {
		[started.sim, started.redis] = await Promise.all([GeminiSim.start(), RedisServer.start()]);
	});
	afterAll(async () => {
		await Promise.all([started.sim.stop(), started.redis.stop()]);
	});
	beforeEach(async () => {
		started.sim.reset();
		started.sim.setQuota(null);
		started.sim.setLatency(0);
		const client = new Redis(started.redis.settings);
		await client.flushall();
		client.disconnect();
	});
	afterEach(async () => {
		for (const gates of opened.splice(0)) await gates.close();
	});

	return {
		get sim() {
			return started.sim;
		},
		get redis() {
			return started.redis;
		},
		/** One worker process's gates, sharing through `redis` (default: this file's; null: none). */
		worker(
			redis: RedisSettings | null = started.redis.settings,
			warn: (message: string) => void = () => undefined,
		): QuotaGates {
			const gates = new QuotaGates({ redis: redis ?? undefined, warn });
			opened.push(gates);
			return gates;
		},
	};
}
