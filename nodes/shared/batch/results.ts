/**
 * A finished job's results as output: one item (or item error) per request, written as realtime
 * writes it, at the batch price; what each result cost settles its item's spend reservation.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { answerCostUsd, findModel } from '../catalogue';
import { withContext } from '../pipeline/errors';
import { imageItems } from '../pipeline/fanout';
import { nodeErrorOf, runItems } from '../pipeline/runner';
import type { RunSpec } from '../pipeline/runner';
import { GeminiFailure, answerOutput, httpOfRpcCode, parseGenerateResponse } from '../transport';
import type {
	BatchResultLine,
	BatchStatus,
	CallSettings,
	ConcurrencyLimit,
	GeminiClient,
	SpendReservation,
	WireResponse,
} from '../transport';
import { entriesFromKeys, manifestOfStatus, pairedItemOf } from './manifest';
import type { BatchEntry, BatchManifest } from './manifest';
import { stateName } from './poll';
import { fileResults, inlineResults } from './sources';
import type { BatchResults } from './sources';

/**
 * How results pair with input: each with its source items (Wait), or all with the Collect node's
 * input item.
 */
export interface ResultPairing {
	collectItem?: number;
}

export interface ResultSpec {
	concurrency: ConcurrencyLimit;
	call: Omit<CallSettings, 'signal'>;
	/** Told what each request's result cost (USD at the batch price; 0: nothing billed). */
	billed?: (key: string, usd: number) => void;
}

/** What every request's result is read with. */
interface ResultRead {
	ctx: IExecuteFunctions;
	status: BatchStatus;
	manifest: BatchManifest;
	results: BatchResults;
	pairing: ResultPairing;
	billed?: (key: string, usd: number) => void;
}

/** One output item (or item error) per request of a finished job, in request order. */
export async function resultItems(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	status: BatchStatus,
	given: BatchManifest | undefined,
	spec: ResultSpec,
	pairing: ResultPairing = {},
): Promise<INodeExecutionData[]> {
	const manifest = given ?? manifestOfStatus(status);
	const results = await openResults(ctx, client, status, manifest, spec.call, pairing);
	// From here the answers live only in `results`, which lets each go once its item is written.
	status.inlineResults = undefined;
	const requests = given ? manifest.requests : entriesFromKeys(results.keys(), manifest.model);
	// Known by the job's name only, requests without a result have no key to name: one error says how
	// many, so a job that ended early is not read as complete.
	const unanswered = given ? 0 : unansweredCount(status, requests.length);
	const read: ResultRead = { ctx, status, manifest, results, pairing, billed: spec.billed };
	const runSpec = resultRunSpec(spec.concurrency, manifest, requests, unanswered, pairing);
	try {
		const [items] = await runItems(ctx, runSpec, async (t) => {
			if (t === requests.length) throw missingFailure(status, unanswered);
			return await requestItems(read, requests[t]);
		});
		return items;
	} finally {
		await results.close();
	}
}

/** The job's results, from its file or its inline answer; a file not read names the job. */
async function openResults(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	status: BatchStatus,
	manifest: BatchManifest,
	call: Omit<CallSettings, 'signal'>,
	pairing: ResultPairing,
): Promise<BatchResults> {
	const file = status.responsesFile;
	if (!file) return inlineResults(status.inlineResults ?? []);
	const signal = ctx.getExecutionCancelSignal?.();
	return await fileResults(client, file, { ...call, signal }).catch((error) => {
		// Before any request's task: converted as the runner converts a task's failure.
		throw nodeErrorOf(
			ctx,
			error instanceof GeminiFailure ? resultsFileFailure(error, manifest.job, file) : error,
			[pairing.collectItem ?? manifest.requests[0]?.items[0] ?? 0],
		);
	});
}

/** One task per request (and one for the unanswered ones), paired as `pairing` says. */
function resultRunSpec(
	concurrency: ConcurrencyLimit,
	manifest: BatchManifest,
	requests: BatchEntry[],
	unanswered: number,
	pairing: ResultPairing,
): RunSpec {
	const collectItem = pairing.collectItem;
	const describe = (entry: BatchEntry): IDataObject => ({
		batchJob: manifest.job,
		batchKey: entry.key,
		sourceItem: entry.items.length > 1 ? entry.items : entry.items[0],
		model: entry.model,
		...entry.asked,
	});
	return {
		concurrency,
		tasks: requests.length + (unanswered ? 1 : 0),
		sourcesOf: (t) => (collectItem !== undefined ? [collectItem] : requests[t].items),
		...(collectItem !== undefined
			? {
					failedItemOf: (t: number) => ({
						json: requests[t] ? describe(requests[t]) : { batchJob: manifest.job },
					}),
				}
			: {}),
	};
}

/** One request's output items, or its error naming the job and the request. */
async function requestItems(read: ResultRead, entry: BatchEntry): Promise<INodeExecutionData[]> {
	try {
		const line = await read.results.get(entry.key);
		read.billed?.(entry.key, resultCostUsd(entry, line));
		if (!line || (!line.response && !line.error)) throw missingFailure(read.status);
		if (line.error) throw requestFailure(line.error);
		return await answerItems(read, entry, line.response!);
	} catch (error) {
		throw namedError(read, entry, error);
	}
}

