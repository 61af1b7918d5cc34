/**
 * The spend guards against the Gemini simulator over HTTP: Max Spend per Execution (a node's cap)
 * and the credential's Daily Budget (per credential and UTC day, for every execution of the process,
 * and in queue mode for every worker through a real redis-server). What the simulator recorded
 * tells what was sent; the prices are the catalogue's (Nano Banana 2.1 at 1K: $0.0336, in Batch
 * $0.0168), and what an answer cost is read from the usage the simulator reports.
 * Each test starts as a fresh process (test/helpers/fresh-gates.ts).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import Redis from 'ioredis';
import type { INodeExecutionData } from 'n8n-workflow';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import { estimateCostUsd, findModel, textRequestMaxCostUsd } from '../../nodes/shared/catalogue';
import {
	GeminiClient,
	QuotaGates,
	RequestGate,
	SpendGuard,
	processQuotaGates,
} from '../../nodes/shared/transport';
import type { SpendLimits } from '../../nodes/shared/transport';
import { GeminiSim, findSimModel } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';
import { queueWorkers } from '../helpers/queueWorkers';
import type { RedisServer } from '../helpers/redisServer';

const MODEL = 'gemini-nano-banana-2.1';
/** The catalogue's price of one 1K image of MODEL, and in Batch mode. */
const PRICE = estimateCostUsd(findModel(MODEL), '1K', 1)!;
const BATCH_PRICE = estimateCostUsd(findModel(MODEL), '1K', 1, true)!;

const queue = queueWorkers();
const { worker } = queue;
let sim: GeminiSim;
let redis: RedisServer;
beforeAll(() => {
	({ sim, redis } = queue);
});
afterEach(() => {
	// The model as Google serves it, whatever a test made it report.
	sim.addModel(findSimModel(MODEL)!);
});

const fromItem = (_i: number, item: INodeExecutionData) => item.json.prompt;
const prompts = (n: number, label: string) =>
	Array.from({ length: n }, (_, i) => ({ json: { id: i, prompt: `${label} poster ${i}` } }));
const sentPrompts = () =>
	sim.generateRequests.map((r) => r.body.contents[0].parts[0].text as string);

const generate = (
	parameters: RunOptions['parameters'],
	extra: Partial<RunOptions> & { budgetUsd?: number } = {},
) =>
	runNode(new NanoBananaGenerate(), {
		credentials: {
			apiKey: sim.apiKey,
			host: sim.url,
			...(extra.budgetUsd !== undefined ? { dailyBudgetUsd: extra.budgetUsd } : {}),
		},
		...extra,
		parameters: { model: MODEL, prompt: fromItem, ...parameters },
	});

const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected a failure')),
		(error: Error & { description?: string }) => error,
	);

const errorOf = (item: INodeExecutionData) =>
	item.json.error as { message: string; description: string; reason: string } | undefined;

