/**
 * `npm start` with the simulator runs the examples offline: their photo downloads are pointed at
 * the simulator, which serves the same photos from test/fixtures/photos.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

import { GeminiSim } from './index';

const repo = join(__dirname, '..', '..');

it('the product-in-scene example downloads its photos from the simulator, byte for byte', async () => {
	const sim = await GeminiSim.start();
	try {
		const out = mkdtempSync(join(tmpdir(), 'examples-'));
		execFileSync('node', [
			join(repo, 'scripts', 'prepare-examples.js'),
			join(repo, 'examples'),
			out,
			join(out, 'state.json'),
			'cred1',
			'Local',
			`${sim.url}/__sim/photos`,
		]);
		const workflow = JSON.parse(readFileSync(join(out, 'product-in-scene.json'), 'utf8')) as {
			nodes: Array<{ type: string; parameters: { url?: string } }>;
		};
		const urls = workflow.nodes
			.filter((n) => n.type === 'n8n-nodes-base.httpRequest')
			.map((n) => n.parameters.url);
		expect(urls).toEqual([`${sim.url}/__sim/photos/top.png`, `${sim.url}/__sim/photos/room.png`]);
		for (const url of urls) {
			const response = await fetch(url!);
			expect(response.headers.get('content-type')).toBe('image/png');
			expect(
				Buffer.from(await response.arrayBuffer()).equals(
					readFileSync(join(repo, 'test', 'fixtures', 'photos', url!.split('/').pop()!)),
				),
			).toBe(true);
		}
		expect((await fetch(`${sim.url}/__sim/photos/..%2Fpackage.json`)).status).toBe(404);
	} finally {
		await sim.stop();
	}
});
