/**
 * Parameter descriptions shared by the Nano Banana nodes. Nodes compose these; none copies them.
 */
import type { IDisplayOptions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import {
	DEFAULT_MODEL,
	VERSION_1_DEFAULT_MODEL,
	EXTRA_ASPECT_RATIOS,
	IMAGE_SIZES,
	STANDARD_ASPECT_RATIOS,
	VERTEX_ONLY_ASPECT_RATIOS,
	findModel,
	modelsWith,
} from '../catalogue';
import {
	MAX_IMAGES_PER_ITEM,
	MAX_RESIZE_PIXELS,
	MAX_RESIZE_SIDE,
	MAX_SEED,
	OPTION_DEFAULTS,
	VERTEX_ONLY_OPTION_NAMES,
} from '../constants';

export { CREDENTIAL_NAME } from '../constants';

/** The options' defaults, named one by one: n8n's lint reads a description's default as a name. */
const {
	quality: DEFAULT_QUALITY,
	maxAttempts: DEFAULT_MAX_ATTEMPTS,
	maxRetryWaitSeconds: DEFAULT_MAX_RETRY_WAIT_SECONDS,
	timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
	maxInputMegapixels: DEFAULT_MAX_INPUT_MEGAPIXELS,
	inlineLimitMb: DEFAULT_INLINE_LIMIT_MB,
	pollIntervalSeconds: DEFAULT_POLL_INTERVAL_SECONDS,
	inlineBatchLimitMb: DEFAULT_INLINE_BATCH_LIMIT_MB,
	maxWaitMinutes: DEFAULT_MAX_WAIT_MINUTES,
} = OPTION_DEFAULTS;

/**
 * Generate, Edit and Fuse at version 1.1 changed defaults for new nodes (the model). n8n saves only
 * values that differ from the default, so a node saved at version 1 must keep version 1's defaults:
 * a parameter whose default changed is described once per version.
 */
export const IMAGE_NODE_VERSIONS = { version: [1, 1.1], defaultVersion: 1.1 };
const VERSION_1 = { show: { '@version': [1] } };
const SINCE_1_1 = { show: { '@version': [{ _cnd: { gte: 1.1 } }] } };

/** One parameter whose default depends on the node's version. */
export function byVersion<T extends INodeProperties>(
	property: (defaultValue: T['default']) => T,
	defaults: { v1: T['default']; current: T['default'] },
): T[] {
	return [
		{ ...property(defaults.v1), displayOptions: VERSION_1 },
		{ ...property(defaults.current), displayOptions: SINCE_1_1 },
	];
}

const modelLocator = (model: INodeProperties['default']): INodeProperties => ({
	displayName: 'Model',
	name: 'model',
	type: 'resourceLocator',
	default: { mode: 'list', value: model },
	required: true,
	description:
		'The Gemini image model. The list comes live from the API; an ID typed by hand is sent as is.',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchImageModels', searchable: true },
		},
		{
			displayName: 'ID',
			name: 'id',
			type: 'string',
			placeholder: `e.g. ${DEFAULT_MODEL}`,
		},
	],
});

/** The image model, defaulting to the current one for new nodes. */
export const modelParameters: INodeProperties[] = byVersion(modelLocator, {
	v1: VERSION_1_DEFAULT_MODEL,
	current: DEFAULT_MODEL,
});

export const promptParameter = (description: string, placeholder: string): INodeProperties => ({
	displayName: 'Prompt',
	name: 'prompt',
	type: 'string',
	typeOptions: { rows: 4 },
	default: '',
	required: true,
	placeholder,
	description,
});

/**
 * A parameter as the node shows it, and as its AI Agent tool variant has it: filled by the model
 * (`$fromAI`), with `instructions` telling the model what to put there. n8n's `@tool` display
 * option picks one by node type; the user may still set either by hand.
 */
export function filledByModel(
	property: INodeProperties,
	key: string,
	instructions: string,
): INodeProperties[] {
	const show = property.displayOptions?.show;
	return [
		{
			...property,
			displayOptions: { ...property.displayOptions, show: { ...show, '@tool': [false] } },
		},
		{
			...property,
			default: `={{ $fromAI('${key}', '${instructions.replace(/'/g, '')}', 'string') }}`,
			displayOptions: { ...property.displayOptions, show: { ...show, '@tool': [true] } },
		},
	];
}