describe('Max Spend per Execution', () => {
	it('stops a run at the cap: the items past it fail naming the cap and the spend, none is sent', async () => {
		const { outputs } = await generate(
			{ options: { maxConcurrency: 1, maxSpendUsd: 0.11 } },
			{ items: prompts(5, 'cap'), onError: 'continueRegularOutput' },
		);
		const items = outputs[0];
		expect(items.map((item) => errorOf(item) === undefined)).toEqual([
			true,
			true,
			true,
			false,
			false,
		]);
		expect(sentPrompts()).toEqual(['cap poster 0', 'cap poster 1', 'cap poster 2']);
		expect(errorOf(items[3])).toMatchObject({
			message:
				'Max Spend per Execution of $0.11 reached: this node has spent $0.1008 in this execution (requests in flight at their estimate), and this request would add $0.0336 (item 3)',
			reason: 'SPEND_CAP_REACHED',
			description: expect.stringContaining('The request was not sent'),
		});
		// The failed item is its source item with the error: nothing is lost.
		expect(items[4].json).toMatchObject({ id: 4, prompt: 'cap poster 4' });
	});

	it('counts every run of the node in one execution (a loop), and starts again in the next', async () => {
		const run = (executionId: string, label: string) =>
			generate(
				{ options: { maxSpendUsd: 0.08 } },
				{
					items: prompts(1, label),
					binaryStore: new BinaryStore('wf-loop', executionId),
					onError: 'continueRegularOutput',
				},
			);
		// Two rounds of a loop fit in $0.08; the third would make $0.1008.
		const rounds = [];
		for (const round of [1, 2, 3]) rounds.push(await run('2001', `round ${round}`));
		expect(rounds.map(({ outputs }) => errorOf(outputs[0][0])?.reason)).toEqual([
			undefined,
			undefined,
			'SPEND_CAP_REACHED',
		]);
		expect(errorOf(rounds[2].outputs[0][0])!.message).toContain(
			'this node has spent $0.0672 in this execution',
		);
		const next = await run('2002', 'next execution');
		expect(errorOf(next.outputs[0][0])).toBeUndefined();
		expect(sentPrompts()).toEqual([
			'round 1 poster 0',
			'round 2 poster 0',
			'next execution poster 0',
		]);
	});

	it('holds when items race under Auto: no more is sent than the cap allows', async () => {
		sim.setLatency(300);
		const { outputs } = await generate(
			{ options: { maxSpendUsd: 0.11 } },
			{ items: prompts(12, 'race'), onError: 'continueRegularOutput' },
		);
		expect(sim.generateRequests).toHaveLength(3);
		const failed = outputs[0].filter((item) => errorOf(item));
		expect(failed).toHaveLength(9);
		for (const item of failed) expect(errorOf(item)!.reason).toBe('SPEND_CAP_REACHED');
	});

	it('without Continue On Fail, the node stops with the cap error and the cure', async () => {
		const error = await failure(
			generate(
				{ options: { maxConcurrency: 1, maxSpendUsd: 0.05 } },
				{ items: prompts(3, 'stop') },
			),
		);
		expect(error.message).toBe(
			'Max Spend per Execution of $0.05 reached: this node has spent $0.0336 in this execution (requests in flight at their estimate), and this request would add $0.0336 (item 1)',
		);
		expect(error.description).toContain('Raise Max Spend per Execution');
		expect(sim.generateRequests).toHaveLength(1);
	});

	it("routes Edit's cap error to the error output with the source item's binary", async () => {
		const store = new BinaryStore();
		const photo = readFileSync(join(__dirname, '..', 'fixtures', 'photos', 'man.jpg'));
		const items = await Promise.all(
			[0, 1].map((id) =>
				store.binaryItem(
					{ id },
					{ data: { data: photo, fileName: 'man.jpg', mimeType: 'image/jpeg' } },
				),
			),
		);
		const { outputs } = await runNode(new NanoBananaEdit(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: {
				model: MODEL,
				prompt: 'Make the background a beach',
				options: { maxConcurrency: 1, maxSpendUsd: 0.04 },
			},
			items,
			binaryStore: store,
			onError: 'continueErrorOutput',
		});
		const [done, refused] = outputs[0];
		expect(errorOf(done)).toBeUndefined();
		expect(Object.keys(refused.json)).toEqual(['error']);
		expect(errorOf(refused)!.message).toMatch(
			/^Max Spend per Execution of \$0\.04 reached: .*\(item 1\)$/,
		);
		expect(store.get(refused.binary!.data)).toEqual(photo);
		expect(refused.pairedItem).toEqual({ item: 1 });
		expect(sim.generateRequests).toHaveLength(1);
	});

	it('refuses a model with no known price: the cap could not be checked', async () => {
		const error = await failure(
			generate({
				model: { __rl: true, mode: 'id', value: 'gemini-9-flash-image' },
				prompt: 'a banana',
				options: { maxSpendUsd: 1 },
			}),
		);
		expect(error.message).toBe(
			'The model "gemini-9-flash-image" has no known price, so Max Spend per Execution cannot be checked (item 0)',
		);
		expect(error.description).toContain(
			'Remove Max Spend per Execution, or pick a model from the list',
		);
		expect(sim.generateRequests).toHaveLength(0);
	});

	it('a blocked prompt, which Google does not bill, gives its reservation back', async () => {
		const items = [
			{ json: { prompt: 'first [[sim:prompt-block]]' } },
			{ json: { prompt: 'second [[sim:image-safety]]' } },
			{ json: { prompt: 'third, drawn' } },
		];
		// Room for one image: the two refusals cost nothing, so the third is sent.
		const { outputs } = await generate(
			{ options: { maxConcurrency: 1, maxSpendUsd: PRICE } },
			{ items, onError: 'continueRegularOutput' },
		);
		expect(outputs[0].map((item) => errorOf(item)?.reason)).toEqual([
			'PROMPT_BLOCKED_PROHIBITED_CONTENT',
			'IMAGE_SAFETY',
			undefined,
		]);
		expect(sim.generateRequests).toHaveLength(3);
	});

	it('counts Batch mode at half price: the job holds what the cap allows, the rest fail', async () => {
		const { outputs } = await generate(
			{
				executionMode: 'batch',
				batchResults: 'submit',
				options: { maxConcurrency: 1, maxSpendUsd: 0.05 },
			},
			{ items: prompts(3, 'batch'), onError: 'continueRegularOutput' },
		);
		// At $0.0168 two fit in $0.05; at the realtime price only one would.
		const created = sim.requests.filter((r) => r.action === 'batchGenerateContent');
		expect(created).toHaveLength(1);
		expect(created[0].body.batch.inputConfig.requests.requests).toHaveLength(2);
		const [job, refused] = outputs[0];
		expect(job.json).toMatchObject({ requestCount: 2, estimatedCostUsd: 2 * BATCH_PRICE });
		expect(errorOf(refused)).toMatchObject({
			message: expect.stringMatching(
				/^Max Spend per Execution of \$0\.05 reached: .*\$0\.0336.*\$0\.0168 \(item 2\)$/,
			),
		});
	});
});

