/**
 * The fault suite: hundreds of items against a simulator where one request in five fails (429
 * with RetryInfo, 503, 500, connection reset, a hang past the timeout, cut-off JSON). The faults
 * are drawn from each request's text and how often it was sent, so a run is repeatable whatever
 * order the requests arrive in. What must hold: every item comes out exactly once, in order,
 * paired with its input, and no image is paid for twice.
 */
import type { INodeExecutionData } from 'n8n-workflow';
import sharp from 'sharp';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { GeminiSim } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim';
import { solidPng } from '../gemini-sim/testkit';
import { BinaryStore, runNode } from '../helpers/n8nContext';

// The 429 names a paid-tier quota (1000 a minute) that this run stays under, as a 429 from a
// momentary limit would; the quota mode's own 429s are measured by `npm run bench:quota`.
const FAULTS = ['429:0.3s:quotaValue=1000', '503', '500', 'reset', 'hang', 'malformed-json'];
// A hung attempt is cut by the per-attempt timeout; six attempts make a run of failures on one item
// very rare. The timeout is well above an answer's time even on a loaded machine (2 cores at load
// 8), where one second once cut an answer already on its way, and the prompt was paid twice; each
// hang costs a slot this long, so it is not longer still. A cut answer that does happen is told
// from a real re-send by when its retry came (expectEveryPromptPaidOnce).
const TIMEOUT_MS = 3_000;
const options = { timeoutSeconds: TIMEOUT_MS / 1000, maxAttempts: 6, maxConcurrency: 8 };

let sim: GeminiSim;
beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => {
	sim.reset();
	sim.setRandomFaults({ percent: 20, kinds: FAULTS, seed: 7 });
});

/** The text of the first user turn: the prompt, which names the item. */
const promptOf = (r: RecordedRequest) => String(r.body?.contents?.[0]?.parts?.[0]?.text ?? '');

/** The requests per prompt that Google answered with an image (HTTP 200, no fault), in order. */
function paidPerPrompt(): Map<string, RecordedRequest[]> {
	const paid = new Map<string, RecordedRequest[]>();
	for (const r of sim.generateRequests) {
		if (r.status === 200 && !r.fault) paid.set(promptOf(r), [...(paid.get(promptOf(r)) ?? []), r]);
	}
	return paid;
}

/**
 * Every prompt was paid once, but for a retry after the per-attempt timeout cut an answer on its
 * way: that retry reaches the simulator at least the timeout after the paid request did (half of
 * it here, for the time a request takes to arrive on a loaded machine). A real re-send (a retried
 * success, an item sent twice) comes sooner. Returns how many such timed-out duplicates there were.
 */
function expectEveryPromptPaidOnce(prompts: number): number {
	const paid = paidPerPrompt();
	expect(paid.size).toBe(prompts);
	let timedOut = 0;
	for (const [prompt, requests] of paid) {
		for (let k = 1; k < requests.length; k++) {
			const after = requests[k].startedAt - requests[k - 1].startedAt;
			if (after < TIMEOUT_MS / 2) throw new Error(`"${prompt}" was paid again after ${after} ms`);
			timedOut++;
		}
	}
	// The timeout fits: a cut answer stays a rare event, not the rule.
	expect(timedOut).toBeLessThanOrEqual(Math.ceil(prompts / 100));
	return timedOut;
}

function expectEveryItemOnceInOrder(
	out: INodeExecutionData[],
	count: number,
	prompt: (i: number) => string,
) {
	expect(out).toHaveLength(count);
	out.forEach((item, i) => {
		expect(item.pairedItem).toEqual({ item: i });
		// An image item tells its source by the prompt; a failed one is the source item itself.
		if (item.json.error) expect(item.json.n).toBe(i);
		else expect(item.json.prompt).toBe(prompt(i));
	});
}