/** An answer's images as output items, written as realtime writes them. */
async function answerItems(
	read: ResultRead,
	entry: BatchEntry,
	response: WireResponse,
): Promise<INodeExecutionData[]> {
	const { collectItem } = read.pairing;
	return await imageItems(read.ctx, {
		results: [parseGenerateResponse(response)],
		request: {
			model: entry.model,
			modelInfo: findModel(entry.model),
			imageSize: entry.imageSize,
			generationConfig: {},
		},
		output: entry.output,
		options: {
			includeThoughts: entry.includeThoughts,
			outputThoughtImages: entry.outputThoughtImages,
		},
		fileBase: entry.fileBase,
		asked: {
			...entry.asked,
			batchJob: read.manifest.job,
			batchKey: entry.key,
			sourceItem: entry.items.length > 1 ? entry.items : entry.items[0],
		},
		pairedItem: collectItem !== undefined ? { item: collectItem } : pairedItemOf(entry.items),
		batch: true,
		firstImageIndex: entry.imageIndex,
		several: entry.several,
	});
}

/**
 * Every error names the job and the request, so one of hundreds can be looked up; a collected one
 * also its source items, since all of a Collect's results pair with one input item.
 */
function namedError(read: ResultRead, entry: BatchEntry, error: unknown): unknown {
	const request = `request ${entry.key} of ${read.manifest.job}`;
	if (read.pairing.collectItem === undefined) return withContext(error, { about: request });
	return withContext(error, {
		about: `${request}, from item ${entry.items.join(', ')}`,
		items: [],
	});
}

/** The results file of a finished job could not be read: name the job and the file. */
function resultsFileFailure(failure: GeminiFailure, job: string, file: string): GeminiFailure {
	failure.message = `Could not download the results of batch job ${job} (${file}): ${failure.message}`;
	(failure as { description: string }).description =
		failure.httpCode === 403 || failure.httpCode === 404
			? 'The results file of the job is gone, or belongs to another key: Google deletes the files of a job some time after it ends, and only the project that submitted it can read them. Select the credential the job was submitted with, or send the items again.'
			: `${failure.description} The results stay at Google for a while: collect them with the Nano Banana Batch Results node and the job name ${job}.`;
	return failure;
}

/** The error Google reports for one request of a job. */
function requestFailure(error: NonNullable<BatchResultLine['error']>): GeminiFailure {
	const { httpCode, reason } = httpOfRpcCode(error.code);
	return new GeminiFailure({
		kind: 'http',
		message: `Gemini refused this request of the batch (${reason}): ${error.message ?? 'no message'}`,
		description:
			'Google reported this error for this request only; the other requests of the job are not affected. Correct the request, or send the item again (in Realtime or a new batch).',
		httpCode,
		reason,
		retryable: false,
	});
}

/**
 * Why a request has no result: the job ended before it was answered. `count`: how many requests of
 * the job, for Collect by name only, which knows them by number.
 */
function missingFailure(status: BatchStatus, count?: number): GeminiFailure {
	const state = stateName(status.state);
	const total = status.stats?.total;
	const one = count === undefined || (count === 1 && total !== undefined);
	const before = `before ${count === undefined ? 'this request' : one ? 'it' : 'they'} ${one ? 'was' : 'were'} answered`;
	const why: Record<string, string> = {
		FAILED: `the batch job failed${status.error?.message ? ` (${status.error.message})` : ''} ${before}`,
		CANCELLED: `the batch job was cancelled ${before}`,
		EXPIRED: `the batch job expired (Google ends jobs not done within 48 h) ${before}`,
	};
	const which =
		count === undefined
			? ''
			: total === undefined
				? ` for requests of batch job ${status.name}`
				: ` for ${count} of ${total} request${total === 1 ? '' : 's'} of batch job ${status.name}`;
	return new GeminiFailure({
		kind: 'empty',
		message: `No result${which}: ${why[state] ?? `the batch job ended (${state}) without a result${count === undefined ? ' for this request' : ''}`}`,
		description:
			'Results the job did make were output. Send this item again, in Realtime or a new batch; splitting a large job into smaller ones helps it finish in time.',
		reason: `BATCH_${state}`,
		retryable: false,
	});
}

/** How many requests of a job that did not succeed have no result (1 when its size is unknown). */
function unansweredCount(status: BatchStatus, answered: number): number {
	if (status.state === 'JOB_STATE_SUCCEEDED') return 0;
	const total = status.stats?.total;
	if (total === undefined) return answered ? 0 : 1;
	return Math.max(0, total - answered);
}

/**
 * What a request of a job cost, from its result: its answer's usage at the batch price (half); an
 * error or an answer without an image costs nothing.
 */
function resultCostUsd(entry: BatchEntry, line: BatchResultLine | undefined): number {
	if (!line?.response || line.error) return 0;
	const output = answerOutput(line.response);
	return answerCostUsd(findModel(entry.model), entry.imageSize, output, true) ?? 0;
}

/**
 * Each item's reservation becomes what its results cost, once every request of it has its result
 * read; an item whose results were not all read keeps its estimate.
 */
export function settleFromResults(
	reservations: Array<SpendReservation | undefined>,
	entries: BatchEntry[][],
	costs: Map<string, number>,
): void {
	for (const [task, reservation] of reservations.entries()) {
		const mine = entries[task];
		if (!reservation || !mine?.every((entry) => costs.has(entry.key))) continue;
		reservation.settle(mine.reduce((sum, entry) => sum + costs.get(entry.key)!, 0));
	}
}
