/**
 * Batch mode (Gemini Batch API, half price): the items are prepared exactly as in realtime, then
 * sent as one job instead of one request each. Inline while the job is small, else as a JSONL
 * file through the Files API. Results come back by key (`item3`, `item3-2`) and become the same
 * output items, at the batch price; a request that failed is an item error like in realtime.
 */
import { createReadStream, createWriteStream } from 'fs';
import type { WriteStream } from 'fs';
import { mkdtemp, open, rm } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';
import { NodeOperationError } from 'n8n-workflow';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';

import { answerCostUsd, estimateCostUsd, findModel, normaliseModelId } from './catalogue';
import { forItem, forItems, toNodeError } from './errors';
import { imageItems } from './fanout';
import { failEveryItem, runItems, withSpendReport } from './runner';
import type { ItemContext, RunSpec } from './runner';
import { readOutputSettings } from './settings';
import type { ImageRequest, OutputSettings } from './settings';
import { defaultFileBase } from './output';
import {
	GeminiFailure,
	answerOutput,
	httpOfRpcCode,
	parseGenerateResponse,
	restRequest,
} from './transport';
import type {
	BatchRequest,
	BatchResultLine,
	BatchStatus,
	CallSettings,
	ConcurrencyLimit,
	GeminiClient,
	GenerateRequest,
	RequestPrice,
	SpendReservation,
} from './transport';
import { sleep } from './transport/retry';

const MB = 1024 * 1024;
/** Room for the envelope of an inline job around its requests. */
const ENVELOPE_BYTES = 64 * 1024;
const MIN_POLL_MS = 10;
const JSONL_MIME_TYPE = 'application/jsonl';
const JSONL_FALLBACK_MIME_TYPE = 'text/plain';
const MAX_POLL_MS = 60_000;

/** The stream's next `event`, or its next error, as events.once waits for them. */
function nextEvent(stream: WriteStream, event: 'drain' | 'finish'): Promise<void> {
	return new Promise((resolve, reject) => {
		const onError = (error: Error) => {
			stream.off(event, onEvent);
			reject(error);
		};
		const onEvent = () => {
			stream.off('error', onError);
			resolve();
		};
		stream.once(event, onEvent).once('error', onError);
	});
}

export const BATCH_MANIFEST_VERSION = 1;

/** Why this client cannot use the Batch API, or undefined when it can (Gemini API keys can). */
export function batchUnavailableReason(client: GeminiClient): string | undefined {
	// Vertex AI batches are batch prediction jobs reading Cloud Storage or BigQuery, not inline
	// requests or uploaded files.
	if (client.isVertex)
		return 'Batch mode needs a Gemini API key credential: Vertex AI runs batches only from Cloud Storage or BigQuery';
	return undefined;
}

export interface BatchSettings {
	submitOnly: boolean;
	maxWaitMs: number;
	firstPollMs: number;
	cancelOnStop: boolean;
	inlineLimitBytes: number;
}

export function readBatchSettings(ctx: IExecuteFunctions): BatchSettings {
	const options = ctx.getNodeParameter('batchOptions', 0, {}) as IDataObject;
	return {
		submitOnly: ctx.getNodeParameter('batchResults', 0, 'wait') === 'submit',
		maxWaitMs: Number(options.maxWaitMinutes ?? 60) * 60_000,
		firstPollMs: Number(options.pollIntervalSeconds ?? 5) * 1000,
		cancelOnStop: options.cancelJobOnStop !== false,
		inlineLimitBytes: Number(options.inlineBatchLimitMb ?? 20) * MB,
	};
}

export function isBatchMode(ctx: IExecuteFunctions): boolean {
	return ctx.getNodeParameter('executionMode', 0, 'realtime') === 'batch';
}

/** One item's request, made exactly as realtime makes it, and how its answers become output. */
export interface PreparedRequest {
	request: GenerateRequest & ImageRequest;
	/** Number of Images: the same request sent this many times. */
	count: number;
	asked: IDataObject;
	output: OutputSettings;
	options: IDataObject;
	fileBase: string;
}

/**
 * One request of a job, as Submit Only hands it to Collect: enough to write its output like
 * realtime.
 */
