import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { runBatch } from '../shared/batch';
import type { PreparedRequest } from '../shared/batch';
import { itemError, toNodeError } from '../shared/errors';
import { imageItems, requestImages } from '../shared/fanout';
import { defaultFileBase } from '../shared/output';
import { imageNodeSetup } from '../shared/setup';
import type { ImageNodeSetup } from '../shared/setup';
import { runItems, withSetup } from '../shared/runner';
import { readImageSettings } from '../shared/settings';

/** An item's request, read and checked before anything is sent: the same for Realtime and Batch. */
function prepare(ctx: IExecuteFunctions, i: number): PreparedRequest {
	const modelId = ctx.getNodeParameter('model', i, '', { extractValue: true }) as string;
	const prompt = String(ctx.getNodeParameter('prompt', i, '')).trim();
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	const count = Math.min(8, Math.max(1, Number(ctx.getNodeParameter('numberOfImages', i, 1))));
	if (!prompt) {
		throw itemError(
			ctx,
			i,
			'The prompt is empty',
			'Write a prompt, or check that the expression returns text for this item.',
		);
	}
	const { request, output } = readImageSettings(ctx, i, {
		modelId,
		aspectRatio: ctx.getNodeParameter('aspectRatio', i, 'auto') as string,
		imageSize: ctx.getNodeParameter('imageSize', i, '1K') as string,
		options,
	});
	return {
		request: { ...request, contents: [{ role: 'user', parts: [{ text: prompt }] }] },
		count,
		asked: { prompt, aspectRatio: request.aspectRatio ?? 'auto' },
		output,
		options,
		fileBase: output.fileName || defaultFileBase(request.model, i),
	};
}

async function run(
	ctx: IExecuteFunctions,
	{ client, concurrency, call, spend, batch }: ImageNodeSetup,
): Promise<INodeExecutionData[][]> {
	if (batch)
		return await runBatch(ctx, client, { concurrency, node: 'Generate', call, spend }, async (i) =>
			prepare(ctx, i),
		);

	return await runItems(ctx, { concurrency, spend }, async (i, context) => {
		const prepared = prepare(ctx, i);
		const results = await requestImages(
			client,
			prepared.request,
			prepared.count,
			call,
			context,
			(error) => toNodeError(ctx, error, i),
		);
		context.requestsDone();
		return await imageItems(ctx, { ...prepared, results, pairedItem: { item: i } });
	});
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withSetup(this, {}, imageNodeSetup, run);
}
