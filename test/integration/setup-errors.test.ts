/**
 * What fails before the first request (the credential's Host, a back end that cannot take the job,
 * settings read from item 0) fails every item, through the runner's one error path, in every node
 * and both execution modes: under "Continue (regular output)" each item comes out with its json and
 * binary plus json.error, under "Continue (using error output)" each item is routed there, and
 * without Continue the node stops. No item ever leaves unchanged. Against the simulator over HTTP,
 * which must see no request at all.
 */
import type { IDataObject, INodeExecutionData, INodeType } from 'n8n-workflow';

import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import { GeminiSim } from '../gemini-sim';
import { solidPng } from '../gemini-sim/testkit';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

jest.mock('@contentauth/c2pa-wasm', () =>
	jest.requireActual('../unit/provenance-helpers').c2paWasmFromNode(),
);

let sim: GeminiSim;
beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const PASSWORD = 'Pw#1@x%20 y';
/** A Host whose password holds '#', '@', '%' and a space: it does not parse as a URL. */
const badHost = () => ({
	apiKey: sim.apiKey,
	host: `http://proxy-user:${PASSWORD}@127.0.0.1:${new URL(sim.url).port}/v1beta/`,
});
const vertexExpress = () => ({
	authentication: 'vertexExpress',
	apiKey: 'express-key',
	vertexHost: sim.url,
});

interface NodeCase {
	name: string;
	node: INodeType;
	parameters: RunOptions['parameters'];
	/** Where a failed item goes: Verify's Fail output, else the only one. */
	outputs: number;
	failedOutput: number;
}

const NODES: NodeCase[] = [
	{ name: 'Generate', node: new NanoBananaGenerate(), parameters: {}, outputs: 1, failedOutput: 0 },
	{ name: 'Edit', node: new NanoBananaEdit(), parameters: {}, outputs: 1, failedOutput: 0 },
	{
		name: 'Fuse (each item)',
		node: new NanoBananaFuse(),
		parameters: { binaryPropertyNames: 'data, room' },
		outputs: 1,
		failedOutput: 0,
	},
	{
		name: 'Fuse (all items together)',
		node: new NanoBananaFuse(),
		parameters: { source: 'allItems', binaryPropertyNames: 'data, room' },
		outputs: 1,
		failedOutput: 0,
	},
	{
		name: 'Verify (AI judge)',
		node: new NanoBananaVerify(),
		parameters: {},
		outputs: 2,
		failedOutput: 1,
	},
	{
		name: 'Batch Results',
		node: new NanoBananaBatchResults(),
		parameters: { jobName: (_i: number, item: INodeExecutionData) => item.json.batchJob },
		outputs: 1,
		failedOutput: 0,
	},
];
const BATCH_NODES = NODES.filter((c) => /^(Generate|Edit|Fuse)/.test(c.name));

/** Three items, each with its own json and two images of its own. */
async function threeItems(store: BinaryStore): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	for (let i = 0; i < 3; i++) {
		const colour = { r: 40 * i, g: 120, b: 200 };
		items.push(
			await store.binaryItem(
				{ n: i, prompt: `Setup error ${i}: a lighthouse`, batchJob: `batches/job${i}` },
				{
					data: {
						data: await solidPng(32, 24, colour),
						fileName: `in${i}.png`,
						mimeType: 'image/png',
					},
					room: {
						data: await solidPng(24, 32, colour),
						fileName: `room${i}.png`,
						mimeType: 'image/png',
					},
				},
			),
		);
	}
	return items;
}

type Mode = 'continueRegularOutput' | 'continueErrorOutput';

async function run(
	nodeCase: NodeCase,
	onError: Mode | 'stopWorkflow',
	credentials: IDataObject,
	parameters: RunOptions['parameters'] = {},
) {
	const store = new BinaryStore();
	const items = await threeItems(store);
	const result = runNode(nodeCase.node, {
		credentials,
		items,
		binaryStore: store,
		onError,
		parameters: {
			prompt: (_i: number, item: INodeExecutionData) => item.json.prompt,
			...nodeCase.parameters,
			...parameters,
		},
	});
	return { items, result };
}

