/**
 * What we know about each model, from Google's pages as read on the date beside each fact (the
 * Gemini API changelog, deprecations, pricing and model pages, and Vertex AI's model pages).
 * Google changes models every few months: a fact without a source and date does not belong here.
 * The node lists models live from the API; this table is the fallback, the source of the
 * client-side checks and prices, and what errors say about a model's lifecycle. An id that is not
 * in the table is sent as is, with no client-side checks and no price.
 */

/** Every output size class any model makes, smallest first. */
export const IMAGE_SIZES = ['512', '1K', '2K', '4K'] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];

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

/** Ratios only Vertex AI's model pages list; the Gemini API refuses them. */
export const VERTEX_ONLY_ASPECT_RATIOS = ['9:21'] as const;

/** Where a model stands in Google's lifecycle, and where that is written. */
export interface Lifecycle {
	/** 'shutdown': Google's announced shutdown date has passed; requests answer 404. */
	status: 'active' | 'deprecated' | 'shutdown';
	released?: string;
	deprecatedOn?: string;
	/** Announced shutdown date (Google gives the earliest possible one), or when it went. */
	shutdownDate?: string;
	/** The model Google says to move to. */
	replacement?: string;
	/** Anything else a user must know, e.g. access limited to earlier users. */
	note?: string;
	/** Google's page(s) and the date they were read. */
	source: string;
}

export interface ModelInfo extends Lifecycle {
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
	/** Further ratios the model takes on Vertex AI only. */
	vertexAspectRatios?: string[];
	/** Levels `thinkingConfig.thinkingLevel` takes (lower case); empty where it cannot be set. */
	thinkingLevels: string[];
	defaultThinkingLevel?: string;
	/** Whether the model thinks at all (emits thought parts and signatures). */
	thinks: boolean;
	googleSearch: boolean;
	/** USD per output image by size, standard and Batch API (half). Empty where Google gives none. */
	pricePerImage: Partial<Record<ImageSize, number>>;
	batchPricePerImage: Partial<Record<ImageSize, number>>;
	/**
	 * USD per 1M image output tokens, where Google prices images by token (the per-image prices
	 * follow from it): what an answer cost is read from its usage. Batch at half.
	 */
	pricePerMillionImageTokens?: number;
	priceSource?: string;
}

const ALL_RATIOS = [...STANDARD_ASPECT_RATIOS, ...EXTRA_ASPECT_RATIOS];
const halved = (prices: Partial<Record<ImageSize, number>>) =>
	Object.fromEntries(
		Object.entries(prices).map(([size, price]) => [size, Math.round(price * 5e5) / 1e6]),
	) as Partial<Record<ImageSize, number>>;

const CHANGELOG = 'Gemini API changelog';
const DEPRECATIONS = 'Gemini API deprecations page';
const PRICING = 'Gemini API pricing page';

const NANO_BANANA_21_PRICES = { '1K': 0.0336, '2K': 0.0504, '4K': 0.1134 };

