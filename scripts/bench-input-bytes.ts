/**
 * How much the input path saves: a 24-megapixel camera-like photo (a real photo upscaled to
 * 6000x4000 with sensor-like noise, JPEG q92) is edited through the Edit node against the Gemini
 * simulator, once with the default downscale to the model's input size and once without.
 * Prints measured figures; run with `npm run bench:input`.
 */
import sharp from 'sharp';

import { NanoBananaEdit } from '../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { GeminiSim } from '../test/gemini-sim';
import { BinaryStore, runNode } from '../test/helpers/n8nContext';
import { makePhoto } from './bench-photo';

async function main() {
	const photo = await makePhoto();
	const meta = await sharp(photo).metadata();
	const sim = await GeminiSim.start();
	const rows: string[] = [];
	try {
		for (const [label, maxInputLongSide] of [
			["downscaled to the model's 3072 px (default)", 0],
			['sent at full size', 100_000],
		] as const) {
			sim.reset();
			const store = new BinaryStore();
			const item = await store.binaryItem(
				{},
				{ data: { data: photo, fileName: 'photo.jpg', mimeType: 'image/jpeg' } },
			);
			const started = performance.now();
			const { outputs } = await runNode(new NanoBananaEdit(), {
				credentials: { apiKey: sim.apiKey, host: sim.url },
				parameters: { prompt: 'Warm up the colours', options: { maxInputLongSide } },
				items: [item],
				binaryStore: store,
			});
			const ms = performance.now() - started;
			const input = outputs[0][0].json.input as {
				sentWidth: number;
				sentHeight: number;
				bytesSent: number;
			};
			const body = sim.requests.find((r) => r.path.includes(':generateContent'))!.bodyBytes;
			rows.push(
				`| ${label} | ${input.sentWidth}x${input.sentHeight} | ${(input.bytesSent / 1e6).toFixed(2)} MB | ${(body / 1e6).toFixed(2)} MB | ${ms.toFixed(0)} ms | ${((body * 8) / 20e6).toFixed(1)} s |`,
			);
		}
	} finally {
		await sim.stop();
	}
	console.log(`Input: ${meta.width}x${meta.height} JPEG, ${(photo.length / 1e6).toFixed(2)} MB\n`);
	console.log(
		'| run | sent size | image bytes | request body | node time (local simulator) | upload at 20 Mbit/s (computed) |',
	);
	console.log('|---|---|---|---|---|---|');
	for (const row of rows) console.log(row);
}

void main();
