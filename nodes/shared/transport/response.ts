import { GeminiFailure } from './failure';

/** The parts of the wire format we read. The SDK's response objects have this shape too. */
export interface WirePart {
	text?: string;
	thought?: boolean;
	thoughtSignature?: string;
	inlineData?: { mimeType?: string; data?: string };
	fileData?: { mimeType?: string; fileUri?: string };
}

export interface WireContent {
	role?: string;
	parts?: WirePart[];
}

/** A part of an answer: an image's data is base64, or already decoded by readImageAnswer. */
export type AnswerPart = Omit<WirePart, 'inlineData'> & {
	inlineData?: { mimeType?: string; data?: string | Buffer };
};

export interface AnswerContent {
	role?: string;
	parts?: AnswerPart[];
}

export interface WireResponse {
	candidates?: Array<{
		content?: AnswerContent;
		finishReason?: string;
		finishMessage?: string;
		groundingMetadata?: Record<string, unknown>;
		safetyRatings?: unknown[];
	}>;
	promptFeedback?: { blockReason?: string; blockReasonMessage?: string; safetyRatings?: unknown[] };
	usageMetadata?: {
		promptTokenCount?: number;
		candidatesTokenCount?: number;
		thoughtsTokenCount?: number;
		totalTokenCount?: number;
		candidatesTokensDetails?: Array<{ modality?: string; tokenCount?: number }>;
	};
	modelVersion?: string;
	responseId?: string;
}

export interface ResultImage {
	data: Buffer;
	mimeType: string;
	thoughtSignature?: string;
}

export interface Usage {
	promptTokens: number;
	outputTokens: number;
	thinkingTokens: number;
	totalTokens: number;
}

export interface GroundingSource {
	title?: string;
	/** The page: a web result, or the page an image search result is on. */
	uri?: string;
	/** An image search result's image. */
	imageUri?: string;
}

/** A grounding chunk as the API sends it: a web page, or an image result (SDK's field names). */
interface GroundingChunk {
	web?: { title?: string; uri?: string };
	image?: { title?: string; sourceUri?: string; imageUri?: string };
}

export interface GenerateResult {
	/**
	 * The final images: non-thought inlineData parts, in order. The last one is the model's final
	 * answer.
	 */
	images: ResultImage[];
	thoughtImages: ResultImage[];
	text: string;
	thoughtText: string;
	thoughtSignatures: string[];
	finishReason?: string;
	usage: Usage;
	modelVersion?: string;
	responseId?: string;
	groundingMetadata?: Record<string, unknown>;
	groundingSources: GroundingSource[];
	/** The model turn as sent, kept for multi-turn editing (signatures verbatim). */
	modelContent: AnswerContent;
	/** Set by the client: requests this result took (429s included) and time waited for quota. */
	attempts?: number;
	quotaWaitMs?: number;
}

const SAFETY_REASONS = new Set([
	'SAFETY',
	'IMAGE_SAFETY',
	'PROHIBITED_CONTENT',
	'IMAGE_PROHIBITED_CONTENT',
	'BLOCKLIST',
	'SPII',
	'RECITATION',
	'IMAGE_RECITATION',
]);

function blockFailure(reason: string, detail?: string): GeminiFailure {
	return new GeminiFailure({
		kind: 'prompt-blocked',
		message: `Gemini blocked the prompt (${reason})${detail ? `: ${detail}` : ''}`,
		description:
			"Google's safety system refused this prompt before generating anything. Rephrase the prompt or the input images; safety thresholds in the node options do not override prohibited content.",
		reason: `PROMPT_BLOCKED_${reason}`,
		httpCode: 200,
		retryable: false,
	});
}

function finishFailure(reason: string, finishMessage?: string, modelText?: string): GeminiFailure {
	const said = modelText ? ` The model said: "${modelText}"` : '';
	if (SAFETY_REASONS.has(reason)) {
		return new GeminiFailure({
			kind: 'finish-reason',
			message: `Gemini generated no image: the result was blocked (${reason})`,
			description: `The image was withheld by Google's safety or recitation filter.${said} Rephrase the prompt, avoid real people, brands or copyrighted characters, or relax the safety thresholds where allowed.`,
			reason,
			httpCode: 200,
			retryable: false,
			modelText,
		});
	}
	if (reason === 'NO_IMAGE') {
		return new GeminiFailure({
			kind: 'no-image',
			message: 'Gemini returned no image (NO_IMAGE)',
			description: `The model decided not to draw an image for this request.${said} Make the prompt ask for an image explicitly, or try again.`,
			reason,
			httpCode: 200,
			retryable: false,
			modelText,
		});
	}
	return new GeminiFailure({
		kind: 'finish-reason',
		message: `Gemini generated no image (finish reason ${reason})${finishMessage ? `: ${finishMessage}` : ''}`,
		description: `The generation ended without an image.${said} ${
			reason === 'MAX_TOKENS'
				? 'The output hit the token limit; lower the image size or shorten the request.'
				: 'Try again, or change the prompt.'
		}`,
		reason,
		httpCode: 200,
		retryable: reason === 'MALFORMED_RESPONSE' || reason === 'OTHER' || reason === 'IMAGE_OTHER',
		modelText,
	});
}

/** The token counts an answer reports (0 where it says none). */
export function usageOf(meta: WireResponse['usageMetadata']): Usage {
	const promptTokens = meta?.promptTokenCount ?? 0;
	const outputTokens = meta?.candidatesTokenCount ?? 0;
	const thinkingTokens = meta?.thoughtsTokenCount ?? 0;
	return {
		promptTokens,
		outputTokens,
		thinkingTokens,
		totalTokens: meta?.totalTokenCount ?? promptTokens + outputTokens + thinkingTokens,
	};
}

