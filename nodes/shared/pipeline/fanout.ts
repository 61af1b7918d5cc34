/**
 * Several images for one request content: one request per image (the API does not reliably
 * return several per request), and the output items: each image its own item (`imageItems`),
 * paired with its source(s).
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';

import { estimateCostUsd } from '../catalogue';
import { imageOutputItem, storeThoughtImages, writeImage } from './output';
import type { ItemContext } from './runner';
import type { ImageRequest, OutputSettings } from './settings';
import type { CallSettings, GeminiClient, GenerateRequest, GenerateResult } from '../transport';

/**
 * Sends the same request `count` times. The first failure aborts the others rather than pay for
 * them.
 */
export async function requestImages(
	client: GeminiClient,
	request: GenerateRequest,
	count: number,
	call: Omit<CallSettings, 'signal'>,
	{ signal, gate }: ItemContext,
): Promise<GenerateResult[]> {
	const stop = new AbortController();
	const requestSignal = AbortSignal.any([signal, stop.signal]);
	return await Promise.all(
		Array.from({ length: count }, async () => {
			const answer = client.generate(request, { ...call, signal: requestSignal, gate });
			// The failure itself goes on to Promise.all, and from there to the runner.
			answer.catch((error: unknown) => stop.abort(error));
			return await answer;
		}),
	);
}

export interface ImageItemsParams {
	results: GenerateResult[];
	request: ImageRequest;
	output: OutputSettings;
	options: IDataObject;
	fileBase: string;
	/**
	 * What the node asked for (prompt, aspect ratio, inputs, …), placed after the model in each
	 * item's json.
	 */
	asked: IDataObject;
	pairedItem: IPairedItemData | IPairedItemData[];
	/** Batch API results: priced at the batch rate. */
	batch?: boolean;
	/**
	 * Where these images stand among the item's (one batch request of several): numbering and file
	 * suffixes.
	 */
	firstImageIndex?: number;
	several?: boolean;
}

/** One output item per image, in request order; files are numbered when there are several. */
export async function imageItems(
	ctx: IExecuteFunctions,
	params: ImageItemsParams,
): Promise<INodeExecutionData[]> {
	const { results, request, output, options, fileBase } = params;
	const several = params.several || results.length > 1 || results.some((r) => r.images.length > 1);
	const items: INodeExecutionData[] = [];
	for (const result of results) {
		for (const image of result.images) {
			const imageIndex = (params.firstImageIndex ?? 0) + items.length;
			const written = await writeImage(
				ctx,
				image,
				output,
				fileBase,
				several ? String(imageIndex + 1) : undefined,
			);
			const thoughts = options.outputThoughtImages
				? await storeThoughtImages(ctx, result, '', (name) => `${fileBase}-${name}`)
				: {};
			items.push(
				imageOutputItem({
					request,
					result,
					asked: params.asked,
					written,
					answer: {
						text: result.text,
						...(options.includeThoughts ? { thoughtText: result.thoughtText } : {}),
						finishReason: result.finishReason,
						usage: { ...result.usage },
						estimatedCostUsd:
							estimateCostUsd(request.modelInfo, request.imageSize, 1, params.batch) ?? null,
						responseId: result.responseId,
						imageIndex,
						attempts: result.attempts,
						quotaWaitMs: result.quotaWaitMs,
						...(result.groundingSources.length
							? { groundingSources: result.groundingSources }
							: {}),
					},
					binary: { [output.binaryPropertyName]: written.binary, ...thoughts },
					pairedItem: params.pairedItem,
				}),
			);
		}
	}
	return items;
}
