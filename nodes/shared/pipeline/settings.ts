/**
 * Reading the shared options into typed settings, and checking them against the model before
 * any paid call.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import {
	STANDARD_ASPECT_RATIOS,
	findModel,
	normaliseImageSize,
	normaliseModelId,
} from '../catalogue';
import type { ModelInfo } from '../catalogue';
import { itemError } from './errors';
import {
	MAX_IMAGES_PER_ITEM,
	MAX_RESIZE_PIXELS,
	MAX_RESIZE_SIDE,
	MAX_SEED,
	OPTION_DEFAULTS,
	VERTEX_ONLY_OPTION_NAMES,
} from '../constants';
import type { CallSettings, ConcurrencyLimit, GenerateRequest } from '../transport';

export interface RequestSettings {
	concurrency: ConcurrencyLimit;
	call: Omit<CallSettings, 'signal'>;
}

/** Max Concurrent Requests before Auto: what a node saved without the option keeps. */
export const FIXED_CONCURRENCY_DEFAULT = OPTION_DEFAULTS.maxConcurrency;

/**
 * Max Concurrent Requests: 0 is Auto. Not set, it is Auto where `autoWhenUnset` (Generate, Edit and
 * Fuse from version 1.1), else 4: n8n saves no option a user did not add, so a node saved before
 * Auto existed must keep its 4.
 */
export function readConcurrency(value: unknown, autoWhenUnset: boolean): ConcurrencyLimit {
	if (value === undefined || value === null || value === '')
		return autoWhenUnset ? 'auto' : FIXED_CONCURRENCY_DEFAULT;
	const limit = Math.floor(Number(value));
	if (limit === 0) return 'auto';
	return Math.max(1, limit || FIXED_CONCURRENCY_DEFAULT);
}

/** Generate, Edit and Fuse from version 1.1 run with Auto concurrency unless the option says. */
export function autoConcurrencyUnlessSet(ctx: IExecuteFunctions): { autoWhenUnset: boolean } {
	return { autoWhenUnset: ctx.getNode().typeVersion >= 1.1 };
}

/** Number of Images of an item: 1 to MAX_IMAGES_PER_ITEM, however the expression came out. */
export function readNumberOfImages(ctx: IExecuteFunctions, itemIndex: number): number {
	const wanted = Number(ctx.getNodeParameter('numberOfImages', itemIndex, 1));
	return Math.min(MAX_IMAGES_PER_ITEM, Math.max(1, wanted));
}

export function readRequestSettings(
	options: IDataObject,
	{ autoWhenUnset = false }: { autoWhenUnset?: boolean } = {},
): RequestSettings {
	const maxAttempts = Number(options.maxAttempts ?? OPTION_DEFAULTS.maxAttempts);
	return {
		concurrency: readConcurrency(options.maxConcurrency, autoWhenUnset),
		call: {
			retry: {
				maxAttempts: Math.max(1, maxAttempts),
				maxTotalWaitMs:
					Number(options.maxRetryWaitSeconds ?? OPTION_DEFAULTS.maxRetryWaitSeconds) * 1000,
			},
			timeoutMs: Number(options.timeoutSeconds ?? OPTION_DEFAULTS.timeoutSeconds) * 1000,
		},
	};
}

export interface OutputSettings {
	binaryPropertyName: string;
	fileName: string;
	format: 'original' | 'png' | 'jpeg' | 'webp' | 'avif';
	quality: number;
	resize?: { width: number; height: number; fit: 'cover' | 'contain' | 'inside' };
}

export function readOutputSettings(options: IDataObject): OutputSettings {
	const width = Number(options.resizeWidth ?? 0);
	const height = Number(options.resizeHeight ?? 0);
	if (width > 0 !== height > 0) {
		throw new Error(
			'Set both Resize Width and Resize Height, or neither: a resize needs the whole target size',
		);
	}
	if (width > MAX_RESIZE_SIDE || height > MAX_RESIZE_SIDE || width * height > MAX_RESIZE_PIXELS) {
		throw new Error(
			`A resize to ${width}×${height} is too large: the limit is ${MAX_RESIZE_SIDE} px a side and ${MAX_RESIZE_PIXELS / 1e6} megapixels in all. ` +
				'Set a smaller Resize Width and Resize Height.',
		);
	}
	return {
		binaryPropertyName: String(options.binaryPropertyName ?? 'data').trim() || 'data',
		fileName: String(options.fileName ?? '').trim(),
		format: (options.outputFormat as OutputSettings['format']) ?? 'original',
		quality: Number(options.quality ?? OPTION_DEFAULTS.quality),
		resize:
			width > 0 ? { width, height, fit: (options.resizeFit as 'cover') ?? 'cover' } : undefined,
	};
}

