/**
 * The models and data rules Google has today, end to end through the nodes and the real SDK:
 * the defaults exist and are served, a retired id is told as such, requests are not stored at
 * Google unless the user says so, and what the catalogue does not know is sent as is.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import type { IDataObject, ILoadOptionsFunctions, INodeExecutionData } from 'n8n-workflow';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import {
	searchImageModels,
	searchJudgeModels,
} from '../../nodes/shared/skeleton/methods/listSearch';
import { findSimModel, GeminiSim } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const photo = readFileSync(join(__dirname, '..', 'fixtures', 'photos', 'man.jpg'));
const credentials = () => ({ apiKey: sim.apiKey, host: sim.url });
const model = (id: string) => ({ __rl: true, mode: 'id', value: id });
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => Promise.reject(new Error('expected a failure')),
		(e: Error & { description?: string }) => e,
	);
const generateCalls = () => sim.generateRequests.filter((r) => r.action === 'generateContent');

async function withPhoto(count = 1): Promise<{ items: INodeExecutionData[]; store: BinaryStore }> {
	const store = new BinaryStore();
	const items = await Promise.all(
		Array.from({ length: count }, (_, n) =>
			store.binaryItem(
				{ n, prompt: 'a man by the sea' },
				{ data: { data: photo, fileName: 'man.jpg', mimeType: 'image/jpeg' } },
			),
		),
	);
	return { items, store };
}

/** Each image node once, with what it needs and any extra parameters. */
const imageNodes: Array<[string, (parameters: RunOptions['parameters']) => Promise<unknown>]> = [
	[
		'Generate',
		(parameters) =>
			runNode(new NanoBananaGenerate(), {
				credentials: credentials(),
				parameters: { prompt: 'a yellow banana', ...parameters },
			}),
	],
	[
		'Edit',
		async (parameters) => {
			const { items, store } = await withPhoto();
			return runNode(new NanoBananaEdit(), {
				credentials: credentials(),
				parameters: { prompt: 'make it night', ...parameters },
				items,
				binaryStore: store,
			});
		},
	],
	[
		'Fuse',
		async (parameters) => {
			const { items, store } = await withPhoto(2);
			return runNode(new NanoBananaFuse(), {
				credentials: credentials(),
				parameters: { prompt: 'both men on one beach', source: 'allItems', ...parameters },
				items,
				binaryStore: store,
			});
		},
	],
];

describe('defaults that exist', () => {
	it.each(imageNodes)(
		'a new %s node makes its image with Nano Banana 2.1, priced',
		async (_, run) => {
			const { outputs } = (await run({})) as { outputs: INodeExecutionData[][] };
			const calls = generateCalls();
			expect(calls.map((c) => [c.model, c.status])).toEqual([['gemini-nano-banana-2.1', 200]]);
			expect(outputs[0][0].json).toMatchObject({
				model: 'gemini-nano-banana-2.1',
				modelStatus: 'active',
				estimatedCostUsd: 0.0336,
			});
		},
	);

	it('a Generate node saved at version 1 keeps the model it was saved with (the default then)', async () => {
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: credentials(),
			parameters: { prompt: 'a yellow banana' },
			typeVersion: 1,
		});
		expect(generateCalls().map((c) => c.model)).toEqual(['gemini-3.1-flash-image']);
		expect(outputs[0][0].json).toMatchObject({
			model: 'gemini-3.1-flash-image',
			modelStatus: 'deprecated',
		});
	});

	it("Verify's judge is gemini-3.8-flash by default, and judges", async () => {
		const { items, store } = await withPhoto();
		const { outputs } = await runNode(new NanoBananaVerify(), {
			credentials: credentials(),
			parameters: { prompt: 'a man by the sea' },
			items,
			binaryStore: store,
		});
		const judged = [...outputs[0], ...outputs[1]];
		expect(judged).toHaveLength(1);
		expect(generateCalls().map((c) => [c.model, c.status])).toEqual([['gemini-3.8-flash', 200]]);
		const report = judged[0].json.verification as IDataObject;
		expect(report.judgeModel).toBe('gemini-3.8-flash');
		expect(report.estimatedCostUsd).toEqual(expect.any(Number));
	});
});