/** What the model is told to put where an image is asked for. */
const IMAGE_FROM_MODEL =
	'The image: the ref (nbimg:...) of an image an earlier Nano Banana tool call of this run returned, or an http(s) URL of an image file';

/**
 * The field that names the one image a node works on (Edit, Verify): a binary property, an image
 * reference or a URL; in the tool variant, filled by the model.
 */
export function inputImageParameter(
	description: string,
	displayOptions?: IDisplayOptions,
): INodeProperties[] {
	return filledByModel(
		{
			displayName: 'Input Binary Property',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			required: true,
			description,
			...(displayOptions && { displayOptions }),
		},
		'image',
		IMAGE_FROM_MODEL,
	);
}

/** What each shape is for; the extra ratios also name the models that make them. */
const RATIO_SHAPES: Record<string, string> = {
	'1:1': 'Square',
	'2:3': 'Portrait',
	'3:2': 'Landscape',
	'3:4': 'Portrait',
	'4:3': 'Landscape',
	'4:5': 'Portrait, Instagram',
	'5:4': 'Landscape',
	'9:16': 'Vertical Video, Stories',
	'16:9': 'Widescreen',
	'21:9': 'Cinematic',
	'1:4': 'Tall Banner',
	'4:1': 'Wide Banner',
	'1:8': 'Tall Strip',
	'8:1': 'Wide Strip',
	'9:21': 'Tall Cinematic',
};

const ratioName = (ratio: string): string => {
	if ((VERTEX_ONLY_ASPECT_RATIOS as readonly string[]).includes(ratio))
		return `${ratio} (${RATIO_SHAPES[ratio]}, Only ${modelsWith((m) => !!m.vertexAspectRatios?.includes(ratio))} on Vertex AI)`;
	return (EXTRA_ASPECT_RATIOS as readonly string[]).includes(ratio)
		? `${ratio} (${RATIO_SHAPES[ratio]}, Only ${modelsWith((m) => m.aspectRatios.includes(ratio))})`
		: `${ratio} (${RATIO_SHAPES[ratio]})`;
};

const ratioOptions: INodePropertyOptions[] = [
	...STANDARD_ASPECT_RATIOS,
	...EXTRA_ASPECT_RATIOS,
	...VERTEX_ONLY_ASPECT_RATIOS,
].map((ratio) => ({
	name: ratioName(ratio),
	value: ratio,
}));

/**
 * `first` is the node's default choice: the model's default for Generate, the input's ratio for
 * Edit. `more` are further choices of the node's own, listed before the fixed ratios.
 */
export const aspectRatioParameter = (
	first: INodePropertyOptions & { description: string },
	...more: Array<INodePropertyOptions & { description: string }>
): INodeProperties => {
	// a named value, so n8n's description lint sees a default it cannot evaluate rather than none
	const defaultChoice = first.value;
	return {
		displayName: 'Aspect Ratio',
		name: 'aspectRatio',
		type: 'options',
		options: [first, ...more, ...ratioOptions],
		default: defaultChoice,
		description:
			'Shape of the output image. A ratio the chosen model does not support is refused before any paid call.',
	};
};

export const imageSizeParameter: INodeProperties = {
	displayName: 'Image Size',
	name: 'imageSize',
	type: 'options',
	// 512 is named with the models that make it: only a few do.
	options: IMAGE_SIZES.map((size) => ({
		name: size === '512' ? `512 (Only ${modelsWith((m) => m.imageSizes.includes(size))})` : size,
		value: size,
	})),
	default: '1K',
	description: `Resolution class of the output. 2K and 4K cost more and take longer; ${modelsWith((m) => m.imageSizes.join() === '1K')} make 1K only.`,
};

export const numberOfImagesParameter: INodeProperties = {
	displayName: 'Number of Images',
	name: 'numberOfImages',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: MAX_IMAGES_PER_ITEM },
	default: 1,
	description:
		'Images per request: per input item, or per fusion when gathering. Each is its own API request (the API does not reliably return several at once) and its own output item.',
};

