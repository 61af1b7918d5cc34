import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';

import { unreadableImage } from './errors';
import { contentFaultBody } from './faults';
import { mimeTypeOf, renderImage, type TextureCache } from './images';
import { closestRatio, pixelSize, type SimImageSize, type SimModel } from './models';
import type { ThoughtSigner } from './signatures';
import type { Fault, ImageFormat, ImageTexture, Judge } from './types';
import type { ParsedRequest } from './validate';
import type { ImageMemory } from './vision';

/** What answering needs from the simulator instance. */
export interface AnswerEnv {
	signer: ThoughtSigner;
	imageFormat: ImageFormat;
	/** Default 'flat'. */
	imageTexture?: ImageTexture;
	/** Where 'noise' images are kept once drawn. */
	textures?: TextureCache;
	judge: Judge;
	/** Remembers what the simulator drew, so its judge can tell later. */
	memory?: ImageMemory;
	/** The words an image for this prompt shows when they differ from its quoted text (TextMisrendering). */
	writtenText?: (prompt: string) => string[] | undefined;
}

type Part = Record<string, unknown>;

/** A successful GenerateContentResponse for a request that passed validation. */
export async function answer(
	env: AnswerEnv,
	model: SimModel,
	parsed: ParsedRequest,
): Promise<Record<string, unknown>> {
	const parts: Part[] = [];
	const thoughts = model.thinks && parsed.includeThoughts;
	const wantsImage = model.image && parsed.modalities.includes('IMAGE');
	const wantsText = parsed.modalities.includes('TEXT');
	const snippet = shorten(parsed.prompt);

	if (thoughts)
		parts.push({
			text: `**Planning the answer**\n\nWorking out how to respond to: ${snippet}`,
			thought: true,
		});

	let imageTokens = 0;
	let image: Part | undefined;
	if (wantsImage) {
		const rendered = await renderFinalImage(env, model, parsed, thoughts);
		imageTokens = model.outputImageTokens[rendered.size] ?? 1120;
		if (rendered.thought) parts.push({ inlineData: rendered.thought, thought: true });
		image = { inlineData: rendered.final };
		if (model.thinks) image.thoughtSignature = env.signer.forImage(rendered.final.data);
	}

	let text: string | undefined;
	if (!model.image && parsed.json) {
		const verdict = await env.judge(parsed.request, {
			model: model.id,
			schema: parsed.schema,
			prompt: parsed.prompt,
			images: parsed.images.map((image) => image.data),
			systemInstruction: systemText(parsed.request),
			describe: env.memory ? (image) => env.memory!.describe(image) : undefined,
		});
		text = typeof verdict === 'string' ? verdict : JSON.stringify(verdict);
	} else if (wantsText) {
		text = model.image
			? `Here is the image you asked for: ${snippet}`
			: `Simulated answer from ${model.id}: ${snippet}`;
	}
	if (text !== undefined) {
		const part: Part = { text };
		if (model.thinks) part.thoughtSignature = env.signer.forText(text);
		parts.push(part);
	}
	if (image) parts.push(image);

	const candidate: Record<string, unknown> = {
		content: { parts, role: 'model' },
		finishReason: 'STOP',
		index: 0,
	};
	if (parsed.googleSearch)
		candidate.groundingMetadata = grounding(snippet, asksImageSearch(parsed.request.tools));
	const textTokens = text === undefined ? 0 : tokens(text);
	return {
		candidates: [candidate],
		usageMetadata: usage(model, parsed, { image: imageTokens, text: textTokens }),
		modelVersion: model.id,
		responseId: responseId(),
	};
}

/** The 200 answer of a content fault (blocked prompt, refusal, missing image...). */
export function faultAnswer(
	env: AnswerEnv,
	model: SimModel,
	parsed: ParsedRequest | undefined,
	fault: Fault,
): Record<string, unknown> {
	const sign = model.thinks ? (text: string) => env.signer.forText(text) : undefined;
	const body = contentFaultBody(fault, sign);
	const refusal = fault.kind === 'text-only' ? tokens(String(fault.text ?? 'refusal')) : 0;
	return {
		...body,
		usageMetadata: usage(model, parsed, { image: 0, text: refusal }, fault.kind !== 'prompt-block'),
		modelVersion: model.id,
		responseId: responseId(),
	};
}

export function responseId(): string {
	return randomBytes(16).toString('base64url').slice(0, 22);
}

interface Rendered {
	size: SimImageSize;
	final: { mimeType: string; data: string };
	thought?: { mimeType: string; data: string };
}

