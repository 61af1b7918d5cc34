import { randomBytes } from 'node:crypto';

import { badRequest, invalidArgument, notFound } from './errors';
import type { FileStore } from './files';
import type { SimModel } from './models';

/**
 * The Batch API for generateContent: inline requests or a JSONL file in, an Operation out.
 * A job runs for `delayMs` and is answered when it is next read, so no timers outlive a test.
 * As Google's REST reference has it: `batch.displayName` is required; a file job's results are
 * the file `files/batch-<id>`, one `{"response"|"error", "key"}` line per request, key last; an
 * ended job's Operation carries exactly one of `response` (succeeded) or `error` (failed: its
 * message; cancelled: code 1; expired: code 4), and what was answered stays in `metadata.output`.
 * Cancelling is asynchronous: the job shows BATCH_STATE_CANCELLING for `cancelDelayMs`, then
 * CANCELLED with the requests answered before the cancel.
 */

export interface BatchResult {
	response?: Record<string, unknown>;
	error?: { code: number; message: string };
}

export type BatchRunner = (model: SimModel, request: unknown) => Promise<BatchResult>;

type State =
	| 'BATCH_STATE_PENDING'
	| 'BATCH_STATE_RUNNING'
	| 'BATCH_STATE_CANCELLING'
	| 'BATCH_STATE_SUCCEEDED'
	| 'BATCH_STATE_FAILED'
	| 'BATCH_STATE_CANCELLED'
	| 'BATCH_STATE_EXPIRED';

/**
 * How a job ends, for fault injection: the state, how many requests (the first ones) were answered
 * before it ended (default: all when it succeeds, none otherwise), and a FAILED job's message.
 */
export interface BatchOutcome {
	state:
		| 'BATCH_STATE_SUCCEEDED'
		| 'BATCH_STATE_FAILED'
		| 'BATCH_STATE_CANCELLED'
		| 'BATCH_STATE_EXPIRED';
	completed?: number;
	message?: string;
	/** The job's results file is gone when it is read (Google deletes files after 48 hours). */
	resultsFileDeleted?: boolean;
}

const TERMINAL: State[] = [
	'BATCH_STATE_SUCCEEDED',
	'BATCH_STATE_FAILED',
	'BATCH_STATE_CANCELLED',
	'BATCH_STATE_EXPIRED',
];

interface BatchItem {
	request: unknown;
	metadata?: unknown;
	key?: string;
}

interface BatchJob {
	id: string;
	model: SimModel;
	displayName?: string;
	createTime: string;
	updateTime: string;
	endTime?: string;
	state: State;
	dueAt: number;
	items: BatchItem[];
	inputFile?: string;
	output?: Record<string, unknown>;
	stats?: { succeeded: number; failed: number };
	error?: { code: number; message: string };
	outcome?: BatchOutcome;
	startedAt: number;
	/** Set by a cancel: when it takes effect, and how many requests were answered by then. */
	cancel?: { at: number; answered: number };
	finishing?: Promise<void>;
}

const TYPE_BATCH = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const TYPE_OUTPUT =
	'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const ENTITY_NOT_FOUND = 'Requested entity was not found.';
/** google.rpc.Code of the error an ended job's Operation carries. */
const CANCELLED_CODE = 1;
const DEADLINE_EXCEEDED_CODE = 4;
const INTERNAL_CODE = 13;

export class BatchStore {
	private readonly jobs = new Map<string, BatchJob>();
	private outcomes: BatchOutcome[] = [];

	constructor(
		private readonly run: BatchRunner,
		private readonly files: FileStore,
		private readonly delayMs: () => number,
		private readonly cancelDelayMs: () => number,
	) {}

	get count(): number {
		return this.jobs.size;
	}

	/** The next jobs created end this way, in order (then jobs succeed as usual). */
	queueOutcomes(...outcomes: BatchOutcome[]) {
		this.outcomes.push(...outcomes);
	}

