import { sleep as n8nSleep, sleepWithAbort } from 'n8n-workflow';

import { GeminiFailure, classifyError } from './failure';
import type { Admission, GateTicket } from './gate';

export interface RetryPolicy {
	/** Total attempts, the first one included. Waiting for quota (429) costs none. */
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

export interface RetryOptions {
	signal?: AbortSignal;
	observer?: RetryObserver;
	/** The quota's gate, shared by every execution: quota pauses, pacing, adaptive concurrency. */
	gate?: Admission;
}

/** What a call cost: filled in as it runs, so a failure can say it too. */
export interface RetryStats {
	/** Requests sent, 429s included. */
	attempts: number;
	/** Time spent waiting for quota or an overloaded model (ours or another request's answer). */
	quotaWaitMs: number;
}

/** Google rounds RetryInfo down to whole seconds: waiting exactly that long is often too early. */
const TRUNCATED_DELAY_MARGIN_MS = 1000;
/** An exact delay ("Please retry in 34.4s") still gets a little slack for clock and network. */
const EXACT_DELAY_MARGIN_MS = 150;

/** Exponential backoff with jitter for the attempt that just failed (1-based). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
	const base = policy.baseDelayMs ?? 1000;
	const cap = policy.maxDelayMs ?? 60_000;
	const raw = Math.min(cap, base * 2 ** (attempt - 1));
	const jitter = policy.jitter ?? 0.3;
	const random = policy.random ?? Math.random;
	return Math.round(raw * (1 - jitter + 2 * jitter * random()));
}

/**
 * How long to wait after a 429 or 503: the server's delay plus a margin, never less than the
 * backoff step when the server says "0s" or less than a second (a retry that early only meets
 * another 429).
 */
export function serverDelay(failure: GeminiFailure, step: number, policy: RetryPolicy): number {
	const backoff = backoffDelay(step, policy);
	if (failure.retryDelayMs === undefined) return backoff;
	const margin = failure.retryDelayExact ? EXACT_DELAY_MARGIN_MS : TRUNCATED_DELAY_MARGIN_MS;
	const padded = failure.retryDelayMs + margin;
	return failure.retryDelayMs < 1000 ? Math.max(padded, backoff) : padded;
}

/** The server's delay, rounded up when it was given in whole seconds rounded down. */
function exactDelay(failure: GeminiFailure): number | undefined {
	if (failure.retryDelayMs === undefined) return undefined;
	return failure.retryDelayMs + (failure.retryDelayExact ? 0 : TRUNCATED_DELAY_MARGIN_MS);
}

/**
 * A signal of its own that follows `signal` until `unlink()`. Whoever is given it may leave
 * listeners on it (the SDK does when a call succeeds: it keeps the attempt armed while the answer
 * is read); they go with it, not onto the caller's signal, which may be the execution's and live
 * for hours (a batch polls it).
 */
export function linkedSignal(signal?: AbortSignal): { signal?: AbortSignal; unlink: () => void } {
	if (!signal) return { signal, unlink: () => undefined };
	const own = new AbortController();
	const onAbort = () => own.abort(signal.reason);
	if (signal.aborted) onAbort();
	else signal.addEventListener('abort', onAbort, { once: true });
	return { signal: own.signal, unlink: () => signal.removeEventListener('abort', onAbort) };
}

/** n8n's abortable sleep, failing with the signal's own reason like the rest of the transport. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (!signal) return await n8nSleep(ms);
	if (signal.aborted) throw signal.reason;
	const own = linkedSignal(signal);
	try {
		await sleepWithAbort(ms, own.signal);
	} catch (error) {
		throw signal.reason ?? error;
	} finally {
		own.unlink();
	}
}

/**
 * Runs `call` until it succeeds, a failure is not retryable, attempts run out, or waiting
 * longer would break the wait budget. A 429 is quota, not a fault of the request: it costs no
 * attempt, only wait budget. With a gate, a 429 or 503 pauses every request to that quota for
 * the server's delay, and the retry goes first when the pause ends. `billed` tells the gate what an
 * attempt's answer cost. Each attempt gets a signal of its own (`linkedSignal`) to send with.
 */
export async function withRetry<T>(
	call: (
		attempt: number,
		sent: () => void,
		billed: (usd: number) => void,
		signal?: AbortSignal,
	) => Promise<T>,
	policy: RetryPolicy,
	{ signal, observer = {}, gate }: RetryOptions = {},
	stats: RetryStats = { attempts: 0, quotaWaitMs: 0 },
): Promise<T> {
	let counted = 0;
	let busy = 0;
	let waited = 0;
	let failedAt: number | undefined;
	for (;;) {
		const ticket: GateTicket | undefined = gate
			? await gate.acquire(signal, failedAt !== undefined)
			: undefined;
		if (failedAt !== undefined) waited += Date.now() - failedAt;
		stats.quotaWaitMs += ticket?.pausedMs ?? 0;
		stats.attempts++;
		const attempt = linkedSignal(signal);
		try {
			const value = await call(
				stats.attempts,
				() => ticket && gate!.sent(ticket),
				(usd) => ticket && gate!.billed?.(ticket, usd),
				attempt.signal,
			);
			if (ticket) gate!.release(ticket, 'ok');
			return value;
		} catch (error) {
			const failure = classifyError(error);
			failure.attempts = stats.attempts;
			failure.quotaWaitMs = stats.quotaWaitMs;
			const isQuota = failure.httpCode === 429;
			const isBusy = isQuota || failure.httpCode === 503;
			const delay = isBusy
				? serverDelay(failure, ++busy, policy)
				: (failure.retryDelayMs ?? backoffDelay(counted + 1, policy));
			const quota = failure.quota && { ...failure.quota, freesInMs: exactDelay(failure) };
			if (ticket)
				gate!.release(ticket, isQuota ? 'quota' : isBusy ? 'busy' : 'failed', delay, quota);
			if (signal?.aborted) throw signal.reason ?? error;
			if (!isQuota) counted++;
			if (!failure.retryable || counted >= policy.maxAttempts) throw failure;
			if (waited + delay > policy.maxTotalWaitMs) throw failure;
			observer.onRetry?.({ attempt: stats.attempts, delayMs: delay, failure });
			failedAt = Date.now();
			// With a gate, a busy answer's pause is the gate's: acquiring waits it out, for everyone.
			if (!(gate && isBusy)) await sleep(delay, signal);
			if (isBusy && !gate) stats.quotaWaitMs += delay;
		} finally {
			attempt.unlink();
		}
	}
}
