import type { IDataObject } from 'n8n-workflow';

import type { PreparedRequest } from '../shared/batch';
import { itemError } from '../shared/pipeline/errors';
import { fannedOut, runImageNode } from '../shared/skeleton/imageNode';
import type { ImageTask } from '../shared/skeleton/imageNode';
import { defaultFileBase } from '../shared/pipeline/output';
import { readImageSettings, readNumberOfImages } from '../shared/pipeline/settings';

/** An item's request, read and checked before anything is sent: the same for Realtime and Batch. */
async function prepare({ ctx, task: i }: ImageTask): Promise<PreparedRequest> {
	const modelId = ctx.getNodeParameter('model', i, '', { extractValue: true }) as string;
	const prompt = String(ctx.getNodeParameter('prompt', i, '')).trim();
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	const count = readNumberOfImages(ctx, i);
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

export const execute = runImageNode({ node: 'Generate', ...fannedOut(prepare) });
