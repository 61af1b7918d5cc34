import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { isBatchMode, runBatch } from '../shared/batch';
import type { PreparedRequest } from '../shared/batch';
import { itemError, toNodeError } from '../shared/errors';
import { imageItems, requestImages } from '../shared/fanout';
import { defaultFileBase } from '../shared/output';
import { runItems } from '../shared/runner';
import {
	autoConcurrencyUnlessSet,
	readImageSettings,
	readRequestSettings,
} from '../shared/settings';
import { geminiClientFor } from '../shared/credentials';

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

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const client = await geminiClientFor(this);
	const nodeOptions = this.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(nodeOptions, autoConcurrencyUnlessSet(this));

	if (isBatchMode(this))
		return await runBatch(this, client, { concurrency, node: 'Generate', call }, async (i) =>
			prepare(this, i),
		);

	return await runItems(this, { concurrency }, async (i, context) => {
		const prepared = prepare(this, i);
		const results = await requestImages(
			client,
			prepared.request,
			prepared.count,
			call,
			context,
			(error) => toNodeError(this, error, i),
		);
		context.requestsDone();
		return await imageItems(this, { ...prepared, results, pairedItem: { item: i } });
	});
}