const SAFETY_CATEGORIES: INodePropertyOptions[] = [
	{
		name: 'Civic Integrity (Deprecated)',
		value: 'HARM_CATEGORY_CIVIC_INTEGRITY',
		description:
			'Google no longer supports the election filter (deprecated in @google/genai); a setting saved with it is still sent as is',
	},
	{ name: 'Dangerous Content', value: 'HARM_CATEGORY_DANGEROUS_CONTENT' },
	{ name: 'Harassment', value: 'HARM_CATEGORY_HARASSMENT' },
	{ name: 'Hate Speech', value: 'HARM_CATEGORY_HATE_SPEECH' },
	{ name: 'Sexually Explicit', value: 'HARM_CATEGORY_SEXUALLY_EXPLICIT' },
];

const SAFETY_THRESHOLDS: INodePropertyOptions[] = [
	{ name: 'Block Low and Above', value: 'BLOCK_LOW_AND_ABOVE' },
	{ name: 'Block Medium and Above', value: 'BLOCK_MEDIUM_AND_ABOVE' },
	{ name: 'Block None', value: 'BLOCK_NONE' },
	{ name: 'Block Only High', value: 'BLOCK_ONLY_HIGH' },
	{ name: 'Off', value: 'OFF' },
];

// Descriptions ending in a computed sentence are joined with `+`: n8n's description lint reads a
// template literal without its computed parts, and would ask for a final period the text has.
const VERTEX_ONLY_NOTE =
	'Vertex AI only: with a Gemini API key credential the node stops with an error naming this option rather than ignore it.';

/** "Only Nano Banana 2.1 and Nano Banana 2; the default of Nano Banana 2.1." */
function thinkingNote(level: string): string {
	const takes = modelsWith((m) => m.thinkingLevels.includes(level));
	const defaultOf = modelsWith((m) => m.defaultThinkingLevel === level);
	return `Only ${takes}${defaultOf ? `; the default of ${defaultOf}` : ''}.`;
}

