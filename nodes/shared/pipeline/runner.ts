/**
 * The item loop of every node, and the one place that decides what a failure becomes.
 * Operations return output items or throw. The runner runs them with bounded concurrency,
 * keeps output in input order, and on failure:
 * - without Continue On Fail, throws what a loop over the items would: the failure of the
 *   lowest-index item that really fails. When an item fails, later items in flight are aborted
 *   (no failure of theirs) and none starts; earlier ones finish, and may fail in its place;
 * - with "Continue (regular output)", outputs the source item as it came in (json, binary) plus
 *   `json.error`, so nothing is lost;
 * - with "Continue (using error output)", outputs `{error}` json with the source's binary (what the
 *   item made before it failed goes under `error.details`): n8n moves an item whose json holds
 *   only `error` to the error output and merges the source item's json back in. (An item with
 *   `item.error` set would move too, but n8n 2.x then replaces its json with the bare message,
 *   losing the source json and the description.)
 * What fails before the item loop (credential, client, settings read from item 0) takes the same
 * path for every item: nodes run through `withSetup`. No other code converts an error: what only
 * the thrower knows goes on the error it throws (`withContext` in errors.ts: a step, a batch
 * request; `withPartial`: what the item made), and `nodeErrorOf` here applies it.
 */
import type {
	IBinaryData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import { toNodeError } from './errors';
import { AUTO_MAX, RequestGate } from '../transport';
import type { Admissions, ConcurrencyLimit, SpendGuard } from '../transport';

export interface ItemContext {
	/** Aborts when the execution is cancelled or (no Continue On Fail) an earlier item failed. */
	signal: AbortSignal;
	/**
	 * This task's gate, in front of the process's quota gates: pass it in the call settings.
	 */
	gate: Admissions;
	/**
	 * Call once the item has made its last request: the next item may start while this one stores
	 * its images. (Without the call, the next item starts when this one ends.)
	 */
	requestsDone: () => void;
}

/** Output items of one task; `output` picks the node output (Verify: 0 = Pass, 1 = Fail). */
export type TaskResult = INodeExecutionData[] | { output: number; items: INodeExecutionData[] };

/**
 * What an item made before it failed (Edit's step images, Verify's local checks), kept under
 * Continue On Fail.
 */
export interface PartialResult {
	json?: IDataObject;
	binary?: Record<string, IBinaryData>;
}

const PARTIAL = Symbol('partial result');

/** Attaches what the item made so far to the error it failed with. */
export function withPartial<E>(error: E, partial: PartialResult): E {
	if (error && typeof error === 'object')
		(error as { [PARTIAL]?: PartialResult })[PARTIAL] = partial;
	return error;
}

function partialOf(error: unknown): PartialResult {
	return (error as { [PARTIAL]?: PartialResult } | undefined)?.[PARTIAL] ?? {};
}

export interface RunSpec {
	/**
	 * Max Concurrent Requests (or Auto: up to AUTO_MAX): also how many tasks may be before their last
	 * request at once; as many again may be storing their images, so at most twice that many items'
	 * images are in memory.
	 */
	concurrency: ConcurrencyLimit;
	/** How many tasks; one per input item unless the node gathers items. */
	tasks?: number;
	/** The input items a task was made from (default: the item with the task's index). */
	sourcesOf?: (task: number) => number[];
	/** How many outputs the node has, and which one failed items go to under Continue On Fail. */
	outputs?: number;
	failedOutput?: number;
	/**
	 * What a failed task outputs with its error, when not its source item(s) as they came in
	 * (collected batch results: the request's description).
	 */
	failedItemOf?: (task: number) => PartialResult;
	/** The execution's spend guards, checked as each image request is about to be sent. */
	spend?: SpendGuard;
}

/**
 * Runs `task` for every task index and returns the node's outputs. Without Continue On Fail it
 * throws what a loop over the items would: the failure of the lowest-index task that really fails
 * (`FirstInOrder`), whichever failed first in time.
 */
// long: the one error path reads whole; its workers share the loop state (next, results, order)
export async function runItems(
	ctx: IExecuteFunctions,
	spec: RunSpec,
	task: (index: number, context: ItemContext) => Promise<TaskResult>,
): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const count = spec.tasks ?? items.length;
	const sourcesOf = spec.sourcesOf ?? ((index: number) => [index]);
	const maxRequests =
		spec.concurrency === 'auto' ? AUTO_MAX : Math.max(1, Math.floor(spec.concurrency) || 1);
	// Never more workers than tasks; one task may still use every request slot (fan-out).
	const width = Math.min(maxRequests, Math.max(1, count));
	// An item that has made its last request hands its turn on, so the next one's request need not
	// wait for this one to store its images: twice as many workers, `width` turns.
	const turns = new Turns(width);
	const continueOnFail = ctx.continueOnFail();
	const toErrorOutput = ctx.getNode().onError === 'continueErrorOutput';
	const cancel = ctx.getExecutionCancelSignal?.();
	const order = new FirstInOrder(cancel);
	const gate = new RequestGate(spec.concurrency === 'auto' ? 'auto' : maxRequests, {
		warn: (message) => ctx.logger?.warn(message),
		spend: spec.spend,
	});
	const results: Array<{ output: number; items: INodeExecutionData[] }> = new Array(count);
	let next = 0;

	const worker = async () => {
		while (!order.stopped && next < count) {
			await turns.take();
			if (order.stopped || next >= count) {
				turns.give();
				break;
			}
			const index = next++;
			const sources = sourcesOf(index);
			let holding = true;
			const requestsDone = () => {
				if (holding) turns.give();
				holding = false;
			};
			const taskGate = gate.task();
			try {
				const signal = order.started(index);
				const result = await task(index, { signal, gate: taskGate, requestsDone });
				results[index] = Array.isArray(result) ? { output: 0, items: result } : result;
				await withSpendReport(spec.spend, results[index].items);
			} catch (error) {
				const nodeError = nodeErrorOf(ctx, error, sources);
				if (!continueOnFail) {
					order.failed(index, nodeError);
					continue;
				}
				const item = failedItem(
					items,
					sources,
					nodeError,
					partialOf(error),
					toErrorOutput,
					spec.failedItemOf?.(index),
				);
				results[index] = { output: spec.failedOutput ?? 0, items: [item] };
			} finally {
				order.ended(index);
				requestsDone();
				taskGate.done();
			}
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.min(2 * width, count) || 1 }, worker));
	} finally {
		gate.close();
	}

	if (order.failure) throw order.failure;
	if (cancel?.aborted)
		throw nodeErrorOf(ctx, cancel.reason ?? new Error('The execution was cancelled'), [0]);
	const outputs: INodeExecutionData[][] = Array.from({ length: spec.outputs ?? 1 }, () => []);
	for (const result of results) outputs[result.output].push(...result.items);
	return outputs;
}

