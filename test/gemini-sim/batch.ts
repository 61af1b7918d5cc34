import { randomBytes } from 'node:crypto';

import { badRequest, invalidArgument, notFound } from './errors';
import type { FileStore } from './files';
import type { SimModel } from './models';

/**
 * The Batch API for generateContent: inline requests or a JSONL file in, an Operation out.
 * A job runs for `delayMs` and is answered when it is next read, so no timers outlive a test.
 */

export interface BatchResult {
	response?: Record<string, unknown>;
	error?: { code: number; message: string };
}

export type BatchRunner = (model: SimModel, request: unknown) => Promise<BatchResult>;

type State =
	| 'BATCH_STATE_PENDING'
	| 'BATCH_STATE_RUNNING'
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
	finishing?: Promise<void>;
}

const TYPE_BATCH = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const TYPE_OUTPUT =
	'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const ENTITY_NOT_FOUND = 'Requested entity was not found.';

export class BatchStore {
	private readonly jobs = new Map<string, BatchJob>();
	private outcomes: BatchOutcome[] = [];

	constructor(
		private readonly run: BatchRunner,
		private readonly files: FileStore,
		private readonly delayMs: () => number,
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

	cancel(id: string) {
		const job = this.find(id);
		if (job.state === 'BATCH_STATE_PENDING' || job.state === 'BATCH_STATE_RUNNING') {
			job.state = 'BATCH_STATE_CANCELLED';
			job.endTime = job.updateTime = new Date().toISOString();
		}
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
		if (job.state !== 'BATCH_STATE_RUNNING' || Date.now() < job.dueAt) return Promise.resolve();
		job.finishing ??= this.finish(job);
		return job.finishing;
	}

	private async finish(job: BatchJob) {
		const outcome = job.outcome ?? { state: 'BATCH_STATE_SUCCEEDED' };
		const completed = Math.min(
			job.items.length,
			outcome.completed ?? (outcome.state === 'BATCH_STATE_SUCCEEDED' ? job.items.length : 0),
		);
		const results = await Promise.all(
			job.items.slice(0, completed).map((item) => this.run(job.model, item.request)),
		);
		if (job.state !== 'BATCH_STATE_RUNNING') return; // cancelled meanwhile
		const failed = results.filter((r) => r.error).length;
		job.stats = { succeeded: results.length - failed, failed };
		if (results.length && job.inputFile) {
			const lines = results.map((result, i) =>
				JSON.stringify({ key: job.items[i].key, ...result }),
			);
			const file = this.files.add(Buffer.from(lines.join('\n') + '\n'), 'application/jsonl', {
				generated: true,
			});
			job.output = { responsesFile: `files/${file.id}` };
		} else if (results.length) {
			const inlinedResponses = results.map((result, i) => ({
				...result,
				...(job.items[i].metadata !== undefined ? { metadata: job.items[i].metadata } : {}),
			}));
			job.output = { inlinedResponses: { inlinedResponses } };
		}
		if (outcome.state === 'BATCH_STATE_FAILED')
			job.error = {
				code: 13,
				message: outcome.message ?? 'Batch job failed due to an internal error.',
			};
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
		// Progress as time passes, as a running job reports it.
		const span = Math.max(1, job.dueAt - job.startedAt);
		const answered =
			job.state === 'BATCH_STATE_RUNNING'
				? Math.min(total - 1, Math.floor((total * (Date.now() - job.startedAt)) / span))
				: 0;
		if (answered > 0) batchStats.successfulRequestCount = String(answered);
		batchStats.pendingRequestCount = String(total - Math.max(0, answered));
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
	return {
		name,
		metadata,
		...(done ? { done: true } : {}),
		...(job.error ? { error: job.error } : {}),
		...(job.output ? { response: { '@type': TYPE_OUTPUT, ...job.output } } : {}),
	};
}