	create(model: SimModel, body: unknown): Record<string, unknown> {
		const batch = readBatch(body);
		const input = (batch.inputConfig ?? {}) as Record<string, unknown>;
		let items: BatchItem[];
		let inputFile: string | undefined;
		if (typeof input.fileName === 'string') {
			inputFile = input.fileName;
			items = this.readJsonl(input.fileName);
		} else {
			const requests = ((input.requests as { requests?: unknown[] } | undefined)?.requests ??
				[]) as Array<Record<string, unknown>>;
			items = requests.map((r) => ({ request: r.request, metadata: r.metadata }));
		}
		if (items.length === 0) {
			throw invalidArgument(
				'* BatchGenerateContentRequest.batch.input_config: requests must not be empty.\n',
			);
		}
		const now = new Date().toISOString();
		const job: BatchJob = {
			id: randomBytes(12).toString('hex'),
			model,
			displayName: typeof batch.displayName === 'string' ? batch.displayName : undefined,
			createTime: now,
			updateTime: now,
			state: 'BATCH_STATE_PENDING',
			dueAt: Date.now() + this.delayMs(),
			startedAt: Date.now(),
			items,
			inputFile,
			outcome: this.outcomes.shift(),
		};
		this.jobs.set(job.id, job);
		return operation(job);
	}

	async get(id: string): Promise<Record<string, unknown>> {
		const job = this.find(id);
		await this.advance(job);
		return operation(job);
	}

	async list(): Promise<Array<Record<string, unknown>>> {
		const jobs = [...this.jobs.values()];
		await Promise.all(jobs.map((job) => this.advance(job)));
		return jobs.map(operation);
	}

	/** Starts cancelling; the job ends CANCELLED once `cancelDelayMs` has passed (next read). */
	async cancel(id: string) {
		const job = this.find(id);
		await this.advance(job);
		// Too late once it ended, or is ending, on its own.
		if (job.state !== 'BATCH_STATE_RUNNING' || job.finishing) return;
		job.cancel = { at: Date.now() + this.cancelDelayMs(), answered: answeredSoFar(job) };
		job.state = 'BATCH_STATE_CANCELLING';
		job.updateTime = new Date().toISOString();
	}

	delete(id: string) {
		this.find(id);
		this.jobs.delete(id);
	}

	clear() {
		this.jobs.clear();
		this.outcomes = [];
	}

	private find(id: string): BatchJob {
		const job = this.jobs.get(id);
		if (!job) throw notFound(ENTITY_NOT_FOUND);
		return job;
	}

	private advance(job: BatchJob): Promise<void> {
		if (job.state === 'BATCH_STATE_PENDING') {
			job.state = 'BATCH_STATE_RUNNING';
			job.updateTime = new Date().toISOString();
		}
		if (job.state === 'BATCH_STATE_CANCELLING' && Date.now() >= job.cancel!.at) {
			job.finishing ??= this.finish(job, {
				state: 'BATCH_STATE_CANCELLED',
				completed: job.cancel!.answered,
			});
		} else if (job.state === 'BATCH_STATE_RUNNING' && Date.now() >= job.dueAt) {
			job.finishing ??= this.finish(job, job.outcome ?? { state: 'BATCH_STATE_SUCCEEDED' });
		}
		return job.finishing ?? Promise.resolve();
	}

	private async finish(job: BatchJob, outcome: BatchOutcome) {
		const completed = Math.min(
			job.items.length,
			outcome.completed ?? (outcome.state === 'BATCH_STATE_SUCCEEDED' ? job.items.length : 0),
		);
		const results = await Promise.all(
			job.items.slice(0, completed).map((item) => this.run(job.model, item.request)),
		);
		const failed = results.filter((r) => r.error).length;
		job.stats = { succeeded: results.length - failed, failed };
		if (results.length && job.inputFile) {
			// Google writes each line's key last.
			const lines = results.map((result, i) =>
				JSON.stringify({ ...result, key: job.items[i].key }),
			);
			const file = this.files.add(Buffer.from(lines.join('\n') + '\n'), 'application/jsonl', {
				id: `batch-${job.id}`,
				generated: true,
			});
			job.output = { responsesFile: `files/${file.id}` };
			if (outcome.resultsFileDeleted) this.files.delete(file.id);
		} else if (results.length) {
			const inlinedResponses = results.map((result, i) => ({
				...result,
				...(job.items[i].metadata !== undefined ? { metadata: job.items[i].metadata } : {}),
			}));
			job.output = { inlinedResponses: { inlinedResponses } };
		}
		job.error = endError(outcome);
		job.state = outcome.state;
		job.endTime = job.updateTime = new Date().toISOString();
	}