async function renderFinalImage(
	env: AnswerEnv,
	model: SimModel,
	parsed: ParsedRequest,
	withThought: boolean,
): Promise<Rendered> {
	const inputs = parsed.images.map((image) => image.data);
	let aspectRatio = parsed.aspectRatio;
	if (!aspectRatio && inputs.length) {
		const { width, height } = await inputSize(inputs[0]);
		aspectRatio = closestRatio(model, width, height);
	}
	aspectRatio ??= '1:1';
	const size = parsed.imageSize ?? '1K';
	const [width, height] = pixelSize(model, aspectRatio, size);
	const writtenText = env.writtenText?.(parsed.prompt);
	const common = {
		prompt: parsed.prompt,
		model: model.id,
		format: env.imageFormat,
		inputs,
		texture: env.imageTexture,
		textures: env.textures,
		writtenText,
	};
	const mimeType = mimeTypeOf(env.imageFormat);
	const final = await renderImage({ ...common, width, height });
	env.memory?.rememberPrompt(parsed.prompt, writtenText);
	const rendered: Rendered = { size, final: { mimeType, data: final.toString('base64') } };
	if (withThought) {
		// Interim "thought" images are small drafts.
		const scale = 256 / Math.max(width, height);
		const thought = await renderImage({
			...common,
			width: Math.max(1, Math.round(width * scale)),
			height: Math.max(1, Math.round(height * scale)),
			thought: true,
		});
		rendered.thought = { mimeType, data: thought.toString('base64') };
	}
	return rendered;
}

async function inputSize(image: Buffer): Promise<{ width: number; height: number }> {
	try {
		const meta = await sharp(image).metadata();
		return {
			width: meta.autoOrient?.width ?? meta.width,
			height: meta.autoOrient?.height ?? meta.height,
		};
	} catch {
		throw unreadableImage();
	}
}

function systemText(request: ParsedRequest['request']): string {
	const instruction = request.systemInstruction as
		{ parts?: Array<{ text?: unknown }> } | string | undefined;
	if (typeof instruction === 'string') return instruction;
	return (instruction?.parts ?? [])
		.map((p) => (typeof p.text === 'string' ? p.text : ''))
		.join('\n');
}

function tokens(text: string): number {
	return Math.max(1, Math.ceil(text.length / 4));
}

function shorten(text: string): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

function usage(
	model: SimModel,
	parsed: ParsedRequest | undefined,
	output: { image: number; text: number },
	answered = true,
): Record<string, unknown> {
	const promptText = tokens(parsed?.prompt ?? '');
	const promptImages = (parsed?.images.length ?? 0) * model.inputImageTokens;
	const promptTokenCount = promptText + promptImages;
	const promptTokensDetails = [{ modality: 'TEXT', tokenCount: promptText }];
	if (promptImages) promptTokensDetails.push({ modality: 'IMAGE', tokenCount: promptImages });
	const result: Record<string, unknown> = { promptTokenCount };
	let total = promptTokenCount;
	const candidatesTokenCount = output.image + output.text;
	if (answered && candidatesTokenCount > 0) {
		result.candidatesTokenCount = candidatesTokenCount;
		total += candidatesTokenCount;
	}
	if (answered && model.thinks) {
		const hash = createHash('sha256')
			.update(parsed?.prompt ?? '')
			.digest();
		result.thoughtsTokenCount = 120 + (hash.readUInt16BE(0) % 200);
		total += result.thoughtsTokenCount as number;
	}
	result.totalTokenCount = total;
	result.promptTokensDetails = promptTokensDetails;
	if (answered && candidatesTokenCount > 0) {
		const details = [];
		if (output.image) details.push({ modality: 'IMAGE', tokenCount: output.image });
		if (output.text) details.push({ modality: 'TEXT', tokenCount: output.text });
		result.candidatesTokensDetails = details;
	}
	result.serviceTier = 'standard';
	return result;
}

/** Nano Banana 2 takes `googleSearch.searchTypes.imageSearch`: image results come back too. */
function asksImageSearch(tools: unknown): boolean {
	return (
		(tools ?? []) as Array<{ googleSearch?: { searchTypes?: { imageSearch?: unknown } } }>
	).some((tool) => tool.googleSearch?.searchTypes?.imageSearch !== undefined);
}

function grounding(query: string, imageSearch: boolean): Record<string, unknown> {
	const redirect = (n: number) =>
		`https://vertexaisearch.cloud.google.com/grounding-api-redirect/SIM${createHash('sha256').update(`${query}${n}`).digest('hex').slice(0, 24)}`;
	return {
		searchEntryPoint: {
			renderedContent: `<style>.container { display: flex; }</style><div class="container"><a class="chip" href="${redirect(0)}">${escapeHtml(query)}</a></div>`,
		},
		groundingChunks: [
			{ web: { uri: redirect(1), title: 'example.com' } },
			{ web: { uri: redirect(2), title: 'wikipedia.org' } },
			// An image result: the page it is on and the image itself (the SDK's GroundingChunkImage).
			...(imageSearch
				? [
						{
							image: {
								sourceUri: redirect(3),
								imageUri: `https://images.example.com/${createHash('sha256').update(query).digest('hex').slice(0, 16)}.jpg`,
								title: 'A photo of it',
								domain: 'images.example.com',
							},
						},
					]
				: []),
		],
		webSearchQueries: [query],
	};
}

function escapeHtml(text: string): string {
	return text.replace(
		/[&<>"]/g,
		(c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
	);
}
