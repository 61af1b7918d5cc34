/**
 * What we know about each image model, from Google's published model pages (November 2026).
 * The node lists models live from the API; this table is the fallback and the source of the
 * client-side checks. An id that is not in the table is allowed with no client-side limits.
 */

export type ImageSize = '512' | '1K' | '2K' | '4K';

export const STANDARD_ASPECT_RATIOS = [
	'1:1',
	'2:3',
	'3:2',
	'3:4',
	'4:3',
	'4:5',
	'5:4',
	'9:16',
	'16:9',
	'21:9',
] as const;

export const EXTRA_ASPECT_RATIOS = ['1:4', '4:1', '1:8', '8:1'] as const;

export interface ModelInfo {
	id: string;
	name: string;
	/** Most reference images one request may carry. */
	maxReferenceImages: number;
	/** Separate limits for high-fidelity people and objects, where the model has them. */
	maxCharacterImages?: number;
	maxObjectImages?: number;
	/** Longest side, in pixels, the model can make use of in an input image. */
	maxInputLongSide: number;
	imageSizes: ImageSize[];
	defaultImageSize: ImageSize;
	aspectRatios: string[];
	/** Thinking level can be set to minimal/high; false where thinking is always on or absent. */
	thinkingLevels: boolean;
	/** Whether the model thinks at all (emits thought parts and signatures). */
	thinks: boolean;
	googleSearch: boolean;
	/** USD per output image by size, standard and Batch API. */
	pricePerImage: Partial<Record<ImageSize, number>>;
	batchPricePerImage: Partial<Record<ImageSize, number>>;
	status: 'active' | 'deprecated' | 'shutdown';
	shutdownDate?: string;
}

const ALL_RATIOS = [...STANDARD_ASPECT_RATIOS, ...EXTRA_ASPECT_RATIOS];

export const MODELS: readonly ModelInfo[] = [
	{
		id: 'gemini-3.1-flash-image',
		name: 'Nano Banana 2',
		maxReferenceImages: 14,
		maxCharacterImages: 4,
		maxObjectImages: 10,
		maxInputLongSide: 3072,
		imageSizes: ['512', '1K', '2K', '4K'],
		defaultImageSize: '1K',
		aspectRatios: ALL_RATIOS,
		thinkingLevels: true,
		thinks: true,
		googleSearch: true,
		pricePerImage: { '512': 0.045, '1K': 0.067, '2K': 0.101, '4K': 0.151 },
		batchPricePerImage: { '512': 0.022, '1K': 0.034, '2K': 0.05, '4K': 0.076 },
		status: 'active',
	},
	{
		id: 'gemini-3-pro-image',
		name: 'Nano Banana Pro',
		maxReferenceImages: 14,
		maxCharacterImages: 5,
		maxObjectImages: 6,
		maxInputLongSide: 3072,
		imageSizes: ['1K', '2K', '4K'],
		defaultImageSize: '1K',
		aspectRatios: [...STANDARD_ASPECT_RATIOS],
		thinkingLevels: false,
		thinks: true,
		googleSearch: true,
		pricePerImage: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
		batchPricePerImage: { '1K': 0.067, '2K': 0.067, '4K': 0.12 },
		status: 'active',
	},
	{
		id: 'gemini-3.1-flash-lite-image',
		name: 'Nano Banana 2 Lite',
		maxReferenceImages: 14,
		maxInputLongSide: 2048,
		imageSizes: ['1K'],
		defaultImageSize: '1K',
		// All 14: Google's Vertex AI model page for gemini-3.1-flash-lite-image lists 1:1, 1:4, 4:1,
		// 1:8, 8:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9; the Gemini API model page says
		// "a discrete set of 14 aspect ratios" and names the 10 standard ones.
		aspectRatios: ALL_RATIOS,
		thinkingLevels: true,
		thinks: true,
		googleSearch: false,
		pricePerImage: {},
		batchPricePerImage: {},
		status: 'active',
	},
	{
		id: 'gemini-2.5-flash-image',
		name: 'Nano Banana',
		maxReferenceImages: 3,
		maxInputLongSide: 2048,
		imageSizes: ['1K'],
		defaultImageSize: '1K',
		aspectRatios: [...STANDARD_ASPECT_RATIOS],
		thinkingLevels: false,
		thinks: false,
		googleSearch: false,
		pricePerImage: { '1K': 0.039 },
		batchPricePerImage: { '1K': 0.0195 },
		status: 'deprecated',
		shutdownDate: '2026-10-02',
	},
];

export const DEFAULT_MODEL = 'gemini-3.1-flash-image';

/** "A", "A and B", "A, B and C". */
export function listOf(names: string[]): string {
	return names.length <= 1
		? (names[0] ?? '')
		: `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * The models that can still be used and have a feature, by name: what descriptions say, derived
 * here.
 */
export function modelsWith(has: (model: ModelInfo) => boolean): string {
	return listOf(MODELS.filter((m) => m.status !== 'shutdown' && has(m)).map((m) => m.name));
}

/** `models/gemini-3-pro-image` and `gemini-3-pro-image` name the same model. */
export function normaliseModelId(id: string): string {
	return id.trim().replace(/^models\//, '');
}

export function findModel(id: string): ModelInfo | undefined {
	const wanted = normaliseModelId(id);
	return MODELS.find((m) => m.id === wanted);
}

/** `1k` → `1K`, `2 k` → `2K`; the API rejects lower case. */
export function normaliseImageSize(size: string): string {
	const compact = size.replace(/\s+/g, '').toUpperCase();
	return compact;
}

export function estimateCostUsd(
	model: ModelInfo | undefined,
	imageSize: string | undefined,
	images: number,
	batch = false,
): number | undefined {
	if (!model) return undefined;
	const table = batch ? model.batchPricePerImage : model.pricePerImage;
	const price = table[(imageSize ?? model.defaultImageSize) as ImageSize];
	if (price === undefined) return undefined;
	return Math.round(price * images * 1e6) / 1e6;
}

/**
 * Text models that can judge images (Verify's AI judge), with estimated prices in USD per 1M
 * tokens from Google's price page (standard tier, prompts under 200K tokens). Thinking tokens
 * are billed as output. Estimates: the bill is what counts.
 */
export interface TextModelInfo {
	id: string;
	name: string;
	inputPricePerMillion: number;
	outputPricePerMillion: number;
}

export const TEXT_MODELS: readonly TextModelInfo[] = [
	{
		id: 'gemini-3-flash',
		name: 'Gemini 3 Flash',
		inputPricePerMillion: 0.5,
		outputPricePerMillion: 3,
	},
	{
		id: 'gemini-2.5-flash',
		name: 'Gemini 2.5 Flash',
		inputPricePerMillion: 0.3,
		outputPricePerMillion: 2.5,
	},
];

export const DEFAULT_TEXT_MODEL = 'gemini-3-flash';

export function estimateTextCostUsd(
	modelId: string,
	usage: { promptTokens: number; outputTokens: number; thinkingTokens: number },
): number | undefined {
	const model = TEXT_MODELS.find((m) => m.id === normaliseModelId(modelId));
	if (!model) return undefined;
	const cost =
		(usage.promptTokens * model.inputPricePerMillion +
			(usage.outputTokens + usage.thinkingTokens) * model.outputPricePerMillion) /
		1e6;
	return Math.round(cost * 1e6) / 1e6;
}