describe('Generate: 300 items, 20% faults', () => {
	const N = 300;
	const prompt = (i: number) => `Poster ${i}: a lighthouse at dusk`;
	const items = () => Array.from({ length: N }, (_, i) => ({ json: { n: i } }));
	const run = (continueOnFail: boolean) =>
		runNode(new NanoBananaGenerate(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: (i: number) => prompt(i), options },
			items: items(),
			continueOnFail,
		});

	it('without Continue On Fail, every fault is retried to success and no image is paid for twice', async () => {
		const { outputs } = await run(false);
		const out = outputs[0];
		expectEveryItemOnceInOrder(out, N, prompt);
		expect(out.every((item) => item.binary?.data && !item.json.error)).toBe(true);

		const served = sim.stats().faultsServed;
		for (const kind of ['429', '503', '500', 'reset', 'hang', 'malformed-json'])
			expect(served[kind]).toBeGreaterThan(0);
		expectEveryPromptPaidOnce(N);
		// The retries are visible on the items that needed them.
		expect(out.filter((item) => Number(item.json.attempts) > 1).length).toBeGreaterThan(N / 10);
	}, 240_000);

	it('with Continue On Fail and a single attempt, every item still comes out once, in order, paired', async () => {
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: {
				prompt: (i: number) => prompt(i),
				options: { ...options, maxAttempts: 1, maxRetryWaitSeconds: 20 },
			},
			items: items(),
			continueOnFail: true,
		});
		const out = outputs[0];
		expectEveryItemOnceInOrder(out, N, prompt);
		const failed = out.filter((item) => item.json.error);
		// One attempt: the server errors, resets, hangs and bad JSON fail their items; a 429 only waits.
		expect(failed.length).toBeGreaterThan(10);
		for (const item of failed) {
			expect(item.binary).toBeUndefined();
			expect((item.json.error as { message: string }).message).toMatch(/\(item \d+\)$/);
			expect((item.json.error as { message: string }).message).toContain(`(item ${item.json.n})`);
			expect((item.json.error as { reason: string }).reason).not.toBe('RESOURCE_EXHAUSTED');
		}
		const images = out.filter((item) => !item.json.error);
		expect(images.every((item) => item.binary?.data)).toBe(true);
		// One attempt each: nothing is ever sent twice, so nothing is paid twice.
		expect([...paidPerPrompt().values()].every((paid) => paid.length === 1)).toBe(true);
	}, 240_000);
});

describe('Edit: 60 items, 20% faults', () => {
	const N = 60;
	it('every item is edited exactly once, in order, and keeps its own image', async () => {
		const store = new BinaryStore();
		const items: INodeExecutionData[] = [];
		for (let i = 0; i < N; i++) {
			const png = await solidPng(64, 48, { r: (i * 4) % 256, g: 80, b: 160 });
			items.push(
				await store.binaryItem(
					{ n: i },
					{ data: { data: png, fileName: `in${i}.png`, mimeType: 'image/png' } },
				),
			);
		}
		const instruction = (i: number) => `Add a red border to photo ${i}`;
		const { outputs } = await runNode(new NanoBananaEdit(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: (i: number) => instruction(i), options },
			items,
			binaryStore: store,
			continueOnFail: true,
		});
		const out = outputs[0];
		expect(out).toHaveLength(N);
		out.forEach((item, i) => {
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.json.prompt).toBe(instruction(i));
			expect(item.json.error).toBeUndefined();
			expect(item.binary?.data).toBeDefined();
		});
		expectEveryPromptPaidOnce(N);
		const served = sim.stats().faultsServed;
		expect(Object.values(served).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
		expect(Object.keys(served).length).toBeGreaterThanOrEqual(4);
		// Each item's request carried its own photo, not a neighbour's.
		for (let i = 0; i < N; i += 7) {
			const { data } = await sharp(store.get(out[i].binary!.editSource))
				.raw()
				.toBuffer({ resolveWithObject: true });
			expect(data[0]).toBe((i * 4) % 256);
		}
	}, 120_000);
});
