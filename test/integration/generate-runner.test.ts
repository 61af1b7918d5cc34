/**
 * Many items at once: bounded concurrency, input order kept, faults isolated per item,
 * cancellation, and the API key kept out of everything the node emits.
 */
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { searchImageModels } from '../../nodes/shared/skeleton/methods/listSearch';
import { GeminiSim } from '../gemini-sim';
import { client } from '../gemini-sim/testkit';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

const node = new NanoBananaGenerate();
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const items = (n: number, prompt = (i: number) => `poster number ${i}`) =>
	Array.from({ length: n }, (_, i) => ({ json: { n: i, prompt: prompt(i) } }));
const fromItem = (_i: number, item: { json: { prompt: string } }) => item.json.prompt;
const generate = (parameters: RunOptions['parameters'], extra: Partial<RunOptions> = {}) =>
	runNode(node, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters: { prompt: fromItem, ...parameters },
		...extra,
	});
const generateCalls = () => sim.generateRequests;

describe('bounded concurrency', () => {
	it('keeps at most Max Concurrent Requests in flight, across items and their images', async () => {
		sim.setLatency(150);
		const { outputs } = await generate(
			{ numberOfImages: 2, options: { maxConcurrency: 3 } },
			{ items: items(6) },
		);
		expect(outputs[0]).toHaveLength(12);
		expect(sim.maxInFlight).toBe(3);
		expect(generateCalls()).toHaveLength(12);
	});

	it('runs the images of a single item in parallel too', async () => {
		sim.setLatency(150);
		const { outputs } = await generate(
			{ numberOfImages: 4, options: { maxConcurrency: 4 } },
			{ items: items(1) },
		);
		expect(outputs[0]).toHaveLength(4);
		expect(sim.maxInFlight).toBe(4);
	});

	it('runs one request at a time when asked to', async () => {
		sim.setLatency(50);
		await generate({ options: { maxConcurrency: 1 } }, { items: items(4) });
		expect(sim.maxInFlight).toBe(1);
	});

	it('sends the next item while one stores its image, still one request at a time', async () => {
		// A slow binary store (S3, a database): the request slot is not held while it writes.
		class SlowStore extends BinaryStore {
			async put(...args: Parameters<BinaryStore['put']>) {
				await new Promise((resolve) => setTimeout(resolve, 250));
				return await super.put(...args);
			}
		}
		sim.setLatency(400);
		const { outputs } = await generate(
			{ options: { maxConcurrency: 1 } },
			{ items: items(3), binaryStore: new SlowStore() },
		);
		expect(outputs[0].map((o) => o.json.prompt)).toEqual(
			Array.from({ length: 3 }, (_, i) => `poster number ${i}`),
		);
		expect(sim.maxInFlight).toBe(1);
		const calls = generateCalls();
		for (let k = 1; k < calls.length; k++)
			expect(calls[k].startedAt - calls[k - 1].endedAt!).toBeLessThan(150);
	});

	it('keeps input order and pairing although answers arrive out of order', async () => {
		const slowFirst = (i: number) => (i % 3 === 0 ? `poster ${i} [[sim:slow:300]]` : `poster ${i}`);
		const { outputs } = await generate(
			{ options: { maxConcurrency: 4 } },
			{ items: items(9, slowFirst) },
		);
		expect(outputs[0].map((o) => o.pairedItem)).toEqual(
			Array.from({ length: 9 }, (_, i) => ({ item: i })),
		);
		expect(outputs[0].map((o) => o.json.prompt)).toEqual(
			Array.from({ length: 9 }, (_, i) => slowFirst(i)),
		);
	});

	it('survives random server faults with every item answered, in order', async () => {
		sim.setRandomFaults({ percent: 30, kinds: ['503', '500', 'reset'] });
		const { outputs } = await generate(
			{ options: { maxConcurrency: 4, maxAttempts: 8 } },
			{ items: items(16) },
		);
		expect(outputs[0].map((o) => o.pairedItem)).toEqual(
			Array.from({ length: 16 }, (_, i) => ({ item: i })),
		);
		expect(outputs[0].map((o) => o.json.prompt)).toEqual(
			Array.from({ length: 16 }, (_, i) => `poster number ${i}`),
		);
		expect(outputs[0].every((o) => o.json.width === 1024)).toBe(true);
		const failed = generateCalls().filter((r) => r.status !== 200).length;
		expect(failed).toBeGreaterThan(0);
		expect(generateCalls()).toHaveLength(16 + failed);
	});
});