export interface BatchEntry {
	key: string;
	/** The input items the request was made from. */
	items: number[];
	model: string;
	imageSize?: string;
	asked: IDataObject;
	fileBase: string;
	imageIndex: number;
	several: boolean;
	output: OutputSettings;
	includeThoughts?: boolean;
	outputThoughtImages?: boolean;
}

/** What Submit Only outputs (as `batch`) and Collect reads back. */
export interface BatchManifest {
	version: number;
	job: string;
	node: string;
	model: string;
	input: 'inline' | 'file';
	submittedAt: string;
	requests: BatchEntry[];
}

const TERMINAL = new Set([
	'JOB_STATE_SUCCEEDED',
	'JOB_STATE_FAILED',
	'JOB_STATE_CANCELLED',
	'JOB_STATE_EXPIRED',
	'JOB_STATE_PARTIALLY_SUCCEEDED',
]);

export function isFinished(status: BatchStatus): boolean {
	return TERMINAL.has(status.state);
}

/** `JOB_STATE_RUNNING` → `RUNNING`. */
export function stateName(state: string): string {
	return state.replace(/^(JOB|BATCH)_STATE_/, '');
}

export function progress(status: BatchStatus): string {
	const stats = status.stats;
	if (!stats || !stats.total) return '';
	return `, ${stats.succeeded + stats.failed} of ${stats.total} requests done`;
}

/**
 * Collects the requests of a job: in memory while the job stays under the inline limit, then in a
 * JSONL file on disk.
 */
class BatchBuilder {
	private requests: BatchRequest[] = [];
	private bytes = 0;
	private dir?: string;
	private file?: WriteStream;
	private spilling?: Promise<void>;

	constructor(private readonly inlineLimitBytes: number) {}

	async add(key: string, request: GenerateRequest): Promise<void> {
		const line = `${JSON.stringify({ key, request: restRequest(request) })}\n`;
		const size = Buffer.byteLength(line);
		if (!this.spilling && this.bytes + size + ENVELOPE_BYTES <= this.inlineLimitBytes) {
			this.requests.push({ key, request });
			this.bytes += size;
			return;
		}
		// Items prepare concurrently: the first one over the limit moves the job to a file, the others
		// wait for it.
		await (this.spilling ??= this.spill());
		await this.write(line);
	}

	get isFile(): boolean {
		return !!this.spilling;
	}

	private async spill() {
		this.dir = await mkdtemp(join(tmpdir(), 'nano-banana-batch-'));
		this.file = createWriteStream(join(this.dir, 'requests.jsonl'));
		const kept = this.requests;
		this.requests = [];
		for (const { key, request } of kept)
			await this.write(`${JSON.stringify({ key, request: restRequest(request) })}\n`);
	}

	private async write(line: string) {
		if (!this.file!.write(line)) await nextEvent(this.file!, 'drain');
	}

	async submit(
		client: GeminiClient,
		model: string,
		displayName: string,
		call: CallSettings,
	): Promise<BatchStatus> {
		if (!this.spilling)
			return await client.createBatch(model, { requests: this.requests }, displayName, call);
		await this.spilling;
		this.file!.end();
		await nextEvent(this.file!, 'finish');
		// Google's Files API has at times refused the JSONL types (400 "Unsupported MIME type"); then
		// the file goes once more as text/plain, which Google's staff suggested.
		const uploaded = await client.uploadFilePath(
			join(this.dir!, 'requests.jsonl'),
			JSONL_MIME_TYPE,
			`${displayName}.jsonl`,
			call,
			JSONL_FALLBACK_MIME_TYPE,
		);
		return await client.createBatch(model, { fileName: uploaded.name }, displayName, call);
	}

	async dispose() {
		this.requests = [];
		this.file?.destroy();
		if (this.dir) await rm(this.dir, { recursive: true, force: true });
	}
}

function keyOf(items: number[], image: number, count: number): string {
	return `item${items[0]}${count > 1 ? `-${image + 1}` : ''}`;
}

function pairedItemOf(items: number[]): IPairedItemData | IPairedItemData[] {
	return items.length > 1 ? items.map((item) => ({ item })) : { item: items[0] };
}

/** Output of several runs (bad items before a job, results after), in input order. */
export function inItemOrder(...runs: INodeExecutionData[][]): INodeExecutionData[] {
	const first = (item: INodeExecutionData) => {
		const paired = item.pairedItem;
		const one = Array.isArray(paired) ? paired[0] : paired;
		return typeof one === 'object' ? one.item : Number(one ?? 0);
	};
	return runs
		.flat()
		.map((item, n) => ({ item, n }))
		.sort((a, b) => first(a.item) - first(b.item) || a.n - b.n)
		.map(({ item }) => item);
}

