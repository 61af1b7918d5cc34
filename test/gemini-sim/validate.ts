import { badRequest, invalidArgument, type FieldViolation } from './errors';
import type { SimImageSize, SimModel } from './models';
import type { ThoughtSigner } from './signatures';
import type { GenerateRequest } from './types';

/**
 * Checks a generateContent body the way the Gemini API does: unknown fields, wrong types and
 * bad enum values first (Google's JSON parser), then what the model itself refuses.
 * Field names may be camelCase or snake_case, as with any Google JSON API.
 */

export interface InputImage {
	mimeType: string;
	data: Buffer;
}

export interface StoredFile {
	mimeType: string;
	data: Buffer;
}

export interface ValidationContext {
	model: SimModel;
	/** A Vertex AI route: its own imageConfig fields, 7 MB per inline image, no Files API. */
	vertex?: boolean;
	signer: ThoughtSigner;
	resolveFile(uri: string): StoredFile | undefined;
}

export interface ParsedRequest {
	/** The body with every known field in camelCase. */
	request: GenerateRequest;
	/** Text of the last user turn. */
	prompt: string;
	/** Images to work from: those of the last user turn, else the last image the model made. */
	images: InputImage[];
	aspectRatio?: string;
	imageSize?: SimImageSize;
	/** Upper-case modalities, defaulted per model. */
	modalities: string[];
	includeThoughts: boolean;
	googleSearch: boolean;
	json: boolean;
	schema?: unknown;
}

/* The known fields. A leaf names its JSON type; ANY is passed through unchecked. */

type Leaf = 'string' | 'number' | 'boolean' | 'any';
interface ListOf {
	list: Shape;
}
type Shape = Leaf | ListOf | { [field: string]: Shape };

const ANY: Leaf = 'any';
const list = (shape: Shape): ListOf => ({ list: shape });

const PART: Shape = {
	text: 'string',
	inlineData: { mimeType: 'string', data: 'string' },
	fileData: { mimeType: 'string', fileUri: 'string' },
	thought: 'boolean',
	thoughtSignature: 'string',
	functionCall: ANY,
	functionResponse: ANY,
	executableCode: ANY,
	codeExecutionResult: ANY,
	videoMetadata: ANY,
	mediaResolution: ANY,
	partMetadata: ANY,
	toolCall: ANY,
	toolResponse: ANY,
	audioTranscription: ANY,
	mediaProcessing: ANY,
	speechMetadata: ANY,
};

const CONTENT: Shape = { role: 'string', parts: list(PART) };

const GENERATION_CONFIG: Shape = {
	responseModalities: list('string'),
	temperature: 'number',
	topP: 'number',
	topK: 'number',
	seed: 'number',
	candidateCount: 'number',
	maxOutputTokens: 'number',
	stopSequences: list('string'),
	responseMimeType: 'string',
	responseSchema: ANY,
	responseJsonSchema: ANY,
	presencePenalty: 'number',
	frequencyPenalty: 'number',
	responseLogprobs: 'boolean',
	logprobs: 'number',
	mediaResolution: 'string',
	speechConfig: ANY,
	audioTranscriptionConfig: ANY,
	enableEnhancedCivicAnswers: 'boolean',
	thinkingConfig: { includeThoughts: 'boolean', thinkingBudget: 'number', thinkingLevel: 'string' },
	imageConfig: { aspectRatio: 'string', imageSize: 'string' },
};

const TOOL: Shape = {
	functionDeclarations: ANY,
	googleSearch: ANY,
	googleSearchRetrieval: ANY,
	codeExecution: ANY,
	urlContext: ANY,
	googleMaps: ANY,
	fileSearch: ANY,
	computerUse: ANY,
	enterpriseWebSearch: ANY,
	retrieval: ANY,
	mcpServers: ANY,
	exaAiSearch: ANY,
	parallelAiSearch: ANY,
};

const REQUEST: Shape = {
	model: 'string',
	contents: list(CONTENT),
	systemInstruction: CONTENT,
	generationConfig: GENERATION_CONFIG,
	safetySettings: list({ category: 'string', threshold: 'string' }),
	tools: list(TOOL),
	toolConfig: ANY,
	cachedContent: 'string',
	labels: ANY,
	serviceTier: ANY,
	continuationToken: ANY,
};

/** The Gemini API also takes `store` (keep the request for AI Studio logs); Vertex AI does not. */
const GEMINI_REQUEST: Shape = { ...(REQUEST as Record<string, Shape>), store: 'boolean' };