/** Options that shape the request to the model. */
export const generationOptions: INodeProperties[] = [
	{
		displayName: VERTEX_ONLY_OPTION_NAMES.personGeneration,
		name: 'personGeneration',
		type: 'options',
		options: [
			{ name: 'Allow Adults and Children', value: 'ALLOW_ALL' },
			{ name: 'Allow Adults Only', value: 'ALLOW_ADULT' },
			{ name: 'No People', value: 'ALLOW_NONE' },
		],
		default: 'ALLOW_ADULT',
		description: 'Whether generated images may show people. ' + VERTEX_ONLY_NOTE,
	},
	{
		displayName: VERTEX_ONLY_OPTION_NAMES.prominentPeople,
		name: 'prominentPeople',
		type: 'options',
		options: [
			{ name: 'Allow', value: 'ALLOW_PROMINENT_PEOPLE' },
			{ name: 'Block', value: 'BLOCK_PROMINENT_PEOPLE' },
		],
		default: 'BLOCK_PROMINENT_PEOPLE',
		description:
			'Whether generated images may show well-known people (celebrities). ' + VERTEX_ONLY_NOTE,
	},
	{
		displayName: 'Google Search Grounding',
		name: 'googleSearch',
		type: 'boolean',
		default: false,
		description: `Whether to let the model look things up on Google Search first (for current events, real places, products). Supported by ${modelsWith((m) => m.googleSearch)}; the sources come back in the output.`,
	},
	{
		displayName: 'Include Thoughts',
		name: 'includeThoughts',
		type: 'boolean',
		default: false,
		description:
			"Whether to return the model's thought summary as `thoughtText` (Gemini 3 image models)",
	},
	{
		displayName: 'Output Thought Images',
		name: 'outputThoughtImages',
		type: 'boolean',
		default: false,
		description:
			'Whether to also output the interim images the model drew while thinking, as binary properties thought1, thought2, … (needs Include Thoughts)',
	},
	{
		displayName: 'Response',
		name: 'responseFormat',
		type: 'options',
		options: [
			{
				name: 'Image and Text',
				value: 'imageAndText',
				description: 'The model may add a caption; refusals come back as text you can read',
			},
			{ name: 'Image Only', value: 'image', description: 'Ask for the image alone' },
		],
		default: 'imageAndText',
	},
	{
		displayName: 'Safety Settings',
		name: 'safetySettings',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Safety Setting',
		description:
			'Per-category blocking thresholds. Prohibited content is always blocked, whatever is set here.',
		options: [
			{
				displayName: 'Setting',
				name: 'values',
				values: [
					{
						displayName: 'Category',
						name: 'category',
						type: 'options',
						options: SAFETY_CATEGORIES,
						default: 'HARM_CATEGORY_DANGEROUS_CONTENT',
					},
					{
						displayName: 'Threshold',
						name: 'threshold',
						type: 'options',
						options: SAFETY_THRESHOLDS,
						default: 'BLOCK_MEDIUM_AND_ABOVE',
					},
				],
			},
		],
	},
	{
		displayName: 'Seed',
		name: 'seed',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_SEED, numberPrecision: 0 },
		default: 0,
		description: `A fixed seed (a whole number from 1 to ${MAX_SEED}) makes results more repeatable, not identical. 0 leaves it random.`,
	},
	{
		displayName: 'System Instruction',
		name: 'systemInstruction',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		description: 'Standing instructions for the model, e.g. a brand style guide',
	},
	{
		displayName: 'Temperature',
		name: 'temperature',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
		default: 1,
		description: 'Randomness of the output. Google recommends keeping 1.0 for Gemini 3 models.',
	},
	{
		displayName: 'Thinking Level',
		name: 'thinkingLevel',
		type: 'options',
		options: [
			{ name: 'Model Default', value: 'default' },
			{ name: 'Minimal', value: 'minimal', description: 'Fastest. ' + thinkingNote('minimal') },
			{
				name: 'Medium',
				value: 'medium',
				description: 'Between the two. ' + thinkingNote('medium'),
			},
			{
				name: 'High',
				value: 'high',
				description:
					'Better layout and text rendering, slower, more thinking tokens. ' + thinkingNote('high'),
			},
		],
		default: 'default',
		description:
			`How much the model reasons before drawing. ${modelsWith((m) => m.thinks && !m.thinkingLevels.length)}: always thinks, cannot be set.` +
			(modelsWith((m) => !m.thinks) ? ` ${modelsWith((m) => !m.thinks)}: does not think.` : ''),
	},
	{
		displayName: 'Top P',
		name: 'topP',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
		default: 0.95,
		description: 'Nucleus sampling: the share of probability mass to sample from',
	},
];

/** Options for the image file the node outputs. */
export const outputOptions: INodeProperties[] = [
	{
		displayName: 'Output Binary Property',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		description: 'Name of the binary property the image is written to',
	},
	{
		displayName: 'File Name',
		name: 'fileName',
		type: 'string',
		default: '',
		placeholder: 'e.g. banner-{{ $json.slug }}',
		description:
			'Output file name, without or with extension (the right one is added). Empty: model name, date and index.',
	},
	{
		displayName: 'Output Format',
		name: 'outputFormat',
		type: 'options',
		options: [
			{ name: 'AVIF', value: 'avif' },
			{ name: 'JPEG', value: 'jpeg' },
			{
				name: 'Keep Original (Recommended)',
				value: 'original',
				description: 'The exact bytes from Google, with their provenance metadata',
			},
			{ name: 'PNG', value: 'png' },
			{ name: 'WebP', value: 'webp' },
		],
		default: 'original',
		description:
			'Converting re-encodes the image with sharp: C2PA/XMP provenance from the API is not carried over (an IPTC AI-generated marker is written instead)',
	},
	{
		displayName: 'Quality',
		name: 'quality',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100 },
		default: DEFAULT_QUALITY,
		description: 'Encoder quality for JPEG, WebP and AVIF',
	},
	{
		displayName: 'Resize Width',
		name: 'resizeWidth',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_RESIZE_SIDE },
		default: 0,
		description: `Resize the output to this width in pixels (with Resize Height). 0 keeps the model's size. At most ${MAX_RESIZE_SIDE} px, and ${MAX_RESIZE_PIXELS / 1e6} megapixels with the height.`,
	},
	{
		displayName: 'Resize Height',
		name: 'resizeHeight',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_RESIZE_SIDE },
		default: 0,
		description: `Resize the output to this height in pixels (with Resize Width). 0 keeps the model's size. At most ${MAX_RESIZE_SIDE} px, and ${MAX_RESIZE_PIXELS / 1e6} megapixels with the width.`,
	},
	{
		displayName: 'Resize Fit',
		name: 'resizeFit',
		type: 'options',
		options: [
			{ name: 'Cover (Crop to Fill)', value: 'cover' },
			{ name: 'Contain (Pad to Fit)', value: 'contain' },
			{ name: 'Inside (Keep Ratio, Within Box)', value: 'inside' },
		],
		default: 'cover',
	},
];