describe('a model Google no longer serves', () => {
	it('is sent (Google gives the earliest dates), and its 404 says when it went and what to use', async () => {
		const error = await failure(
			runNode(new NanoBananaGenerate(), {
				credentials: credentials(),
				parameters: { prompt: 'a pear', model: model('gemini-2.5-flash-image') },
			}),
		);
		expect(generateCalls().map((c) => c.status)).toEqual([404]);
		expect(error.message).toBe(
			'The model gemini-2.5-flash-image was not found: Google shut it down on 2026-10-02; use gemini-nano-banana-2.1 instead. (item 0)',
		);
		expect(error.description).toMatch(/^Google said: models\/gemini-2\.5-flash-image is not found/);
	});

	it('a judge saved with the old default gemini-3-flash is told to use gemini-3.8-flash', async () => {
		const { items, store } = await withPhoto();
		const { outputs } = await runNode(new NanoBananaVerify(), {
			credentials: credentials(),
			parameters: { prompt: 'a man', judgeModel: model('gemini-3-flash') },
			items,
			binaryStore: store,
			onError: 'continueRegularOutput',
		});
		const failed = outputs[1][0].json.error as IDataObject;
		expect(failed.message).toMatch(
			/^The model gemini-3-flash was not found: Google does not serve it \(never a Gemini API model id.*\); use gemini-3\.8-flash instead\./,
		);
	});

	it('an id nobody knows keeps the plain not-found message', async () => {
		const error = await failure(
			runNode(new NanoBananaGenerate(), {
				credentials: credentials(),
				parameters: { prompt: 'a pear', model: model('gemini-9-image') },
			}),
		);
		expect(error.message).toMatch(
			/^The model gemini-9-image was not found: models\/gemini-9-image is not found for API version v1beta/,
		);
	});
});

describe('an id the catalogue does not know', () => {
	beforeEach(() =>
		sim.addModel({
			...findSimModel('gemini-nano-banana-2.1')!,
			id: 'gemini-nano-banana-3',
			displayName: 'Nano Banana 3',
		}),
	);

	it('is sent as is, with no client-side checks and no price, and says so', async () => {
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: credentials(),
			parameters: { prompt: 'a pear', model: model('gemini-nano-banana-3'), aspectRatio: '4:1' },
		});
		expect(generateCalls()[0].body.generationConfig.imageConfig).toEqual({
			aspectRatio: '4:1',
			imageSize: '1K',
		});
		expect(outputs[0][0].json).toMatchObject({
			model: 'gemini-nano-banana-3',
			modelStatus: 'unknown',
			estimatedCostUsd: null,
		});
	});

	it('shows in the image model list with what that means, and not in the judge list', async () => {
		const context = {
			getCredentials: async () => credentials(),
			getNode: () => ({ name: 'Nano Banana Generate' }),
		} as unknown as ILoadOptionsFunctions;
		const images = (await searchImageModels.call(context)).results;
		expect(images.map((m) => m.value)).toEqual([
			'gemini-nano-banana-2.1',
			'gemini-3.1-flash-image',
			'gemini-3-pro-image',
			'gemini-3.1-flash-lite-image',
			'gemini-nano-banana-3',
		]);
		expect(images[1].name).toBe(
			'Nano Banana 2 (gemini-3.1-flash-image) - deprecated 2026-10-06, use gemini-nano-banana-2.1',
		);
		expect(images[4]).toMatchObject({
			name: 'Nano Banana 3 (gemini-nano-banana-3)',
			description: expect.stringMatching(/no checks before sending and no price estimate/),
		});
		const judges = (await searchJudgeModels.call(context)).results.map((m) => m.value);
		expect(judges[0]).toBe('gemini-3.8-flash');
		expect(judges).toEqual(expect.arrayContaining(['gemini-3.5-flash-lite', 'gemini-3.6-flash']));
		expect(judges.filter((id) => /image|banana/.test(String(id)))).toEqual([]);
	});
});