describe('Daily Budget of the credential', () => {
	it('is one count for two executions at once; each item tells today’s spend', async () => {
		sim.setLatency(200);
		const budgetUsd = 0.15;
		const runs = await Promise.all(
			['morning', 'evening'].map((label) =>
				generate({}, { items: prompts(4, label), budgetUsd, onError: 'continueRegularOutput' }),
			),
		);
		const items = runs.flatMap((run) => run.outputs[0]);
		// $0.15 holds four images at $0.0336; the fifth would make $0.168.
		expect(sim.generateRequests.filter((r) => r.status === 200)).toHaveLength(4);
		const made = items.filter((item) => !errorOf(item));
		const refused = items.filter((item) => errorOf(item));
		expect(made).toHaveLength(4);
		expect(refused).toHaveLength(4);
		const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
		for (const item of refused)
			expect(errorOf(item)!.message).toMatch(
				new RegExp(
					`^Daily Budget of \\$0\\.15 reached: \\$0\\.1\\d+ spent today with this credential .* resets at ${tomorrow} 00:00 UTC \\(item \\d\\)$`,
				),
			);
		for (const item of made) {
			expect(item.json.budgetUsd).toBe(budgetUsd);
			expect(item.json.spentTodayUsd).toBeGreaterThanOrEqual(PRICE);
			expect(item.json.spentTodayUsd).toBeLessThanOrEqual(budgetUsd);
		}
		// Once every answer is in, today's count is what the answers reported.
		const { outputs } = await generate({}, { items: prompts(1, 'later'), budgetUsd: 1 });
		expect(outputs[0][0].json.spentTodayUsd).toBeCloseTo(5 * PRICE, 6);
	});
});

/** One execution's image request through `gates` under `limits`, as the client sends it. */
function send(gates: QuotaGates, text: string, limits: SpendLimits, extra: object = {}) {
	const spend = new SpendGuard(limits, gates);
	const gate = new RequestGate(8, { gates, spend });
	const request = client().generate(
		{
			model: MODEL,
			contents: [{ role: 'user', parts: [{ text }] }],
			generationConfig: { responseModalities: ['TEXT', 'IMAGE'], ...extra },
		},
		{ retry: { maxAttempts: 1, maxTotalWaitMs: 0 }, timeoutMs: 20_000, gate },
	);
	return { spend, result: request.finally(() => gate.close()) };
}
const client = () => new GeminiClient({ apiKey: sim.apiKey, host: sim.url });
const budget = (usd: number): SpendLimits => ({
	budget: { usd, identity: JSON.stringify(['daily budget', `key:${sim.apiKey}`]) },
});
const settledAll = (sends: Array<{ result: Promise<unknown> }>) =>
	Promise.allSettled(sends.map((s) => s.result));

