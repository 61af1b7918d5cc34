/**
 * Quota: N prompts through Generate at default settings against the simulator's quota mode
 * (Q requests per window, 429 with RetryInfo rounded down as Google sends it), each answer
 * taking L. Prints how many images came out, the wall time against the quota's floor, and the
 * share of requests answered 429. Run with `npm run bench:quota`; BENCH_QUOTA_N, _Q, _WINDOW_S
 * and _LATENCY_MS change the figures.
 */
import os from 'os';

import { NanoBananaGenerate } from '../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { GeminiSim } from '../test/gemini-sim';
import { runNode } from '../test/helpers/n8nContext';

const env = process.env;
const N = Number(env.BENCH_QUOTA_N ?? 60);
const Q = Number(env.BENCH_QUOTA_Q ?? 10);
const windowMs = Number(env.BENCH_QUOTA_WINDOW_S ?? 10) * 1000;
const latencyMs = Number(env.BENCH_QUOTA_LATENCY_MS ?? 2000);

async function main() {
	const sim = await GeminiSim.start({ latencyMs, quota: { requests: Q, windowMs } });
	try {
		const started = performance.now();
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: (i: number) => `Social image ${i + 1}: a banana on a pastel desk` },
			items: Array.from({ length: N }, (_, i) => ({ json: { n: i } })),
		});
		const wallMs = performance.now() - started;
		const images = outputs[0].filter((item) => item.binary?.data && !item.json.error).length;
		const prompts = new Set(outputs[0].map((item) => item.json.prompt));
		const requests = sim.generateRequests;
		const refused = requests.filter((r) => r.status === 429).length;
		// At the quota's rate N requests take N/Q windows. Stricter: the first Q can start at once,
		// so the last Q start after (N/Q - 1) windows and take L.
		const floorMs = (N / Q) * windowMs;
		const strictFloorMs = (Math.ceil(N / Q) - 1) * windowMs + latencyMs;
		const quotaWait = outputs[0].map((item) => Number(item.json.quotaWaitMs ?? 0));
		const line = (name: string, value: string) => console.log(`${name.padEnd(34)} ${value}`);
		console.log(
			`Quota: N = ${N} prompts, Q = ${Q} requests per ${windowMs / 1000} s, latency ${latencyMs / 1000} s, default settings`,
		);
		line('images out', `${images} of ${N} (${prompts.size} distinct prompts)`);
		line('wall time', `${(wallMs / 1000).toFixed(1)} s`);
		line('N/Q floor (N/Q windows)', `${(floorMs / 1000).toFixed(1)} s`);
		line('wall / floor', `${(wallMs / floorMs).toFixed(3)} (bound: at most 1.10)`);
		line(
			'strict floor ((ceil(N/Q)-1)·W + L)',
			`${(strictFloorMs / 1000).toFixed(1)} s, wall / strict floor ${(wallMs / strictFloorMs).toFixed(3)}`,
		);
		line('requests sent', `${requests.length}`);
		line(
			'answered 429',
			`${refused} (${((100 * refused) / requests.length).toFixed(1)}%, bound: at most 5%)`,
		);
		line('max quota wait of one image', `${(Math.max(...quotaWait) / 1000).toFixed(1)} s`);
		line(
			'machine',
			`${os.cpus().length} CPUs, load ${os
				.loadavg()
				.map((l) => l.toFixed(2))
				.join(' ')}, Node ${process.version}`,
		);
		const ok = images === N && wallMs <= floorMs * 1.1 && refused <= requests.length * 0.05;
		line('within bounds', ok ? 'yes' : 'NO');
	} finally {
		await sim.stop();
	}
}

main().catch((error: Error) => {
	console.error(error.stack ?? error.message);
	process.exit(1);
});