/** Vertex AI takes more imageConfig fields; the Gemini API refuses them as unknown names. */
const VERTEX_REQUEST: Shape = {
	...(REQUEST as Record<string, Shape>),
	generationConfig: {
		...(GENERATION_CONFIG as Record<string, Shape>),
		imageConfig: {
			aspectRatio: 'string',
			imageSize: 'string',
			personGeneration: 'string',
			prominentPeople: 'string',
			outputMimeType: 'string',
			outputCompressionQuality: 'number',
			imageOutputOptions: ANY,
		},
	},
};

const VERTEX_MAX_INLINE_IMAGE_BYTES = 7 * 1024 * 1024;

const PROTO_TYPE: Record<Exclude<Leaf, 'any'>, string> = {
	string: 'TYPE_STRING',
	number: 'TYPE_FLOAT',
	boolean: 'TYPE_BOOL',
};

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

function normalise(
	value: unknown,
	shape: Shape,
	path: string,
	violations: FieldViolation[],
): unknown {
	if (shape === 'any') return value;
	const typeError = (type: string) =>
		violations.push({
			field: path,
			description: `Invalid value at '${path}' (${type}), ${JSON.stringify(value)}`,
		});
	if (typeof shape === 'string') {
		const ok =
			typeof value === shape ||
			(shape === 'number' && typeof value === 'string' && value.trim() !== '' && !isNaN(+value));
		if (!ok) typeError(PROTO_TYPE[shape]);
		return value;
	}
	if ('list' in shape && Object.keys(shape).length === 1) {
		if (!Array.isArray(value)) {
			typeError('TYPE_MESSAGE');
			return value;
		}
		return value.map((item, index) =>
			normalise(item, (shape as ListOf).list, `${path}[${index}]`, violations),
		);
	}
	if (!isObject(value)) {
		typeError('TYPE_MESSAGE');
		return value;
	}
	const fields = shape as Record<string, Shape>;
	const out: Record<string, unknown> = {};
	for (const [key, item] of Object.entries(value)) {
		const name = camel(key);
		if (!Object.prototype.hasOwnProperty.call(fields, name)) {
			const at = path ? ` at '${path}'` : '';
			violations.push({
				...(path ? { field: path } : {}),
				description: `Invalid JSON payload received. Unknown name "${key}"${at}: Cannot find field.`,
			});
			continue;
		}
		out[name] = normalise(
			item,
			fields[name],
			path ? `${path}.${snake(name)}` : snake(name),
			violations,
		);
	}
	return out;
}

function enumViolation(path: string, type: string, value: unknown): FieldViolation {
	return {
		field: path,
		description: `Invalid value at '${path}' (type.googleapis.com/google.ai.generativelanguage.v1beta.${type}), ${JSON.stringify(value)}`,
	};
}

const MODALITIES = ['TEXT', 'IMAGE', 'AUDIO'];
const THINKING_LEVELS = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'];
const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif'];
const RESPONSE_MIME_TYPES = [
	'text/plain',
	'application/json',
	'application/xml',
	'application/yaml',
	'text/x.enum',
];
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const SIGNATURE_DOCS =
	'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures#model-behavior for more details.';

type Part = Record<string, unknown> & {
	text?: string;
	thought?: boolean;
	thoughtSignature?: string;
	inlineData?: { mimeType?: string; data?: string };
	fileData?: { mimeType?: string; fileUri?: string };
};
type Content = { role?: string; parts?: Part[] };

