/**
 * Batch mode (Gemini Batch API, half price) and the Batch Results node, against the simulator's
 * Batch and Files APIs over HTTP through the real SDK: inline and JSONL jobs, waiting and Submit
 * Only + Collect, per-request errors routed as realtime failures, job states, Max Wait and cancel.
 */
import { getEventListeners } from 'events';
import { readdirSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import sharp from 'sharp';
import type { INodeExecutionData } from 'n8n-workflow';

import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

const photo = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'photos', name));
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start({ batchDelayMs: 60 });
});
afterAll(async () => sim.stop());
beforeEach(() => {
	sim.reset();
	sim.setBatchDelay(60);
	sim.setBatchCancelDelay(100);
});

const credentials = () => ({ apiKey: sim.apiKey, host: sim.url });
const fastPolls = { pollIntervalSeconds: 0.02 };
const fromItem = (_i: number, item: INodeExecutionData) => item.json.prompt;
const promptItems = (...prompts: string[]) =>
	prompts.map((prompt, id) => ({ json: { id, prompt } }));
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected a failure')),
		(error: Error & { description?: string; context?: Record<string, unknown> }) => error,
	);

const generate = (parameters: RunOptions['parameters'], extra: Partial<RunOptions> = {}) =>
	runNode(new NanoBananaGenerate(), {
		credentials: credentials(),
		...extra,
		parameters: {
			prompt: fromItem,
			executionMode: 'batch',
			...parameters,
			batchOptions: { ...fastPolls, ...(parameters.batchOptions as object) },
		},
	});
const collect = (
	items: INodeExecutionData[],
	extra: Partial<RunOptions> = {},
	parameters: RunOptions['parameters'] = {},
) =>
	runNode(new NanoBananaBatchResults(), {
		credentials: credentials(),
		items,
		...extra,
		parameters: {
			jobName: (_i: number, item: INodeExecutionData) => item.json.batchJob,
			...parameters,
		},
	});

const batchCreates = () => sim.requests.filter((r) => r.action === 'batchGenerateContent');
type InlineRequest = {
	request: { contents: Array<{ parts: Array<{ text?: string; inlineData?: { data: string } }> }> };
	metadata: { key: string };
};
const inlineRequests = (): InlineRequest[] =>
	batchCreates()[0].body.batch.inputConfig.requests.requests;