export const MODELS: readonly ModelInfo[] = [
	{
		id: 'gemini-nano-banana-2.1',
		name: 'Nano Banana 2.1',
		maxReferenceImages: 14,
		maxCharacterImages: 4,
		maxObjectImages: 10,
		maxInputLongSide: 3072,
		// 1K, 2K and 4K; 512 is refused with a 400.
		imageSizes: ['1K', '2K', '4K'],
		defaultImageSize: '1K',
		aspectRatios: ALL_RATIOS,
		thinkingLevels: ['minimal', 'medium', 'high'],
		defaultThinkingLevel: 'medium',
		thinks: true,
		googleSearch: true,
		// $30 per 1M image output tokens (1120 / 1680 / 3780 tokens); batch at half, as for every
		// Batch API price.
		pricePerImage: NANO_BANANA_21_PRICES,
		batchPricePerImage: halved(NANO_BANANA_21_PRICES),
		pricePerMillionImageTokens: 30,
		priceSource: `${PRICING}, as quoted on 2026-10-07`,
		status: 'active',
		released: '2026-10-06',
		source: `${CHANGELOG}, 2026-10-06 entry ("Gemini Nano Banana 2.1 GA"), read 2026-12-07`,
	},
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
		// Vertex AI's model page (GA, 2026-05-28) lists 15 ratios: the 14 and 9:21.
		vertexAspectRatios: [...VERTEX_ONLY_ASPECT_RATIOS],
		thinkingLevels: ['minimal', 'high'],
		defaultThinkingLevel: 'minimal',
		thinks: true,
		googleSearch: true,
		pricePerImage: { '512': 0.045, '1K': 0.067, '2K': 0.101, '4K': 0.151 },
		batchPricePerImage: { '512': 0.022, '1K': 0.034, '2K': 0.05, '4K': 0.076 },
		priceSource: `${PRICING}, read 2026-11`,
		status: 'deprecated',
		released: '2026-05-28',
		deprecatedOn: '2026-10-06',
		replacement: 'gemini-nano-banana-2.1',
		note: 'no shutdown date announced',
		source: `${CHANGELOG}, 2026-10-06 entry; Vertex AI model page 3-1-flash-image; read 2026-12-07`,
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
		thinkingLevels: [],
		thinks: true,
		googleSearch: true,
		pricePerImage: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
		batchPricePerImage: { '1K': 0.067, '2K': 0.067, '4K': 0.12 },
		priceSource: `${PRICING}, read 2026-11`,
		status: 'active',
		released: '2026-05-28',
		source: `${DEPRECATIONS} (no shutdown date announced), read 2026-12-07`,
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
		thinkingLevels: ['minimal', 'high'],
		defaultThinkingLevel: 'minimal',
		thinks: true,
		googleSearch: false,
		// $30 per 1M image output tokens, 1120 tokens a 1K image.
		pricePerImage: { '1K': 0.0336 },
		batchPricePerImage: { '1K': 0.0168 },
		pricePerMillionImageTokens: 30,
		priceSource: `${PRICING}, as quoted on 2026-10-07`,
		status: 'active',
		released: '2026-06-30',
		source: `${CHANGELOG}, 2026-06-30 entry; model page gemini-3.1-flash-lite-image; read 2026-12-07`,
	},
	{
		id: 'gemini-2.5-flash-image',
		name: 'Nano Banana',
		maxReferenceImages: 3,
		maxInputLongSide: 2048,
		imageSizes: ['1K'],
		defaultImageSize: '1K',
		aspectRatios: [...STANDARD_ASPECT_RATIOS],
		thinkingLevels: [],
		thinks: false,
		googleSearch: false,
		pricePerImage: { '1K': 0.039 },
		batchPricePerImage: { '1K': 0.0195 },
		priceSource: `${PRICING}, read 2026-11`,
		status: 'shutdown',
		released: '2025-10-02',
		shutdownDate: '2026-10-02',
		replacement: 'gemini-nano-banana-2.1',
		source: `${DEPRECATIONS} (shutdown October 2, 2026), read 2026-12-07`,
	},
];

/**
 * Ids that no longer answer (or never did on the Gemini API), kept so that a saved workflow that
 * still names one gets told what happened and what to use.
 */
