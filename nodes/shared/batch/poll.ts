/**
 * Waiting for a job: polls with backoff until it ends, Max Wait runs out, or the execution is
 * cancelled. The job's states and progress, as the messages name them.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions } from 'n8n-workflow';

import { GeminiFailure } from '../transport';
import type { BatchStatus, CallSettings, GeminiClient } from '../transport';
import { sleep } from '../transport/retry';
import type { BatchSettings } from './settings';

const MIN_POLL_MS = 10;
const MAX_POLL_MS = 60_000;

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

type WaitSettings = Pick<BatchSettings, 'maxWaitMs' | 'firstPollMs' | 'cancelOnStop'>;

/**
 * Polls with backoff until the job ends, Max Wait runs out, or the execution is cancelled (then
 * cancels the job if asked).
 */
export async function waitForJob(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	name: string,
	settings: WaitSettings,
	call: Omit<CallSettings, 'signal'>,
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
			if (!(left > 0)) throw maxWaitError(ctx, status, settings.maxWaitMs);
			await sleep(Math.min(interval, left), signal);
			interval = Math.min(MAX_POLL_MS, interval * 1.5);
		}
	} catch (error) {
		// Anything else goes on as it is, for the runner to convert.
		if (!signal?.aborted) throw error instanceof GeminiFailure ? aboutJob(error, name) : error;
		if (settings.cancelOnStop) await client.cancelBatch(name, { ...call }).catch(() => undefined);
		throw cancelledError(ctx, name, settings.cancelOnStop);
	}
}

/** Max Wait ran out: the job keeps running, for a later Collect. */
function maxWaitError(
	ctx: IExecuteFunctions,
	status: BatchStatus,
	maxWaitMs: number,
): NodeOperationError {
	const name = status.name;
	return new NodeOperationError(
		ctx.getNode(),
		`Batch job ${name} is still ${stateName(status.state)} after the Max Wait of ${Math.round(maxWaitMs / 60_000)} min${progress(status)}`,
		{
			description: `The job was not cancelled: it keeps running at Google (which targets 24 h; a job expires after 48 h). Collect its results later with the Nano Banana Batch Results node and the job name ${name}, or wait longer (Max Wait in Batch Options; Wait Until Done in Batch Results).`,
		},
	);
}

/** The execution was cancelled while waiting: says whether Google was asked to cancel the job. */
function cancelledError(
	ctx: IExecuteFunctions,
	name: string,
	cancelOnStop: boolean,
): NodeOperationError {
	return new NodeOperationError(
		ctx.getNode(),
		`The execution was cancelled while waiting for batch job ${name}`,
		{
			description: cancelOnStop
				? `Google was asked to cancel the job too (Cancel Job When Stopped is on); it stops within minutes. The requests it answered before that can still be collected with the Nano Banana Batch Results node and the job name ${name}; send the other items again.`
				: `The job keeps running at Google. Collect its results later with the Nano Banana Batch Results node and the job name ${name}.`,
		},
	);
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
