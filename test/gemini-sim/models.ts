/**
 * The simulator's own model table. It is kept apart from nodes/shared/catalogue.ts on purpose:
 * the fake describes Google's side, so a wrong client-side table shows up as a failing test.
 * Pixel sizes are the ones Google publishes (image-generation guide, November 2026). The ids are
 * those Google serves on 2026-12-07 (changelog, deprecations and model pages); a shut-down id, or
 * one Google never served, answers 404 as any unknown id does.
 */

export type SimImageSize = '512' | '1K' | '2K' | '4K';

export interface SimModel {
	id: string;
	/** 'deprecated': still served, but Google has said to move off it. */
	status: 'current' | 'deprecated';
	displayName: string;
	description: string;
	/** Whether the model can answer with images. */
	image: boolean;
	/** Thought parts and thought signatures (Gemini 3 family). */
	thinks: boolean;
	/** Levels accepted in thinkingConfig.thinkingLevel; empty when the level cannot be set. */
	thinkingLevels: string[];
	/** The model thinks whatever the request says, so thinkingBudget 0 is refused. */
	thinkingAlwaysOn: boolean;
	maxInputImages: number;
	imageSizes: SimImageSize[];
	aspectRatios: string[];
	/** Further ratios the model takes on Vertex AI routes only. */
	vertexAspectRatios?: string[];
	googleSearch: boolean;
	/** JSON mode (responseMimeType application/json). */
	structuredOutput: boolean;
	inputTokenLimit: number;
	outputTokenLimit: number;
	/** Tokens billed per input image and per output image size. */
	inputImageTokens: number;
	outputImageTokens: Partial<Record<SimImageSize, number>>;
}

export const STANDARD_RATIOS = [
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
];
export const EXTRA_RATIOS = ['1:4', '4:1', '1:8', '8:1'];

/** 1K pixel sizes of the Gemini 3 image family; 2K doubles and 4K quadruples each side, 512 halves. */
const GEMINI3_1K: Record<string, [number, number]> = {
	'1:1': [1024, 1024],
	'2:3': [848, 1264],
	'3:2': [1264, 848],
	'3:4': [896, 1200],
	'4:3': [1200, 896],
	'4:5': [928, 1152],
	'5:4': [1152, 928],
	'9:16': [768, 1376],
	'16:9': [1376, 768],
	'21:9': [1584, 672],
	'1:4': [512, 2048],
	'4:1': [2048, 512],
	'1:8': [384, 3072],
	'8:1': [3072, 384],
	'9:21': [672, 1584],
};

const SIZE_SCALE: Record<SimImageSize, number> = { '512': 0.5, '1K': 1, '2K': 2, '4K': 4 };

const THINKING_MINIMAL_HIGH = ['MINIMAL', 'HIGH'];
const ALL_RATIOS = [...STANDARD_RATIOS, ...EXTRA_RATIOS];

