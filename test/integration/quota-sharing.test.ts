/**
 * One quota, one gate, for every execution of the process: executions running at once pause
 * together after a 429 and pace together, as Google counts the quota per key and model, not per
 * execution. Each test starts as a fresh process (test/helpers/fresh-gates.ts).
 */
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { GeminiSim } from '../gemini-sim';
import { runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

const node = new NanoBananaGenerate();
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => {
	sim.reset();
	sim.setQuota(null);
	sim.setLatency(0);
});

const items = (n: number, label: string) =>
	Array.from({ length: n }, (_, i) => ({ json: { prompt: `${label} poster ${i}` } }));

/** One execution of Generate, as n8n runs it for one form submission. */
const execution = (label: string, n = 1, parameters: RunOptions['parameters'] = {}) =>
	runNode(node, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters: {
			prompt: (_i: number, item: { json: { prompt: string } }) => item.json.prompt,
			...parameters,
		},
		items: items(n, label),
	});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
	const started = Date.now();
	while (!check()) {
		if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

const requestsOf = (label: string) =>
	sim.generateRequests.filter((r) => JSON.stringify(r.body).includes(`${label} poster`));

describe('executions at once share the gate of their quota', () => {
	it("a second execution waits out the pause after the first one's 429", async () => {
		sim.inject({ kind: '429', retryDelay: '4s' });
		const first = execution('first');
		await until(() => sim.generateRequests.some((r) => r.status === 429));
		const refused = sim.generateRequests.find((r) => r.status === 429)!;
		// The first execution reads the 429 in a moment; the second starts well after, well before the
		// pause ends (on a gate of its own it would send at once).
		await new Promise((resolve) => setTimeout(resolve, 1000));
		const second = execution('second');
		const [a, b] = await Promise.all([first, second]);
		// Google asked for 4 s: the gate waits that long from the 429, for both executions.
		const secondSent = requestsOf('second')[0];
		expect(secondSent.status).toBe(200);
		expect(secondSent.startedAt - refused.endedAt).toBeGreaterThanOrEqual(3900);
		expect(b.outputs[0][0].json.quotaWaitMs).toBeGreaterThanOrEqual(3000);
		expect(a.outputs[0][0].json.attempts).toBe(2);
		expect(b.outputs[0][0].json.attempts).toBe(1);
		expect(sim.generateRequests.filter((r) => r.status === 429)).toHaveLength(1);
	});

	it('an execution on another model is not held by that pause', async () => {
		sim.inject({ kind: '429', retryDelay: '3s' });
		const first = execution('first');
		await until(() => sim.generateRequests.some((r) => r.status === 429));
		const refused = sim.generateRequests.find((r) => r.status === 429)!;
		const other = await execution('other', 1, { model: 'gemini-3-pro-image' });
		expect(requestsOf('other')[0].startedAt - refused.endedAt).toBeLessThan(2000);
		expect(other.outputs[0][0].json.quotaWaitMs).toBe(0);
		await first;
	});

	it('three executions at once pace together once one learned the quota: no 429 after that', async () => {
		sim.setQuota({ requests: 10, windowMs: 3000 });
		sim.setLatency(300);
		const hosts = (process.env.QS_HOSTS ?? '').split(',');
		const runs = await Promise.all(
			['a', 'b', 'c'].map((label, k) =>
				runNode(node, {
					credentials: {
						apiKey: sim.apiKey,
						host: hosts[k] ? hosts[k].replace('PORT', String(sim.port)) : sim.url,
					},
					parameters: {
						prompt: (_i: number, item: { json: { prompt: string } }) => item.json.prompt,
					},
					items: items(8, label),
				}),
			),
		);
		for (const run of runs) {
			expect(run.outputs[0]).toHaveLength(8);
			expect(run.outputs[0].every((item) => item.binary?.data && !item.json.error)).toBe(true);
		}
		const requests = sim.generateRequests;
		expect(requests.filter((r) => r.status === 200)).toHaveLength(24);
		const firstWindowEnds = requests[0].startedAt + 3000;
		const refused = requests.filter((r) => r.status === 429);
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.filter((r) => r.startedAt >= firstWindowEnds)).toEqual([]);
	});
});
