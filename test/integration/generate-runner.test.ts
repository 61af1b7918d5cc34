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
	it('stops the node at the first failure, names the item, and aborts requests in flight', async () => {
		const prompts = (i: number) =>
			i === 2 ? 'bad [[sim:prompt-block]]' : `slow poster ${i} [[sim:hang:4000]]`;
		const started = Date.now();
		const error = await generate(
			{ options: { maxConcurrency: 4 } },
			{ items: items(6, prompts) },
		).catch((e) => e);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(error.context.itemIndex).toBe(2);
		expect(error.message).toMatch(/\(item 2\)$/);
		// Items 4 and 5 never started: the node stopped taking new work.
		expect(generateCalls()).toHaveLength(4);
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