export interface BatchRunSpec extends RunSpec {
	/** Generate, Edit or Fuse: for the job's display name and Collect. */
	node: string;
	call: Omit<CallSettings, 'signal'>;
}

/**
 * Batch mode of an operation. Each task prepares its request as realtime does (`prepare`); a bad
 * item fails there, on its own, before anything is sent. The rest go as one job; then either the
 * job is waited for and its results output, or (Submit Only) one item describes the job for
 * Collect.
 */
/** What the job needs before any item is read: a failure here is every item's. */
function batchSetup(ctx: IExecuteFunctions, client: GeminiClient) {
	const unavailable = batchUnavailableReason(client);
	if (unavailable)
		throw new GeminiFailure({
			kind: 'setup',
			message: unavailable,
			description: 'Set Execution Mode to Realtime, or use a Gemini API key credential.',
			reason: 'SETUP',
			retryable: false,
		});
	const model = String(ctx.getNodeParameter('model', 0, '', { extractValue: true }));
	return { settings: readBatchSettings(ctx), jobModel: normaliseModelId(model) };
}

export async function runBatch(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	spec: BatchRunSpec,
	prepare: (task: number, context: ItemContext) => Promise<PreparedRequest>,
): Promise<INodeExecutionData[][]> {
	let settings: BatchSettings;
	let jobModel: string;
	try {
		({ settings, jobModel } = batchSetup(ctx, client));
	} catch (error) {
		return failEveryItem(ctx, error, spec);
	}
	const sourcesOf = spec.sourcesOf ?? ((task: number) => [task]);
	const builder = new BatchBuilder(settings.inlineLimitBytes);
	const entries: BatchEntry[][] = [];
	const reservations: Array<SpendReservation | undefined> = [];
	// Once the job exists, what no result settles stays counted at its estimate.
	let submitted = false;
	try {
		const [refused] = await runItems(ctx, spec, async (task, context) => {
			const prepared = await prepare(task, context);
			const items = sourcesOf(task);
			if (normaliseModelId(prepared.request.model) !== jobModel) {
				const message = `Batch mode sends one job for one model: this item asks for ${prepared.request.model}, the job is for ${jobModel} (the first item's)`;
				throw new NodeOperationError(
					ctx.getNode(),
					items.length > 1 ? forItems(message, items) : forItem(message, items[0]),
					{
						itemIndex: items[0],
						description:
							'Nothing was sent for this item. Use the same model for every item, or Realtime mode.',
					},
				);
			}
			// Checked per item: one refused option in a job would fail every item of it.
			client.checkSendable(prepared.request);
			// The job's cost, item by item at the batch price: an item that would pass a limit stays out.
			reservations[task] = await spec.spend?.reserve(batchPrice(prepared));
			const mine: BatchEntry[] = [];
			for (let image = 0; image < prepared.count; image++) {
				const key = keyOf(items, image, prepared.count);
				await builder.add(key, prepared.request);
				mine.push({
					key,
					items,
					model: prepared.request.model,
					imageSize: prepared.request.imageSize,
					asked: prepared.asked,
					fileBase: prepared.fileBase,
					imageIndex: image,
					several: prepared.count > 1,
					output: prepared.output,
					...(prepared.options.includeThoughts ? { includeThoughts: true } : {}),
					...(prepared.options.outputThoughtImages ? { outputThoughtImages: true } : {}),
				});
			}
			entries[task] = mine;
			return [];
		});
		const requests = entries.flat().filter(Boolean);
		if (!requests.length) return [refused];

		const signal = ctx.getExecutionCancelSignal?.();
		const displayName = `n8n ${spec.node} ${new Date().toISOString()}`;
		let status: BatchStatus;
		try {
			status = await builder.submit(client, jobModel, displayName, { ...spec.call, signal });
			submitted = true;
		} catch (error) {
			// An HTTP error created no job; after another failure one may have been created.
			submitted = !(error instanceof GeminiFailure && error.kind === 'http');
			if (signal?.aborted) {
				throw new NodeOperationError(
					ctx.getNode(),
					'The execution was cancelled while the batch job was being submitted',
					{
						description:
							'The job was probably not created; if Google did create it, it runs and its results can be collected with the Nano Banana Batch Results node.',
					},
				);
			}
			const nodeError = toNodeError(ctx, error, requests[0].items[0], [
				...new Set(requests.flatMap((r) => r.items)),
			]);
			if (!ctx.continueOnFail()) throw nodeError;
			// The job was not created: under Continue On Fail every item that was in it comes out with
			// the error.
			const [failed] = await runItems(ctx, spec, async (task) => {
				if (entries[task]) throw nodeError;
				return [];
			});
			return [inItemOrder(refused, failed)];
		}
		await builder.dispose();
		const manifest: BatchManifest = {
			version: BATCH_MANIFEST_VERSION,
			job: status.name,
			node: spec.node,
			model: jobModel,
			input: builder.isFile ? 'file' : 'inline',
			submittedAt: new Date().toISOString(),
			requests,
		};
		const jobItem = submittedItem(manifest, status);
		if (settings.submitOnly)
			return [inItemOrder(refused, await withSpendReport(spec.spend, [jobItem]))];

		let finished: BatchStatus;
		try {
			finished = await waitForJob(ctx, client, status.name, settings, spec.call);
		} catch (error) {
			// Max Wait, or the job could not be read: it keeps running, so under Continue On Fail the
			// Submit Only item goes on with the error, for a later Collect.
			const nodeError = toNodeError(ctx, error, 0);
			if (!ctx.continueOnFail() || signal?.aborted) throw nodeError;
			return [
				inItemOrder(refused, [
					{
						...jobItem,
						json: {
							...jobItem.json,
							error: {
								message: nodeError.message,
								description: nodeError.description ?? undefined,
							},
						},
					},
				]),
			];
		}
		const costs = new Map<string, number>();
		let results: INodeExecutionData[];
		try {
			const billed = (key: string, usd: number) => costs.set(key, usd);
			results = await resultItems(ctx, client, finished, manifest, { ...spec, billed });
		} finally {
			settleFromResults(reservations, entries, costs);
		}
		return [inItemOrder(refused, await withSpendReport(spec.spend, results))];
	} finally {
		// Submitted: counted at the estimate (Return Job's results may come to another execution, a
		// failure left them unread). Not submitted (a failure before the job): it costs nothing.
		for (const reservation of reservations)
			submitted ? reservation?.keep() : reservation?.release();
		await builder.dispose();
	}
}