describe('Auto concurrency (new nodes, or Max Concurrent Requests 0)', () => {
	it('starts at 4 at once, then climbs while answers come clean, up to 16', async () => {
		sim.setLatency(300);
		const { outputs } = await generate({}, { items: items(48) });
		expect(outputs[0]).toHaveLength(48);
		const calls = generateCalls();
		const firstAnswer = Math.min(...calls.map((c) => c.endedAt));
		expect(calls.filter((c) => c.startedAt < firstAnswer)).toHaveLength(4);
		expect(sim.maxInFlight).toBe(16);
	});

	it('halves on 503s and still answers every item', async () => {
		sim.setLatency(200);
		sim.setRandomFaults({ percent: 20, kinds: ['503'] });
		const { outputs } = await generate(
			{ options: { maxConcurrency: 0, maxAttempts: 8 } },
			{ items: items(24) },
		);
		expect(outputs[0].every((o) => o.binary?.data && !o.json.error)).toBe(true);
		// Without the halving it would reach 16 as in the clean run above.
		expect(sim.maxInFlight).toBeLessThan(16);
	});

	it('keeps 4K answers within the memory budget: at most 4 at once', async () => {
		// Long enough that making 4K images here (the simulator shares this process) is no slowdown.
		sim.setLatency(1500);
		await generate({ imageSize: '4K' }, { items: items(18) });
		expect(sim.maxInFlight).toBe(4);
	});

	it('leaves a node saved at version 1 without the option at 4', async () => {
		sim.setLatency(150);
		await generate({}, { items: items(24), typeVersion: 1 });
		expect(sim.maxInFlight).toBe(4);
	});
});

describe('failures without Continue On Fail', () => {
	/** The generate request of the item whose prompt is `prompt`, as the simulator recorded it. */
	const requestFor = (server: GeminiSim, prompt: string) =>
		server.generateRequests.find((r) => r.body?.contents?.[0]?.parts?.[0]?.text === prompt);

	it('stops at the failed item: aborts the later ones in flight, starts none, lets the earlier ones finish', async () => {
		const prompts = [
			'early 0 [[sim:slow:1500]]',
			'early 1 [[sim:slow:1500]]',
			'bad 2 [[sim:prompt-block]]',
			'late 3 [[sim:hang:60000]]',
			'never 4',
			'never 5',
		];
		const started = Date.now();
		const error = await generate(
			{ options: { maxConcurrency: 4 } },
			{ items: items(6, (i) => prompts[i]) },
		).catch((e) => e);
		// Far less than item 3's hang: it was aborted, not waited for.
		expect(Date.now() - started).toBeLessThan(30_000);
		expect(error.context.itemIndex).toBe(2);
		expect(error.message).toMatch(/^Gemini blocked the prompt.*\(item 2\)$/);
		// Items 0 and 1 were answered, not aborted, though item 2 failed while they were waiting.
		for (const prompt of prompts.slice(0, 2)) {
			expect(requestFor(sim, prompt)).toMatchObject({ status: 200 });
			expect(requestFor(sim, prompt)?.aborted).toBeFalsy();
		}
		// Items 4 and 5 never started: the node stopped taking new work.
		expect(generateCalls()).toHaveLength(4);
	});

	it('throws the lowest item that fails, not the first to fail in time, and never a later abort', async () => {
		// Its own simulator, stopped to fail item 0 once item 1 has failed and item 2 was aborted.
		const held = await GeminiSim.start();
		const prompts = ['held 0 [[sim:hang]]', 'bad 1 [[sim:prompt-block]]', 'held 2 [[sim:hang]]'];
		let stoppedAt = 0;
		const watch = setInterval(() => {
			if (!requestFor(held, prompts[2])?.aborted) return;
			clearInterval(watch);
			stoppedAt = Date.now();
			void held.stop();
		}, 5);
		try {
			const error = await runNode(node, {
				credentials: { apiKey: held.apiKey, host: held.url },
				items: items(3, (i) => prompts[i]),
				parameters: { prompt: fromItem, options: { maxConcurrency: 3, maxAttempts: 1 } },
			}).catch((e) => e);
			// Item 1 failed first: its answer ended before the node aborted item 2 and item 0 failed.
			expect(requestFor(held, prompts[1])).toMatchObject({ status: 200 });
			expect(requestFor(held, prompts[2])?.aborted).toBe(true);
			expect(requestFor(held, prompts[1])!.endedAt).toBeLessThanOrEqual(stoppedAt);
			// The node's error is item 0's, which failed last.
			expect(error.context.itemIndex).toBe(0);
			expect(error.message).toMatch(/\(item 0\)$/);
			expect(error.message).not.toMatch(/blocked the prompt/);
		} finally {
			clearInterval(watch);
			await held.stop();
		}
	});

	it('aborts everything when the execution is cancelled', async () => {
		const cancel = new AbortController();
		setTimeout(() => cancel.abort(new Error('Execution was cancelled')), 200);
		const started = Date.now();
		const error = await generate(
			{},
			{ items: items(3, (i) => `poster ${i} [[sim:hang:5000]]`), cancelSignal: cancel.signal },
		).catch((e) => e);
		expect(Date.now() - started).toBeLessThan(2500);
		expect(error.message).toMatch(/cancelled/);
	});
});