/** Options for how requests are sent: concurrency, retries, timeouts. */
export const requestOptions: INodeProperties[] = [
	{
		displayName: 'Max Concurrent Requests',
		name: 'maxConcurrency',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 32 },
		default: 0,
		description:
			'0 is Auto (what new Generate, Edit and Fuse nodes use without this option): starts at 4 requests at once and climbs while answers come without 429/503 and no slower, up to 16 and within the memory the answers take; halves on a 429 or 503. A number fixes the most this node sends at once. Executions using the same key and model share one gate: a 429 pauses them all for the delay Google asks, and once it names the quota they are paced to it.',
	},
	{
		displayName: 'Max Attempts',
		name: 'maxAttempts',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 10 },
		default: DEFAULT_MAX_ATTEMPTS,
		description:
			'Attempts per request, the first included. 5xx, network errors and timeouts are retried; 400, 401, 403 and 404 never are. A 429 (quota) costs no attempt: it waits, bounded by Max Retry Wait.',
	},
	{
		displayName: 'Max Retry Wait (Seconds)',
		name: 'maxRetryWaitSeconds',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_MAX_RETRY_WAIT_SECONDS,
		description:
			'Longest total wait across retries of one request, quota waits included. If Google asks for a longer wait (e.g. a daily quota), the request fails at once.',
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_TIMEOUT_SECONDS,
		description: 'Per attempt. 4K images can take several minutes. 0 means no client-side limit.',
	},
	{
		displayName: 'Let Google Keep Requests (Logs)',
		name: 'storeRequests',
		type: 'boolean',
		default: false,
		description:
			"Whether Google may keep each request and its answer (prompt, images) for AI Studio's Logs and datasets, 55 days by default. Off sends store: false, so nothing is kept for logs. Gemini API only: Vertex AI has no such setting.",
	},
];

/** Generate, Edit and Fuse's spend cap per execution (the Daily Budget is the credential's). */
export const spendOptions: INodeProperties[] = [
	{
		displayName: 'Max Spend per Execution (USD)',
		name: 'maxSpendUsd',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: '',
		placeholder: 'No cap',
		description:
			"The most this node may spend in one execution of the workflow, every run of the node in it counted (a loop back to it adds up), at the catalogue's prices (Batch at half). Before each request its price is added to what the node spent so far (and what its requests in flight reserved); a request that would pass the cap is not sent, and its item fails with an error naming the cap. Empty: no cap. A model with no known price cannot be sent with a cap.",
	},
];

/** How Edit, Fuse and Verify read and send their input images. */
export const inputOptions: INodeProperties[] = [
	{
		displayName: 'Keep Metadata',
		name: 'keepMetadata',
		type: 'boolean',
		default: false,
		description:
			"Whether to send the input's EXIF, XMP and IPTC to Google. Off by default: location (GPS) and camera data are stripped before upload.",
	},
	{
		displayName: 'Max Input Long Side (Px)',
		name: 'maxInputLongSide',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: `Downscale inputs whose longest side is larger. 0 uses what the model can use (e.g. ${findModel(DEFAULT_MODEL)?.maxInputLongSide} px for ${findModel(DEFAULT_MODEL)?.name}), which cuts upload time with no loss.`,
	},
	{
		displayName: 'Max Input Megapixels',
		name: 'maxInputMegapixels',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_MAX_INPUT_MEGAPIXELS,
		description:
			'Inputs with more pixels are refused before decoding, as a guard against decompression bombs',
	},
	{
		displayName: 'Max Inline Request Size (MB)',
		name: 'inlineLimitMb',
		type: 'number',
		typeOptions: { minValue: 0.1, numberPrecision: 1 },
		default: DEFAULT_INLINE_LIMIT_MB,
		description:
			"Requests larger than this are re-encoded, then images go through the Files API. Google's limit is 100 MB; lower it for proxies with smaller limits.",
	},
];