/**
 * Each item's reservation becomes what its results cost, once every request of it has its result
 * read; an item whose results were not all read keeps its estimate.
 */
function settleFromResults(
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

/**
 * What a request of a job cost, from its result: its answer's usage at the batch price (half); an
 * error or an answer without an image costs nothing.
 */
function resultCostUsd(entry: BatchEntry, line: BatchResultLine | undefined): number {
	if (!line?.response || line.error) return 0;
	const output = answerOutput(line.response);
	return answerCostUsd(findModel(entry.model), entry.imageSize, output, true) ?? 0;
}

/** An item's requests at the batch price, for the spend guards. */
function batchPrice(prepared: PreparedRequest): RequestPrice {
	const { model, modelInfo, imageSize } = prepared.request;
	return { model, estimateUsd: estimateCostUsd(modelInfo, imageSize, prepared.count, true) };
}

function submittedItem(manifest: BatchManifest, status: BatchStatus): INodeExecutionData {
	const items = [...new Set(manifest.requests.flatMap((r) => r.items))].sort((a, b) => a - b);
	const cost = manifest.requests.reduce<number | null>((sum, r) => {
		const each = estimateCostUsd(findModel(r.model), r.imageSize, 1, true);
		return sum === null || each === undefined ? null : sum + each;
	}, 0);
	return {
		json: {
			batchJob: status.name,
			state: stateName(status.state),
			model: manifest.model,
			requestCount: manifest.requests.length,
			input: manifest.input,
			submittedAt: manifest.submittedAt,
			estimatedCostUsd: cost === null ? null : Math.round(cost * 1e6) / 1e6,
			batch: manifest as unknown as IDataObject,
		},
		pairedItem: items.map((item) => ({ item })),
	};
}

/**
 * Polls with backoff until the job ends, Max Wait runs out, or the execution is cancelled (then
 * cancels the job if asked).
 */
export async function waitForJob(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	name: string,
	settings: Pick<BatchSettings, 'maxWaitMs' | 'firstPollMs' | 'cancelOnStop'>,
	call: Omit<CallSettings, 'signal'>,
	itemIndex = 0,
): Promise<BatchStatus> {
	const signal = ctx.getExecutionCancelSignal?.();
	const started = Date.now();
	// An expression can make the interval 0 or not a number: polls then still pause.
	let interval = Math.max(MIN_POLL_MS, settings.firstPollMs || 0);
	try {
		for (;;) {
			const status = await client.getBatch(name, { ...call, signal });
			if (isFinished(status)) return status;
			const left = settings.maxWaitMs - (Date.now() - started);
			if (!(left > 0)) {
				throw new NodeOperationError(
					ctx.getNode(),
					`Batch job ${name} is still ${stateName(status.state)} after the Max Wait of ${Math.round(settings.maxWaitMs / 60_000)} min${progress(status)}`,
					{
						description: `The job was not cancelled: it keeps running at Google (which targets 24 h; a job expires after 48 h). Collect its results later with the Nano Banana Batch Results node and the job name ${name}, or wait longer (Max Wait in Batch Options; Wait Until Done in Batch Results).`,
					},
				);
			}
			await sleep(Math.min(interval, left), signal);
			interval = Math.min(MAX_POLL_MS, interval * 1.5);
		}
	} catch (error) {
		if (!signal?.aborted)
			throw error instanceof GeminiFailure
				? toNodeError(ctx, aboutJob(error, name), itemIndex)
				: error;
		if (settings.cancelOnStop) await client.cancelBatch(name, { ...call }).catch(() => undefined);
		throw new NodeOperationError(
			ctx.getNode(),
			`The execution was cancelled while waiting for batch job ${name}`,
			{
				description: settings.cancelOnStop
					? `Google was asked to cancel the job too (Cancel Job When Stopped is on); it stops within minutes. The requests it answered before that can still be collected with the Nano Banana Batch Results node and the job name ${name}; send the other items again.`
					: `The job keeps running at Google. Collect its results later with the Nano Banana Batch Results node and the job name ${name}.`,
			},
		);
	}
}

/**
 * A failure to read a job that exists: it keeps running at Google, so the message names it for a
 * later Collect.
 */
function aboutJob(failure: GeminiFailure, name: string): GeminiFailure {
	failure.message = `Could not read batch job ${name}: ${failure.message}`;
	(failure as { description: string }).description =
		`${failure.description} The job was not cancelled: it keeps running at Google. Collect its results later with the Nano Banana Batch Results node and the job name ${name}.`;
	return failure;
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

/**
 * A job's results by key: from the inline answer, or from the JSONL file streamed to disk and
 * indexed by line.
 */
export interface BatchResults {
	keys(): string[];
	get(key: string): Promise<BatchResultLine | undefined>;
	close(): Promise<void>;
}

function inlineResults(lines: BatchResultLine[]): BatchResults {
	const byKey = new Map(lines.map((line, n) => [line.key ?? `#${n}`, line]));
	const keys = [...byKey.keys()];
	return {
		keys: () => keys,
		// Each answer is read once: dropping it lets its image go as soon as its item is written.
		get: async (key) => {
			const line = byKey.get(key);
			byKey.delete(key);
			return line;
		},
		close: async () => byKey.clear(),
	};
}

const KEY_AT_START = /^\{\s*"key"\s*:\s*("(?:[^"\\]|\\.)*")/;
/** Google writes the key last: `{"response":{…},"key":"item3"}`. */
const KEY_AT_END = /"key"\s*:\s*("(?:[^"\\]|\\.)*")\s*\}\s*$/;
const HEAD_BYTES = 512;
const TAIL_BYTES = 512;

/** The last `TAIL_BYTES` of `tail` followed by `piece`, copied out of the read chunk. */
function keepTail(tail: Buffer, piece: Buffer): Buffer {
	if (piece.length >= TAIL_BYTES) return Buffer.from(piece.subarray(piece.length - TAIL_BYTES));
	const joined = Buffer.concat([tail, piece]);
	return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}

/**
 * A local JSONL results file, indexed in one pass that keeps only each line's offsets: the images
 * stay on disk until their item is written, so memory stays flat however many come back. A line
 * is found by the `key` it starts or ends with (Google writes it last), read from the line's ends
 * only; a line with its key elsewhere is parsed once.
 */
export async function indexJsonlResults(path: string): Promise<BatchResults> {
	const file = await open(path, 'r');
	let indexed = false;
	try {
		const readLine = async (start: number, end: number) => {
			const buffer = Buffer.alloc(end - start);
			await file.read(buffer, 0, buffer.length, start);
			return buffer.toString('utf8');
		};
		const lines: Array<{ start: number; end: number; head: string; tail: string }> = [];
		let offset = 0;
		let start = 0;
		let head: Buffer[] = [];
		let headBytes = 0;
		let tail: Buffer = Buffer.alloc(0);
		const endLine = (end: number) => {
			lines.push({
				start,
				end,
				head: Buffer.concat(head).toString('utf8'),
				tail: tail.toString('utf8'),
			});
			head = [];
			headBytes = 0;
			tail = Buffer.alloc(0);
		};
		for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
			let pos = 0;
			for (;;) {
				const newline = chunk.indexOf(10, pos);
				const end = newline === -1 ? chunk.length : newline;
				if (headBytes < HEAD_BYTES) {
					const piece = chunk.subarray(pos, Math.min(end, pos + HEAD_BYTES - headBytes));
					head.push(piece);
					headBytes += piece.length;
				}
				tail = keepTail(tail, chunk.subarray(pos, end));
				if (newline === -1) break;
				endLine(offset + newline);
				start = offset + newline + 1;
				pos = newline + 1;
			}
			offset += chunk.length;
		}
		if (offset > start) endLine(offset);
		const index = new Map<string, { start: number; end: number }>();
		for (const line of lines) {
			if (!line.head.trim()) continue;
			const match = KEY_AT_START.exec(line.head) ?? KEY_AT_END.exec(line.tail);
			const key = match
				? (JSON.parse(match[1]) as string)
				: (JSON.parse(await readLine(line.start, line.end)) as { key?: string }).key;
			if (key !== undefined) index.set(key, { start: line.start, end: line.end });
		}
		indexed = true;
		return {
			keys: () => [...index.keys()],
			get: async (key) => {
				const at = index.get(key);
				return at ? (JSON.parse(await readLine(at.start, at.end)) as BatchResultLine) : undefined;
			},
			close: async () => await file.close(),
		};
	} finally {
		if (!indexed) await file.close();
	}
}

