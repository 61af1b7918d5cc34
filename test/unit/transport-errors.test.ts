import { readFileSync } from 'fs';
import { join } from 'path';

import {
	backoffDelay,
	classifyError,
	parseRetryAfter,
	parseRetryDelay,
	redactSecret,
	withRetry,
} from '../../nodes/shared/transport';
import type { GeminiFailure } from '../../nodes/shared/transport';

const responses = join(__dirname, '..', 'fixtures', 'responses');
/** The SDK's ApiError carries the JSON body as its message. */
const apiError = (status: number, body: string) =>
	Object.assign(new Error(body), { name: 'ApiError', status });

describe('RetryInfo and Retry-After', () => {
	it.each([
		['58s', 58000],
		['34.4s', 34400],
		['0.35s', 350],
		['1.000000001s', 1000],
	])('parses retryDelay %s', (value, ms) => expect(parseRetryDelay(value)).toBe(ms));

	it('parses the {seconds, nanos} form and rejects nonsense', () => {
		expect(parseRetryDelay({ seconds: 2, nanos: 500_000_000 })).toBe(2500);
		expect(parseRetryDelay('soon')).toBeUndefined();
		expect(parseRetryDelay(undefined)).toBeUndefined();
	});

	it('parses Retry-After as seconds or as an HTTP date', () => {
		expect(parseRetryAfter('7')).toBe(7000);
		const now = Date.parse('2026-11-28T10:00:00Z');
		expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:30 GMT', now)).toBe(30000);
		expect(parseRetryAfter(null)).toBeUndefined();
	});

	it('reads the delay out of a real Gemini API 429 body', () => {
		const body = readFileSync(join(responses, 'real_429_gemini-api_RetryInfo_58s.json'), 'utf8');
		const failure = classifyError(apiError(429, body));
		expect(failure.retryable).toBe(true);
		// RetryInfo says "58s" (rounded down); the message says "Please retry in 58.217843437s."
		expect(failure.retryDelayMs).toBe(58218);
		expect(failure.retryDelayExact).toBe(true);
		expect(failure.reason).toBe('RESOURCE_EXHAUSTED');
		expect(failure.description).toContain('58.2 s');
		expect(failure.description).toContain('GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
	});

	it('reads a fractional delay and falls back to backoff when Vertex sends no details', () => {
		const fractional = classifyError(
			apiError(
				429,
				readFileSync(
					join(responses, 'vercel-ai_google-429-retry-info.REPRESENTATIVE.json'),
					'utf8',
				),
			),
		);
		expect(fractional.retryDelayMs).toBe(34400);
		const vertex = classifyError(
			apiError(
				429,
				readFileSync(
					join(responses, 'real_429_vertex_gemini-3-pro-image-preview_no-details.json'),
					'utf8',
				),
			),
		);
		expect(vertex.retryable).toBe(true);
		expect(vertex.retryDelayMs).toBeUndefined();
	});

	it('uses Retry-After when the body has no RetryInfo', () => {
		const failure = classifyError(
			apiError(503, '{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}'),
			1500,
		);
		expect(failure.retryDelayMs).toBe(1500);
	});
});

describe('which failures are retried', () => {
	it.each([400, 401, 403, 404])('never retries %i', (status) => {
		expect(
			classifyError(apiError(status, `{"error":{"code":${status},"message":"no","status":"X"}}`))
				.retryable,
		).toBe(false);
	});

	it.each([429, 500, 502, 503, 504])('retries %i', (status) => {
		expect(
			classifyError(apiError(status, `{"error":{"code":${status},"message":"busy","status":"X"}}`))
				.retryable,
		).toBe(true);
	});

	it('explains a bad key without retrying', () => {
		const body = JSON.stringify({
			error: {
				code: 400,
				message: 'API key not valid. Please pass a valid API key.',
				status: 'INVALID_ARGUMENT',
				details: [
					{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' },
				],
			},
		});
		const failure = classifyError(apiError(400, body));
		expect(failure.retryable).toBe(false);
		expect(failure.reason).toBe('API_KEY_INVALID');
		expect(failure.message).toMatch(/key is not valid/);
	});

	it('retries network errors, timeouts and malformed JSON; keeps HTML pages short', () => {
		expect(
			classifyError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }))
				.kind,
		).toBe('network');
		// What the SDK throws when fetch itself fails.
		const wrapped = new Error('exception TypeError: fetch failed sending request', {
			cause: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }),
		});
		expect(classifyError(wrapped)).toMatchObject({
			kind: 'network',
			retryable: true,
			message: 'Could not reach the Gemini API (ECONNRESET)',
		});
		expect(
			classifyError(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }))
				.kind,
		).toBe('timeout');
		expect(classifyError(new SyntaxError('Unexpected end of JSON input')).kind).toBe('malformed');
		const html = classifyError(
			apiError(
				502,
				JSON.stringify({
					error: {
						message: '<html><head><title>502 Bad Gateway</title></head><body>…</body></html>',
						code: 502,
					},
				}),
			),
		);
		expect(html.message).toContain('502 Bad Gateway');
		expect(html.message).not.toContain('<html>');
		expect(html.retryable).toBe(true);
	});

	it('scrubs a secret from any text', () => {
		expect(redactSecret('key=AIzaSECRET123 failed', 'AIzaSECRET123')).toBe('key=*** failed');
	});
});