export interface ImageRequestParams {
	modelId: string;
	/** 'auto' (or '' / 'keep') leaves the ratio to the model or the input image. */
	aspectRatio: string;
	imageSize: string;
	options: IDataObject;
}

/**
 * A setting the model does not take: refused here, with what it does take, before any paid call.
 */
export class UnsupportedSettingError extends Error {}

function refuse(setting: string, value: string, model: ModelInfo, supported: string[]): never {
	throw new UnsupportedSettingError(
		`${model.name} (${model.id}) does not support ${setting} "${value}". Supported: ${supported.join(', ')}.`,
	);
}

function checkAgainstModel(
	model: ModelInfo,
	asked: { aspectRatio?: string; imageSize?: string; thinkingLevel?: string; options: IDataObject },
): void {
	const { aspectRatio, imageSize, thinkingLevel, options } = asked;
	const ratios = [...model.aspectRatios, ...(model.vertexAspectRatios ?? [])];
	if (aspectRatio && !ratios.includes(aspectRatio))
		refuse('aspect ratio', aspectRatio, model, model.aspectRatios);
	if (imageSize && !model.imageSizes.includes(imageSize as never))
		refuse('image size', imageSize, model, model.imageSizes);
	if (thinkingLevel && !model.thinkingLevels.includes(thinkingLevel)) {
		const settable = model.thinkingLevels.map((level) => level[0].toUpperCase() + level.slice(1));
		refuse(
			'thinking level',
			thinkingLevel,
			model,
			settable.length
				? settable
				: [model.thinks ? 'Model Default (it always thinks)' : 'Model Default (it does not think)'],
		);
	}
	if (options.googleSearch && !model.googleSearch)
		refuse('Google Search grounding', 'on', model, ['off']);
}

/** A fraction is rounded (the API refuses one); outside 1 to MAX_SEED is refused. */
function readSeed(value: unknown): number | undefined {
	if (value === undefined || value === null || value === '' || Number(value) === 0)
		return undefined;
	const seed = Math.round(Number(value));
	if (!(seed >= 1 && seed <= MAX_SEED))
		throw new UnsupportedSettingError(
			`Seed ${String(value)} is not a whole number from 1 to ${MAX_SEED}. Use such a number, or 0 for a random seed.`,
		);
	return seed;
}

/** An image request without its contents, and what it is checked and priced by. */
export interface ImageRequest extends Omit<GenerateRequest, 'contents'> {
	modelInfo?: ModelInfo;
	/** The ratio sent; undefined leaves it to the model (square, or the input image's shape). */
	aspectRatio?: string;
	/** The size asked for, or the model's default: what the image is priced at. */
	imageSize?: string;
}

/** The request's imageConfig, and the Vertex-only settings in it, named for the client. */
function imageConfigOf(
	model: ModelInfo | undefined,
	aspectRatio: string | undefined,
	imageSize: string | undefined,
	options: IDataObject,
) {
	const imageConfig: IDataObject = {};
	if (aspectRatio) imageConfig.aspectRatio = aspectRatio;
	// A model with a single size takes none: sending it only risks a 400.
	const sendSize = imageSize && !(model && model.imageSizes.length === 1);
	if (sendSize) imageConfig.imageSize = imageSize;
	// Sent as asked; on the Gemini API the client refuses them by name before sending.
	const vertexOnlyOptions: string[] = [];
	if (aspectRatio && model?.vertexAspectRatios?.includes(aspectRatio))
		vertexOnlyOptions.push(`Aspect Ratio ${aspectRatio} (Vertex AI Only)`);
	for (const name of Object.keys(VERTEX_ONLY_OPTION_NAMES) as Array<
		keyof typeof VERTEX_ONLY_OPTION_NAMES
	>) {
		if (!options[name]) continue;
		imageConfig[name] = String(options[name]);
		vertexOnlyOptions.push(VERTEX_ONLY_OPTION_NAMES[name]);
	}
	return { imageConfig, vertexOnlyOptions };
}