/** The node's Options collection, made of option groups in n8n's alphabetical order. */
export function optionsCollection(...groups: INodeProperties[][]): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: sortedOptions(...groups),
	};
}

/** n8n wants collection options in alphabetical order of display name. */
export function sortedOptions(...groups: INodeProperties[][]): INodeProperties[] {
	return groups.flat().sort((a, b) => a.displayName.localeCompare(b.displayName));
}

const batchOptions: INodeProperties[] = [
	{
		displayName: 'Cancel Job When Stopped',
		name: 'cancelJobOnStop',
		type: 'boolean',
		default: true,
		displayOptions: { show: { '/batchResults': ['wait'] } },
		description:
			'Whether stopping the execution while it waits also asks Google to cancel the job (cancelling takes a moment; what it answered before can still be collected). Off: the job keeps running and its results can be collected later.',
	},
	{
		displayName: 'First Poll Interval (Seconds)',
		name: 'pollIntervalSeconds',
		type: 'number',
		typeOptions: { minValue: 0.01, numberPrecision: 2 },
		default: DEFAULT_POLL_INTERVAL_SECONDS,
		displayOptions: { show: { '/batchResults': ['wait'] } },
		description:
			'How long to wait before asking about the job again. Each wait is 1.5 times longer, up to 60 seconds.',
	},
	{
		displayName: 'Max Inline Batch Size (MB)',
		name: 'inlineBatchLimitMb',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 1 },
		default: DEFAULT_INLINE_BATCH_LIMIT_MB,
		description:
			"Jobs up to this size are sent in one request (Google's limit is 20 MB); larger ones are uploaded as a JSONL file through the Files API and their results streamed back. 0 always uses a file.",
	},
	{
		displayName: 'Max Wait (Minutes)',
		name: 'maxWaitMinutes',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: DEFAULT_MAX_WAIT_MINUTES,
		displayOptions: { show: { '/batchResults': ['wait'] } },
		description:
			'Longest time to wait for the job. Past it the node fails with the job name (the job is not cancelled), so its results can still be collected later.',
	},
];

/** Realtime or Batch API, for Generate, Edit and Fuse. */
export const executionModeParameters: INodeProperties[] = [
	{
		displayName: 'Execution Mode',
		name: 'executionMode',
		type: 'options',
		options: [
			{
				name: 'Realtime',
				value: 'realtime',
				description: 'Send each request now: images in seconds to minutes, at the standard price',
			},
			{
				name: 'Batch (Half Price)',
				value: 'batch',
				description:
					'Send all items as one Batch API job at half the price. Google targets 24 hours; most small jobs finish in minutes.',
			},
		],
		default: 'realtime',
		description: 'Batch needs a Gemini API key credential; it is not available with Vertex AI',
	},
	{
		displayName: 'Batch Results',
		name: 'batchResults',
		type: 'options',
		displayOptions: { show: { executionMode: ['batch'] } },
		options: [
			{
				name: 'Wait in This Execution',
				value: 'wait',
				description:
					'Check the job until it ends (bounded by Max Wait), then output the images as Realtime does',
			},
			{
				name: 'Submit Only',
				value: 'submit',
				description:
					'Output one item with the job name at once; get the images later with the Nano Banana Batch Results node',
			},
		],
		default: 'wait',
	},
	{
		displayName: 'Batch Options',
		name: 'batchOptions',
		type: 'collection',
		placeholder: 'Add Batch Option',
		displayOptions: { show: { executionMode: ['batch'] } },
		default: {},
		options: sortedOptions(batchOptions),
	},
];