/**
 * What an answer holds that it is billed for: its image output tokens as Google reports them
 * (undefined when the usage does not tell modalities), and its final images.
 */
export function answerOutput(response: WireResponse): { imageTokens?: number; images: number } {
	const details = response.usageMetadata?.candidatesTokensDetails;
	const imageTokens = details
		?.filter((d) => d.modality === 'IMAGE')
		.reduce((sum, d) => sum + (d.tokenCount ?? 0), 0);
	const parts = response.candidates?.[0]?.content?.parts ?? [];
	const images = parts.filter((p) => p.inlineData?.data && !p.thought).length;
	return { imageTokens, images };
}

function groundingSources(meta: Record<string, unknown> | undefined): GroundingSource[] {
	const chunks = (meta?.groundingChunks as GroundingChunk[] | undefined) ?? [];
	return chunks.flatMap(({ web, image }): GroundingSource[] => {
		if (web) return [{ title: web.title, uri: web.uri }];
		if (image) return [{ title: image.title, uri: image.sourceUri, imageUri: image.imageUri }];
		return [];
	});
}

type WireCandidate = NonNullable<WireResponse['candidates']>[number];

/** Why an answer has no candidate: a blocked prompt says so, otherwise the answer is just empty. */
function noCandidateFailure(response: WireResponse): GeminiFailure {
	const blockReason = response.promptFeedback?.blockReason;
	if (blockReason) return blockFailure(blockReason, response.promptFeedback?.blockReasonMessage);
	return new GeminiFailure({
		kind: 'empty',
		message: 'Gemini answered with no candidates',
		description:
			'The API returned an empty answer without saying why. Try again; if it repeats, change the prompt.',
		reason: 'EMPTY_RESPONSE',
		httpCode: 200,
		retryable: true,
	});
}

/** A candidate's parts sorted into final and thought images and texts (empty ones dropped). */
function sortParts(parts: AnswerPart[]) {
	const sorted = {
		images: [] as ResultImage[],
		thoughtImages: [] as ResultImage[],
		texts: [] as string[],
		thoughts: [] as string[],
		thoughtSignatures: [] as string[],
	};
	for (const part of parts) {
		if (part.thoughtSignature) sorted.thoughtSignatures.push(part.thoughtSignature);
		if (part.inlineData?.data) {
			const data = part.inlineData.data;
			const image = {
				data: typeof data === 'string' ? Buffer.from(data, 'base64') : data,
				mimeType: part.inlineData.mimeType ?? 'image/png',
				thoughtSignature: part.thoughtSignature,
			};
			if (image.data.length === 0) continue;
			(part.thought ? sorted.thoughtImages : sorted.images).push(image);
		} else if (typeof part.text === 'string' && part.text.length > 0) {
			(part.thought ? sorted.thoughts : sorted.texts).push(part.text);
		}
	}
	return sorted;
}

/** Why a candidate holds no image, in the order the reasons are checked. */
function noImageFailure(
	candidate: WireCandidate,
	parts: AnswerPart[],
	text: string,
): GeminiFailure {
	const finishReason = candidate.finishReason;
	if (finishReason && finishReason !== 'STOP')
		return finishFailure(finishReason, candidate.finishMessage, text || undefined);
	if (text) {
		return new GeminiFailure({
			kind: 'text-only',
			message: `Gemini answered with text instead of an image: "${text.length > 500 ? `${text.slice(0, 500)}…` : text}"`,
			description:
				'The model refused or misunderstood the request and replied in words. Read its reply above, then rephrase the prompt so that it clearly asks for an image.',
			reason: 'TEXT_ONLY',
			httpCode: 200,
			retryable: false,
			modelText: text,
		});
	}
	if (!candidate.content || parts.length === 0) {
		return new GeminiFailure({
			kind: 'empty',
			message: `Gemini returned a candidate with no content${finishReason ? ` (finish reason ${finishReason})` : ''}`,
			description: 'The API sent an empty answer. Try again or change the prompt.',
			reason: 'EMPTY_CONTENT',
			httpCode: 200,
			retryable: true,
		});
	}
	return new GeminiFailure({
		kind: 'no-image',
		message: 'Gemini returned no image',
		description:
			'The answer held only thoughts and no final image. Try again, or turn thinking down.',
		reason: 'NO_IMAGE',
		httpCode: 200,
		retryable: false,
	});
}

/**
 * One answer of generateContent, read into a result, or a GeminiFailure that says why there is
 * no image. HTTP 200 does not mean success: blocks and refusals come back as 200.
 * With `requireImage` false (judge calls), a text-only answer is a result too.
 */
export function parseGenerateResponse(response: WireResponse, requireImage = true): GenerateResult {
	const candidate = response.candidates?.[0];
	if (!candidate) throw noCandidateFailure(response);
	const parts = candidate.content?.parts ?? [];
	const { images, thoughtImages, texts, thoughts, thoughtSignatures } = sortParts(parts);
	const text = texts.join('\n').trim();
	if (requireImage && images.length === 0) throw noImageFailure(candidate, parts, text);

	return {
		images,
		thoughtImages,
		text,
		thoughtText: thoughts.join('\n').trim(),
		thoughtSignatures,
		finishReason: candidate.finishReason,
		usage: usageOf(response.usageMetadata),
		modelVersion: response.modelVersion,
		responseId: response.responseId,
		groundingMetadata: candidate.groundingMetadata,
		groundingSources: groundingSources(candidate.groundingMetadata),
		modelContent: { role: 'model', parts },
	};
}