export const RETIRED_MODELS: ReadonlyArray<Lifecycle & { id: string }> = [
	{
		id: 'gemini-3.1-flash-image-preview',
		status: 'shutdown',
		shutdownDate: '2026-06-25',
		replacement: 'gemini-nano-banana-2.1',
		source: `${DEPRECATIONS}, read 2026-12-07`,
	},
	{
		id: 'gemini-3-pro-image-preview',
		status: 'shutdown',
		shutdownDate: '2026-06-25',
		replacement: 'gemini-3-pro-image',
		source: `${DEPRECATIONS}, read 2026-12-07`,
	},
	{
		id: 'gemini-2.5-flash-image-preview',
		status: 'shutdown',
		shutdownDate: '2026-01-15',
		replacement: 'gemini-nano-banana-2.1',
		source: `${DEPRECATIONS}, read 2026-12-07`,
	},
	{
		id: 'gemini-3-flash',
		status: 'shutdown',
		replacement: 'gemini-3.8-flash',
		note: 'never a Gemini API model id (Google served gemini-3-flash-preview); it was the AI judge default of version 0.1 of this package',
		source: `@google/genai 2.32 model list; ${DEPRECATIONS}; read 2026-12-07`,
	},
	{
		id: 'gemini-3-flash-preview',
		status: 'deprecated',
		replacement: 'gemini-3.8-flash',
		source: `${DEPRECATIONS} (replacement gemini-3.5-flash, itself routed to gemini-3.6-flash since 2026-10-08), read 2026-12-07`,
	},
	{
		id: 'gemini-3.5-flash',
		status: 'deprecated',
		deprecatedOn: '2026-10-08',
		replacement: 'gemini-3.6-flash',
		note: 'requests are routed to gemini-3.6-flash',
		source: `${CHANGELOG}, 2026-10-08 entry, read 2026-12-07`,
	},
	{
		id: 'gemini-3.7-flash',
		status: 'deprecated',
		deprecatedOn: '2026-10-08',
		replacement: 'gemini-3.8-flash',
		note: 'requests are routed to gemini-3.8-flash',
		source: `${CHANGELOG}, 2026-10-08 entry, read 2026-12-07`,
	},
];

/** The default image model of new nodes (Generate, Edit and Fuse from version 1.1). */
export const DEFAULT_MODEL = 'gemini-nano-banana-2.1';
/** What version 1 of those nodes defaults to, and keeps: deprecated, still served. */
export const VERSION_1_DEFAULT_MODEL = 'gemini-3.1-flash-image';

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

/**
 * Whether an id makes images: the catalogue's word for an id it knows; for one it does not (a
 * model Google shipped after this release), the name, since Google's model list reports no output
 * modalities (only supportedGenerationMethods).
 */