describe('requests are not stored at Google unless the user says so', () => {
	const storeFields = (calls: RecordedRequest[]) => calls.map((c) => c.body.store);

	it.each(imageNodes)('%s sends store: false, and Google keeps nothing', async (_, run) => {
		await run({});
		expect(storeFields(generateCalls())).toEqual([false]);
		expect(sim.storedLogs).toEqual([]);
	});

	it.each(imageNodes)(
		'%s with Let Google Keep Requests sends store: true, and Google keeps it',
		async (_, run) => {
			await run({ options: { storeRequests: true } });
			expect(storeFields(generateCalls())).toEqual([true]);
			expect(sim.storedLogs).toHaveLength(1);
		},
	);

	it("Verify's judge request too", async () => {
		const { items, store } = await withPhoto();
		await runNode(new NanoBananaVerify(), {
			credentials: credentials(),
			parameters: { prompt: 'a man' },
			items,
			binaryStore: store,
		});
		expect(storeFields(generateCalls())).toEqual([false]);
		expect(sim.storedLogs).toEqual([]);
	});

	it.each([
		['inline', {}],
		['as a JSONL file', { inlineBatchLimitMb: 0 }],
	])('Batch mode, %s: every request of the job says store: false', async (_, batchOptions) => {
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: credentials(),
			parameters: {
				prompt: (_i: number, item: INodeExecutionData) => item.json.prompt,
				executionMode: 'batch',
				batchOptions: { pollIntervalSeconds: 0.02, ...batchOptions },
			},
			items: [{ json: { prompt: 'a pear' } }, { json: { prompt: 'a plum' } }],
		});
		expect(outputs[0]).toHaveLength(2);
		expect(sim.storedLogs).toEqual([]);
		expect(batchRequests().map((r) => r.store)).toEqual([false, false]);
	});

	/** The requests of the job, as sent: inline in the create call, or lines of the uploaded file. */
	function batchRequests(): IDataObject[] {
		const create = sim.requests.find((r) => r.action === 'batchGenerateContent')!;
		const inline = create.body.batch.inputConfig.requests?.requests as
			Array<{ request: IDataObject }> | undefined;
		if (inline) return inline.map((r) => r.request);
		const [file] = sim.files.list();
		return file.data
			.toString('utf8')
			.trim()
			.split('\n')
			.map((line) => (JSON.parse(line) as { request: IDataObject }).request);
	}

	it('Vertex AI is sent no store field (it has none; its logging is a BigQuery opt-in)', async () => {
		await runNode(new NanoBananaGenerate(), {
			credentials: {
				authentication: 'vertexExpress',
				apiKey: sim.expressApiKey,
				vertexHost: sim.url,
			},
			parameters: { prompt: 'a pear', options: { storeRequests: true } },
		});
		const [call] = generateCalls();
		expect(call.status).toBe(200);
		expect(call.path).toMatch(/^\/v1beta1\/publishers\/google\/models\//);
		expect('store' in call.body).toBe(false);
		expect(sim.storedLogs).toEqual([]);
	});

	it('a project made before 2026-10-26 keeps nothing either way, as Google says', async () => {
		sim.setStoreByDefault(false);
		await imageNodes[0][1]({});
		expect(sim.storedLogs).toEqual([]);
	});
});

describe('settings checked against the model', () => {
	const generate = (parameters: RunOptions['parameters']) =>
		runNode(new NanoBananaGenerate(), {
			credentials: credentials(),
			parameters: { prompt: 'a pear', ...parameters },
		});

	it('Nano Banana 2.1 takes the Medium thinking level; Nano Banana 2 refuses it before sending', async () => {
		await generate({ options: { thinkingLevel: 'medium' } });
		expect(generateCalls()[0].body.generationConfig.thinkingConfig).toEqual({
			thinkingLevel: 'MEDIUM',
		});
		const error = await failure(
			generate({ model: model('gemini-3.1-flash-image'), options: { thinkingLevel: 'medium' } }),
		);
		expect(error.message).toBe(
			'Nano Banana 2 (gemini-3.1-flash-image) does not support thinking level "medium". Supported: Minimal, High. (item 0)',
		);
		expect(generateCalls()).toHaveLength(1);
	});

	it('Nano Banana 2.1 makes no 512 image: refused before sending', async () => {
		const error = await failure(generate({ imageSize: '512' }));
		expect(error.message).toBe(
			'Nano Banana 2.1 (gemini-nano-banana-2.1) does not support image size "512". Supported: 1K, 2K, 4K. (item 0)',
		);
		expect(generateCalls()).toHaveLength(0);
	});

	it('9:21 is refused on the Gemini API, naming Vertex AI', async () => {
		const error = await failure(
			generate({ model: model('gemini-3.1-flash-image'), aspectRatio: '9:21' }),
		);
		expect(error.message).toMatch(
			/^"Aspect Ratio 9:21 \(Vertex AI Only\)" works only with Vertex AI/,
		);
		expect(generateCalls()).toHaveLength(0);
	});

	it.each([
		[2147483647, 2147483647],
		[12.6, 13],
	])('seed %p is sent as %p', async (seed, sent) => {
		await generate({ options: { seed } });
		expect(generateCalls()[0].body.generationConfig.seed).toBe(sent);
	});

	it.each([2147483648, -5, 'abc'])('seed %p is refused with the range', async (seed) => {
		const error = await failure(generate({ options: { seed } }));
		expect(error.message).toBe(
			`Seed ${seed} is not a whole number from 1 to 2147483647. Use such a number, or 0 for a random seed. (item 0)`,
		);
		expect(generateCalls()).toHaveLength(0);
	});
});