/** Every input item came out of the failed output, in order, with its error; none unchanged. */
async function expectEveryItemFailed(
	nodeCase: NodeCase,
	mode: Mode,
	message: RegExp,
	credentials: IDataObject,
	parameters: RunOptions['parameters'] = {},
	describes?: RegExp,
) {
	const { items, result } = await run(nodeCase, mode, credentials, parameters);
	const { outputs } = await result;
	expect(outputs).toHaveLength(nodeCase.outputs);
	outputs.forEach((output, k) => {
		if (k !== nodeCase.failedOutput) expect(output).toEqual([]);
	});
	const failed = outputs[nodeCase.failedOutput];
	expect(failed.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	failed.forEach((item, i) => {
		const error = item.json.error as IDataObject;
		expect(error.message).toMatch(message);
		expect(error.message).toMatch(new RegExp(`\\(item ${i}\\)$`));
		if (describes) expect(error.description).toMatch(describes);
		// Its own images go on with it, untouched.
		expect(item.binary).toEqual(items[i].binary);
		if (mode === 'continueRegularOutput') {
			// (Verify adds what its checks found: a judge that could not be asked.)
			expect(item.json).toMatchObject({ ...items[i].json, error });
		} else {
			// Only `error`: n8n moves such an item to the error output and puts its json back.
			expect(Object.keys(item.json)).toEqual(['error']);
		}
	});
	expect(sim.requests).toHaveLength(0);
	return failed;
}

const MODES: Mode[] = ['continueRegularOutput', 'continueErrorOutput'];

describe.each(NODES)('$name, Realtime: an unusable Host', (nodeCase) => {
	it.each(MODES)('under %s, every item fails with it', async (mode) => {
		const failed = await expectEveryItemFailed(
			nodeCase,
			mode,
			/^The credential's Host is not usable: .*user name or password/,
			badHost(),
			{},
			/correct the Host field/,
		);
		// No part of the password is repeated anywhere.
		const text = JSON.stringify(failed.map((item) => item.json));
		for (const part of ['Pw', '#1', '@x', '%20', ' y', 'proxy-user'])
			expect(text).not.toContain(part);
	});

	it('without Continue, the node stops with it', async () => {
		const { result } = await run(nodeCase, 'stopWorkflow', badHost());
		const error = await result.then(
			() => Promise.reject(new Error('expected the node to stop')),
			(e: Error & { description?: string }) => e,
		);
		expect(error.message).toMatch(/^The credential's Host is not usable: .*\(item 0\)$/);
		expect(error.description).toMatch(/correct the Host field/);
		expect(sim.requests).toHaveLength(0);
	});
});

describe.each(BATCH_NODES)('$name, Batch mode', (nodeCase) => {
	const batch = { executionMode: 'batch', batchOptions: { pollIntervalSeconds: 0.02 } };

	it.each(MODES)('under %s, an unusable Host fails every item', async (mode) => {
		await expectEveryItemFailed(
			nodeCase,
			mode,
			/^The credential's Host is not usable/,
			badHost(),
			batch,
			/correct the Host field/,
		);
	});

	it.each(MODES)(
		'under %s, a Vertex AI credential (no Batch API) fails every item',
		async (mode) => {
			await expectEveryItemFailed(
				nodeCase,
				mode,
				/^Batch mode needs a Gemini API key credential/,
				vertexExpress(),
				batch,
				/Set Execution Mode to Realtime/,
			);
		},
	);

	it('without Continue, a Vertex AI credential stops the node', async () => {
		const { result } = await run(nodeCase, 'stopWorkflow', vertexExpress(), batch);
		await expect(result).rejects.toThrow(
			/^Batch mode needs a Gemini API key credential.*\(item 0\)$/,
		);
		expect(sim.requests).toHaveLength(0);
	});
});

describe('Batch Results with a Vertex AI credential', () => {
	const nodeCase = NODES.find((c) => c.name === 'Batch Results')!;
	it.each(MODES)('under %s, every item fails with the credential to select', async (mode) => {
		await expectEveryItemFailed(
			nodeCase,
			mode,
			/^Batch mode needs a Gemini API key credential/,
			vertexExpress(),
			{},
			/the batch job was submitted with/,
		);
	});
});

describe.each(NODES)('$name: the options of item 0 cannot be read', (nodeCase) => {
	// An expression that fails for the first item: the node's shared settings are read from it.
	const options = (i: number) => {
		if (i === 0) throw new Error('Expression error in Options');
		return {};
	};

	it.each(MODES)('under %s, every item fails with it', async (mode) => {
		await expectEveryItemFailed(
			nodeCase,
			mode,
			/^Expression error in Options/,
			{ apiKey: sim.apiKey, host: sim.url },
			{ options },
		);
	});

	it('without Continue, the node stops with it', async () => {
		const { result } = await run(
			nodeCase,
			'stopWorkflow',
			{ apiKey: sim.apiKey, host: sim.url },
			{
				options,
			},
		);
		await expect(result).rejects.toThrow(/^Expression error in Options \(item 0\)$/);
		expect(sim.requests).toHaveLength(0);
	});
});
