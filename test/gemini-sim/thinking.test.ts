/**
 * Thought parts and thought signatures of the Gemini 3 image models, and multi-turn editing
 * that depends on sending the signatures back.
 */
import type { Content } from '@google/genai';
import sharp from 'sharp';

import { GeminiSim } from './index';
import { client, failure, finalImage, partsOf } from './testkit';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

describe('thought parts', () => {
	it('come first when asked for: a thought text and a small grey thought image, neither signed', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3-pro-image',
			contents: 'a tea house in the rain',
			config: { thinkingConfig: { includeThoughts: true } },
		});
		const parts = partsOf(response);
		expect(
			parts.map((p) => [
				p.text !== undefined ? 'text' : 'image',
				p.thought === true,
				typeof p.thoughtSignature,
			]),
		).toEqual([
			['text', true, 'undefined'],
			['image', true, 'undefined'],
			['text', false, 'string'],
			['image', false, 'string'],
		]);
		const thought = await sharp(Buffer.from(parts[1].inlineData!.data!, 'base64')).metadata();
		expect(Math.max(thought.width, thought.height)).toBe(256);
		expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
	});

	it('are left out otherwise, but the answer is still signed', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'a harbour',
		});
		const parts = partsOf(response);
		expect(parts.some((p) => p.thought)).toBe(false);
		expect(
			parts.every((p) => typeof p.thoughtSignature === 'string' && p.thoughtSignature.length > 20),
		).toBe(true);
		expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
	});
});

describe('multi-turn editing', () => {
	async function firstTurn(model = 'gemini-3.1-flash-image'): Promise<Content[]> {
		const contents: Content[] = [{ role: 'user', parts: [{ text: 'a red bicycle' }] }];
		const response = await client(sim).models.generateContent({ model, contents });
		return [
			...contents,
			response.candidates![0].content!,
			{ role: 'user', parts: [{ text: 'make it blue' }] },
		];
	}

	it('accepts the previous turn sent back with its signatures, and edits that image', async () => {
		const history = await firstTurn();
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: history,
		});
		const image = finalImage(response);
		expect(GeminiSim.promptOf(image)).toBe('make it blue');
		// The previous image appears as the thumbnail of the input.
		const previous = partsOf({ candidates: [{ content: history[1] }] } as never).find(
			(p) => p.inlineData,
		)!;
		const previousColour = (
			await sharp(Buffer.from(previous.inlineData!.data!, 'base64')).raw().toBuffer()
		).subarray(0, 3);
		const { data } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
		expect([...data.subarray(0, 3)]).toEqual([...previousColour]);
	});

	it('refuses an image part whose signature was dropped, naming its position', async () => {
		const history = await firstTurn();
		const modelParts = history[1].parts!;
		const imageAt = modelParts.findIndex((p) => p.inlineData);
		delete modelParts[imageAt].thoughtSignature;
		const error = await failure(
			client(sim).models.generateContent({ model: 'gemini-3.1-flash-image', contents: history }),
		);
		expect(error.status).toBe(400);
		expect(error.body?.error).toEqual({
			code: 400,
			status: 'INVALID_ARGUMENT',
			message:
				`Image part is missing a thought_signature in content position 2, part position ${imageAt + 1}. ` +
				'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures#model-behavior for more details.',
		});
	});

	it('refuses a signature that belongs to another image', async () => {
		const history = await firstTurn();
		const other = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'a green tram',
		});
		const image = history[1].parts!.find((p) => p.inlineData)!;
		image.thoughtSignature = partsOf(other).find((p) => p.inlineData)!.thoughtSignature;
		const error = await failure(
			client(sim).models.generateContent({ model: 'gemini-3.1-flash-image', contents: history }),
		);
		expect(error.status).toBe(400);
		expect(error.body?.error.message).toMatch(
			/^Thought signature is not valid for the part in content position 2/,
		);
	});

	it("accepts Google's documented placeholder for hand-built history", async () => {
		const history = await firstTurn('gemini-3-pro-image');
		for (const part of history[1].parts!)
			part.thoughtSignature = 'skip_thought_signature_validator';
		const response = await client(sim).models.generateContent({
			model: 'gemini-3-pro-image',
			contents: history,
		});
		expect(response.candidates?.[0].finishReason).toBe('STOP');
	});

	it("works through the SDK's chats, which keep the signatures", async () => {
		const chat = client(sim).chats.create({ model: 'gemini-3-pro-image' });
		await chat.sendMessage({ message: 'a lighthouse' });
		const second = await chat.sendMessage({ message: 'now at night' });
		expect(GeminiSim.promptOf(finalImage(second))).toBe('now at night');
		const sent = sim.generateRequests[1].body;
		expect(sent.contents).toHaveLength(3);
		expect(sent.contents[1].role).toBe('model');
	});
});