/**
 * Builds the generation config for an image request. Known models are checked against the
 * catalogue; an unknown id typed by hand is sent as asked, with no client-side limits.
 */
export function buildImageRequest(params: ImageRequestParams): ImageRequest {
	const modelId = normaliseModelId(params.modelId);
	if (!modelId)
		throw new UnsupportedSettingError(
			'No model is selected. Pick one from the list or type a model ID.',
		);
	const model = findModel(modelId);
	const { options } = params;
	const aspectRatio = ['auto', 'keep', ''].includes(params.aspectRatio)
		? undefined
		: params.aspectRatio;
	const imageSize = params.imageSize ? normaliseImageSize(params.imageSize) : undefined;
	const thinkingLevel =
		options.thinkingLevel && options.thinkingLevel !== 'default'
			? String(options.thinkingLevel)
			: undefined;

	// A shut-down model is still sent: Google's dates are the earliest, and its 404 is told with
	// what to use instead (see the client).
	if (model) checkAgainstModel(model, { aspectRatio, imageSize, thinkingLevel, options });
	const seed = readSeed(options.seed);

	const { imageConfig, vertexOnlyOptions } = imageConfigOf(model, aspectRatio, imageSize, options);
	const thinkingConfig: IDataObject = {};
	// The wire takes the enum name (HIGH), as the SDK's ThinkingLevel does.
	if (thinkingLevel) thinkingConfig.thinkingLevel = thinkingLevel.toUpperCase();
	if (options.includeThoughts && (!model || model.thinks)) thinkingConfig.includeThoughts = true;

	const generationConfig: IDataObject = {
		responseModalities: options.responseFormat === 'image' ? ['IMAGE'] : ['TEXT', 'IMAGE'],
	};
	if (options.temperature !== undefined) generationConfig.temperature = Number(options.temperature);
	if (options.topP !== undefined) generationConfig.topP = Number(options.topP);
	if (seed) generationConfig.seed = seed;
	if (Object.keys(imageConfig).length) generationConfig.imageConfig = imageConfig;
	if (Object.keys(thinkingConfig).length) generationConfig.thinkingConfig = thinkingConfig;

	const safety =
		((options.safetySettings as IDataObject | undefined)?.values as
			Array<{ category: string; threshold: string }> | undefined) ?? [];

	return {
		model: modelId,
		modelInfo: model,
		aspectRatio,
		imageSize: imageSize ?? model?.defaultImageSize,
		systemInstruction: String(options.systemInstruction ?? '').trim() || undefined,
		generationConfig,
		safetySettings: safety.length
			? safety.map(({ category, threshold }) => ({ category, threshold }))
			: undefined,
		tools: options.googleSearch ? [{ googleSearch: {} }] : undefined,
		store: options.storeRequests === true,
		vertexOnlyOptions: vertexOnlyOptions.length ? vertexOnlyOptions : undefined,
	};
}

/** The request and output settings of an item; a refused setting is an error naming the item. */
export function readImageSettings(
	ctx: IExecuteFunctions,
	itemIndex: number,
	params: ImageRequestParams,
): { request: ImageRequest; output: OutputSettings } {
	try {
		return { request: buildImageRequest(params), output: readOutputSettings(params.options) };
	} catch (error) {
		throw itemError(
			ctx,
			itemIndex,
			(error as Error).message,
			error instanceof UnsupportedSettingError
				? 'Nothing was sent to Google. Change the setting to one the message lists, or pick another model.'
				: 'Nothing was sent to Google. Change the output option as the message says.',
		);
	}
}

/**
 * The ratio `model` supports that is closest to a width × height shape (by log of the ratio, so 2:1
 * and 1:2 are as far from 1:1).
 */
export function closestAspectRatio(
	width: number,
	height: number,
	model: ModelInfo | undefined,
): string {
	const ratios = model?.aspectRatios ?? [...STANDARD_ASPECT_RATIOS];
	const distance = (ratio: string) => {
		const [w, h] = ratio.split(':').map(Number);
		return Math.abs(Math.log(w / h) - Math.log(width / height));
	};
	return ratios.reduce((best, ratio) => (distance(ratio) < distance(best) ? ratio : best));
}
