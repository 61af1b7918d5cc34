/**
 * Quota state shared by the workers of a queue-mode n8n, in the Redis that queue mode already
 * requires (n8n's QUEUE_BULL_REDIS_* settings). Per quota it holds the pause after a 429 (a
 * pause-until time), the starts of the last minutes (a sorted set, for pacing and for working out a
 * quota's window) and the learned pace; each step is one Lua script, so workers never race, and
 * every time is Redis's own clock, so workers' clocks need not agree. The number in flight is
 * shared too: each request holds a lease in Redis while it runs, and the number allowed (slow
 * start, halving, climbing back) is kept there, so two workers start no more than one would.
 *
 * Names: a quota is named by an HMAC-SHA256 of its description (which holds the API key) under
 * a salt kept in Redis (`SET NX` by the first worker, read by the others). Every worker thus finds
 * the same name with no setting of its own, and neither the key nor its plain hash is stored: a
 * Gemini key has about 200 random bits, so no one reading Redis can find it from the HMAC, and the
 * salt makes the names of one installation useless in any other.
 *
 * The spend guards are counted there too: a credential's Daily Budget (`…:{name}:spend:DAY`, kept 2
 * days), a node's Max Spend per Execution (`…:{name}:spend:execution`, kept a day after its last
 * use): what was spent and what requests in flight reserved, each under a lease (a worker that dies
 * mid-request leaves its estimate counted as spent, not reserved forever); a script reserves.
 *
 * When Redis does not answer, each gate and budget uses its process's memory (and says so once in
 * n8n's log), and goes back to Redis when it answers again.
 */
import { randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { sleepWithAbort } from 'n8n-workflow';

import { GATE_IDLE_MS, GROWTH_RUN, PACE_MARGIN_MS, PACE_MARGIN_STEP_MS } from './gate';
import { periodOf } from './ledger';
import type { LedgerAnswer, LocalSpendLedger, SpendLedger } from './ledger';
import type {
	AttemptOutcome,
	LocalQuotaClock,
	QuotaClock,
	QuotaHint,
	QuotaPace,
	SlotLimits,
} from './gate';

export interface RedisSettings {
	host: string;
	port: number;
	username?: string;
	password?: string;
	db?: number;
	tls?: { servername?: string; rejectUnauthorized: boolean };
	/** Connect over IPv4 or IPv6 (QUEUE_BULL_REDIS_DUALSTACK). */
	dualStack?: boolean;
}

const PREFIX = 'nano-banana-studio:quota';
const SALT_KEY = `${PREFIX}:salt`;
/**
 * A request in flight holds its slot in Redis this long at most: a worker that dies mid-request
 * frees its slots when their leases end. Longer than the default Timeout (900 s).
 */
const LEASE_MS = 16 * 60_000;
/**
 * How long a count is kept after its last use: a day's budget past its day, and a day more for late
 * settlements; an execution's, a day (an execution waiting longer starts its count again).
 */
const SPEND_KEEP_MS = { day: 2 * 24 * 3600_000, execution: 24 * 3600_000 };
/** How long the first request waits for Redis to connect before using the process gate. */
const FIRST_CONNECT_MS = 3000;

/** Resolves when `client` emits `event`, or after `ms`, whichever comes first. */
async function untilOrAfter(client: Redis, event: string, ms: number): Promise<void> {
	const happened = new AbortController();
	client.once(event, () => happened.abort());
	await sleepWithAbort(ms, happened.signal).catch(() => undefined);
}

/** An environment variable as n8n reads it: the variable, else the file `NAME_FILE` names. */
function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
	if (env[name] !== undefined) return env[name]!.trim().replace(/^(['"])(.*)\1$/, '$2');
	const file = env[`${name}_FILE`];
	if (!file) return undefined;
	try {
		return readFileSync(file, 'utf8').trim();
	} catch {
		return undefined;
	}
}

const isTrue = (value: string | undefined) => ['true', '1'].includes(String(value).toLowerCase());

/**
 * n8n's Redis, as n8n reads it (QUEUE_BULL_REDIS_HOST, _PORT, _USERNAME, _PASSWORD, _DB, _TLS …),
 * when this process runs in queue mode (EXECUTIONS_MODE=queue) or the Redis host is set; else
 * undefined. A Redis cluster (QUEUE_BULL_REDIS_CLUSTER_NODES) is not used: `problem` says so.
 */
export function redisSettingsFromEnv(env: NodeJS.ProcessEnv): {
	settings?: RedisSettings;
	problem?: string;
} {
	const host = readEnv(env, 'QUEUE_BULL_REDIS_HOST');
	if (env.EXECUTIONS_MODE !== 'queue' && !host) return {};
	if (readEnv(env, 'QUEUE_BULL_REDIS_CLUSTER_NODES'))
		return {
			problem:
				'Nano Banana: a Redis cluster (QUEUE_BULL_REDIS_CLUSTER_NODES) is not supported for shared quota gates and daily budgets; each worker counts its own requests',
		};
	const number = (name: string, fallback: number) => {
		const value = Number(readEnv(env, name));
		return Number.isFinite(value) && readEnv(env, name) !== '' ? value : fallback;
	};
	return {
		settings: {
			host: host || 'localhost',
			port: number('QUEUE_BULL_REDIS_PORT', 6379),
			username: readEnv(env, 'QUEUE_BULL_REDIS_USERNAME') || undefined,
			password: readEnv(env, 'QUEUE_BULL_REDIS_PASSWORD') || undefined,
			db: number('QUEUE_BULL_REDIS_DB', 0),
			tls: isTrue(readEnv(env, 'QUEUE_BULL_REDIS_TLS'))
				? {
						servername: readEnv(env, 'QUEUE_BULL_REDIS_TLS_SERVERNAME') || undefined,
						rejectUnauthorized:
							readEnv(env, 'QUEUE_BULL_REDIS_TLS_VALIDATE_CERTIFICATE') !== 'false',
					}
				: undefined,
			dualStack: isTrue(readEnv(env, 'QUEUE_BULL_REDIS_DUALSTACK')),
		},
	};
}

/** Redis's clock in ms, at the top of every script. */
const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: pause, starts, pace ("requests/window/margin"), active (leases of the requests in flight,
 * by their end of lease), ctl (the number allowed in flight: allowed, slow, successes, admitted,
 * boundary, ceiling). ARGV: start id, how long state is kept, the ceiling, the start value, the
 * lease. Returns {0, admission number} and counts the start; or {ms to wait, 0} (a pause, or the
 * pace's window full); or {-1, 0} when as many as allowed are in flight.
 */
const START = `${NOW}
local wait = (tonumber(redis.call('GET', KEYS[1])) or 0) - now
local pace = redis.call('GET', KEYS[3])
if pace then
	local requests, window, margin = string.match(pace, '^(%d+)/(%d+)/(%d+)$')
	requests = tonumber(requests)
	window = tonumber(window)
	margin = tonumber(margin)
	local recent = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - window - margin), '+inf', 'WITHSCORES')
	local count = #recent / 2
	if count >= requests then
		local at = tonumber(recent[(count - requests) * 2 + 2])
		wait = math.max(wait, at + window + margin - now)
	end
	redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
if wait > 0 then return {wait, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local allowed = tonumber(redis.call('HGET', KEYS[5], 'allowed'))
if not allowed then
	allowed = math.max(1, tonumber(ARGV[4]))
	redis.call('HSET', KEYS[5], 'allowed', allowed, 'slow', 1, 'successes', 0, 'admitted', 0, 'boundary', 0)
end
local ceiling = math.max(tonumber(redis.call('HGET', KEYS[5], 'ceiling')) or 1, tonumber(ARGV[3]))
redis.call('HSET', KEYS[5], 'ceiling', ceiling)
redis.call('PEXPIRE', KEYS[5], ARGV[2])
if redis.call('ZCARD', KEYS[4]) >= math.min(allowed, ceiling) then return {-1, 0} end
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), ARGV[1])
redis.call('PEXPIRE', KEYS[4], math.max(tonumber(ARGV[2]), tonumber(ARGV[5])))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1001)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {0, redis.call('HINCRBY', KEYS[5], 'admitted', 1)}
`;

/**
 * KEYS: active, ctl. ARGV: start id, outcome, clean (1: the answer was no slower), admission
 * number, the ceiling. As QuotaGate.release does in memory: one more in slow start, else after a
 * run of successes; halved once for the requests in flight together at a 429 or 503.
 */
const ENDED = `
redis.call('ZREM', KEYS[1], ARGV[1])
local ctl = redis.call('HMGET', KEYS[2], 'allowed', 'slow', 'successes', 'boundary', 'admitted', 'ceiling')
local allowed = tonumber(ctl[1])
if not allowed then return 0 end
local slow = tonumber(ctl[2]) == 1
local successes = tonumber(ctl[3]) or 0
local ceiling = math.max(tonumber(ctl[6]) or 1, tonumber(ARGV[5]))
local outcome = ARGV[2]
if outcome == 'ok' then
	if ARGV[3] ~= '1' then
		slow = false
		successes = 0
	elseif allowed < ceiling then
		successes = successes + 1
		if slow or successes >= allowed * ${GROWTH_RUN} then
			allowed = allowed + 1
			successes = 0
		end
	end
elseif outcome == 'quota' or outcome == 'busy' then
	slow = false
	successes = 0
	if tonumber(ARGV[4]) > (tonumber(ctl[4]) or 0) then
		allowed = math.max(1, math.floor(math.min(allowed, ceiling) / 2))
		redis.call('HSET', KEYS[2], 'boundary', tonumber(ctl[5]) or 0)
	end
end
redis.call('HSET', KEYS[2], 'allowed', allowed, 'slow', slow and 1 or 0, 'successes', successes)
return allowed
`;

/** KEYS: starts. ARGV: start id. The request of that start left now: it counts from now. */
const SENT = `${NOW}
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
`;

/** KEYS: pause. ARGV: ms. Nobody starts before now + ms (a longer pause in force stays). */
const PAUSE = `${NOW}
local ms = math.max(1, math.floor(tonumber(ARGV[1])))
if now + ms > (tonumber(redis.call('GET', KEYS[1])) or 0) then
	redis.call('SET', KEYS[1], now + ms, 'PX', ms)
end
return 0
`;

/**
 * KEYS: pause, starts, pace, active, ctl. ARGV: requests, window ms or '', frees-in ms or '', how
 * long the pace is kept, the first margin, its step, the ceiling. As LocalQuotaClock.learn: returns
 * the pace taken ("requests/window/margin"), else false. A new pace lifts the number allowed in
 * flight to the ceiling: the pace keeps requests under the quota from now on.
 */
const LEARN = `${NOW}
local requests = tonumber(ARGV[1])
local known = redis.call('GET', KEYS[3])
if known then
	local r, w, m = string.match(known, '^(%d+)/(%d+)/(%d+)$')
	if tonumber(r) == requests then
		local most = math.max(tonumber(ARGV[5]), math.floor(tonumber(w) / 10))
		local pace = r .. '/' .. w .. '/' .. math.min(most, tonumber(m) + tonumber(ARGV[6]))
		redis.call('SET', KEYS[3], pace, 'PX', ARGV[4])
		return pace
	end
end
local window = tonumber(ARGV[2])
if not window then
	local frees = tonumber(ARGV[3])
	if not frees then return false end
	local oldest = redis.call('ZREVRANGE', KEYS[2], requests - 1, requests - 1, 'WITHSCORES')
	if #oldest == 0 then return false end
	window = now + frees - tonumber(oldest[2])
end
window = math.floor(window)
if window <= 0 then return false end
local counted = redis.call('ZCOUNT', KEYS[2], '(' .. (now - window), '+inf')
if math.abs(counted - requests) > 1 then return false end
local pace = requests .. '/' .. window .. '/' .. ARGV[5]
redis.call('SET', KEYS[3], pace, 'PX', ARGV[4])
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HSET', KEYS[5], 'allowed', ARGV[7]) end
return pace
`;

/**
 * A budget's expired leases become spent at their estimate: their worker died, or their request
 * outlived the lease (a batch job waited for), and Google may have billed it. The estimate stays
 * noted as `expired:ID`, so a late settlement can still replace it. KEYS: count (hash: spent,
 * reserved, and each reservation's micro-dollars by id), leases (sorted set: ids by end of lease).
 */
const EXPIRE_LEASES = `
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
	local amount = tonumber(redis.call('HGET', KEYS[1], id)) or 0
	redis.call('HDEL', KEYS[1], id)
	redis.call('HSET', KEYS[1], 'expired:' .. id, amount)
	redis.call('HINCRBY', KEYS[1], 'reserved', -amount)
	redis.call('HINCRBY', KEYS[1], 'spent', amount)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
`;

/**
 * KEYS: count, leases (see EXPIRE_LEASES). ARGV: reservation id, micro-dollars, budget, lease ms,
 * how long the day is kept. Reserves when spent + reserved + amount stay within the budget:
 * returns {1, total after}; else {0, total}.
 */
const SPEND_RESERVE = `${NOW}${EXPIRE_LEASES}
local count = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
local total = (tonumber(count[1]) or 0) + (tonumber(count[2]) or 0)
local amount = tonumber(ARGV[2])
if total + amount > tonumber(ARGV[3]) then return {0, total} end
redis.call('HSET', KEYS[1], ARGV[1], amount)
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1, total + amount}
`;

/**
 * KEYS: count, leases. ARGV: reservation id, micro-dollars actually spent. The reservation becomes
 * that spend; one whose lease ended, counted spent at its estimate, is corrected to it. Returns the
 * total.
 */
const SPEND_SETTLE = `
local amount = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local expired = tonumber(redis.call('HGET', KEYS[1], 'expired:' .. ARGV[1]))
if amount then
	redis.call('HDEL', KEYS[1], ARGV[1])
	redis.call('ZREM', KEYS[2], ARGV[1])
	redis.call('HINCRBY', KEYS[1], 'reserved', -amount)
	redis.call('HINCRBY', KEYS[1], 'spent', tonumber(ARGV[2]))
elseif expired then
	redis.call('HDEL', KEYS[1], 'expired:' .. ARGV[1])
	redis.call('HINCRBY', KEYS[1], 'spent', tonumber(ARGV[2]) - expired)
end
local count = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return (tonumber(count[1]) or 0) + (tonumber(count[2]) or 0)
`;

/** KEYS: count, leases. The day's total, expired leases counted. */
const SPEND_TOTAL = `${NOW}${EXPIRE_LEASES}
local count = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return (tonumber(count[1]) or 0) + (tonumber(count[2]) or 0)
`;

type Keys = [string, string, string, string, string];

interface QuotaCommands {
	nbsStart(...keysAndArgs: [...Keys, ...Array<string | number>]): Promise<[number, number]>;
	nbsEnded(active: string, ctl: string, ...args: Array<string | number>): Promise<number>;
	nbsPause(pause: string, ms: number): Promise<number>;
	nbsSent(starts: string, id: string): Promise<number>;
	nbsLearn(...keysAndArgs: [...Keys, ...Array<string | number>]): Promise<string | null>;
	nbsSpendReserve(
		count: string,
		leases: string,
		...args: Array<string | number>
	): Promise<[number, number]>;
	nbsSpendSettle(count: string, leases: string, id: string, micros: number): Promise<number>;
	nbsSpendTotal(count: string, leases: string): Promise<number>;
}

export class RedisQuotaStore {
	readonly client: Redis & QuotaCommands;
	private saltValue?: Buffer;
	private saltLoading?: Promise<Buffer | undefined>;
	private readonly firstConnect: Promise<void>;
	private warned = false;

	constructor(
		private readonly settings: RedisSettings,
		private readonly warn: (message: string) => void,
	) {
		const options: RedisOptions = {
			host: settings.host,
			port: settings.port,
			username: settings.username,
			password: settings.password,
			db: settings.db ?? 0,
			...(settings.tls ? { tls: settings.tls } : {}),
			...(settings.dualStack ? { family: 0 } : {}),
			// A command while Redis is away fails at once: the gate then counts in memory.
			enableOfflineQueue: false,
			maxRetriesPerRequest: 1,
			connectTimeout: FIRST_CONNECT_MS,
			commandTimeout: 2000,
			retryStrategy: (times) => Math.min(times * 500, 5000),
			connectionName: 'nano-banana-studio-quota',
		};
		this.client = new Redis(options) as Redis & QuotaCommands;
		this.client.defineCommand('nbsStart', { numberOfKeys: 5, lua: START });
		this.client.defineCommand('nbsEnded', { numberOfKeys: 2, lua: ENDED });
		this.client.defineCommand('nbsPause', { numberOfKeys: 1, lua: PAUSE });
		this.client.defineCommand('nbsSent', { numberOfKeys: 1, lua: SENT });
		this.client.defineCommand('nbsLearn', { numberOfKeys: 5, lua: LEARN });
		this.client.defineCommand('nbsSpendReserve', { numberOfKeys: 2, lua: SPEND_RESERVE });
		this.client.defineCommand('nbsSpendSettle', { numberOfKeys: 2, lua: SPEND_SETTLE });
		this.client.defineCommand('nbsSpendTotal', { numberOfKeys: 2, lua: SPEND_TOTAL });
		// Without a listener ioredis prints every failed reconnection.
		this.client.on('error', (error: Error) => this.down(error));
		// A Redis that restarted empty gets the salt back, so workers started later find it.
		this.client.on('ready', () => {
			if (this.saltValue)
				this.client
					.set(SALT_KEY, this.saltValue.toString('hex'), 'NX')
					.catch((error) => this.down(error));
		});
		this.firstConnect = untilOrAfter(this.client, 'ready', FIRST_CONNECT_MS);
	}

	get ready(): boolean {
		return this.client.status === 'ready';
	}

	/**
	 * The salt of the names in Redis, the same for every worker: made by the first, kept in Redis.
	 * Undefined while Redis does not answer (the first call waits for it a little).
	 */
	async salt(): Promise<Buffer | undefined> {
		if (this.saltValue) return this.saltValue;
		await this.firstConnect;
		if (!this.ready) {
			this.down(new Error('no connection'));
			return undefined;
		}
		this.saltLoading ??= this.loadSalt().finally(() => (this.saltLoading = undefined));
		return await this.saltLoading;
	}

	private async loadSalt(): Promise<Buffer | undefined> {
		try {
			await this.client.set(SALT_KEY, randomBytes(32).toString('hex'), 'NX');
			const salt = await this.client.get(SALT_KEY);
			if (salt) this.saltValue = Buffer.from(salt, 'hex');
			return this.saltValue;
		} catch (error) {
			this.down(error);
			return undefined;
		}
	}

	/** Says once per process that the quota gates count this process only. */
	down(error: unknown): void {
		if (this.warned) return;
		this.warned = true;
		const { host, port } = this.settings;
		let reason = error instanceof Error ? error.message : String(error);
		if (this.settings.password) reason = reason.split(this.settings.password).join('***');
		this.warn(
			`Nano Banana: Redis at ${host}:${port} does not answer (${reason}); quota gates and daily budgets count this worker's requests only until it does`,
		);
	}

	clock(name: string, local: LocalQuotaClock): QuotaClock {
		return new RedisQuotaClock(this, name, local);
	}

	ledger(name: string, local: LocalSpendLedger, now: () => number): SpendLedger {
		return new RedisSpendLedger(this, name, local, now);
	}

	/** Closes the connection and waits (a little) until it is closed. */
	async close(): Promise<void> {
		if (this.client.status === 'end') return;
		const ended = untilOrAfter(this.client, 'end', 3000);
		this.client.disconnect();
		await ended;
	}
}

/** A quota's clock in Redis, with the process's own clock for when Redis does not answer. */
class RedisQuotaClock implements QuotaClock {
	private readonly keys: Keys;
	/** Admission numbers of the starts in flight, for the halving. */
	private readonly admissions = new Map<string, number>();

	constructor(
		private readonly store: RedisQuotaStore,
		name: string,
		/** Used while Redis does not answer; its pause is kept too. */
		readonly local: LocalQuotaClock,
	) {
		const base = `${PREFIX}:{${name}}`;
		this.keys = [
			`${base}:pause`,
			`${base}:starts`,
			`${base}:pace`,
			`${base}:active`,
			`${base}:ctl`,
		];
	}

	/** While Redis answers, the number in flight is the workers' together. */
	get sharesConcurrency(): boolean {
		return this.store.ready;
	}

	async tryStart(id: string, limits: SlotLimits): Promise<number> {
		if (!this.store.ready) {
			this.store.down(new Error(`connection ${this.store.client.status}`));
			return this.local.tryStart(id);
		}
		try {
			const [wait, admission] = await this.store.client.nbsStart(
				...this.keys,
				id,
				GATE_IDLE_MS,
				limits.ceiling,
				limits.start,
				LEASE_MS,
			);
			if (Number(wait) === 0) this.admissions.set(id, Number(admission));
			return Number(wait);
		} catch (error) {
			this.store.down(error);
			return this.local.tryStart(id);
		}
	}

	ended(id: string, outcome: AttemptOutcome, clean: boolean, limits: SlotLimits): void {
		const admission = this.admissions.get(id);
		this.admissions.delete(id);
		if (admission === undefined || !this.store.ready) return;
		this.store.client
			.nbsEnded(this.keys[3], this.keys[4], id, outcome, clean ? 1 : 0, admission, limits.ceiling)
			.catch((error) => this.store.down(error));
	}

	sent(id: string): void {
		this.local.sent(id);
		if (this.store.ready)
			this.store.client.nbsSent(this.keys[1], id).catch((error) => this.store.down(error));
	}

	refused(id: string): void {
		this.local.refused(id);
		if (this.store.ready)
			this.store.client.zrem(this.keys[1], id).catch((error) => this.store.down(error));
	}

	pause(ms: number): void {
		this.local.pause(ms);
		if (this.store.ready)
			this.store.client.nbsPause(this.keys[0], ms).catch((error) => this.store.down(error));
	}

	async learn(hint: QuotaHint, limits: SlotLimits): Promise<QuotaPace | undefined> {
		if (!this.store.ready) return this.local.learn(hint);
		try {
			const pace = await this.store.client.nbsLearn(
				...this.keys,
				hint.requests,
				hint.windowMs ?? '',
				hint.freesInMs ?? '',
				GATE_IDLE_MS,
				PACE_MARGIN_MS,
				PACE_MARGIN_STEP_MS,
				limits.ceiling,
			);
			const [requests, windowMs, marginMs] = String(pace ?? '')
				.split('/')
				.map(Number);
			return windowMs > 0 ? { requests, windowMs, marginMs } : undefined;
		} catch (error) {
			this.store.down(error);
			return this.local.learn(hint);
		}
	}
}

/** A spend count in Redis, with the process's own for when Redis does not answer. */
class RedisSpendLedger implements SpendLedger {
	constructor(
		private readonly store: RedisQuotaStore,
		private readonly name: string,
		readonly local: LocalSpendLedger,
		private readonly now: () => number,
	) {}

	/** The count's keys; a day is the worker's UTC day (the workers agree on it but at midnight). */
	private keys(): [string, string] {
		const count = `${PREFIX}:{${this.name}}:spend:${periodOf(this.local.period, this.now())}`;
		return [count, `${count}:leases`];
	}

	async reserve(micros: number, budgetMicros: number): Promise<LedgerAnswer> {
		if (!this.store.ready) {
			this.store.down(new Error(`connection ${this.store.client.status}`));
			return this.local.reserve(micros, budgetMicros);
		}
		const keys = this.keys();
		const id = randomBytes(9).toString('base64url');
		try {
			const [reserved, total] = await this.store.client.nbsSpendReserve(
				...keys,
				id,
				micros,
				budgetMicros,
				LEASE_MS,
				SPEND_KEEP_MS[this.local.period],
			);
			return {
				totalMicros: Number(total),
				settle: Number(reserved)
					? async (actual) => await this.settle(keys, id, actual)
					: undefined,
			};
		} catch (error) {
			this.store.down(error);
			return this.local.reserve(micros, budgetMicros);
		}
	}

	private async settle(keys: [string, string], id: string, actualMicros: number): Promise<void> {
		// A reservation Redis lost (it restarted empty) is simply not there to settle.
		await this.store.client
			.nbsSpendSettle(...keys, id, actualMicros)
			.catch((error) => this.store.down(error));
	}

	async totalMicros(): Promise<number> {
		if (!this.store.ready) return this.local.totalMicros();
		try {
			return Number(await this.store.client.nbsSpendTotal(...this.keys()));
		} catch (error) {
			this.store.down(error);
			return this.local.totalMicros();
		}
	}
}