/**
 * Which failure stops the node without Continue On Fail: the lowest-index task's, as a loop over
 * the items would give. Tasks start in index order, so when task k fails every task before it has
 * started: those still running finish (one of them failing takes k's place), those after it are
 * aborted rather than paid for, and none starts. A later task's failure, the abort included, is
 * never the node's.
 */
class FirstInOrder {
	failure?: Error;
	private failedIndex = Infinity;
	private readonly running = new Map<number, AbortController>();

	constructor(private readonly cancel: AbortSignal | undefined) {}

	/** No task starts once one has failed or the execution is cancelled. */
	get stopped(): boolean {
		return this.failure !== undefined || Boolean(this.cancel?.aborted);
	}

	/**
	 * The signal of a task that starts: it aborts with the execution, or when an earlier task fails.
	 * Every waiting and running request listens for the abort, and Node warns of a leak past 10
	 * listeners on one signal: those of all tasks together may be more, those of one task are not
	 * (its images, at most 8). AbortSignal.any links the signals without a listener on either.
	 */
	started(index: number): AbortSignal {
		const own = new AbortController();
		this.running.set(index, own);
		return this.cancel ? AbortSignal.any([this.cancel, own.signal]) : own.signal;
	}

	ended(index: number): void {
		this.running.delete(index);
	}

	/** Task `index` failed: the node's failure unless an earlier task's is; later ones abort. */
	failed(index: number, error: Error): void {
		if (index > this.failedIndex) return;
		this.failedIndex = index;
		this.failure = error;
		for (const [later, own] of this.running) if (later > index) own.abort(error);
	}
}

/**
 * The one conversion of a failure: what a task made from `sources` threw, as the node error n8n
 * shows, with what the thrower attached (`withContext`). Batch code that fails outside the item
 * loop (a job that cannot be waited for, or its results read) converts through it too.
 */
export function nodeErrorOf(
	ctx: IExecuteFunctions,
	error: unknown,
	sources: number[],
): NodeApiError | NodeOperationError {
	return toNodeError(ctx, error, sources[0], sources.length > 1 ? sources : undefined);
}

/**
 * Adds today's spend with the credential and its Daily Budget (`spentTodayUsd`, `budgetUsd`) to
 * each item's json, when the credential has a budget.
 */