describe('racing for the last dollars of a budget', () => {
	it('in one process: twelve requests at once never pass the budget', async () => {
		sim.setLatency(300);
		const gates = processQuotaGates();
		const sends = Array.from({ length: 12 }, (_, i) => send(gates, `edge ${i}`, budget(0.2)));
		const results = await settledAll(sends);
		const sent = sim.generateRequests.length;
		// $0.20 holds five at $0.0336; overspend would take a sixth.
		expect(sent).toBe(5);
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
		const report = await sends[0].spend.report();
		expect(report).toEqual({ spentTodayUsd: expect.closeTo(5 * PRICE, 6), budgetUsd: 0.2 });
	});

	it('across two workers sharing Redis: one count, kept two days under an HMAC name', async () => {
		sim.setLatency(300);
		const workers = [worker(redis.settings), worker(redis.settings)];
		const sends = workers.flatMap((gates, w) =>
			Array.from({ length: 8 }, (_, i) => send(gates, `worker ${w} edge ${i}`, budget(0.2))),
		);
		await settledAll(sends);
		expect(sim.generateRequests.filter((r) => r.status === 200)).toHaveLength(5);
		expect(sentPrompts().filter((p) => p.startsWith('worker 0')).length).toBeGreaterThan(0);
		expect(sentPrompts().filter((p) => p.startsWith('worker 1')).length).toBeGreaterThan(0);
		const redisClient = new Redis(redis.settings);
		try {
			const keys = await redisClient.keys('nano-banana-studio:quota:*:spend:*');
			const day = new Date().toISOString().slice(0, 10);
			const count = keys.find((key) => key.endsWith(`:spend:${day}`))!;
			// Only today's count: a budget is counted by the day.
			expect(keys.filter((key) => !key.startsWith(count))).toEqual([]);
			expect(count).toMatch(
				/^nano-banana-studio:quota:\{[A-Za-z0-9_-]{43}\}:spend:\d{4}-\d\d-\d\d$/,
			);
			expect(keys.join()).not.toContain(sim.apiKey);
			expect(await redisClient.hmget(count, 'spent', 'reserved')).toEqual([
				String(Math.round(5 * PRICE * 1e6)),
				'0',
			]);
			const ttl = await redisClient.pttl(count);
			expect(ttl).toBeGreaterThan(86_400_000);
			expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
		} finally {
			redisClient.disconnect();
		}
		// A third worker, started later, reads the same count.
		const later = send(worker(redis.settings), 'worker 2 later', budget(0.2));
		await expect(later.result).rejects.toMatchObject({ reason: 'SPEND_BUDGET_REACHED' });
		expect(await later.spend.report()).toEqual({
			spentTodayUsd: expect.closeTo(5 * PRICE, 6),
			budgetUsd: 0.2,
		});
	});

	it("a cap's count follows its execution to another worker (resumed after a Wait)", async () => {
		const cap: SpendLimits = {
			cap: { usd: 0.08, identity: JSON.stringify(['execution spend', '3001', 'node-1']) },
		};
		const first = worker(redis.settings);
		for (const round of [1, 2]) await send(first, `before the wait ${round}`, cap).result;
		const resumed = send(worker(redis.settings), 'after the wait', cap);
		await expect(resumed.result).rejects.toMatchObject({
			reason: 'SPEND_CAP_REACHED',
			message: expect.stringContaining('this node has spent $0.0672 in this execution'),
		});
		expect(sentPrompts()).toEqual(['before the wait 1', 'before the wait 2']);
		const redisClient = new Redis(redis.settings);
		try {
			const [count] = await redisClient.keys('nano-banana-studio:quota:*:spend:execution');
			const ttl = await redisClient.pttl(count);
			expect(ttl).toBeGreaterThan(0);
			expect(ttl).toBeLessThanOrEqual(86_400_000);
		} finally {
			redisClient.disconnect();
		}
	});

	it('a request Google refuses with a 400 costs nothing', async () => {
		const gates = worker(redis.settings);
		const refused = send(gates, 'refused', budget(PRICE), { responseMimeType: 'image/gif' });
		await expect(refused.result).rejects.toMatchObject({ httpCode: 400 });
		expect(await refused.spend.report()).toEqual({ spentTodayUsd: 0, budgetUsd: PRICE });
		// The whole budget is still there for one image.
		const drawn = send(gates, 'drawn', budget(PRICE));
		await expect(drawn.result).resolves.toMatchObject({ images: [expect.anything()] });
		expect(sim.generateRequests.map((r) => r.status)).toEqual([400, 200]);
	});

	it('without an answering Redis each worker counts alone, and says so once', async () => {
		const said: string[] = [];
		const gates = worker({ host: '127.0.0.1', port: 1 }, (message) => said.push(message));
		const sends = Array.from({ length: 3 }, (_, i) => send(gates, `alone ${i}`, budget(0.05)));
		await settledAll(sends);
		expect(sim.generateRequests).toHaveLength(1);
		expect(said).toHaveLength(1);
		expect(said[0]).toMatch(
			/does not answer .*quota gates and daily budgets count this worker's requests only/,
		);
	});
});