describe('withRetry', () => {
	const policy = {
		maxAttempts: 4,
		maxTotalWaitMs: 10_000,
		baseDelayMs: 5,
		maxDelayMs: 20,
		random: () => 0.5,
	};
	const quota = (delay: string) =>
		apiError(
			429,
			JSON.stringify({
				error: {
					code: 429,
					status: 'RESOURCE_EXHAUSTED',
					message: 'quota',
					details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }],
				},
			}),
		);

	it('waits as long as RetryInfo says, then succeeds', async () => {
		const started = Date.now();
		let calls = 0;
		const value = await withRetry(async () => {
			if (++calls === 1) throw quota('0.12s');
			return 'ok';
		}, policy);
		expect(value).toBe('ok');
		expect(calls).toBe(2);
		expect(Date.now() - started).toBeGreaterThanOrEqual(115);
	});

	it('fails at once when the server asks for a longer wait than allowed', async () => {
		let calls = 0;
		const error = await withRetry(
			async () => {
				calls++;
				throw quota('60s');
			},
			{ ...policy, maxTotalWaitMs: 1000 },
		).catch((e: GeminiFailure) => e);
		expect(calls).toBe(1);
		expect(error.reason).toBe('RESOURCE_EXHAUSTED');
	});

	it('stops after maxAttempts and says how many it made', async () => {
		let calls = 0;
		const error = await withRetry(async () => {
			calls++;
			throw apiError(
				503,
				'{"error":{"code":503,"status":"UNAVAILABLE","message":"The model is overloaded."}}',
			);
		}, policy).catch((e: GeminiFailure) => e);
		expect(calls).toBe(4);
		expect(error.attempts).toBe(4);
	});

	it('does not retry a 400', async () => {
		let calls = 0;
		await expect(
			withRetry(async () => {
				calls++;
				throw apiError(400, '{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad"}}');
			}, policy),
		).rejects.toMatchObject({ httpCode: 400 });
		expect(calls).toBe(1);
	});

	it('grows the backoff exponentially within its cap', () => {
		const p = {
			maxAttempts: 9,
			maxTotalWaitMs: 1e9,
			baseDelayMs: 1000,
			maxDelayMs: 8000,
			jitter: 0,
			random: () => 0,
		};
		expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, p))).toEqual([1000, 2000, 4000, 8000, 8000]);
	});

	it('stops waiting when the execution is cancelled', async () => {
		const cancel = new AbortController();
		setTimeout(() => cancel.abort(new Error('cancelled')), 30);
		const started = Date.now();
		await expect(
			withRetry(
				async () => {
					throw quota('5s');
				},
				policy,
				{ signal: cancel.signal },
			),
		).rejects.toThrow('cancelled');
		expect(Date.now() - started).toBeLessThan(2000);
	});
});
