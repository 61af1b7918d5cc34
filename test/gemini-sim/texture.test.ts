/**
 * The 'noise' image texture: answers the size of real images, for benchmarks (scripts/bench-n8n.ts).
 */
import sharp from 'sharp';

import { GeminiSim } from './index';
import { client, finalImage } from './testkit';

async function generate(
	sim: GeminiSim,
	prompt: string,
	imageSize = '1K',
	extra: Record<string, unknown> = {},
) {
	const response = await client(sim).models.generateContent({
		model: 'gemini-3.1-flash-image',
		contents: prompt,
		config: {
			responseModalities: ['IMAGE'],
			imageConfig: { aspectRatio: '1:1', imageSize },
			...extra,
		},
	});
	return finalImage(response);
}

describe('image texture', () => {
	let sim: GeminiSim;
	afterEach(async () => sim?.stop());

	test("'flat' is the default: small files in the prompt's colour", async () => {
		sim = await GeminiSim.start();
		const image = await generate(sim, 'a flat banana');
		expect(image.length).toBeLessThan(200_000);
		expect(await sim.describe(image)).toMatchObject({
			prompt: 'a flat banana',
			fill: expect.any(Object),
		});
	});

	test("'noise' gives real-size PNGs that still carry their prompt", async () => {
		sim = await GeminiSim.start({ imageTexture: 'noise' });
		const first = await generate(sim, 'a grainy banana');
		const second = await generate(sim, 'another grainy banana');
		const meta = await sharp(first).metadata();
		expect([meta.format, meta.width, meta.height]).toEqual(['png', 1024, 1024]);
		expect(first.length).toBeGreaterThan(500_000);
		expect(GeminiSim.promptOf(first)).toBe('a grainy banana');
		expect(GeminiSim.promptOf(second)).toBe('another grainy banana');
		// drawn once per size: the same pixels, only the text differs
		const [a, b] = await Promise.all([first, second].map((png) => sharp(png).raw().toBuffer()));
		expect(a.equals(b)).toBe(true);
	});

	test('can be switched on a running simulator, and thought images stay small drafts', async () => {
		sim = await GeminiSim.start();
		sim.setImageTexture('noise');
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'a banana, thinking aloud',
			config: { responseModalities: ['IMAGE'], thinkingConfig: { includeThoughts: true } },
		});
		const parts = response.candidates?.[0]?.content?.parts ?? [];
		const thought = parts.find((p) => p.thought && p.inlineData);
		expect(Buffer.from(thought!.inlineData!.data!, 'base64').length).toBeLessThan(50_000);
		expect(finalImage(response).length).toBeGreaterThan(500_000);
	});
});