export function validateGenerateRequest(body: unknown, context: ValidationContext): ParsedRequest {
	const { model } = context;
	if (!isObject(body)) throw invalidArgument('Invalid JSON payload received. Expected an object.');

	const violations: FieldViolation[] = [];
	const request = normalise(
		body,
		context.vertex ? VERTEX_REQUEST : GEMINI_REQUEST,
		'',
		violations,
	) as GenerateRequest;
	const config = (request.generationConfig ?? {}) as Record<string, unknown>;
	const thinking = (config.thinkingConfig ?? {}) as Record<string, unknown>;
	const imageConfig = (config.imageConfig ?? {}) as Record<string, unknown>;

	const modalities = Array.isArray(config.responseModalities)
		? (config.responseModalities as unknown[]).map((m, i) => {
				const upper = String(m).toUpperCase();
				if (!MODALITIES.includes(upper)) {
					violations.push(
						enumViolation(
							`generation_config.response_modalities[${i}]`,
							'GenerationConfig.Modality',
							m,
						),
					);
				}
				return upper;
			})
		: model.image
			? ['TEXT', 'IMAGE']
			: ['TEXT'];
	const level =
		typeof thinking.thinkingLevel === 'string' ? thinking.thinkingLevel.toUpperCase() : undefined;
	if (level !== undefined && !THINKING_LEVELS.includes(level)) {
		violations.push(
			enumViolation(
				'generation_config.thinking_config.thinking_level',
				'ThinkingConfig.ThinkingLevel',
				thinking.thinkingLevel,
			),
		);
	}
	if (violations.length) throw badRequest(violations);

	const contents = (request.contents ?? []) as Content[];
	checkContents(contents);

	const unsupported = modalities.filter((m) => m === 'AUDIO' || (m === 'IMAGE' && !model.image));
	if (unsupported.length) {
		throw invalidArgument(
			`Model does not support the requested response modalities: ${modalities.map((m) => m.toLowerCase()).join(',')}`,
		);
	}

	const { aspectRatio, imageSize } = checkImageConfig(model, imageConfig, !!context.vertex);
	checkThinking(model, level, thinking.thinkingBudget);

	const candidates = Number(config.candidateCount ?? 1);
	if (model.image && candidates > 1)
		throw invalidArgument(`Multiple candidates is not enabled for models/${model.id}`);

	const mimeType = config.responseMimeType as string | undefined;
	if (mimeType !== undefined && !RESPONSE_MIME_TYPES.includes(mimeType)) {
		throw invalidArgument(
			`Unsupported mime type: ${mimeType}. Allowed mimetypes are text/plain, application/json, application/xml, application/yaml and text/x.enum.`,
		);
	}
	const json = mimeType === 'application/json';
	if (json && !model.structuredOutput)
		throw invalidArgument(`JSON mode is not enabled for models/${model.id}`);

	const googleSearch = checkTools(model, (request.tools ?? []) as Array<Record<string, unknown>>);
	const images = collectImages(contents, context);
	if (model.thinks) checkSignatures(contents, context);

	const lastUser = [...contents].reverse().find((c) => (c.role ?? 'user') === 'user');
	const prompt = (lastUser?.parts ?? [])
		.filter((p) => typeof p.text === 'string' && !p.thought)
		.map((p) => p.text)
		.join('\n');

	return {
		request,
		prompt,
		images,
		aspectRatio,
		imageSize,
		modalities,
		includeThoughts: thinking.includeThoughts === true,
		googleSearch,
		json,
		schema: config.responseSchema ?? config.responseJsonSchema,
	};
}

function checkContents(contents: Content[]) {
	if (contents.length === 0)
		throw invalidArgument('* GenerateContentRequest.contents: contents is not specified\n');
	contents.forEach((content, i) => {
		if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
			throw invalidArgument('Please use a valid role: user, model.');
		}
		const parts = content.parts ?? [];
		if (parts.length === 0) {
			throw invalidArgument(
				`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`,
			);
		}
		parts.forEach((part, j) => {
			const data = [
				'text',
				'inlineData',
				'fileData',
				'functionCall',
				'functionResponse',
				'executableCode',
				'codeExecutionResult',
			];
			if (!data.some((key) => part[key] !== undefined)) {
				throw invalidArgument(
					`* GenerateContentRequest.contents[${i}].parts[${j}].data: required oneof field 'data' must have one initialized field\n`,
				);
			}
			const inline = part.inlineData;
			if (inline) {
				if (typeof inline.data !== 'string' || !BASE64.test(inline.data)) {
					const shown = String(inline.data).slice(0, 40);
					throw badRequest([
						{
							field: `contents[${i}].parts[${j}].inline_data.data`,
							description: `Invalid value at 'contents[${i}].parts[${j}].inline_data.data' (TYPE_BYTES), Base64 decoding failed for "${shown}"`,
						},
					]);
				}
				const mime = String(inline.mimeType ?? '');
				if (mime.startsWith('image/') && !IMAGE_MIME_TYPES.includes(mime)) {
					throw invalidArgument(`Unsupported MIME type: ${mime}`);
				}
			}
		});
	});
}

function checkImageConfig(model: SimModel, imageConfig: Record<string, unknown>, vertex: boolean) {
	const aspectRatio = imageConfig.aspectRatio as string | undefined;
	const imageSize = imageConfig.imageSize as string | undefined;
	if (!model.image) return {};
	const ratios = [...model.aspectRatios, ...(vertex ? (model.vertexAspectRatios ?? []) : [])];
	if (aspectRatio !== undefined && !ratios.includes(aspectRatio)) {
		throw invalidArgument(
			`Unsupported aspect ratio "${aspectRatio}" for models/${model.id}. Supported values: ${ratios.join(', ')}.`,
		);
	}
	if (imageSize !== undefined && !(model.imageSizes as string[]).includes(imageSize)) {
		const hint = (model.imageSizes as string[]).includes(imageSize.toUpperCase())
			? ' Image size values are case-sensitive.'
			: '';
		throw invalidArgument(
			`Unsupported image size "${imageSize}" for models/${model.id}. Supported values: ${model.imageSizes.join(', ')}.${hint}`,
		);
	}
	return { aspectRatio, imageSize: imageSize as SimImageSize | undefined };
}

