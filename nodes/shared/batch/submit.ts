/**
 * Putting a job together and sending it: each item prepared as realtime prepares it, checked as
 * one job needs it, reserved at the batch price, then all of them sent as one job.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { estimateCostUsd, normaliseModelId } from '../catalogue';
import { forItem, forItems, withContext } from '../pipeline/errors';
import { runItems } from '../pipeline/runner';
import type { RunSpec } from '../pipeline/runner';
import type { ImageRequest, OutputSettings } from '../pipeline/settings';
import { GeminiFailure } from '../transport';
import type {
	BatchStatus,
	CallSettings,
	GeminiClient,
	GenerateRequest,
	RequestPrice,
	SpendReservation,
} from '../transport';
import { BatchBuilder } from './builder';
import { BATCH_MANIFEST_VERSION, keyOf } from './manifest';
import type { BatchEntry, BatchManifest } from './manifest';

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

export interface BatchRunSpec extends RunSpec {
	/** Generate, Edit or Fuse: for the job's display name and Collect. */
	node: string;
	call: Omit<CallSettings, 'signal'>;
}

/** A job being put together: its requests, what each item reserved, and whether it was sent. */
export interface JobDraft {
	builder: BatchBuilder;
	/** Each task's requests; a task that failed before the job has none. */
	entries: BatchEntry[][];
	/** Each task's spend reservation, at the batch price. */
	reservations: Array<SpendReservation | undefined>;
	/** Once the job exists, what no result settles stays counted at its estimate. */
	submitted: boolean;
}

export function newDraft(inlineLimitBytes: number): JobDraft {
	return {
		builder: new BatchBuilder(inlineLimitBytes),
		entries: [],
		reservations: [],
		submitted: false,
	};
}

/**
 * Submitted: counted at the estimate (Return Job's results may come to another execution, a
 * failure left them unread). Not submitted (a failure before the job): it costs nothing.
 */
export async function closeDraft(draft: JobDraft): Promise<void> {
	for (const reservation of draft.reservations)
		draft.submitted ? reservation?.keep() : reservation?.release();
	await draft.builder.dispose();
}

/**
 * One prepared item into the job: checked, reserved at the batch price, and added once per image
 * asked for. A bad item fails here, on its own, before anything is sent.
 */
export async function addItem(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	spec: BatchRunSpec,
	job: { model: string; draft: JobDraft },
	task: number,
	prepared: PreparedRequest,
): Promise<INodeExecutionData[]> {
	const items = spec.sourcesOf ? spec.sourcesOf(task) : [task];
	checkJobModel(ctx, prepared, items, job.model);
	// Checked per item: one refused option in a job would fail every item of it.
	client.checkSendable(prepared.request);
	// The job's cost, item by item at the batch price: an item that would pass a limit stays out.
	job.draft.reservations[task] = await spec.spend?.reserve(batchPrice(prepared));
	const mine: BatchEntry[] = [];
	for (let image = 0; image < prepared.count; image++) {
		const entry = entryOf(prepared, items, image);
		await job.draft.builder.add(entry.key, prepared.request);
		mine.push(entry);
	}
	job.draft.entries[task] = mine;
	return [];
}

/** One job is for one model: an item asking for another fails on its own. */
function checkJobModel(
	ctx: IExecuteFunctions,
	prepared: PreparedRequest,
	items: number[],
	jobModel: string,
): void {
	if (normaliseModelId(prepared.request.model) === jobModel) return;
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

/** The request for one image of an item, as Collect will need it. */
function entryOf(prepared: PreparedRequest, items: number[], image: number): BatchEntry {
	return {
		key: keyOf(items, image, prepared.count),
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
	};
}

/** An item's requests at the batch price, for the spend guards. */
function batchPrice(prepared: PreparedRequest): RequestPrice {
	const { model, modelInfo, imageSize } = prepared.request;
	return { model, estimateUsd: estimateCostUsd(modelInfo, imageSize, prepared.count, true) };
}

export type Submission =
	| { status: BatchStatus; manifest: BatchManifest }
	/** No job was made; under Continue On Fail, every item that was in it, with the error. */
	| { failed: INodeExecutionData[] };

/** Sends the job: it is then known by its status and its manifest. */
export async function submitJob(
	ctx: IExecuteFunctions,
	client: GeminiClient,
	spec: BatchRunSpec,
	job: { model: string; draft: JobDraft },
	requests: BatchEntry[],
): Promise<Submission> {
	const { draft } = job;
	const signal = ctx.getExecutionCancelSignal?.();
	const displayName = `n8n ${spec.node} ${new Date().toISOString()}`;
	let status: BatchStatus;
	try {
		status = await draft.builder.submit(client, job.model, displayName, { ...spec.call, signal });
		draft.submitted = true;
	} catch (error) {
		// An HTTP error created no job; after another failure one may have been created.
		draft.submitted = !(error instanceof GeminiFailure && error.kind === 'http');
		if (signal?.aborted) throw cancelledSubmitting(ctx);
		return { failed: await submitFailed(ctx, spec, draft, requests, error) };
	}
	await draft.builder.dispose();
	const manifest: BatchManifest = {
		version: BATCH_MANIFEST_VERSION,
		job: status.name,
		node: spec.node,
		model: job.model,
		input: draft.builder.isFile ? 'file' : 'inline',
		submittedAt: new Date().toISOString(),
		requests,
	};
	return { status, manifest };
}

function cancelledSubmitting(ctx: IExecuteFunctions): NodeOperationError {
	return new NodeOperationError(
		ctx.getNode(),
		'The execution was cancelled while the batch job was being submitted',
		{
			description:
				'The job was probably not created; if Google did create it, it runs and its results can be collected with the Nano Banana Batch Results node.',
		},
	);
}

/**
 * The job could not be sent: the error is every item's that was in it, and names them all (thrown
 * for the first, or under Continue On Fail each such item comes out with it).
 */
async function submitFailed(
	ctx: IExecuteFunctions,
	spec: BatchRunSpec,
	draft: JobDraft,
	requests: BatchEntry[],
	error: unknown,
): Promise<INodeExecutionData[]> {
	const everyItem = withContext(error, { items: [...new Set(requests.flatMap((r) => r.items))] });
	const [failed] = await runItems(ctx, spec, async (task) => {
		if (draft.entries[task]) throw everyItem;
		return [];
	});
	return failed;
}