const photo = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'photos', name));
const imageFile = (name: string) => ({
	data: photo(name),
	fileName: name,
	mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
});

describe('Max Spend per Execution of Fuse', () => {
	it('stops at the cap: the items past it fail naming the cap, none of them is sent', async () => {
		const store = new BinaryStore();
		const items = await Promise.all(
			[0, 1, 2].map((n) =>
				store.binaryItem({ n }, { product: imageFile('objects.png'), room: imageFile('room.png') }),
			),
		);
		const { outputs } = await runNode(new NanoBananaFuse(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: {
				model: MODEL,
				prompt: 'Place the product from image 1 into the room of image 2',
				binaryPropertyNames: 'product, room',
				options: { maxConcurrency: 1, maxSpendUsd: 0.07 },
			},
			items,
			binaryStore: store,
			onError: 'continueRegularOutput',
		});
		// $0.07 holds two images at $0.0336; the third would make $0.1008.
		expect(outputs[0].map((item) => errorOf(item)?.reason)).toEqual([
			undefined,
			undefined,
			'SPEND_CAP_REACHED',
		]);
		expect(errorOf(outputs[0][2])!.message).toMatch(
			/^Max Spend per Execution of \$0\.07 reached: this node has spent \$0\.0672 in this execution .*\(item 2\)$/,
		);
		expect(sim.generateRequests).toHaveLength(2);
	});
});

describe('Batch mode, Wait in This Execution', () => {
	it("settles each item to what its result cost: the answer's usage at half price, 0 for a blocked one", async () => {
		// The model reports half the image tokens the catalogue's price counts: 560 at $30 per 1M,
		// halved in Batch, is $0.0084 an image where the estimate is $0.0168.
		sim.addModel({ ...findSimModel(MODEL)!, outputImageTokens: { '1K': 560 } });
		sim.setBatchDelay(60);
		const items = [
			{ json: { prompt: 'a lighthouse' } },
			{ json: { prompt: 'forbidden [[sim:prompt-block:SAFETY]]' } },
			{ json: { prompt: 'a harbour' } },
		];
		const { outputs } = await generate(
			{
				executionMode: 'batch',
				batchOptions: { pollIntervalSeconds: 0.02 },
				options: { maxSpendUsd: 1 },
			},
			{ items, budgetUsd: 1, onError: 'continueRegularOutput' },
		);
		expect(outputs[0].map((item) => errorOf(item) === undefined)).toEqual([true, false, true]);
		const actual = 2 * 560 * (30 / 1e6) * 0.5;
		expect(actual).not.toBeCloseTo(2 * BATCH_PRICE, 6);
		for (const item of outputs[0]) expect(item.json.spentTodayUsd).toBeCloseTo(actual, 6);
		// The next execution with the credential counts from the same settled total.
		const next = await generate({}, { items: prompts(1, 'after the batch'), budgetUsd: 1 });
		expect(next.outputs[0][0].json.spentTodayUsd).toBeCloseTo(actual + 560 * (30 / 1e6), 6);
	});

	it('in queue mode, a reservation whose lease ran out while the job ran is still corrected', async () => {
		const gates = worker(redis.settings);
		const spend = new SpendGuard(budget(1), gates);
		const reservation = (await spend.reserve({ model: MODEL, estimateUsd: BATCH_PRICE }))!;
		// A batch job takes longer than a lease (16 min): its estimate is counted as spent.
		const redisClient = new Redis(redis.settings);
		try {
			const day = new Date().toISOString().slice(0, 10);
			const [count] = await redisClient.keys(`nano-banana-studio:quota:*:spend:${day}`);
			const [id] = await redisClient.zrange(`${count}:leases`, 0, 0);
			await redisClient.zadd(`${count}:leases`, 0, id);
			expect(await spend.report()).toEqual({
				spentTodayUsd: expect.closeTo(BATCH_PRICE, 6),
				budgetUsd: 1,
			});
			expect(await redisClient.hget(count, 'reserved')).toBe('0');
			reservation.settle(0.0084);
			expect(await spend.report()).toEqual({
				spentTodayUsd: expect.closeTo(0.0084, 6),
				budgetUsd: 1,
			});
			expect((await redisClient.hkeys(count)).sort()).toEqual(['reserved', 'spent']);
		} finally {
			redisClient.disconnect();
		}
	});
});