function checkThinking(model: SimModel, level: string | undefined, budget: unknown) {
	if (level !== undefined && level !== 'THINKING_LEVEL_UNSPECIFIED') {
		if (model.thinkingLevels.length === 0)
			throw invalidArgument('Thinking level is not supported for this model.');
		if (!model.thinkingLevels.includes(level)) {
			throw invalidArgument(
				`Thinking level ${level} is not supported for this model. Please retry with other thinking level.`,
			);
		}
	}
	if (model.thinkingAlwaysOn && Number(budget) === 0 && budget !== undefined) {
		throw invalidArgument('Budget 0 is invalid. This model only works in thinking mode.');
	}
}

function checkTools(model: SimModel, tools: Array<Record<string, unknown>>): boolean {
	let googleSearch = false;
	for (const tool of tools) {
		if (tool.googleSearchRetrieval !== undefined) {
			throw invalidArgument(
				'google_search_retrieval is not supported. Please use google_search tool instead.',
			);
		}
		if (tool.googleSearch !== undefined) {
			if (!model.googleSearch) throw invalidArgument('Search Grounding is not supported.');
			googleSearch = true;
		}
	}
	return googleSearch;
}

function fileId(uri: string): string {
	return /files\/([^/?#]+)$/.exec(uri)?.[1] ?? uri;
}

function collectImages(contents: Content[], context: ValidationContext): InputImage[] {
	const imageOf = (part: Part): InputImage | undefined => {
		if (part.inlineData && String(part.inlineData.mimeType).startsWith('image/')) {
			const data = Buffer.from(part.inlineData.data ?? '', 'base64');
			if (context.vertex && data.length > VERTEX_MAX_INLINE_IMAGE_BYTES) {
				throw invalidArgument(
					`Inline image of ${data.length} bytes exceeds the limit of 7 MB per image. Use a Cloud Storage (gs://) URI instead.`,
				);
			}
			return { mimeType: String(part.inlineData.mimeType), data };
		}
		if (part.fileData) {
			const uri = String(part.fileData.fileUri ?? '');
			if (context.vertex && /^https:\/\/generativelanguage|\/files\//.test(uri)) {
				throw invalidArgument(
					`Files API URIs are not supported on Vertex AI: ${uri}. Use inline data or a gs:// URI.`,
				);
			}
			const file = context.resolveFile(uri);
			if (!file)
				throw invalidArgument(
					`File ${fileId(uri)} is not found or you do not have permission to access it.`,
				);
			if (file.mimeType.startsWith('image/')) return file;
		}
		return undefined;
	};

	let count = 0;
	let lastUserImages: InputImage[] = [];
	let lastModelImage: InputImage | undefined;
	for (const content of contents) {
		const isUser = (content.role ?? 'user') === 'user';
		const images: InputImage[] = [];
		for (const part of content.parts ?? []) {
			const image = part.thought ? undefined : imageOf(part);
			if (image) images.push(image);
		}
		if (isUser) {
			count += images.length;
			lastUserImages = images;
		} else if (images.length) {
			lastModelImage = images[images.length - 1];
		}
	}
	const { model } = context;
	if (model.image && count > model.maxInputImages) {
		throw invalidArgument(
			`Too many images in the request: ${count}. models/${model.id} accepts at most ${model.maxInputImages} images per request.`,
		);
	}
	if (lastUserImages.length) return lastUserImages;
	return lastModelImage ? [lastModelImage] : [];
}

/** Gemini 3 refuses a history whose model images lost their signatures (positions count from 1). */
function checkSignatures(contents: Content[], { signer, resolveFile }: ValidationContext) {
	contents.forEach((content, i) => {
		if (content.role !== 'model') return;
		(content.parts ?? []).forEach((part, j) => {
			if (part.thought) return;
			const where = `content position ${i + 1}, part position ${j + 1}`;
			const signature = part.thoughtSignature;
			// An earlier image may come back inline or as a Files API reference to the same bytes.
			const file = part.fileData ? resolveFile(String(part.fileData.fileUri ?? '')) : undefined;
			const image = part.inlineData?.data ?? file?.data.toString('base64');
			if (part.inlineData || file) {
				if (!signature)
					throw invalidArgument(
						`Image part is missing a thought_signature in ${where}. ${SIGNATURE_DOCS}`,
					);
				if (!signer.checkImage(image ?? '', signature)) {
					throw invalidArgument(
						`Thought signature is not valid for the part in ${where}. ${SIGNATURE_DOCS}`,
					);
				}
			} else if (
				typeof part.text === 'string' &&
				signature &&
				!signer.checkText(part.text, signature)
			) {
				throw invalidArgument(
					`Thought signature is not valid for the part in ${where}. ${SIGNATURE_DOCS}`,
				);
			}
		});
	});
}