export function isImageModelId(id: string, displayName = ''): boolean {
	const wanted = normaliseModelId(id);
	if (findModel(wanted)) return true;
	if (TEXT_MODELS.some((m) => m.id === wanted)) return false;
	return /image|nano[- ]?banana/i.test(`${wanted} ${displayName}`) && !/^imagen/.test(wanted);
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

/** What an answer reports of its output: image tokens (Google's usage), and the images it holds. */
export interface AnswerOutput {
	imageTokens?: number;
	images: number;
}

/**
 * What an answer cost, from what Google reports: its image output tokens at the model's token
 * price where the catalogue has one, else the per-image price for the images it actually holds. An
 * answer without an image (a blocked prompt, a refusal) costs nothing here: the image price is what
 * is counted; text and thinking tokens are not.
 */
export function answerCostUsd(
	model: ModelInfo | undefined,
	imageSize: string | undefined,
	output: AnswerOutput,
	batch = false,
): number | undefined {
	if (!model) return undefined;
	if (model.pricePerMillionImageTokens !== undefined && output.imageTokens !== undefined) {
		const perToken = (model.pricePerMillionImageTokens * (batch ? 0.5 : 1)) / 1e6;
		return Math.round(output.imageTokens * perToken * 1e6) / 1e6;
	}
	return estimateCostUsd(model, imageSize, output.images, batch);
}

/**
 * Text models that can judge images (Verify's AI judge): image input and structured output, on the
 * Gemini API and Vertex AI alike. Prices in USD per 1M tokens (standard tier, prompts under 200K
 * tokens), each from the date given; thinking tokens are billed as output. Estimates: the bill is
 * what counts.
 */
export interface TextModelInfo extends Lifecycle {
	id: string;
	name: string;
	prices: Array<{ from: string; inputPerMillion: number; outputPerMillion: number }>;
	priceSource: string;
	/** The most output tokens (thinking included) one answer may have: what a judge call reserves. */
	outputTokenLimit: number;
}

/**
 * Tokens Google counts for one input image at the default media resolution of Gemini 3 models
 * (high): 1120. Sources: the Gemini API "Media resolution" page (token counts) and the Vertex AI
 * Gemini 3 Flash model page ("Default resolution tokens: 1120"), read 2026-12-07. Gemini 2.5
 * counts 258 tokens a 768 px tile, so a large image may count more there: the answer's usage
 * settles what was reserved.
 */
export const INPUT_IMAGE_TOKENS = 1120;
/** "A token is equivalent to about 4 characters": Gemini API "Understand and count tokens". */
const CHARS_PER_TOKEN = 4;
/** Output limits: each model page's "Output token limit" (65,536), read 2026-12-07. */
const OUTPUT_TOKEN_LIMIT = 65_536;

export const TEXT_MODELS: readonly TextModelInfo[] = [
	{
		id: 'gemini-3.8-flash',
		name: 'Gemini 3.8 Flash',
		prices: [
			{ from: '2026-09-02', inputPerMillion: 0.75, outputPerMillion: 3.75 },
			{ from: '2027-01-01', inputPerMillion: 1.5, outputPerMillion: 7.5 },
		],
		priceSource: `${PRICING}, as quoted on 2026-10-07 (introductory price until 2026-12-31)`,
		outputTokenLimit: OUTPUT_TOKEN_LIMIT,
		status: 'active',
		released: '2026-09-02',
		source: `${DEPRECATIONS} (no shutdown date announced); Vertex AI model page gemini-3-8-flash (GA); read 2026-12-07`,
	},
	{
		id: 'gemini-3.5-flash-lite',
		name: 'Gemini 3.5 Flash-Lite',
		prices: [{ from: '2026-07-21', inputPerMillion: 0.3, outputPerMillion: 2.5 }],
		priceSource: `Gemini API "What's new in Gemini 3.6" page, read 2026-12-07`,
		outputTokenLimit: OUTPUT_TOKEN_LIMIT,
		status: 'active',
		released: '2026-07-21',
		source: `${DEPRECATIONS}; model pages (structured output supported) on the Gemini API and Vertex AI; read 2026-12-07`,
	},
	{
		id: 'gemini-3.1-flash-lite',
		name: 'Gemini 3.1 Flash-Lite',
		prices: [{ from: '2026-05-07', inputPerMillion: 0.25, outputPerMillion: 1.5 }],
		priceSource: `${PRICING}, as quoted on 2026-10-07`,
		outputTokenLimit: OUTPUT_TOKEN_LIMIT,
		status: 'deprecated',
		released: '2026-05-07',
		shutdownDate: '2027-05-07',
		replacement: 'gemini-3.5-flash-lite',
		source: `${DEPRECATIONS}, read 2026-12-07`,
	},
	{
		id: 'gemini-2.5-flash',
		name: 'Gemini 2.5 Flash',
		prices: [{ from: '2025-06-17', inputPerMillion: 0.3, outputPerMillion: 2.5 }],
		priceSource: `${PRICING}, read 2026-11`,
		outputTokenLimit: OUTPUT_TOKEN_LIMIT,
		status: 'deprecated',
		released: '2025-06-17',
		replacement: 'gemini-3.5-flash-lite',
		note: 'since 2026-09-18 only projects that used it before may call it',
		source: `${CHANGELOG}, 2026-09-18 entry, read 2026-12-07`,
	},
];

/** Verify's AI judge default: GA on the Gemini API and on Vertex AI (see its source above). */
export const DEFAULT_TEXT_MODEL = 'gemini-3.8-flash';
/** The cheaper judge the editor suggests beside it. */
export const CHEAP_TEXT_MODEL = 'gemini-3.5-flash-lite';

/** A model's lifecycle facts, whichever table knows the id. */
export function lifecycleOf(id: string): (Lifecycle & { id: string; name?: string }) | undefined {
	const wanted = normaliseModelId(id);
	return [...MODELS, ...TEXT_MODELS, ...RETIRED_MODELS].find((m) => m.id === wanted);
}

/**
 * What an output item says of its model: 'unknown' for an id the catalogue does not know, sent
 * with no checks and no price.
 */
export function modelStatus(id: string): Lifecycle['status'] | 'unknown' {
	return lifecycleOf(id)?.status ?? 'unknown';
}

/**
 * The dates of a model that is not active, as the advice and the label both tell them: when it was
 * shut down or deprecated, and a deprecated model's announced shutdown.
 */
function lifecycleDates(model: Lifecycle): { shutDown: boolean; on?: string; shutdown?: string } {
	const shutDown = model.status === 'shutdown';
	return shutDown
		? { shutDown, on: model.shutdownDate }
		: { shutDown, on: model.deprecatedOn, shutdown: model.shutdownDate };
}

/**
 * What a user reads about a model that did not answer ("The model X was not found: …"): when it
 * went and what to use, or '' for an id no table knows.
 */
export function lifecycleAdvice(id: string): string {
	const model = lifecycleOf(id);
	if (!model || model.status === 'active') return '';
	const { shutDown, on, shutdown } = lifecycleDates(model);
	const went = shutDown
		? on
			? `Google shut it down on ${on}`
			: 'Google does not serve it'
		: `Google deprecated it${on ? ` on ${on}` : ''}${shutdown ? ` (shutdown ${shutdown})` : ''}`;
	const note = model.note ? ` (${model.note})` : '';
	const use = model.replacement ? `; use ${model.replacement} instead` : '';
	return `${went}${note}${use}.`;
}

/** "Nano Banana 2 · deprecated 2026-10-06, use gemini-nano-banana-2.1": a model list's label. */
export function lifecycleLabel(model: Lifecycle): string {
	if (model.status === 'active') return '';
	const { shutDown, on, shutdown } = lifecycleDates(model);
	const use = model.replacement ? `, use ${model.replacement}` : '';
	return ` - ${shutDown ? 'shut down' : 'deprecated'}${on ? ` ${on}` : ''}${shutdown ? `, shutdown ${shutdown}` : ''}${use}`;
}

export function estimateTextCostUsd(
	modelId: string,
	usage: { promptTokens: number; outputTokens: number; thinkingTokens: number },
	on: Date = new Date(),
): number | undefined {
	const price = textPriceOn(modelId, on);
	if (!price) return undefined;
	const cost =
		(usage.promptTokens * price.inputPerMillion +
			(usage.outputTokens + usage.thinkingTokens) * price.outputPerMillion) /
		1e6;
	return Math.round(cost * 1e6) / 1e6;
}

/** A text model's price on a day; undefined for a model the catalogue does not price. */
function textPriceOn(modelId: string, on: Date): TextModelInfo['prices'][number] | undefined {
	const model = TEXT_MODELS.find((m) => m.id === normaliseModelId(modelId));
	const day = on.toISOString().slice(0, 10);
	return model?.prices.filter((p) => p.from <= day).pop();
}

/**
 * The most a text request (a judge call) can cost, which the spend guards reserve before it is
 * sent: its text (about 4 characters a token) and images (INPUT_IMAGE_TOKENS each) at the input
 * price, and every output token it may write (its maxOutputTokens, else the model's limit) at the
 * output price. Undefined for a model the catalogue does not price.
 */
export function textRequestMaxCostUsd(
	modelId: string,
	input: { characters: number; images: number },
	maxOutputTokens?: number,
	on: Date = new Date(),
): number | undefined {
	const limit = TEXT_MODELS.find((m) => m.id === normaliseModelId(modelId))?.outputTokenLimit;
	if (limit === undefined) return undefined;
	const promptTokens =
		Math.ceil(input.characters / CHARS_PER_TOKEN) + input.images * INPUT_IMAGE_TOKENS;
	const outputTokens = Math.min(limit, maxOutputTokens ?? limit);
	return estimateTextCostUsd(modelId, { promptTokens, outputTokens, thinkingTokens: 0 }, on);
}