describe("Verify's AI judge", () => {
	const verifyNode = new NanoBananaVerify();
	const judge = async (budgetUsd: number, n: number) => {
		const store = new BinaryStore();
		const items = await Promise.all(
			Array.from({ length: n }, (_, i) =>
				store.binaryItem({ prompt: `a man in a room ${i}` }, { data: imageFile('man.jpg') }),
			),
		);
		return runNode(verifyNode, {
			credentials: { apiKey: sim.apiKey, host: sim.url, dailyBudgetUsd: budgetUsd },
			parameters: { prompt: fromItem, options: { maxConcurrency: 1 } },
			items,
			binaryStore: store,
			onError: 'continueRegularOutput',
		});
	};
	const judgeCalls = () => sim.generateRequests.filter((r) => r.path.includes('gemini-3.8-flash'));
	const costOf = (item: INodeExecutionData) =>
		(item.json.verification as { estimatedCostUsd: number }).estimatedCostUsd;

	it("is counted in the credential's Daily Budget at what its usage says", async () => {
		const { outputs } = await judge(1, 2);
		const items = [...outputs[0], ...outputs[1]];
		expect(items).toHaveLength(2);
		expect(judgeCalls()).toHaveLength(2);
		const spent = costOf(items[0]) + costOf(items[1]);
		expect(spent).toBeGreaterThan(0);
		// The estimate each call reserved (every output token it may write) is far above that.
		expect(spent).toBeLessThan(0.1);
		const last = await generate({}, { items: prompts(1, 'after the judge'), budgetUsd: 1 });
		expect(last.outputs[0][0].json.spentTodayUsd).toBeCloseTo(spent + PRICE, 6);
	});

	it('is refused once the budget cannot hold its estimate: the item fails with the budget error', async () => {
		// One judge call reserves its estimate (about $0.25 on gemini-3.8-flash), then costs less.
		const estimate = textRequestMaxCostUsd('gemini-3.8-flash', { characters: 0, images: 1 })!;
		const budgetUsd = estimate + 0.03;
		const first = await judge(budgetUsd, 1);
		expect(errorOf(first.outputs[0][0] ?? first.outputs[1][0])).toBeUndefined();
		// An image spends the rest of the room the next judge call needs.
		await generate({}, { items: prompts(1, 'between'), budgetUsd });
		const before = judgeCalls().length;
		const { outputs } = await judge(budgetUsd, 1);
		const [refused] = outputs[1];
		expect(outputs[0]).toHaveLength(0);
		expect(errorOf(refused)).toMatchObject({
			reason: 'SPEND_BUDGET_REACHED',
			message: expect.stringMatching(/^Daily Budget of \$0\.\d+ reached: .* \(item 0\)$/),
		});
		expect(judgeCalls()).toHaveLength(before);
	});
});