export const SIM_MODELS: readonly SimModel[] = [
	{
		id: 'gemini-nano-banana-2.1',
		status: 'current',
		displayName: 'Nano Banana 2.1',
		description: 'Gemini Nano Banana 2.1: image generation and editing, 1K to 4K.',
		image: true,
		thinks: true,
		thinkingLevels: ['MINIMAL', 'MEDIUM', 'HIGH'],
		thinkingAlwaysOn: false,
		maxInputImages: 14,
		imageSizes: ['1K', '2K', '4K'],
		aspectRatios: ALL_RATIOS,
		googleSearch: true,
		structuredOutput: false,
		inputTokenLimit: 131072,
		outputTokenLimit: 32768,
		inputImageTokens: 1120,
		outputImageTokens: { '1K': 1120, '2K': 1680, '4K': 3780 },
	},
	{
		id: 'gemini-3.1-flash-image',
		status: 'deprecated',
		displayName: 'Nano Banana 2',
		description: 'Gemini 3.1 Flash Image: fast image generation and editing.',
		image: true,
		thinks: true,
		thinkingLevels: THINKING_MINIMAL_HIGH,
		thinkingAlwaysOn: false,
		maxInputImages: 14,
		imageSizes: ['512', '1K', '2K', '4K'],
		aspectRatios: ALL_RATIOS,
		// Vertex AI's model page lists 15 ratios: these 14 and 9:21.
		vertexAspectRatios: ['9:21'],
		googleSearch: true,
		structuredOutput: false,
		inputTokenLimit: 131072,
		outputTokenLimit: 32768,
		inputImageTokens: 1120,
		outputImageTokens: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
	},
	{
		id: 'gemini-3-pro-image',
		status: 'current',
		displayName: 'Nano Banana Pro',
		description: 'Gemini 3 Pro Image: studio-quality image generation with thinking.',
		image: true,
		thinks: true,
		thinkingLevels: [],
		thinkingAlwaysOn: true,
		maxInputImages: 14,
		imageSizes: ['1K', '2K', '4K'],
		aspectRatios: [...STANDARD_RATIOS],
		googleSearch: true,
		structuredOutput: false,
		inputTokenLimit: 65536,
		outputTokenLimit: 32768,
		inputImageTokens: 560,
		outputImageTokens: { '1K': 1120, '2K': 1120, '4K': 2000 },
	},
	{
		id: 'gemini-3.1-flash-lite-image',
		status: 'current',
		displayName: 'Nano Banana 2 Lite',
		description: 'Gemini 3.1 Flash Lite Image: low-latency image generation and editing.',
		image: true,
		thinks: true,
		thinkingLevels: THINKING_MINIMAL_HIGH,
		thinkingAlwaysOn: false,
		maxInputImages: 14,
		imageSizes: ['1K'],
		// The 14 that Google's Vertex AI model page lists for gemini-3.1-flash-lite-image (the Gemini
		// API model page says "14 aspect ratios" and names only the 10 standard ones).
		aspectRatios: ALL_RATIOS,
		googleSearch: false,
		structuredOutput: false,
		inputTokenLimit: 65536,
		outputTokenLimit: 4096,
		inputImageTokens: 1120,
		outputImageTokens: { '1K': 1120 },
	},
	textModel('gemini-3.8-flash', 'Gemini 3.8 Flash', ['LOW', 'MEDIUM', 'HIGH']),
	textModel('gemini-3.6-flash', 'Gemini 3.6 Flash', ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH']),
	textModel('gemini-3.5-flash-lite', 'Gemini 3.5 Flash-Lite', ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH']),
	{
		...textModel('gemini-3.1-flash-lite', 'Gemini 3.1 Flash-Lite', ['MINIMAL', 'HIGH']),
		status: 'deprecated',
	},
];

/** A Gemini text model: reads images, answers in text or JSON (structured output). */
function textModel(id: string, displayName: string, thinkingLevels: string[]): SimModel {
	return {
		id,
		status: 'current',
		displayName,
		description: `${displayName}: fast multimodal reasoning with text output.`,
		image: false,
		thinks: true,
		thinkingLevels,
		thinkingAlwaysOn: false,
		maxInputImages: 3000,
		imageSizes: [],
		aspectRatios: [],
		googleSearch: true,
		structuredOutput: true,
		inputTokenLimit: 1048576,
		outputTokenLimit: 65536,
		inputImageTokens: 1120,
		outputImageTokens: {},
	};
}

/** `models/x` and `x` name the same model. Shut-down ids are unknown on purpose: Google answers 404. */
export function findSimModel(id: string): SimModel | undefined {
	const bare = id.replace(/^models\//, '');
	return SIM_MODELS.find((m) => m.id === bare);
}

export function pixelSize(
	model: SimModel,
	aspectRatio: string,
	imageSize: SimImageSize,
): [number, number] {
	const [w, h] = GEMINI3_1K[aspectRatio];
	const scale = SIZE_SCALE[imageSize];
	return [Math.round(w * scale), Math.round(h * scale)];
}

/** The supported ratio closest to width:height (compared on a log scale, so 2:1 and 1:2 are equally far from 1:1). */
export function closestRatio(model: SimModel, width: number, height: number): string {
	const wanted = Math.log(width / height);
	let best = '1:1';
	let bestDistance = Infinity;
	for (const ratio of model.aspectRatios) {
		const [w, h] = ratio.split(':').map(Number);
		const distance = Math.abs(Math.log(w / h) - wanted);
		if (distance < bestDistance) {
			best = ratio;
			bestDistance = distance;
		}
	}
	return best;
}

/** One entry of GET /v1beta/models, in the shape Google returns. */
export function modelResource(model: SimModel): Record<string, unknown> {
	const methods = ['generateContent', 'countTokens', 'batchGenerateContent'];
	if (!model.image) methods.push('createCachedContent');
	return {
		name: `models/${model.id}`,
		version: '001',
		displayName: model.displayName,
		description: model.description,
		inputTokenLimit: model.inputTokenLimit,
		outputTokenLimit: model.outputTokenLimit,
		supportedGenerationMethods: methods,
		temperature: 1,
		topP: 0.95,
		topK: 64,
		maxTemperature: 2,
		thinking: model.thinks || !model.image,
	};
}