export async function withSpendReport(
	spend: SpendGuard | undefined,
	items: INodeExecutionData[],
): Promise<INodeExecutionData[]> {
	const report = items.length ? await spend?.report() : undefined;
	if (report) for (const item of items) Object.assign(item.json, report);
	return items;
}

/** Where failed items go: how many outputs the node has, and which one takes them. */
export type FailureOutputs = Pick<RunSpec, 'outputs' | 'failedOutput'>;

/**
 * A node's run in two steps: `setup`, what every item shares and is read before the item loop (the
 * credential and its client, settings read from item 0), then `run`. A setup failure is every
 * item's failure, through the same error path as one item's: thrown out of execute(), n8n would
 * pass the input items on unchanged under Continue On Fail, as if nothing had failed.
 */
export async function withSetup<S>(
	ctx: IExecuteFunctions,
	outputs: FailureOutputs,
	setup: (ctx: IExecuteFunctions) => Promise<S>,
	run: (ctx: IExecuteFunctions, ready: S) => Promise<INodeExecutionData[][]>,
): Promise<INodeExecutionData[][]> {
	let ready: S;
	try {
		ready = await setup(ctx);
	} catch (error) {
		return failEveryItem(ctx, error, outputs);
	}
	return await run(ctx, ready);
}

/**
 * Every input item failed with the same error, before any request: without Continue On Fail the
 * node stops with it, else each item comes out as a failed item does.
 */
export function failEveryItem(
	ctx: IExecuteFunctions,
	error: unknown,
	outputs: FailureOutputs = {},
): INodeExecutionData[][] {
	if (!ctx.continueOnFail()) throw nodeErrorOf(ctx, error, [0]);
	const items = ctx.getInputData();
	const toErrorOutput = ctx.getNode().onError === 'continueErrorOutput';
	const result: INodeExecutionData[][] = Array.from({ length: outputs.outputs ?? 1 }, () => []);
	for (const index of items.keys()) {
		const nodeError = nodeErrorOf(ctx, error, [index]);
		result[outputs.failedOutput ?? 0].push(
			failedItem(items, [index], nodeError, partialOf(error), toErrorOutput),
		);
	}
	return result;
}

/** A counting semaphore: `take` waits for a free turn, `give` hands it to the next waiter. */
class Turns {
	private readonly waiting: Array<() => void> = [];

	constructor(private free: number) {}

	async take(): Promise<void> {
		if (this.free > 0) {
			this.free--;
			return;
		}
		await new Promise<void>((resolve) => this.waiting.push(resolve));
	}

	give(): void {
		const next = this.waiting.shift();
		if (next) next();
		else this.free++;
	}
}

/** The error as it reads in the item's json: plain data, no stack. */
/** A node error as an output item's `error`: what n8n's editor shows of it. */
export function errorJson(error: Error): IDataObject {
	const e = error as Error & {
		description?: string | null;
		httpCode?: string | null;
		context?: IDataObject;
	};
	return {
		message: e.message,
		description: e.description ?? undefined,
		httpCode: e.httpCode ?? undefined,
		reason: (e.context?.reason as string | undefined) ?? undefined,
	};
}

/**
 * The source item(s) as they came in, with the error: nothing is lost. A task made from several
 * items (a gathered Fuse) gives one item that pairs with all of them, has the first one's json
 * and keeps every source's binaries (a name already taken gets `_item<k>`). For the error output
 * the json is only the error (and what the item made, as `details`): n8n adds the source json.
 * `own` replaces the source items' json and binary (a collected batch result: its request).
 */
function failedItem(
	items: INodeExecutionData[],
	sources: number[],
	error: Error,
	partial: PartialResult,
	toErrorOutput: boolean,
	own?: PartialResult,
): INodeExecutionData {
	const binary: Record<string, IBinaryData> = { ...own?.binary };
	for (const k of own ? [] : sources) {
		for (const [name, data] of Object.entries(items[k]?.binary ?? {}))
			binary[name in binary ? `${name}_item${k}` : name] = data;
	}
	Object.assign(binary, partial.binary);
	const details = own ? { ...own.json, ...partial.json } : partial.json;
	// For the error output the json is `error` alone (details inside it): every n8n 2.x moves such
	// an item; 2.8 leaves one with a `details` key beside it on the regular output.
	const json: IDataObject = toErrorOutput
		? { error: { ...errorJson(error), ...(details ? { details } : {}) } }
		: { ...(own ? {} : items[sources[0]]?.json), ...details, error: errorJson(error) };
	return {
		json,
		...(Object.keys(binary).length ? { binary } : {}),
		pairedItem: sources.length > 1 ? sources.map((item) => ({ item })) : { item: sources[0] },
	};
}