describe('the API key stays secret', () => {
	it('appears in no output item, error message or description', async () => {
		const secret = sim.apiKey;
		const prompts = [
			'ok',
			'x [[sim:prompt-block]]',
			'y [[sim:text-only]]',
			'z [[sim:429:0.01s]]',
			'w [[sim:html]]',
		];
		const { outputs } = await generate(
			{ options: { maxAttempts: 1, maxRetryWaitSeconds: 2 } },
			{ items: items(5, (i) => prompts[i]), continueOnFail: true },
		);
		expect(JSON.stringify(outputs)).not.toContain(secret);
		// Shaped like a real Google key (built here so no key-like literal sits in the repo).
		const badKey = ['AIza', 'SyTHIS-IS-A-WRONG-KEY-0000000000000'].join('');
		const error = await runNode(node, {
			credentials: { apiKey: badKey, host: sim.url },
			parameters: { prompt: 'x' },
		}).catch((e) => e);
		expect(
			JSON.stringify({
				message: error.message,
				description: error.description,
				context: error.context,
			}),
		).not.toContain(badKey);
	});

	it('is scrubbed even when the server repeats it in its error', async () => {
		// A plain SDK call shows the server really sends the key back…
		const raw = await client(sim)
			.models.generateContent({ model: 'gemini-3.1-flash-image', contents: 'x [[sim:echo-key]]' })
			.catch((e: Error) => e);
		expect(String((raw as Error).message)).toContain(sim.apiKey);
		// …and the node's error, in the item and thrown, does not.
		const { outputs } = await generate(
			{ options: { maxAttempts: 1 } },
			{ items: items(2, (i) => (i === 1 ? 'y [[sim:echo-key]]' : 'ok')), continueOnFail: true },
		);
		expect(outputs[0][1].json.error).toMatchObject({
			message: expect.stringMatching(/API key \*\*\* is not allowed/),
		});
		expect(JSON.stringify(outputs)).not.toContain(sim.apiKey);
		const thrown = await generate({
			prompt: 'z [[sim:echo-key]]',
			options: { maxAttempts: 1 },
		}).catch((e) => e);
		expect(
			JSON.stringify({
				message: thrown.message,
				description: thrown.description,
				context: thrown.context,
			}),
		).not.toContain(sim.apiKey);
	});
});

describe('the model list', () => {
	const listContext = (host: string) =>
		({
			getCredentials: async () => ({ apiKey: sim.apiKey, host }),
		}) as unknown as ThisParameterType<typeof searchImageModels>;

	it('lists image models live from the API', async () => {
		const { results } = await searchImageModels.call(listContext(sim.url));
		const ids = results.map((r) => r.value);
		// The default first; Nano Banana 2.1 has no "image" in its id, the text models are left out.
		expect(ids).toEqual([
			'gemini-nano-banana-2.1',
			'gemini-3.1-flash-image',
			'gemini-3-pro-image',
			'gemini-3.1-flash-lite-image',
		]);
		expect(sim.requests.map((r) => r.path)).toContainEqual(
			expect.stringMatching(/^\/v1beta\/models(\?|$)/),
		);
	});

	it('filters by what the user types', async () => {
		const { results } = await searchImageModels.call(listContext(sim.url), 'pro');
		expect(results.map((r) => r.value)).toEqual(['gemini-3-pro-image']);
	});

	it('falls back to the built-in table when the API cannot be reached', async () => {
		const { results } = await searchImageModels.call(listContext('http://127.0.0.1:9'));
		expect(results.map((r) => r.value)).toEqual(
			expect.arrayContaining(['gemini-3.1-flash-image', 'gemini-3-pro-image']),
		);
	});
});
