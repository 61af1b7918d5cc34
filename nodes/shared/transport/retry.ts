import { GeminiFailure, classifyError } from './errors';

export interface RetryPolicy {
	/** Total attempts, the first one included. */
	maxAttempts: number;
	/** The most the node may wait across all retries of one call, in ms. */
	maxTotalWaitMs: number;
	baseDelayMs?: number;
	maxDelayMs?: number;
	/** 0..1 share of the delay that is randomised. */
	jitter?: number;
	random?: () => number;
}

export interface RetryObserver {
	onRetry?(info: { attempt: number; delayMs: number; failure: GeminiFailure }): void;
}

/** Exponential backoff with jitter for the attempt that just failed (1-based). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
	const base = policy.baseDelayMs ?? 1000;
	const cap = policy.maxDelayMs ?? 60_000;
	const raw = Math.min(cap, base * 2 ** (attempt - 1));
	const jitter = policy.jitter ?? 0.3;
	const random = policy.random ?? Math.random;
	return Math.round(raw * (1 - jitter + 2 * jitter * random()));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal?.reason);
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/**
 * Runs `call` until it succeeds, a failure is not retryable, attempts run out, or waiting
 * longer would break the wait budget. A server-requested delay (RetryInfo, Retry-After) wins
 * over our own backoff; one longer than the budget fails at once rather than sleep in vain.
 */
export async function withRetry<T>(
	call: (attempt: number) => Promise<T>,
	policy: RetryPolicy,
	signal?: AbortSignal,
	observer: RetryObserver = {},
): Promise<T> {
	let waited = 0;
	for (let attempt = 1; ; attempt++) {
		try {
			return await call(attempt);
		} catch (error) {
			if (signal?.aborted) throw signal.reason ?? error;
			const failure = classifyError(error);
			failure.attempts = attempt;
			if (!failure.retryable || attempt >= policy.maxAttempts) throw failure;
			const delay = failure.retryDelayMs ?? backoffDelay(attempt, policy);
			if (waited + delay > policy.maxTotalWaitMs) throw failure;
			observer.onRetry?.({ attempt, delayMs: delay, failure });
			await sleep(delay, signal);
			waited += delay;
		}
	}
}