/** A file job's results, streamed to a temporary file (removed on close) and indexed. */
async function fileResults(
	client: GeminiClient,
	fileName: string,
	call: CallSettings,
): Promise<BatchResults> {
	const dir = await mkdtemp(join(tmpdir(), 'nano-banana-results-'));
	let results: BatchResults | undefined;
	try {
		const path = join(dir, 'results.jsonl');
		await client.downloadFile(fileName, path, call);
		results = await indexJsonlResults(path);
		const { keys, get, close } = results;
		return {
			keys,
			get,
			close: async () => {
				await close();
				await rm(dir, { recursive: true, force: true });
			},
		};
	} finally {
		if (!results) await rm(dir, { recursive: true, force: true });
	}
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

/**
 * What Collect knows of a job given only its name: the requests are the results' keys, written
 * with the default output settings. `item3-2` is item 3's second image.
 */
function entriesFromKeys(keys: string[], model: string): BatchEntry[] {
	const parsed = keys.map((key, n) => {
		const match = /^item(\d+)(?:-(\d+))?$/.exec(key);
		return {
			key,
			item: match ? Number(match[1]) : n,
			image: match?.[2] ? Number(match[2]) - 1 : 0,
		};
	});
	return parsed.map(({ key, item, image }) => ({
		key,
		items: [item],
		model,
		asked: {},
		fileBase: defaultFileBase(model || 'gemini', item),
		imageIndex: image,
		several: parsed.some((p) => p.item === item && p.key !== key),
		output: readOutputSettings({}),
	}));
}

/** How many requests of a job that did not succeed have no result (1 when its size is unknown). */
function unansweredCount(status: BatchStatus, answered: number): number {
	if (status.state === 'JOB_STATE_SUCCEEDED') return 0;
	const total = status.stats?.total;
	if (total === undefined) return answered ? 0 : 1;
	return Math.max(0, total - answered);
}

/**
 * How results pair with input: each with its source items (Wait), or all with the Collect node's
 * input item.
 */
export interface ResultPairing {
	collectItem?: number;
}

/** One output item (or item error) per request of a finished job, in request order. */
export async function resultItems(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	status: BatchStatus,
	given: BatchManifest | undefined,
	spec: {
		concurrency: ConcurrencyLimit;
		call: Omit<CallSettings, 'signal'>;
		/** Told what each request's result cost (USD at the batch price; 0: nothing billed). */
		billed?: (key: string, usd: number) => void;
	},
	pairing: ResultPairing = {},
): Promise<INodeExecutionData[]> {
	const manifest = given ?? {
		version: BATCH_MANIFEST_VERSION,
		job: status.name,
		node: '',
		model: status.model ?? '',
		input: status.responsesFile ? 'file' : 'inline',
		submittedAt: '',
		requests: [],
	};
	const signal = ctx.getExecutionCancelSignal?.();
	const results = status.responsesFile
		? await fileResults(client, status.responsesFile, { ...spec.call, signal }).catch((error) => {
				throw toNodeError(
					ctx,
					error instanceof GeminiFailure
						? resultsFileFailure(error, manifest.job, status.responsesFile!)
						: error,
					pairing.collectItem ?? manifest.requests[0]?.items[0] ?? 0,
				);
			})
		: inlineResults(status.inlineResults ?? []);
	// From here the answers live only in `results`, which lets each go once its item is written.
	status.inlineResults = undefined;
	const requests = given ? manifest.requests : entriesFromKeys(results.keys(), manifest.model);
	// Known by the job's name only, requests without a result have no key to name: one error says how
	// many, so a job that ended early is not read as complete.
	const unanswered = given ? 0 : unansweredCount(status, requests.length);
	const collecting = pairing.collectItem !== undefined;
	const describe = (entry: BatchEntry): IDataObject => ({
		batchJob: manifest.job,
		batchKey: entry.key,
		sourceItem: entry.items.length > 1 ? entry.items : entry.items[0],
		model: entry.model,
		...entry.asked,
	});
	try {
		const [items] = await runItems(
			ctx,
			{
				concurrency: spec.concurrency,
				tasks: requests.length + (unanswered ? 1 : 0),
				sourcesOf: (t) => (collecting ? [pairing.collectItem!] : requests[t].items),
				...(collecting
					? {
							failedItemOf: (t: number) => ({
								json: requests[t] ? describe(requests[t]) : { batchJob: manifest.job },
							}),
						}
					: {}),
			},
			async (t) => {
				if (t === requests.length) throw missingFailure(status, unanswered);
				const entry = requests[t];
				try {
					const line = await results.get(entry.key);
					spec.billed?.(entry.key, resultCostUsd(entry, line));
					if (!line || (!line.response && !line.error)) throw missingFailure(status);
					if (line.error) throw requestFailure(line.error);
					const result = parseGenerateResponse(line.response!);
					const model = findModel(entry.model);
					return await imageItems(ctx, {
						results: [result],
						request: {
							model: entry.model,
							modelInfo: model,
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
							batchJob: manifest.job,
							batchKey: entry.key,
							sourceItem: entry.items.length > 1 ? entry.items : entry.items[0],
						},
						pairedItem: collecting ? { item: pairing.collectItem! } : pairedItemOf(entry.items),
						batch: true,
						firstImageIndex: entry.imageIndex,
						several: entry.several,
					});
				} catch (error) {
					// Every error names the job and the request, so one of hundreds can be looked up.
					const base = error instanceof Error ? error.message : String(error);
					const request = `request ${entry.key} of ${manifest.job}`;
					if (!collecting) {
						const { items } = entry;
						const nodeError = toNodeError(
							ctx,
							error,
							items[0],
							items.length > 1 ? items : undefined,
						);
						nodeError.message = forItems(`${base} (${request})`, items);
						throw nodeError;
					}
					// Named by its source items, since all of a Collect's results pair with one input item.
					const nodeError = toNodeError(ctx, error, pairing.collectItem!);
					nodeError.message = `${base} (${request}, from item ${entry.items.join(', ')})`;
					throw nodeError;
				}
			},
		);
		return items;
	} finally {
		await results.close();
	}
}
