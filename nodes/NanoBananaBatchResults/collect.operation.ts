import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import {
	BATCH_MANIFEST_VERSION,
	checkBatchAvailable,
	inItemOrder,
	isFinished,
	progress,
	resultItems,
	stateName,
	waitForJob,
} from '../shared/batch';
import type { BatchManifest } from '../shared/batch';
import { geminiClientFor } from '../shared/pipeline/credentials';
import { forItem, itemError } from '../shared/pipeline/errors';
import { runItems, withSetup } from '../shared/pipeline/runner';
import { OPTION_DEFAULTS } from '../shared/constants';
import { readRequestSettings } from '../shared/pipeline/settings';
import { GeminiFailure } from '../shared/transport';
import type { BatchStatus } from '../shared/transport';

/**
 * The Submit Only item's description of the job, when it is for this job; also as JSON text, as a
 * table or sheet column keeps it.
 */
function manifestOf(json: IDataObject, job: string): BatchManifest | undefined {
	let batch = json.batch as BatchManifest | string | undefined;
	if (typeof batch === 'string') {
		try {
			batch = JSON.parse(batch) as BatchManifest;
		} catch {
			return undefined;
		}
	}
	return batch &&
		typeof batch === 'object' &&
		batch.version === BATCH_MANIFEST_VERSION &&
		batch.job === job &&
		Array.isArray(batch.requests)
		? batch
		: undefined;
}

/** What every job shares, read before the item loop: a failure here is every item's. */
async function setup(ctx: IExecuteFunctions) {
	const client = await geminiClientFor(ctx);
	checkBatchAvailable(
		client,
		'Select the Gemini API key credential the batch job was submitted with.',
	);
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	return { client, options, ...readRequestSettings(options) };
}
type Setup = Awaited<ReturnType<typeof setup>>;

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withSetup(this, {}, setup, collect);
}

/** The item's job name, its status (waited for when the item says so), or why it has none. */
async function jobStatus(
	ctx: IExecuteFunctions,
	{ client, options, call }: Setup,
	j: number,
): Promise<{ name: string; status: BatchStatus }> {
	const name = String(ctx.getNodeParameter('jobName', j, '') ?? '').trim();
	if (!name) {
		throw itemError(
			ctx,
			j,
			'No batch job name',
			'Connect the item a Nano Banana node in Batch mode (Submit Only) output, or set Batch Job to a job name such as batches/123abc.',
		);
	}
	const waitMinutes = Number(
		(ctx.getNodeParameter('options', j, {}) as IDataObject).waitMinutes ?? 0,
	);
	const firstPollMs =
		Number(options.pollIntervalSeconds ?? OPTION_DEFAULTS.pollIntervalSeconds) * 1000;
	try {
		const status =
			waitMinutes > 0
				? await waitForJob(
						ctx,
						client,
						name,
						{ maxWaitMs: waitMinutes * 60_000, firstPollMs, cancelOnStop: false },
						call,
					)
				: await client.getBatch(name, { ...call, signal: ctx.getExecutionCancelSignal?.() });
		return { name, status };
	} catch (error) {
		throw notFoundOr(ctx, j, name, error);
	}
}

/**
 * A job Google does not know is the item's own error; any other failure goes on as it is, for the
 * runner to convert as it converts every task's.
 */
function notFoundOr(ctx: IExecuteFunctions, j: number, name: string, error: unknown): unknown {
	if (!(error instanceof GeminiFailure && error.httpCode === 404)) return error;
	return itemError(
		ctx,
		j,
		`Batch job ${name} was not found`,
		'Check the job name (batches/…) and that the credential is the Gemini API key the job was submitted with. Google deletes jobs some time after they end.',
	);
}

async function collect(ctx: IExecuteFunctions, ready: Setup): Promise<INodeExecutionData[][]> {
	const { client, concurrency, call } = ready;
	const items = ctx.getInputData();
	const jobs: Array<{ status: BatchStatus; manifest?: BatchManifest }> = [];

	// First each input item's job: one that is not done, or not found, fails that item.
	const [refused] = await runItems(ctx, { concurrency }, async (j) => {
		const { name, status } = await jobStatus(ctx, ready, j);
		if (!isFinished(status)) {
			throw new NodeOperationError(
				ctx.getNode(),
				forItem(
					`Batch job ${name} is still ${stateName(status.state)}${progress(status)}: no results yet`,
					j,
				),
				{
					itemIndex: j,
					description:
						'Run this node again later, e.g. from a Schedule Trigger, or set Wait Until Done. Google targets 24 hours for a batch; a job not done within 48 hours expires.',
				},
			);
		}
		jobs[j] = { status, manifest: manifestOf(items[j].json, name) };
		return [];
	});

	// Then one item per request of each finished job, paired with the input item that named it, a
	// job at a time. A job whose results cannot be read fails its input item, as any task's failure.
	const [results] = await runItems(ctx, { concurrency: 1 }, async (j) => {
		const job = jobs[j];
		if (!job) return [];
		const spec = { concurrency, call };
		return await resultItems(ctx, client, job.status, job.manifest, spec, { collectItem: j });
	});
	return [inItemOrder(refused, results)];
}
