/**
 * Runs one task per input item with bounded concurrency, keeps output in input order, and
 * isolates failures: with Continue On Fail a failing item comes out as it came in, plus the
 * error; without it the first failure aborts the requests still in flight and stops the node.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { toNodeError } from './errors';

export interface ItemContext {
	/** Aborts when the execution is cancelled or another item failed (without Continue On Fail). */
	signal: AbortSignal;
	/** Wraps one API request so that at most `concurrency` are in flight across all items. */
	limit: <T>(request: () => Promise<T>) => Promise<T>;
}

export type ItemOutcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** A counting semaphore: `limit(fn)` runs fn when fewer than `max` others are running. */
export function createLimiter(max: number) {
	let active = 0;
	const waiting: Array<() => void> = [];
	const release = () => {
		active--;
		waiting.shift()?.();
	};
	return async <T>(fn: () => Promise<T>): Promise<T> => {
		if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
		active++;
		try {
			return await fn();
		} finally {
			release();
		}
	};
}

/**
 * Calls `task` for items 0..count-1, at most `concurrency` items at a time (so at most that
 * many items' images are in memory), and at most `concurrency` API requests in flight.
 */
export async function runItems<T>(
	ctx: IExecuteFunctions,
	count: number,
	concurrency: number,
	task: (itemIndex: number, context: ItemContext) => Promise<T>,
): Promise<Array<ItemOutcome<T>>> {
	const maxRequests = Math.max(1, Math.floor(concurrency) || 1);
	// Never more item workers than items; one item may still use every request slot (fan-out).
	const width = Math.min(maxRequests, Math.max(1, count));
	const continueOnFail = ctx.continueOnFail();
	const stop = new AbortController();
	const cancel = ctx.getExecutionCancelSignal?.();
	const signal = cancel ? AbortSignal.any([cancel, stop.signal]) : stop.signal;
	const limit = createLimiter(maxRequests);
	const outcomes: Array<ItemOutcome<T>> = new Array(count);
	let next = 0;
	let firstError: Error | undefined;

	const worker = async () => {
		while (!firstError && !signal.aborted && next < count) {
			const itemIndex = next++;
			try {
				outcomes[itemIndex] = { ok: true, value: await task(itemIndex, { signal, limit }) };
			} catch (error) {
				const nodeError = toNodeError(ctx, error, itemIndex);
				outcomes[itemIndex] = { ok: false, error: nodeError };
				if (!continueOnFail && !firstError) {
					firstError = nodeError;
					stop.abort(nodeError);
				}
			}
		}
	};
	await Promise.all(Array.from({ length: width }, worker));

	if (firstError) throw firstError;
	if (cancel?.aborted) throw toNodeError(ctx, cancel.reason ?? new Error('The execution was cancelled'), 0);
	return outcomes;
}

/** The item as it came in, with the error attached: nothing is lost under Continue On Fail. */
export function errorItem(item: INodeExecutionData, itemIndex: number, error: Error): INodeExecutionData {
	const e = error as Error & { description?: string | null; httpCode?: string | null; context?: IDataObject };
	return {
		json: {
			...item.json,
			error: {
				message: e.message,
				description: e.description ?? undefined,
				httpCode: e.httpCode ?? undefined,
				reason: (e.context?.reason as string | undefined) ?? undefined,
			},
		},
		binary: item.binary,
		pairedItem: { item: itemIndex },
	};
}
