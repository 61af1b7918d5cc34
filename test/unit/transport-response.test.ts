import { readFileSync } from 'fs';
import { join } from 'path';

import { GeminiFailure, parseGenerateResponse } from '../../nodes/shared/transport';
import type { WireResponse } from '../../nodes/shared/transport';

const responses = join(__dirname, '..', 'fixtures', 'responses');
const load = (file: string) =>
	JSON.parse(readFileSync(join(responses, file), 'utf8')) as WireResponse;

/** A streamed answer is a list of partial responses; n8n-style callers see them merged. */
function mergeChunks(chunks: WireResponse[]): WireResponse {
	const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
	const last = chunks[chunks.length - 1];
	return { ...last, candidates: [{ ...last.candidates?.[0], content: { role: 'model', parts } }] };
}

function failureOf(response: WireResponse): GeminiFailure {
	try {
		parseGenerateResponse(response);
	} catch (error) {
		return error as GeminiFailure;
	}
	throw new Error('expected a failure');
}

describe('parseGenerateResponse on recorded Gemini answers', () => {
	it('reads the image, text and usage of a real streamed Gemini API answer', () => {
		const recording = JSON.parse(
			readFileSync(
				join(
					responses,
					'js-genai_mldev_streamGenerateContent_image_gemini-2.0-flash-preview-image-generation.json',
				),
				'utf8',
			),
		);
		const chunks = (recording.interactions[0].response.bodySegments as unknown[]).map((segment) =>
			typeof segment === 'string' ? JSON.parse(segment.replace(/^data: /, '')) : segment,
		) as WireResponse[];
		const result = parseGenerateResponse(mergeChunks(chunks));

		expect(result.images).toHaveLength(1);
		expect(result.images[0].mimeType).toBe('image/png');
		// The decoded bytes are exactly the PNG the API returned (kept as a fixture of its own).
		const png = readFileSync(
			join(
				__dirname,
				'..',
				'fixtures',
				'gemini',
				'gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png',
			),
		);
		expect(result.images[0].data.equals(png)).toBe(true);
		expect(result.text.length).toBeGreaterThan(0);
		expect(result.finishReason).toBe('STOP');
		expect(result.usage.outputTokens).toBeGreaterThan(1000);
		expect(result.modelVersion).toContain('gemini-2.0-flash');
	});

	it('keeps the thought signature of a Nano Banana 2 image part', () => {
		const result = parseGenerateResponse(
			load('vercel-ai_google-image-gemini-3.1-flash-image.json'),
		);
		expect(result.images).toHaveLength(1);
		expect(result.images[0].mimeType).toBe('image/jpeg');
		expect(result.images[0].thoughtSignature).toMatch(/redacted thought signature/);
		expect(result.thoughtSignatures).toHaveLength(1);
		expect(result.responseId).toBe('dTOras2iGqLc-sAPiO2BiAw');
		expect(result.usage).toEqual({
			promptTokens: 10,
			outputTokens: 1392,
			thinkingTokens: 0,
			totalTokens: 1402,
		});
	});

	it('reads thinking tokens and the signature from a Nano Banana Pro stream', () => {
		const lines = readFileSync(
			join(responses, 'vercel-ai_issue-10660-image-thought-signature.chunks.txt'),
			'utf8',
		)
			.split('\n')
			.filter((line) => line.startsWith('data: '))
			.map((line) => JSON.parse(line.slice(6)) as WireResponse);
		const result = parseGenerateResponse(mergeChunks(lines));
		expect(result.images).toHaveLength(1);
		expect(result.images[0].thoughtSignature).toBe('live-image-thought-signature');
		expect(result.usage.thinkingTokens).toBe(167);
		expect(result.finishReason).toBe('STOP');
	});

	it('turns a live NO_IMAGE answer into a clear failure, not an empty image', () => {
		const failure = failureOf(load('vercel-ai_google-image-no-image-live.json'));
		expect(failure.kind).toBe('no-image');
		expect(failure.reason).toBe('NO_IMAGE');
		expect(failure.message).toMatch(/no image/i);
		expect(failure.retryable).toBe(false);
	});

	it('turns a live prompt block into a prompt-blocked failure naming the reason', () => {
		const failure = failureOf(load('vercel-ai_issue-19758-image-prompt-block.json'));
		expect(failure.kind).toBe('prompt-blocked');
		expect(failure.message).toContain('PROHIBITED_CONTENT');
		expect(failure.description).toMatch(/Rephrase/);
	});
});

