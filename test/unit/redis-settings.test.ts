/**
 * Which Redis the quota gates share in queue mode: n8n's own, read from the variables n8n reads
 * (QUEUE_BULL_REDIS_*, and their _FILE forms), only in queue mode or when the host is set.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

import { redisSettingsFromEnv } from '../../nodes/shared/transport/redisQuota';

describe("n8n's Redis settings", () => {
	it('are not used outside queue mode', () => {
		expect(redisSettingsFromEnv({})).toEqual({});
		expect(redisSettingsFromEnv({ EXECUTIONS_MODE: 'regular' })).toEqual({});
	});

	it("take n8n's defaults in queue mode", () => {
		expect(redisSettingsFromEnv({ EXECUTIONS_MODE: 'queue' }).settings).toEqual({
			host: 'localhost',
			port: 6379,
			username: undefined,
			password: undefined,
			db: 0,
			tls: undefined,
			dualStack: false,
		});
	});

	it('read host, port, user, password, database, TLS and dual stack as n8n does', () => {
		const settings = redisSettingsFromEnv({
			QUEUE_BULL_REDIS_HOST: 'redis.internal',
			QUEUE_BULL_REDIS_PORT: '6380',
			QUEUE_BULL_REDIS_USERNAME: 'n8n',
			QUEUE_BULL_REDIS_PASSWORD: '"p@ss#word"',
			QUEUE_BULL_REDIS_DB: '2',
			QUEUE_BULL_REDIS_TLS: 'true',
			QUEUE_BULL_REDIS_TLS_SERVERNAME: 'redis.example.com',
			QUEUE_BULL_REDIS_TLS_VALIDATE_CERTIFICATE: 'false',
			QUEUE_BULL_REDIS_DUALSTACK: '1',
		}).settings;
		expect(settings).toEqual({
			host: 'redis.internal',
			port: 6380,
			username: 'n8n',
			password: 'p@ss#word',
			db: 2,
			tls: { servername: 'redis.example.com', rejectUnauthorized: false },
			dualStack: true,
		});
	});

	it('read a secret from the file NAME_FILE names', () => {
		const file = join(mkdtempSync(join(tmpdir(), 'nbs-redis-')), 'password');
		writeFileSync(file, 'from-a-file\n');
		const settings = redisSettingsFromEnv({
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_PASSWORD_FILE: file,
		}).settings;
		expect(settings?.password).toBe('from-a-file');
	});

	it('say a Redis cluster is not used, rather than use it wrongly', () => {
		const read = redisSettingsFromEnv({
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_CLUSTER_NODES: 'a:6379,b:6379',
		});
		expect(read.settings).toBeUndefined();
		expect(read.problem).toMatch(/cluster .* not supported/);
	});
});
