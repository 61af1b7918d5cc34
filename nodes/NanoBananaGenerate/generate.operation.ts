import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { forItem, toNodeError } from '../shared/errors';
import { imageItems, requestImages } from '../shared/fanout';
import { defaultFileBase } from '../shared/output';
import { runItems } from '../shared/runner';
import { readImageSettings, readRequestSettings } from '../shared/settings';
import { geminiClientFor } from '../shared/credentials';

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const client = await geminiClientFor(this);
	const nodeOptions = this.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(nodeOptions);

	return await runItems(this, { concurrency }, async (i, context) => {
		const modelId = this.getNodeParameter('model', i, '', { extractValue: true }) as string;
		const prompt = String(this.getNodeParameter('prompt', i, '')).trim();
		const options = this.getNodeParameter('options', i, {}) as IDataObject;
		const count = Math.min(8, Math.max(1, Number(this.getNodeParameter('numberOfImages', i, 1))));
		if (!prompt) {
			throw new NodeOperationError(this.getNode(), forItem('The prompt is empty', i), {
				itemIndex: i,
				description: 'Write a prompt, or check that the expression returns text for this item.',
			});
		}
		const { request, output } = readImageSettings(this, i, {
			modelId,
			aspectRatio: this.getNodeParameter('aspectRatio', i, 'auto') as string,
			imageSize: this.getNodeParameter('imageSize', i, '1K') as string,
			options,
		});

		const results = await requestImages(
			client,
			{ ...request, contents: [{ role: 'user', parts: [{ text: prompt }] }] },
			count,
			call,
			context,
			(error) => toNodeError(this, error, i),
		);
		return await imageItems(this, {
			results,
			request,
			output,
			options,
			fileBase: output.fileName || defaultFileBase(request.model, i),
			asked: { prompt, aspectRatio: request.aspectRatio ?? 'auto' },
			pairedItem: { item: i },
		});
	});
}
