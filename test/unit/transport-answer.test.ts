import { randomBytes } from 'crypto';

import { readImageAnswer } from '../../nodes/shared/transport/answer';

/** The bytes of `text` as a stream of chunks of the given sizes (cycled), as fetch delivers them. */
async function* chunked(text: string, sizes: number[]): AsyncGenerator<Uint8Array> {
	const bytes = Buffer.from(text, 'utf8');
	let at = 0;
	for (let n = 0; at < bytes.length; n++) {
		const size = sizes[n % sizes.length];
		yield new Uint8Array(bytes.subarray(at, at + size));
		at += size;
	}
}

type Answer = {
	candidates: Array<{ content: { parts: Array<{ inlineData?: { data: unknown } }> } }>;
};

/** What JSON.parse gives, with every image's base64 decoded as the nodes need it. */
function parsedWithImages(text: string): unknown {
	const answer = JSON.parse(text) as Answer;
	for (const candidate of answer.candidates)
		for (const part of candidate.content.parts)
			if (part.inlineData)
				part.inlineData.data = Buffer.from(String(part.inlineData.data), 'base64');
	return answer;
}

function answerWith(parts: unknown[], indent?: number): string {
	return JSON.stringify(
		{
			candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
			usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1290, totalTokenCount: 1302 },
			modelVersion: 'gemini-3.1-flash-image-preview',
			responseId: 'r-1',
		},
		null,
		indent,
	);
}

const png = randomBytes(3000);
const image = (data: Buffer, thought = false) => ({
	...(thought ? { thought: true } : {}),
	inlineData: { mimeType: 'image/png', data: data.toString('base64') },
	thoughtSignature: 'c2lnbmF0dXJl',
});

describe('readImageAnswer: a generateContent answer read with its images decoded as they arrive', () => {
	it('gives what JSON.parse gives, images as Buffers, however the bytes are split', async () => {
		const text = answerWith(
			[
				{ text: 'Here is "inlineData": {"data": "not an image"} in words, and ünïcödé ✓' },
				image(randomBytes(1000), true),
				image(png),
				image(randomBytes(2)),
			],
			2,
		);
		for (const sizes of [[1], [3], [7, 1, 64], [4096], [text.length]]) {
			const answer = await readImageAnswer(chunked(text, sizes), text.length);
			expect(answer).toEqual(parsedWithImages(text));
		}
	});

	it('reads compact JSON and answers of unknown length the same way', async () => {
		const big = randomBytes(3 * 1024 * 1024);
		const text = answerWith([image(big)]);
		const answer = (await readImageAnswer(chunked(text, [65536]))) as Answer;
		expect(
			Buffer.compare(answer.candidates[0].content.parts[0].inlineData!.data as Buffer, big),
		).toBe(0);
	});

	it('sizes the image from Content-Length, so the image is not copied again', async () => {
		const text = answerWith([image(png)], 2);
		const answer = (await readImageAnswer(
			chunked(text, [1024]),
			Buffer.byteLength(text),
		)) as Answer;
		const data = answer.candidates[0].content.parts[0].inlineData!.data as Buffer;
		expect(data.equals(png)).toBe(true);
		expect(data.buffer.byteLength - data.length).toBeLessThan(1024);
	});

	it('frees each chunk once read where Node can (22 and later), and leaves the image whole', async () => {
		const text = answerWith([image(png)], 2);
		const chunks: Uint8Array[] = [];
		async function* kept() {
			for await (const chunk of chunked(text, [700])) yield chunks[chunks.push(chunk) - 1];
		}
		const answer = (await readImageAnswer(kept(), Buffer.byteLength(text))) as Answer;
		expect((answer.candidates[0].content.parts[0].inlineData!.data as Buffer).equals(png)).toBe(
			true,
		);
		const canFree =
			typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
		const freed = chunks.filter((chunk) => chunk.byteLength === 0).length;
		expect(freed).toBe(canFree ? chunks.length : 0);
	});

	it('falls back to the plain parse when a data value is not plain base64', async () => {
		const escaped = answerWith([image(png)]).replace(/\//g, '\\/');
		expect(await readImageAnswer(chunked(escaped, [100]))).toEqual(JSON.parse(escaped));
	});

	it('leaves answers without images as they are', async () => {
		const text = answerWith([{ text: 'I cannot draw that.' }], 2);
		expect(await readImageAnswer(chunked(text, [5]))).toEqual(JSON.parse(text));
	});

	it('fails like JSON.parse on a cut-off answer', async () => {
		const text = answerWith([image(png)], 2);
		await expect(readImageAnswer(chunked(text.slice(0, 2000), [512]))).rejects.toThrow(SyntaxError);
		await expect(readImageAnswer(chunked(text.slice(0, 100), [512]))).rejects.toThrow(SyntaxError);
	});
});