/** Waits until a submitted job is done at the simulator, as time passing between two executions would. */
async function settled(name: string) {
	for (let n = 0; n < 250; n++) {
		const job = (await sim.batches.get(name.replace(/^batches\//, ''))) as { done?: boolean };
		if (job.done) return;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error(`${name} did not finish`);
}
/** Stops the execution once the job is submitted and has been polled: the user pressing Stop while it waits. */
/**
 * Runs `then` once `server` has answered `polls` getBatch requests (a job being waited for);
 * returns what stops watching.
 */
function afterPolls(server: GeminiSim, polls: number, then: () => void): () => void {
	const timer = setInterval(() => {
		if (server.requests.filter((r) => r.action === 'getBatch').length >= polls) {
			clearInterval(timer);
			then();
		}
	}, 5);
	return () => clearInterval(timer);
}

function abortWhilePolling(reason?: Error): AbortController {
	const cancel = new AbortController();
	afterPolls(sim, 1, () => cancel.abort(reason));
	return cancel;
}
const leftoverTempDirs = () =>
	readdirSync(tmpdir()).filter((name) => /^nano-banana-(batch|results)-/.test(name));

describe('Wait in this execution, inline', () => {
	it('sends every item as one inline job, keyed by item, and outputs the images as realtime does at the batch price', async () => {
		const { outputs, store } = await generate(
			{},
			{ items: promptItems('a red kite', 'a green kite', 'a blue kite') },
		);
		expect(sim.generateRequests).toHaveLength(0);
		expect(batchCreates()).toHaveLength(1);
		expect(batchCreates()[0].path).toBe(
			'/v1beta/models/gemini-nano-banana-2.1:batchGenerateContent',
		);
		expect(inlineRequests().map((r) => r.metadata)).toEqual([
			{ key: 'item0' },
			{ key: 'item1' },
			{ key: 'item2' },
		]);

		const out = outputs[0];
		expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		for (const [n, item] of out.entries()) {
			const image = store.get(item.binary!.data);
			expect(GeminiSim.promptOf(image)).toBe(['a red kite', 'a green kite', 'a blue kite'][n]);
			expect((await sharp(image).metadata()).width).toBe(1024);
		}
		expect(out[1].json).toMatchObject({
			model: 'gemini-nano-banana-2.1',
			prompt: 'a green kite',
			aspectRatio: 'auto',
			imageSize: '1K',
			width: 1024,
			mimeType: 'image/png',
			finishReason: 'STOP',
			batchJob: expect.stringMatching(/^batches\//),
			batchKey: 'item1',
			sourceItem: 1,
			// Nano Banana 2.1 at 1K: $0.0168 in batch, $0.0336 in realtime.
			estimatedCostUsd: 0.0168,
			imageIndex: 0,
		});
		expect(out[1].binary!.data.fileName).toMatch(/-item1\.png$/);
	});

	it('sends exactly the request realtime sends for the same item', async () => {
		const parameters = {
			prompt: 'a lighthouse [[sim:slow:1]]',
			aspectRatio: '16:9',
			imageSize: '2K',
			options: {
				systemInstruction: 'Flat colours',
				temperature: 0.4,
				safetySettings: {
					values: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
				},
			},
		};
		await runNode(new NanoBananaGenerate(), { credentials: credentials(), parameters });
		const realtime = sim.generateRequests[0].body;
		sim.reset();
		await generate(parameters);
		expect(inlineRequests()[0].request).toEqual(realtime);
	});

	it('sends Number of Images as that many requests, numbered like realtime', async () => {
		const { outputs } = await generate({ prompt: 'a cat', numberOfImages: 2 });
		expect(inlineRequests().map((r) => r.metadata.key)).toEqual(['item0-1', 'item0-2']);
		expect(outputs[0].map((o) => [o.json.imageIndex, o.json.batchKey, o.pairedItem])).toEqual([
			[0, 'item0-1', { item: 0 }],
			[1, 'item0-2', { item: 0 }],
		]);
		expect(outputs[0].map((o) => o.binary!.data.fileName)).toEqual([
			expect.stringMatching(/-item0-1\.png$/),
			expect.stringMatching(/-item0-2\.png$/),
		]);
	});
});

describe('bad items fail before the job is sent', () => {
	const items = () => [
		{ json: { prompt: 'a harbour' } },
		{ json: { prompt: '  ' } },
		{ json: { prompt: 'a castle', ratio: '1:8' } },
		{ json: { prompt: 'a meadow' } },
	];
	const ratio = (_i: number, item: INodeExecutionData) => (item.json.ratio as string) ?? 'auto';

	it('under Continue On Fail: the bad items come out with their errors, the rest are one job', async () => {
		const { outputs } = await generate(
			{ aspectRatio: ratio, model: 'gemini-3-pro-image' },
			{ items: items(), continueOnFail: true },
		);
		expect(inlineRequests().map((r) => r.metadata.key)).toEqual(['item0', 'item3']);
		const out = outputs[0];
		expect(out.map((o) => o.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(out[1].json).toMatchObject({
			prompt: '  ',
			error: { message: 'The prompt is empty (item 1)' },
		});
		expect(out[2].json).toMatchObject({
			prompt: 'a castle',
			error: { message: expect.stringMatching(/does not support aspect ratio "1:8".*\(item 2\)/) },
		});
		expect(out[3].json).toMatchObject({
			batchKey: 'item3',
			prompt: 'a meadow',
			estimatedCostUsd: 0.067,
		});
	});

	it('without it: the node fails on the bad item and no job is created', async () => {
		const error = await failure(generate({ aspectRatio: ratio }, { items: items() }));
		expect(error.message).toBe('The prompt is empty (item 1)');
		expect(batchCreates()).toHaveLength(0);
		expect(sim.batches.count).toBe(0);
	});

	it('refuses an item with a Vertex AI only option by name, as realtime does, and sends the rest', async () => {
		const options = (i: number) => (i === 1 ? { personGeneration: 'ALLOW_ADULT' } : {});
		const { outputs } = await generate(
			{ options },
			{ items: promptItems('a', 'b', 'c'), continueOnFail: true },
		);
		expect(inlineRequests().map((r) => r.metadata.key)).toEqual(['item0', 'item2']);
		expect(outputs[0].map((o) => [o.pairedItem, o.json.width])).toEqual([
			[{ item: 0 }, 1024],
			[{ item: 1 }, undefined],
			[{ item: 2 }, 1024],
		]);
		expect(outputs[0][1].json.error).toMatchObject({
			message: '"People in Images (Vertex AI Only)" works only with Vertex AI (item 1)',
		});
	});

	it("refuses an item asking for another model than the job's", async () => {
		const model = (i: number) => (i === 1 ? 'gemini-3-pro-image' : 'gemini-3.1-flash-image');
		const { outputs } = await generate(
			{ model },
			{ items: promptItems('a', 'b', 'c'), continueOnFail: true },
		);
		expect(inlineRequests().map((r) => r.metadata.key)).toEqual(['item0', 'item2']);
		expect(outputs[0][1].json.error).toMatchObject({
			message: expect.stringMatching(
				/one job for one model: this item asks for gemini-3-pro-image, the job is for gemini-3.1-flash-image/,
			),
		});
	});
});

describe('a job Google refuses to create', () => {
	it('fails the node, or under Continue On Fail gives every item in it the error', async () => {
		const model = { __rl: true, mode: 'id', value: 'gemini-0-image' };
		const error = await failure(generate({ model }, { items: promptItems('a', 'b') }));
		expect(error.message).toMatch(/model gemini-0-image was not found.*\(item 0 and item 1\)/i);

		const { outputs } = await generate(
			{ model },
			{ items: [...promptItems('a', 'b'), { json: { prompt: '' } }], continueOnFail: true },
		);
		expect(
			outputs[0].map((o) => [o.pairedItem, (o.json.error as { message: string }).message]),
		).toEqual([
			[{ item: 0 }, expect.stringMatching(/model gemini-0-image was not found/i)],
			[{ item: 1 }, expect.stringMatching(/model gemini-0-image was not found/i)],
			[{ item: 2 }, 'The prompt is empty (item 2)'],
		]);
		expect(outputs[0][1].json.prompt).toBe('b');
	});
});

describe('per-request errors are item errors, routed as realtime failures', () => {
	const items = () =>
		promptItems(
			'a quiet bay',
			'forbidden [[sim:prompt-block:SAFETY]]',
			'words [[sim:text-only]]',
			'busy [[sim:429]]',
		);

	it('Continue (regular output): the source item with the error, in place', async () => {
		const { outputs } = await generate({}, { items: items(), onError: 'continueRegularOutput' });
		const out = outputs[0];
		expect(out).toHaveLength(4);
		expect(out[0].json.batchKey).toBe('item0');
		const job = out[0].json.batchJob as string;
		expect(out[1]).toMatchObject({
			json: {
				id: 1,
				prompt: 'forbidden [[sim:prompt-block:SAFETY]]',
				error: {
					message: expect.stringMatching(
						new RegExp(
							`blocked the prompt \\(SAFETY\\).* \\(request item1 of ${job}\\) \\(item 1\\)$`,
						),
					),
					reason: 'PROMPT_BLOCKED_SAFETY',
				},
			},
			pairedItem: { item: 1 },
		});
		expect(out[2].json.error).toMatchObject({
			message: expect.stringMatching(
				new RegExp(
					`answered with text instead of an image.* \\(request item2 of ${job}\\) \\(item 2\\)$`,
				),
			),
			reason: 'TEXT_ONLY',
		});
		expect(out[3].json.error).toMatchObject({
			message: expect.stringMatching(
				new RegExp(
					`refused this request of the batch \\(RESOURCE_EXHAUSTED\\).* \\(request item3 of ${job}\\) \\(item 3\\)$`,
				),
			),
			httpCode: '429',
		});
		expect(out.every((o) => !o.binary || !!o.json.width)).toBe(true);
	});

	it('Continue (using error output): error json only, so n8n moves it to the error output', async () => {
		const { outputs } = await generate({}, { items: items(), onError: 'continueErrorOutput' });
		expect(Object.keys(outputs[0][1].json)).toEqual(['error']);
		expect(outputs[0][2].json.error).toMatchObject({ reason: 'TEXT_ONLY' });
	});

	it('without Continue On Fail: the node fails naming the item and the job', async () => {
		const error = await failure(generate({}, { items: items() }));
		const [job] = (await sim.batches.list()) as Array<{ name: string }>;
		expect(error.message).toMatch(
			new RegExp(
				`blocked the prompt \\(SAFETY\\).* \\(request item1 of ${job.name}\\) \\(item 1\\)$`,
			),
		);
	});
});

describe('Submit Only, then Collect', () => {
	it('outputs one item with the job, and Collect writes each image with the submitted output settings', async () => {
		const submitted = await generate(
			{
				batchResults: 'submit',
				options: { binaryPropertyName: 'image', outputFormat: 'jpeg', fileName: 'poster' },
				imageSize: '2K',
			},
			{ items: promptItems('a fox', 'a hare') },
		);
		const [job] = submitted.outputs[0];
		expect(submitted.outputs[0]).toHaveLength(1);
		expect(job.json).toMatchObject({
			batchJob: expect.stringMatching(/^batches\//),
			state: 'PENDING',
			model: 'gemini-nano-banana-2.1',
			requestCount: 2,
			input: 'inline',
			estimatedCostUsd: 0.0504,
		});
		expect(job.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(job.binary).toBeUndefined();

		await settled(job.json.batchJob as string);
		const { outputs, store } = await collect([job]);
		const out = outputs[0];
		expect(out.map((o) => [o.json.batchKey, o.json.sourceItem, o.pairedItem])).toEqual([
			['item0', 0, { item: 0 }],
			['item1', 1, { item: 0 }],
		]);
		expect(out[1].json).toMatchObject({
			prompt: 'a hare',
			imageSize: '2K',
			// Nano Banana 2.1 at 2K in batch: half of $0.0504.
			estimatedCostUsd: 0.0252,
			mimeType: 'image/jpeg',
			provenance: { keptOriginalBytes: false },
		});
		expect(out[1].binary!.image.fileName).toBe('poster.jpg');
		expect((await sharp(store.get(out[1].binary!.image)).metadata()).format).toBe('jpeg');
		// The job was only created and read: no generateContent call, whatever Collect does.
		expect(sim.generateRequests).toHaveLength(0);
	});

	it('reads the job item back from a store that keeps the batch field as JSON text (a table column)', async () => {
		const submitted = await generate(
			{ batchResults: 'submit', options: { binaryPropertyName: 'image' } },
			{ items: promptItems('a fox') },
		);
		const [job] = submitted.outputs[0];
		await settled(job.json.batchJob as string);
		const stored = { json: { ...job.json, batch: JSON.stringify(job.json.batch) } };
		const { outputs } = await collect([stored]);
		expect(outputs[0]).toHaveLength(1);
		expect(outputs[0][0].json).toMatchObject({ batchKey: 'item0', prompt: 'a fox' });
		expect(Object.keys(outputs[0][0].binary!)).toEqual(['image']);
	});

	it('says a running job has no results yet, with its progress, and can wait for it', async () => {
		sim.setBatchDelay(3000);
		const { outputs } = await generate(
			{ batchResults: 'submit' },
			{ items: promptItems('one', 'two', 'three', 'four') },
		);
		await new Promise((resolve) => setTimeout(resolve, 1200));
		const error = await failure(collect(outputs[0]));
		expect(error.message).toMatch(
			/^Batch job batches\/\w+ is still RUNNING, [1-3] of 4 requests done: no results yet \(item 0\)$/,
		);
		expect(error.description).toMatch(/Run this node again later/);

		const waited = await collect(
			outputs[0],
			{},
			{ options: { waitMinutes: 1, pollIntervalSeconds: 0.05 } },
		);
		expect(waited.outputs[0].map((o) => o.json.batchKey)).toEqual([
			'item0',
			'item1',
			'item2',
			'item3',
		]);
	});

	it('routes per-request errors like realtime: error output, regular output, or the node fails naming the request', async () => {
		const { outputs } = await generate(
			{ batchResults: 'submit' },
			{ items: promptItems('a pond', 'refuse [[sim:text-only]]') },
		);
		await settled(outputs[0][0].json.batchJob as string);

		const viaErrorOutput = await collect(outputs[0], { onError: 'continueErrorOutput' });
		expect(viaErrorOutput.outputs[0][1]).toMatchObject({
			json: {
				error: {
					reason: 'TEXT_ONLY',
					message: expect.stringMatching(
						/text instead of an image.*\(request item1 of batches\/\w+, from item 1\)$/,
					),
					details: { batchKey: 'item1', sourceItem: 1, prompt: 'refuse [[sim:text-only]]' },
				},
			},
			pairedItem: { item: 0 },
		});
		expect(Object.keys(viaErrorOutput.outputs[0][1].json)).toEqual(['error']);

		const regular = await collect(outputs[0], { onError: 'continueRegularOutput' });
		expect(regular.outputs[0][1].json).toMatchObject({
			batchKey: 'item1',
			prompt: 'refuse [[sim:text-only]]',
			error: { reason: 'TEXT_ONLY' },
		});
		expect(regular.outputs[0][1].json.batch).toBeUndefined();
		expect(regular.outputs[0][0].json.width).toBe(1024);

		const error = await failure(collect(outputs[0]));
		expect(error.message).toMatch(/request item1 of batches\/\w+, from item 1/);
	});

	it('collects with only the job name, writing with the default output settings', async () => {
		const { outputs } = await generate(
			{ batchResults: 'submit', numberOfImages: 2 },
			{ items: promptItems('a wren') },
		);
		const name = outputs[0][0].json.batchJob as string;
		await settled(name);
		const collected = await collect([{ json: { stored: name } }], {}, { jobName: name });
		expect(
			collected.outputs[0].map((o) => [o.json.batchKey, o.json.imageIndex, Object.keys(o.binary!)]),
		).toEqual([
			['item0-1', 0, ['data']],
			['item0-2', 1, ['data']],
		]);
		expect(GeminiSim.promptOf(collected.store.get(collected.outputs[0][1].binary!.data))).toBe(
			'a wren',
		);
	});

	it('never polls without a pause, whatever the First Poll Interval evaluates to', async () => {
		sim.setBatchDelay(400);
		const { outputs } = await generate({ batchResults: 'submit' }, { items: promptItems('a') });
		const collected = await collect(
			outputs[0],
			{},
			{
				options: { waitMinutes: 0.1, pollIntervalSeconds: 0 },
			},
		);
		expect(collected.outputs[0]).toHaveLength(1);
		expect(sim.requests.filter((r) => r.action === 'getBatch').length).toBeLessThan(20);
	});

	it('a Max Wait that is not a number stops at the first poll instead of polling on', async () => {
		sim.setBatchDelay(60_000);
		const error = await failure(
			generate({
				prompt: 'a gull',
				batchOptions: { maxWaitMinutes: 'an hour', pollIntervalSeconds: 0 },
			}),
		);
		expect(error.message).toMatch(/^Batch job batches\/\w+ is still RUNNING after the Max Wait/);
		expect(sim.requests.filter((r) => r.action === 'getBatch')).toHaveLength(1);
	});

	it('a failed poll while waiting names the item whose job it is', async () => {
		const gone = await GeminiSim.start({ batchDelayMs: 0 });
		const submit = async () =>
			(
				await runNode(new NanoBananaGenerate(), {
					credentials: { apiKey: gone.apiKey, host: gone.url },
					items: promptItems('a'),
					parameters: { prompt: fromItem, executionMode: 'batch', batchResults: 'submit' },
				})
			).outputs[0][0];
		const done = await submit();
		await (gone.batches.get((done.json.batchJob as string).slice(8)) as Promise<unknown>);
		gone.setBatchDelay(60_000);
		const running = await submit();
		const stopWatching = afterPolls(gone, 3, () => void gone.stop());
		const error = await failure(
			runNode(new NanoBananaBatchResults(), {
				credentials: { apiKey: gone.apiKey, host: gone.url },
				items: [done, running],
				parameters: {
					jobName: (_i: number, item: INodeExecutionData) => item.json.batchJob,
					options: { waitMinutes: 0.5, pollIntervalSeconds: 0.02, maxAttempts: 1 },
				},
			}),
		).finally(stopWatching);
		expect(error.message).toMatch(
			new RegExp(`^Could not read batch job ${running.json.batchJob}: .*\\(item 1\\)$`),
		);
		expect(error.context?.itemIndex).toBe(1);
	});

	it("says a job's results file is gone, rather than blaming the Host", async () => {
		const { outputs } = await generate(
			{ batchResults: 'submit', batchOptions: { inlineBatchLimitMb: 0 } },
			{ items: promptItems('a') },
		);
		const name = outputs[0][0].json.batchJob as string;
		await settled(name);
		sim.files.delete(sim.files.list().find((f) => f.source === 'GENERATED')!.id);
		const error = await failure(collect(outputs[0]));
		expect(error.message).toMatch(
			new RegExp(
				`^Could not download the results of batch job ${name} \\(files/batch-${name.slice(8)}\\): .*\\(item 0\\)$`,
			),
		);
		expect(error.description).toMatch(/^The results file of the job is gone/);
		expect(error.description).not.toMatch(/Host/);
	});

	it('under Continue On Fail, a job whose results file is gone fails its own item; the next job still comes out', async () => {
		const submit = async (prompt: string) =>
			(
				await generate(
					{ batchResults: 'submit', batchOptions: { inlineBatchLimitMb: 0 } },
					{ items: promptItems(prompt) },
				)
			).outputs[0][0];
		const [gone, kept] = [await submit('a lost gull'), await submit('a kept tern')];
		await settled(gone.json.batchJob as string);
		await settled(kept.json.batchJob as string);
		const goneFile = `batch-${(gone.json.batchJob as string).slice(8)}`;
		sim.files.delete(goneFile);
		const { outputs } = await collect([gone, kept], { continueOnFail: true });
		expect(outputs[0]).toHaveLength(2);
		expect(outputs[0][0].json).toMatchObject({
			batchJob: gone.json.batchJob,
			error: {
				message: expect.stringMatching(
					`^Could not download the results of batch job ${gone.json.batchJob} \\(files/${goneFile}\\)`,
				),
			},
		});
		expect(outputs[0][0].pairedItem).toEqual({ item: 0 });
		expect(outputs[0][1].json).toMatchObject({ prompt: 'a kept tern', width: 1024 });
		expect(outputs[0][1].pairedItem).toEqual({ item: 1 });
	});

	it('names a job that does not exist', async () => {
		const error = await failure(collect([{ json: { batchJob: 'batches/nope' } }]));
		expect(error.message).toBe('Batch job batches/nope was not found (item 0)');
	});
});

describe('a job that ends before every request is answered', () => {
	it.each([
		[
			'BATCH_STATE_FAILED',
			1,
			/the batch job failed \(Quota for batch exhausted\.\) before this request was answered/,
		],
		['BATCH_STATE_CANCELLED', 2, /the batch job was cancelled before this request was answered/],
		['BATCH_STATE_EXPIRED', 0, /the batch job expired \(Google ends jobs not done within 48 h\)/],
	] as const)(
		'%s: the results it made are output, the others are item errors',
		async (state, completed, message) => {
			sim.batches.queueOutcomes({ state, completed, message: 'Quota for batch exhausted.' });
			const { outputs } = await generate(
				{ batchResults: 'submit' },
				{ items: promptItems('a', 'b', 'c') },
			);
			await settled(outputs[0][0].json.batchJob as string);
			const collected = await collect(outputs[0], { onError: 'continueRegularOutput' });
			const out = collected.outputs[0];
			expect(out).toHaveLength(3);
			expect(out.slice(0, completed).every((o) => o.json.width === 1024 && !o.json.error)).toBe(
				true,
			);
			const job = outputs[0][0].json.batchJob as string;
			for (const [n, item] of out.slice(completed).entries()) {
				expect(item.json.error).toMatchObject({
					message: expect.stringMatching(message),
					reason: `BATCH_${state.replace('BATCH_STATE_', '')}`,
				});
				expect((item.json.error as { message: string }).message).toContain(
					`(request item${completed + n} of ${job}, from item ${completed + n})`,
				);
			}
		},
	);

	it.each([
		[
			'BATCH_STATE_FAILED',
			0,
			/^No result for 2 of 2 requests of batch job batches\/\w+: the batch job failed \(Quota for batch exhausted\.\)/,
		],
		[
			'BATCH_STATE_EXPIRED',
			1,
			/^No result for 1 of 2 requests of batch job batches\/\w+: the batch job expired/,
		],
	] as const)(
		'collected by name only, %s with %i results: the requests without one are an error, not left out',
		async (state, completed, message) => {
			sim.batches.queueOutcomes({ state, completed, message: 'Quota for batch exhausted.' });
			const { outputs } = await generate(
				{ batchResults: 'submit' },
				{ items: promptItems('a', 'b') },
			);
			const name = outputs[0][0].json.batchJob as string;
			await settled(name);
			const stored = [{ json: { stored: name } }];
			const error = await failure(collect(stored, {}, { jobName: name }));
			expect(error.message).toMatch(message);
			expect(error.message).toMatch(/\(item 0\)$/);
			const collected = await collect(stored, { continueOnFail: true }, { jobName: name });
			const out = collected.outputs[0];
			expect(out).toHaveLength(completed + 1);
			expect(out.slice(0, completed).every((o) => o.json.width === 1024)).toBe(true);
			expect(out[completed]).toMatchObject({
				json: { batchJob: name, error: { message: expect.stringMatching(message) } },
				pairedItem: { item: 0 },
			});
		},
	);

	it.each([
		['BATCH_STATE_FAILED', /the batch job failed \(Batch job failed due to an internal error\.\)/],
		['BATCH_STATE_CANCELLED', /the batch job was cancelled/],
		['BATCH_STATE_EXPIRED', /the batch job expired/],
	] as const)(
		'in Wait mode too, %s: paired with the source items, naming the job and the request',
		async (state, why) => {
			sim.batches.queueOutcomes({ state, completed: 1 });
			const { outputs } = await generate(
				{},
				{ items: promptItems('a', 'b', 'c'), continueOnFail: true },
			);
			const out = outputs[0];
			expect(out[0].json.width).toBe(1024);
			const job = out[0].json.batchJob as string;
			expect(job).toMatch(/^batches\/\w+$/);
			for (const item of [1, 2]) {
				expect(out[item]).toMatchObject({
					json: { id: item, error: { message: expect.stringMatching(why) } },
					pairedItem: { item },
				});
				expect((out[item].json.error as { message: string }).message).toMatch(
					new RegExp(
						`^No result: .* before this request was answered \\(request item${item} of ${job}\\) \\(item ${item}\\)$`,
					),
				);
			}
		},
	);
});

describe('waiting is bounded', () => {
	it("polling a job many times leaves no listener on the execution's signal", async () => {
		// A job polled for hours must not pile listeners onto the one signal of its execution.
		sim.setBatchDelay(3000);
		const cancel = new AbortController();
		const warnings: string[] = [];
		const onWarning = (warning: Error) => warnings.push(warning.name);
		process.on('warning', onWarning);
		try {
			const { outputs } = await generate({ prompt: 'a heron' }, { cancelSignal: cancel.signal });
			expect(outputs[0]).toHaveLength(1);
		} finally {
			process.off('warning', onWarning);
		}
		expect(sim.requests.filter((r) => r.action === 'getBatch').length).toBeGreaterThan(10);
		expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0);
		expect(warnings).not.toContain('MaxListenersExceededWarning');
	});

	it('Max Wait: fails with the job name and leaves the job running', async () => {
		sim.setBatchDelay(60_000);
		const error = await failure(
			generate({ prompt: 'a gull', batchOptions: { maxWaitMinutes: 0.003 } }),
		);
		const name = /batch job (batches\/\w+)/i.exec(error.message)?.[1];
		expect(error.message).toMatch(
			/^Batch job batches\/\w+ is still RUNNING after the Max Wait of 0 min, 0 of 1 requests done$/,
		);
		expect(error.description).toContain(`the job name ${name}`);
		expect(sim.requests.filter((r) => r.action === 'cancelBatch')).toHaveLength(0);
		expect(
			((await sim.batches.get(name!.slice(8))) as { metadata: { state: string } }).metadata.state,
		).toBe('BATCH_STATE_RUNNING');
	});

	it('results not read under Continue On Fail: outputs the Submit Only item with the error, as Max Wait does', async () => {
		sim.batches.queueOutcomes({ state: 'BATCH_STATE_SUCCEEDED', resultsFileDeleted: true });
		const { outputs } = await generate(
			{ batchOptions: { inlineBatchLimitMb: 0 } },
			{ items: promptItems('a gull', 'a tern'), continueOnFail: true },
		);
		expect(outputs[0]).toHaveLength(1);
		const [job] = outputs[0];
		expect(job.json).toMatchObject({
			batchJob: expect.stringMatching(/^batches\//),
			error: {
				message: expect.stringMatching(/^Could not download the results of batch job batches\//),
				description: expect.stringMatching(/^The results file of the job is gone/),
				httpCode: '403',
			},
		});
		// without Continue On Fail the node fails with the same message
		sim.batches.queueOutcomes({ state: 'BATCH_STATE_SUCCEEDED', resultsFileDeleted: true });
		const error = await failure(
			generate({ batchOptions: { inlineBatchLimitMb: 0 } }, { items: promptItems('a gull') }),
		);
		expect(error.message).toMatch(/^Could not download the results of batch job batches\//);
	});

	it('Max Wait under Continue On Fail: outputs the Submit Only item with the error, for a later Collect', async () => {
		sim.setBatchDelay(1500);
		const { outputs } = await generate(
			{ batchOptions: { maxWaitMinutes: 0.001 } },
			{ items: promptItems('a tern'), continueOnFail: true },
		);
		const [job] = outputs[0];
		expect(job.json).toMatchObject({
			batchJob: expect.any(String),
			error: { message: expect.stringMatching(/Max Wait/) },
		});
		await settled(job.json.batchJob as string);
		expect((await collect([job])).outputs[0][0].json).toMatchObject({
			prompt: 'a tern',
			width: 1024,
		});
	});

	it('a poll that fails after the job was created names the job, which keeps running, for a later Collect', async () => {
		const gone = await GeminiSim.start({ batchDelayMs: 60_000 });
		const stopWatching = afterPolls(gone, 1, () => void gone.stop());
		const error = await failure(
			runNode(new NanoBananaGenerate(), {
				credentials: { apiKey: gone.apiKey, host: gone.url },
				items: promptItems('a gull'),
				parameters: {
					prompt: fromItem,
					executionMode: 'batch',
					batchOptions: fastPolls,
					options: { maxAttempts: 1 },
				},
			}),
		).finally(stopWatching);
		const name = gone.requests.find((r) => r.action === 'batchGenerateContent')
			? ((await gone.batches.list()) as Array<{ name: string }>)[0].name
			: undefined;
		expect(name).toMatch(/^batches\/\w+$/);
		expect(error.message).toContain(`batch job ${name}`);
		expect(error.message).toMatch(/Could not reach the Gemini API/);
		expect(error.description).toContain(`the job name ${name}`);
	});

	it('a cancelled execution stops polling and asks Google to cancel the job', async () => {
		sim.setBatchDelay(60_000);
		// Cancelling takes Google a while: the job is still cancelling when the node is done.
		sim.setBatchCancelDelay(60_000);
		const cancel = abortWhilePolling(new Error('cancelled by the user'));
		const error = await failure(generate({ prompt: 'a gull' }, { cancelSignal: cancel.signal }));
		expect(error.message).toMatch(
			/^The execution was cancelled while waiting for batch job batches\/\w+$/,
		);
		const [job] = (await sim.batches.list()) as Array<{
			name: string;
			metadata: { state: string };
		}>;
		expect(error.description).toMatch(/^Google was asked to cancel the job too/);
		expect(error.description).toContain(`Batch Results node and the job name ${job.name}`);
		const polls = sim.requests.filter((r) => r.action === 'getBatch').length;
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(sim.requests.filter((r) => r.action === 'getBatch')).toHaveLength(polls);
		expect(sim.requests.filter((r) => r.action === 'cancelBatch')).toHaveLength(1);
		expect(sim.stats().batches).toBe(1);
		expect(job.metadata.state).toBe('BATCH_STATE_CANCELLING');
	});

	it('waits through a cancel made elsewhere, then outputs what was answered before it and names the job in the others', async () => {
		// Margins for a busy machine: the cancel comes a third into the job's run, so one to three
		// of its four requests are answered by then.
		sim.setBatchDelay(6000);
		sim.setBatchCancelDelay(300);
		let timer: NodeJS.Timeout | undefined;
		const stopWatching = afterPolls(sim, 1, () => {
			timer = setTimeout(() => {
				void (sim.batches.list() as Promise<Array<{ name: string }>>).then(([job]) =>
					sim.batches.cancel(job.name.slice(8)),
				);
			}, 2000);
		});
		try {
			const { outputs } = await generate(
				{},
				{ items: promptItems('a', 'b', 'c', 'd'), continueOnFail: true },
			);
			const out = outputs[0];
			const [job] = (await sim.batches.list()) as Array<{ name: string; error: object }>;
			expect(job.error).toMatchObject({ code: 1 });
			expect(out.map((o) => o.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
			const answered = out.filter((o) => !o.json.error).length;
			expect(answered).toBeGreaterThanOrEqual(1);
			expect(answered).toBeLessThan(4);
			for (const [n, item] of out.entries()) {
				if (n < answered) expect(item.json).toMatchObject({ batchKey: `item${n}`, width: 1024 });
				else
					expect((item.json.error as { message: string }).message).toBe(
						`No result: the batch job was cancelled before this request was answered (request item${n} of ${job.name}) (item ${n})`,
					);
			}
		} finally {
			stopWatching();
			clearTimeout(timer);
		}
	});

	it('leaves the job running when Cancel Job When Stopped is off', async () => {
		sim.setBatchDelay(60_000);
		const cancel = abortWhilePolling();
		const error = await failure(
			generate(
				{ prompt: 'a gull', batchOptions: { cancelJobOnStop: false } },
				{ cancelSignal: cancel.signal },
			),
		);
		expect(error.description).toMatch(/keeps running at Google/);
		expect(sim.requests.filter((r) => r.action === 'cancelBatch')).toHaveLength(0);
	});
});

describe('large jobs go through the Files API as JSONL', () => {
	it('uploads the requests as a file and streams the results back from one', async () => {
		const before = new Set(leftoverTempDirs());
		const { outputs, store } = await generate(
			{ batchOptions: { inlineBatchLimitMb: 0 } },
			{ items: promptItems('a plum', 'a pear', 'a fig') },
		);
		const create = batchCreates()[0];
		expect(create.body.batch.inputConfig).toEqual({ fileName: expect.stringMatching(/^files\//) });
		expect(sim.requests.map((r) => r.action)).toEqual(
			expect.arrayContaining(['uploadFile', 'uploadChunk', 'downloadFile']),
		);
		// The results file, named after the job, from the media download path Google serves it at.
		const job = outputs[0][0].json.batchJob as string;
		const download = sim.requests.find((r) => r.action === 'downloadFile')!;
		expect(download).toMatchObject({
			path: `/download/v1beta/files/batch-${job.slice(8)}:download`,
			query: { alt: 'media' },
			status: 200,
		});
		const uploaded = sim.files.list().find((f) => f.source === 'UPLOADED')!;
		const lines = uploaded.data
			.toString('utf8')
			.trim()
			.split('\n')
			.map((line) => JSON.parse(line));
		expect(lines.map((l) => l.key)).toEqual(['item0', 'item1', 'item2']);
		expect(lines[1].request.contents[0].parts[0].text).toBe('a pear');
		expect(outputs[0].map((o) => GeminiSim.promptOf(store.get(o.binary!.data)))).toEqual([
			'a plum',
			'a pear',
			'a fig',
		]);
		expect(outputs[0][2].json).toMatchObject({ batchKey: 'item2', estimatedCostUsd: 0.0168 });
		// The request and result files on disk are gone once the node is done.
		expect(leftoverTempDirs().filter((name) => !before.has(name))).toEqual([]);
	});

	describe('when the Files API refuses the JSONL MIME type', () => {
		afterEach(() => sim.refuseUploadMimeTypes([]));
		const uploads = () =>
			sim.requests
				.filter((r) => r.action === 'uploadFile')
				.map((r) => [r.headers['x-goog-upload-header-content-type'], r.status]);

		it('uploads once more as text/plain, and the job runs', async () => {
			sim.refuseUploadMimeTypes(['application/jsonl']);
			const { outputs, store } = await generate(
				{ batchOptions: { inlineBatchLimitMb: 0 } },
				{ items: promptItems('a plum', 'a pear') },
			);
			expect(uploads()).toEqual([
				['application/jsonl', 400],
				['text/plain', 200],
			]);
			const input = sim.files.list().find((f) => f.source === 'UPLOADED')!;
			expect(input.mimeType).toBe('text/plain');
			expect(batchCreates()[0].body.batch.inputConfig).toEqual({ fileName: `files/${input.id}` });
			expect(outputs[0].map((o) => GeminiSim.promptOf(store.get(o.binary!.data)))).toEqual([
				'a plum',
				'a pear',
			]);
		});

		it("fails with Google's words when text/plain is refused too, and sends no job", async () => {
			sim.refuseUploadMimeTypes(['application/jsonl', 'text/plain']);
			const error = await failure(
				generate(
					{ batchOptions: { inlineBatchLimitMb: 0 } },
					{ items: promptItems('a plum', 'a pear') },
				),
			);
			expect(error.message).toMatch(/Unsupported MIME type: text\/plain \(item 0 and item 1\)$/);
			expect(uploads()).toEqual([
				['application/jsonl', 400],
				['text/plain', 400],
			]);
			expect(batchCreates()).toHaveLength(0);
		});
	});

	it('moves to a file once the inline limit is passed, and keeps per-request errors by key', async () => {
		const prompts = Array.from({ length: 12 }, (_, n) =>
			n === 7
				? `refuse ${'x'.repeat(20_000)} [[sim:text-only]]`
				: `tile ${n} ${'y'.repeat(20_000)}`,
		);
		const { outputs } = await generate(
			{ batchOptions: { inlineBatchLimitMb: 0.2 } },
			{ items: promptItems(...prompts), continueOnFail: true },
		);
		expect(batchCreates()[0].body.batch.inputConfig.fileName).toMatch(/^files\//);
		expect(outputs[0]).toHaveLength(12);
		expect(outputs[0].filter((o) => o.json.error).map((o) => o.pairedItem)).toEqual([{ item: 7 }]);
		expect(outputs[0][11].json.batchKey).toBe('item11');
	});
});

describe('Edit and Fuse in Batch mode', () => {
	const editNode = new NanoBananaEdit();
	const upload = async (store: BinaryStore, name: string, json = {}) =>
		await store.binaryItem(json, {
			data: { data: photo(name), fileName: name, mimeType: 'image/jpeg' },
		});

	it('Edit: the photo is stripped of GPS and fitted as in realtime; Step by Step and the region lock are refused per item', async () => {
		const store = new BinaryStore();
		const items = [
			await upload(store, 'sunrise_gps.jpg', { n: 0 }),
			await upload(store, 'man.jpg', { n: 1 }),
			await upload(store, 'man.jpg', { n: 2 }),
		];
		const mode = (i: number) => (i === 1 ? 'steps' : 'single');
		const { outputs } = await runNode(editNode, {
			credentials: credentials(),
			items,
			binaryStore: store,
			continueOnFail: true,
			parameters: {
				executionMode: 'batch',
				batchOptions: fastPolls,
				mode,
				prompt: 'Add a sailboat',
				steps: { values: [{ instruction: 'a' }, { instruction: 'b' }] },
				options: (i: number) => (i === 2 ? { maskBinaryProperty: 'data' } : {}),
			},
		});
		expect(inlineRequests().map((r) => r.metadata.key)).toEqual(['item0']);
		const sent = Buffer.from(
			inlineRequests()[0].request.contents[0].parts.find((p) => p.inlineData)!.inlineData!.data,
			'base64',
		);
		expect((await sharp(sent).metadata()).exif).toBeUndefined();
		const out = outputs[0];
		expect(out[0].json).toMatchObject({
			mode: 'single',
			prompt: 'Add a sailboat',
			input: { metadataStripped: true },
			aspectRatio: 'keep',
			estimatedCostUsd: 0.0168,
			batchKey: 'item0',
		});
		expect(out[0].binary!.editSource).toBeUndefined();
		expect(out[1].json.error).toMatchObject({
			message: expect.stringMatching(/^Step by Step is not available in Batch mode/),
		});
		expect(out[2].json.error).toMatchObject({
			message: expect.stringMatching(/^The region lock .* is not available in Batch mode/),
		});
	});

	it('Fuse gathering all items: one request, keyed by the first item, paired with every source', async () => {
		const store = new BinaryStore();
		const items = [await upload(store, 'man.jpg'), await upload(store, 'sunrise_gps.jpg')];
		const { outputs } = await runNode(new NanoBananaFuse(), {
			credentials: credentials(),
			items,
			binaryStore: store,
			parameters: {
				executionMode: 'batch',
				batchResults: 'submit',
				source: 'allItems',
				prompt: 'Put the man on the beach',
			},
		});
		const [job] = outputs[0];
		expect(job.json).toMatchObject({ requestCount: 1, input: 'inline' });
		expect(job.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(inlineRequests()[0].request.contents[0].parts.filter((p) => p.inlineData)).toHaveLength(
			2,
		);
		await settled(job.json.batchJob as string);
		const collected = await collect([job]);
		expect(collected.outputs[0][0].json).toMatchObject({
			batchKey: 'item0',
			sourceItem: [0, 1],
			prompt: 'Put the man on the beach',
			source: 'allItems',
		});
	});
});