	private readJsonl(fileName: string): BatchItem[] {
		const file = this.files.resolve(fileName);
		if (!file)
			throw invalidArgument(
				`File ${fileName} is not found or you do not have permission to access it.`,
			);
		return file.data
			.toString('utf8')
			.split('\n')
			.filter((line) => line.trim())
			.map((line, index) => {
				try {
					const { key, request } = JSON.parse(line) as { key?: string; request?: unknown };
					return { key, request };
				} catch {
					throw invalidArgument(`Line ${index + 1} of ${fileName} is not valid JSON.`);
				}
			});
	}
}

/** The error of a job that did not succeed, as its Operation carries it. */
function endError(outcome: BatchOutcome): BatchJob['error'] {
	switch (outcome.state) {
		case 'BATCH_STATE_FAILED':
			return {
				code: INTERNAL_CODE,
				message: outcome.message ?? 'Batch job failed due to an internal error.',
			};
		case 'BATCH_STATE_CANCELLED':
			return { code: CANCELLED_CODE, message: outcome.message ?? 'The batch job was cancelled.' };
		case 'BATCH_STATE_EXPIRED':
			return {
				code: DEADLINE_EXCEEDED_CODE,
				message: outcome.message ?? 'The batch job expired: it did not complete within 48 hours.',
			};
		default:
			return undefined;
	}
}

/** Progress as time passes, as a running job reports it: the first requests are answered first. */
function answeredSoFar(job: BatchJob): number {
	if (job.state !== 'BATCH_STATE_RUNNING') return 0;
	const total = job.items.length;
	const span = Math.max(1, job.dueAt - job.startedAt);
	return Math.max(
		0,
		Math.min(total - 1, Math.floor((total * (Date.now() - job.startedAt)) / span)),
	);
}

function readBatch(body: unknown): Record<string, unknown> {
	const top = (body ?? {}) as Record<string, unknown>;
	const unknown = (key: string, at?: string) => ({
		...(at ? { field: at } : {}),
		description: `Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ''}: Cannot find field.`,
	});
	const violations = Object.keys(top)
		.filter((k) => k !== 'batch')
		.map((k) => unknown(k));
	const batch = (top.batch ?? {}) as Record<string, unknown>;
	const known = [
		'displayName',
		'display_name',
		'inputConfig',
		'input_config',
		'model',
		'webhookConfig',
		'priority',
		'name',
	];
	violations.push(
		...Object.keys(batch)
			.filter((k) => !known.includes(k))
			.map((k) => unknown(k, 'batch')),
	);
	if (violations.length) throw badRequest(violations);
	const displayName = batch.displayName ?? batch.display_name;
	if (typeof displayName !== 'string' || !displayName.trim()) {
		throw invalidArgument(
			'* BatchGenerateContentRequest.batch.display_name: display_name is required.\n',
		);
	}
	return {
		displayName: batch.displayName ?? batch.display_name,
		inputConfig: batch.inputConfig ?? batch.input_config,
	};
}

function operation(job: BatchJob): Record<string, unknown> {
	const name = `batches/${job.id}`;
	const total = job.items.length;
	const done = TERMINAL.includes(job.state);
	const batchStats: Record<string, string> = { requestCount: String(total) };
	if (job.stats) {
		batchStats.successfulRequestCount = String(job.stats.succeeded);
		batchStats.failedRequestCount = String(job.stats.failed);
		const pending = total - job.stats.succeeded - job.stats.failed;
		if (pending > 0) batchStats.pendingRequestCount = String(pending);
	} else if (!done) {
		const answered = job.cancel?.answered ?? answeredSoFar(job);
		if (answered > 0) batchStats.successfulRequestCount = String(answered);
		batchStats.pendingRequestCount = String(total - answered);
	}
	const metadata: Record<string, unknown> = {
		'@type': TYPE_BATCH,
		model: `models/${job.model.id}`,
		...(job.displayName ? { displayName: job.displayName } : {}),
		...(job.inputFile ? { inputConfig: { fileName: job.inputFile } } : {}),
		createTime: job.createTime,
		updateTime: job.updateTime,
		...(job.endTime ? { endTime: job.endTime } : {}),
		batchStats,
		state: job.state,
		name,
		...(job.output ? { output: job.output } : {}),
	};
	// Exactly one of error and response: an ended job that did not succeed keeps what it answered
	// in metadata.output only.
	const response =
		job.state === 'BATCH_STATE_SUCCEEDED' ? { '@type': TYPE_OUTPUT, ...job.output } : undefined;
	return {
		name,
		metadata,
		...(done ? { done: true } : {}),
		...(job.error ? { error: job.error } : response ? { response } : {}),
	};
}
