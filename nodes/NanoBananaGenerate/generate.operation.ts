import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { estimateCostUsd } from '../shared/catalogue';
import {
	aspectRatioParameter,
	generationOptions,
	imageSizeParameter,
	modelLocator,
	numberOfImagesParameter,
	outputOptions,
	promptParameter,
	requestOptions,
	sortedOptions,
} from '../shared/descriptions';
import { forItem, toNodeError } from '../shared/errors';
import { defaultFileBase, writeImage } from '../shared/output';
import { errorItem, runItems } from '../shared/runner';
import { buildImageRequest, readOutputSettings, readRequestSettings } from '../shared/settings';
import { geminiClientFor } from '../shared/credentials';
import type { GenerateResult } from '../shared/transport';

export const description: INodeProperties[] = [
	modelLocator,
	promptParameter('What to draw. Use an expression to take it from each item.', 'e.g. A flat-lay photo of a banana on a pastel desk, soft daylight'),
	aspectRatioParameter({ name: 'Auto (Model Default)', value: 'auto', description: 'Square unless the prompt says otherwise' }),
	imageSizeParameter,
	numberOfImagesParameter,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: sortedOptions(generationOptions, outputOptions, requestOptions),
	},
];

function usageJson(result: GenerateResult): IDataObject {
	return { ...result.usage };
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const client = await geminiClientFor(this);
	const nodeOptions = this.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(nodeOptions);

	const outcomes = await runItems(this, items.length, concurrency, async (i, { signal, limit }) => {
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
		let request: ReturnType<typeof buildImageRequest>;
		let output: ReturnType<typeof readOutputSettings>;
		try {
			request = buildImageRequest({
				modelId,
				aspectRatio: this.getNodeParameter('aspectRatio', i, 'auto') as string,
				imageSize: this.getNodeParameter('imageSize', i, '1K') as string,
				options,
			});
			output = readOutputSettings(options);
		} catch (error) {
			throw new NodeOperationError(this.getNode(), forItem((error as Error).message, i), { itemIndex: i });
		}

		// One failed image fails the item; stop its sibling requests rather than pay for them.
		const itemStop = new AbortController();
		const itemSignal = AbortSignal.any([signal, itemStop.signal]);
		const results = await Promise.all(
			Array.from({ length: count }, async () => {
				try {
					return await limit(() =>
						client.generate({ ...request, contents: [{ role: 'user', parts: [{ text: prompt }] }] }, { ...call, signal: itemSignal }),
					);
				} catch (error) {
					itemStop.abort(error);
					throw toNodeError(this, error, i);
				}
			}),
		);

		const fileBase = output.fileName || defaultFileBase(request.model, i);
		const out: INodeExecutionData[] = [];
		let imageIndex = 0;
		for (const result of results) {
			for (const image of result.images) {
				const suffix = count > 1 || result.images.length > 1 ? String(imageIndex + 1) : undefined;
				const written = await writeImage(this, image, output, fileBase, suffix);
				const binary = { [output.binaryPropertyName]: written.binary };
				if (options.outputThoughtImages) {
					for (const [t, thought] of result.thoughtImages.entries()) {
						binary[`thought${t + 1}`] = await this.helpers.prepareBinaryData(thought.data, `${fileBase}-thought${t + 1}`, thought.mimeType);
					}
				}
				out.push({
					json: {
						model: request.model,
						modelVersion: result.modelVersion,
						prompt,
						aspectRatio: (request.generationConfig.imageConfig as IDataObject | undefined)?.aspectRatio ?? 'auto',
						imageSize: request.imageSize,
						...written.json,
						text: result.text,
						...(options.includeThoughts ? { thoughtText: result.thoughtText } : {}),
						finishReason: result.finishReason,
						usage: usageJson(result),
						estimatedCostUsd: estimateCostUsd(request.modelInfo, request.imageSize, 1) ?? null,
						responseId: result.responseId,
						imageIndex,
						...(result.groundingSources.length ? { groundingSources: result.groundingSources } : {}),
					},
					binary,
					pairedItem: { item: i },
				});
				imageIndex++;
			}
		}
		return out;
	});

	return [outcomes.flatMap((outcome, i) => (outcome.ok ? outcome.value : [errorItem(items[i], i, outcome.error)]))];
}
