/**
 * Batch mode (Gemini Batch API, half price): the items are prepared exactly as in realtime, then
 * sent as one job instead of one request each. Inline while the job is small, else as a JSONL
 * file through the Files API. Results come back by key (`item3`, `item3-2`) and become the same
 * output items, at the batch price; a request that failed is an item error like in realtime.
 *
 * The parts, in the order a run goes through them: settings.ts (mode, options), submit.ts (each
 * item into the job, and sending it; builder.ts holds its requests), poll.ts (waiting for it),
 * results.ts (its results as output; sources.ts reads them), manifest.ts (what Collect is handed).
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import {
	errorJson,
	failEveryItem,
	nodeErrorOf,
	runItems,
	withSpendReport,
} from '../pipeline/runner';
import type { ItemContext } from '../pipeline/runner';
import type { BatchStatus, GeminiClient } from '../transport';
import { inItemOrder, submittedItem } from './manifest';
import type { BatchManifest } from './manifest';
import { waitForJob } from './poll';
import { resultItems, settleFromResults } from './results';
import { batchSetup } from './settings';
import type { BatchSettings, BatchSetup } from './settings';
import { addItem, closeDraft, newDraft, submitJob } from './submit';
import type { BatchRunSpec, JobDraft, PreparedRequest } from './submit';

export { BATCH_MANIFEST_VERSION, inItemOrder } from './manifest';
export type { BatchEntry, BatchManifest } from './manifest';
export { isFinished, progress, stateName, waitForJob } from './poll';
export { resultItems } from './results';
export type { ResultPairing } from './results';
export { indexJsonlResults } from './sources';
export type { BatchResults } from './sources';
export {
	batchUnavailableReason,
	checkBatchAvailable,
	isBatchMode,
	readBatchSettings,
} from './settings';
export type { BatchSettings } from './settings';
export type { BatchRunSpec, PreparedRequest } from './submit';

/**
 * Batch mode of an operation. Each task prepares its request as realtime does (`prepare`); a bad
 * item fails there, on its own, before anything is sent. The rest go as one job; then either the
 * job is waited for and its results output, or (Submit Only) one item describes the job for
 * Collect.
 */
export async function runBatch(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	spec: BatchRunSpec,
	prepare: (task: number, context: ItemContext) => Promise<PreparedRequest>,
): Promise<INodeExecutionData[][]> {
	let setup: BatchSetup;
	try {
		setup = batchSetup(ctx, client);
	} catch (error) {
		return failEveryItem(ctx, error, spec);
	}
	const job = { model: setup.jobModel, draft: newDraft(setup.settings.inlineLimitBytes) };
	try {
		const [refused] = await runItems(ctx, spec, async (task, context) => {
			const prepared = await prepare(task, context);
			return await addItem(ctx, client, spec, job, task, prepared);
		});
		const requests = job.draft.entries.flat().filter(Boolean);
		if (!requests.length) return [refused];
		const submission = await submitJob(ctx, client, spec, job, requests);
		if ('failed' in submission) return [inItemOrder(refused, submission.failed)];
		const jobItem = submittedItem(submission.manifest, submission.status);
		if (setup.settings.submitOnly)
			return [inItemOrder(refused, await withSpendReport(spec.spend, [jobItem]))];
		const waited = { ...submission, jobItem, settings: setup.settings };
		return [inItemOrder(refused, await waitAndOutput(ctx, client, spec, job.draft, waited))];
	} finally {
		await closeDraft(job.draft);
	}
}

interface Waited {
	status: BatchStatus;
	manifest: BatchManifest;
	/** Submit Only's item, which goes on (with the error) when the job cannot be waited for. */
	jobItem: INodeExecutionData;
	settings: BatchSettings;
}

/** Waits for the job, then outputs its results and settles the spend to what they cost. */
async function waitAndOutput(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	spec: BatchRunSpec,
	draft: JobDraft,
	job: Waited,
): Promise<INodeExecutionData[]> {
	let finished: BatchStatus;
	try {
		finished = await waitForJob(ctx, client, job.status.name, job.settings, spec.call);
	} catch (error) {
		return [jobItemWithError(ctx, error, job.jobItem)];
	}
	const costs = new Map<string, number>();
	let results: INodeExecutionData[];
	try {
		const billed = (key: string, usd: number) => costs.set(key, usd);
		results = await resultItems(ctx, client, finished, job.manifest, { ...spec, billed });
	} catch (error) {
		// A results file not read (under Continue On Fail the job item goes on) or, without it, the
		// lowest failing request's error, which jobItemWithError throws as it is.
		return [jobItemWithError(ctx, error, job.jobItem)];
	} finally {
		settleFromResults(draft.reservations, draft.entries, costs);
	}
	return await withSpendReport(spec.spend, results);
}

/**
 * Max Wait, the job could not be read, or its results could not: the job and its results stay at
 * Google, so under Continue On Fail the Submit Only item goes on with the error, for a later
 * Collect.
 */
function jobItemWithError(
	ctx: IExecuteFunctions,
	error: unknown,
	jobItem: INodeExecutionData,
): INodeExecutionData {
	const nodeError = nodeErrorOf(ctx, error, [0]);
	if (!ctx.continueOnFail() || ctx.getExecutionCancelSignal?.()?.aborted) throw nodeError;
	return {
		...jobItem,
		json: { ...jobItem.json, error: errorJson(nodeError) },
	};
}
