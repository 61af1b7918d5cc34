/**
 * Run by edit.test.ts in a plain Node process, whose warnings jest does not show to a test: runs
 * Edit on 24 items, 16 requests at once, against a slow simulator, and prints as one JSON line
 * how many items came out, the most requests in flight and the process warnings seen.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';

async function main() {
	const warnings: string[] = [];
	process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));
	const sim = await GeminiSim.start();
	try {
		// Long enough that all 16 are in flight together on a busy machine.
		sim.setLatency(1000);
		const store = new BinaryStore();
		const photo = readFileSync(join(__dirname, '..', 'fixtures', 'photos', 'man.jpg'));
		const files = { data: { data: photo, fileName: 'man.jpg', mimeType: 'image/jpeg' } };
		const items = await Promise.all(
			Array.from({ length: 24 }, (_, n) => store.binaryItem({ n }, files)),
		);
		const { outputs } = await runNode(new NanoBananaEdit(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: 'Make the background a sunny beach', options: { maxConcurrency: 16 } },
			items,
			binaryStore: store,
		});
		// Node emits a warning on a later tick.
		await new Promise((resolve) => setImmediate(resolve));
		console.log(
			JSON.stringify({ items: outputs[0].length, maxInFlight: sim.maxInFlight, warnings }),
		);
	} finally {
		await sim.stop();
	}
}

void main();