describe('parseGenerateResponse on the other ways an answer can hold no image', () => {
	const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');

	it('quotes the model when it refuses in words', () => {
		const failure = failureOf({
			candidates: [
				{
					content: { role: 'model', parts: [{ text: 'I cannot create images of that person.' }] },
					finishReason: 'STOP',
				},
			],
		});
		expect(failure.kind).toBe('text-only');
		expect(failure.message).toContain('I cannot create images of that person.');
		expect(failure.modelText).toBe('I cannot create images of that person.');
	});

	it.each(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'SAFETY', 'RECITATION'])(
		'names the %s finish reason',
		(reason) => {
			const failure = failureOf({ candidates: [{ finishReason: reason }] });
			expect(failure.reason).toBe(reason);
			expect(failure.message).toContain(reason);
			expect(failure.retryable).toBe(false);
		},
	);

	it('reports a candidate without content and an answer without candidates', () => {
		expect(failureOf({ candidates: [{ finishReason: 'STOP' }] }).reason).toBe('EMPTY_CONTENT');
		expect(failureOf({}).reason).toBe('EMPTY_RESPONSE');
	});

	it('takes the thought image apart from the final one and keeps the final one last', () => {
		const result = parseGenerateResponse({
			candidates: [
				{
					content: {
						parts: [
							{ text: 'Planning the layout', thought: true },
							{ inlineData: { mimeType: 'image/png', data: png }, thought: true },
							{ text: 'Here it is.', thoughtSignature: 'sig-text' },
							{ inlineData: { mimeType: 'image/png', data: png }, thoughtSignature: 'sig-image' },
						],
					},
					finishReason: 'STOP',
				},
			],
		});
		expect(result.images).toHaveLength(1);
		expect(result.thoughtImages).toHaveLength(1);
		expect(result.text).toBe('Here it is.');
		expect(result.thoughtText).toBe('Planning the layout');
		expect(result.thoughtSignatures).toEqual(['sig-text', 'sig-image']);
		expect(result.images[0].thoughtSignature).toBe('sig-image');
	});

	it('never returns an image made of zero bytes', () => {
		const failure = failureOf({
			candidates: [
				{
					content: { parts: [{ inlineData: { mimeType: 'image/png', data: '' } }] },
					finishReason: 'STOP',
				},
			],
		});
		expect(failure).toBeInstanceOf(GeminiFailure);
	});
});

describe('grounding sources', () => {
	it('reads web results by uri and image results by the SDK fields sourceUri and imageUri', () => {
		const png = Buffer.from('iVBORw0KGgo=', 'base64').toString('base64');
		const result = parseGenerateResponse({
			candidates: [
				{
					content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: png } }] },
					finishReason: 'STOP',
					groundingMetadata: {
						groundingChunks: [
							{ web: { uri: 'https://a.example/page', title: 'a.example' } },
							{
								image: {
									sourceUri: 'https://b.example/page',
									imageUri: 'https://b.example/photo.jpg',
									title: 'B',
									domain: 'b.example',
								},
							},
							{ retrievedContext: { uri: 'ignored' } },
						],
					},
				},
			],
		} as WireResponse);
		expect(result.groundingSources).toEqual([
			{ title: 'a.example', uri: 'https://a.example/page' },
			{ title: 'B', uri: 'https://b.example/page', imageUri: 'https://b.example/photo.jpg' },
		]);
	});
});
