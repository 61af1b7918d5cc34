/**
 * The skeleton of an image node (Generate, Edit, Fuse). A node gives its parts:
 * - `prepare`: a task's request, read and checked before anything is sent (Batch mode sends it);
 * - `request`: Realtime, the task's work up to its last request;
 * - `output`: the task's output items from what `request` made.
 * The skeleton owns the rest, the same for every node: the setup read before the item loop (client,
 * request settings of item 0, spend guards, Realtime or Batch), the switch between `runItems` and
 * `runBatch`, `requestsDone` between `request` and `output` (so at most twice Max Concurrent
 * Requests items' images are in memory), and the error path: parts throw, the runner decides what
 * a failure becomes.
 */
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	IPairedItemData,
} from 'n8n-workflow';

import { runBatch } from '../batch';
import type { PreparedRequest } from '../batch';
import { imageItems, requestImages } from '../pipeline/fanout';
import { nanoBananaCredentialTest } from './methods/credentialTest';
import { searchImageModels } from './methods/listSearch';
import { runItems, withSetup } from '../pipeline/runner';
import type { ItemContext, RunSpec } from '../pipeline/runner';
import { imageNodeSetup } from './setup';
import type { ImageNodeSetup } from './setup';
import { asTool, imageToolResult } from './tool';
import type { CallSettings } from '../transport';

/** One task of an image node, as its parts see it. */
export interface ImageTask<S extends ImageNodeSetup = ImageNodeSetup> {
	ctx: IExecuteFunctions;
	/** What the setup read before the item loop. */
	ready: S;
	task: number;
	context: ItemContext;
	/** Item 0's retry and timeout settings, with this task's signal and gate. */
	call: CallSettings;
}

export interface ImageNodeParts<S extends ImageNodeSetup, M> {
	/** Generate, Edit or Fuse: names the batch job and tells Collect which node made it. */
	node: string;
	/** What every task shares, beyond `imageNodeSetup`'s; a failure here is every item's. */
	setup?: (ctx: IExecuteFunctions) => Promise<S>;
	/** How many tasks and which items each is made from, when not one task per item. */
	plan?: (ctx: IExecuteFunctions, ready: S) => Pick<RunSpec, 'tasks' | 'sourcesOf'>;
	prepare: (task: ImageTask<S>) => Promise<PreparedRequest>;
	request: (task: ImageTask<S>) => Promise<M>;
	output: (task: ImageTask<S>, made: M) => Promise<INodeExecutionData[]>;
}

async function runParts<S extends ImageNodeSetup, M>(
	ctx: IExecuteFunctions,
	ready: S,
	parts: ImageNodeParts<S, M>,
): Promise<INodeExecutionData[][]> {
	const { client, concurrency, call, spend } = ready;
	const spec: RunSpec = { concurrency, spend, ...parts.plan?.(ctx, ready) };
	const taskOf = (task: number, context: ItemContext): ImageTask<S> => ({
		ctx,
		ready,
		task,
		context,
		call: { ...call, signal: context.signal, gate: context.gate },
	});
	if (ready.batch)
		return await runBatch(
			ctx,
			client,
			{ ...spec, node: parts.node, call },
			async (task, context) => await parts.prepare(taskOf(task, context)),
		);
	return await runItems(ctx, spec, async (index, context) => {
		const task = taskOf(index, context);
		const made = await parts.request(task);
		context.requestsDone();
		return await parts.output(task, made);
	});
}

/** An image node's execute(), from its parts. */
export function runImageNode<S extends ImageNodeSetup, M>(
	parts: ImageNodeParts<S, M>,
): (this: IExecuteFunctions) => Promise<INodeExecutionData[][]> {
	const setup = parts.setup ?? (imageNodeSetup as (ctx: IExecuteFunctions) => Promise<S>);
	return async function execute(this: IExecuteFunctions) {
		return await withSetup(
			this,
			{},
			setup,
			async (ctx, ready) => await runParts(ctx, ready, parts),
		);
	};
}

/**
 * A prepared request with what the fan-out needs beyond Batch's: the items it pairs with, and
 * retry settings when the node reads them per item (Fuse).
 */
export interface FannedRequest extends PreparedRequest {
	pairedItem?: IPairedItemData | IPairedItemData[];
	call?: Omit<CallSettings, 'signal'>;
}

interface FannedOut {
	prepared: FannedRequest;
	results: Awaited<ReturnType<typeof requestImages>>;
}

/**
 * The parts of a node that sends its prepared request Number of Images times and outputs one item
 * per image (Generate, Fuse).
 */
export function fannedOut<S extends ImageNodeSetup>(
	prepare: (task: ImageTask<S>) => Promise<FannedRequest>,
): Pick<ImageNodeParts<S, FannedOut>, 'prepare' | 'request' | 'output'> {
	return {
		prepare,
		request: async (task) => {
			const prepared = await prepare(task);
			const { request, count } = prepared;
			const call = prepared.call ?? task.ready.call;
			const results = await requestImages(task.ready.client, request, count, call, task.context);
			return { prepared, results };
		},
		output: async ({ ctx, task }, { prepared, results }) =>
			await imageItems(ctx, {
				...prepared,
				results,
				pairedItem: prepared.pairedItem ?? { item: task },
			}),
	};
}

/**
 * What the image nodes' classes share: the methods, and execute() answering as a tool when the node
 * runs as one.
 */
export const imageNodeMethods = (): INodeType['methods'] => ({
	listSearch: { searchImageModels },
	credentialTest: { nanoBananaCredentialTest },
});

export function imageNodeExecute(
	operation: (this: IExecuteFunctions) => Promise<INodeExecutionData[][]>,
): (this: IExecuteFunctions) => Promise<INodeExecutionData[][]> {
	return async function execute(this: IExecuteFunctions) {
		return await asTool(this, 1, async () => await operation.call(this), imageToolResult);
	};
}
