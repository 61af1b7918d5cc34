/**
 * The package inside a real n8n: the packed tarball is installed into a fresh user folder, the workflows in
 * test/e2e/workflows and examples/ are imported and run once by `n8n execute-batch`, against the Gemini
 * simulator running in this process. The checks read n8n's execution snapshots and the image files n8n
 * stored. Then `n8n start` serves the form example, submitted over HTTP as a browser would, and the
 * credential's Test button is pressed through the editor's REST API.
 */
import { readdirSync, readFileSync, promises as fs } from 'fs';
import { createServer, type Server } from 'http';
import * as path from 'path';
import sharp from 'sharp';
import type { IRun, INodeExecutionData, IPairedItemData } from 'n8n-workflow';

import { GeminiSim, SIM_PROJECT, type ServiceAccountKeyJson } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim/types';
import { ChatStandIn, lastRef, POST_WITH_PICTURE, postWithPictureEnd } from './chat-standin';
import {
	contentsOf,
	freePort,
	installN8n,
	mustSucceed,
	N8nSandbox,
	N8nServer,
	outputOf,
	peakOverlap,
	promptOf,
	repoDir,
	runCommand,
	type BatchResult,
} from './local-n8n';

const MINUTE = 60_000;
const workflowsDir = path.join(__dirname, 'workflows');
const examplesDir = path.join(repoDir, 'examples');
const runDir = path.join(repoDir, '.e2e', 'run');

const WORKFLOW = {
	scheduled: 'nbsE2e01Scheduled',
	conversion: 'nbsE2e02Conversion',
	continueOnFail: 'nbsE2e03Continue',
	stopOnFail: 'nbsE2e03Stop',
	retry: 'nbsE2e04Retry',
	concurrency: 'nbsE2e05Concurrency',
	official: 'nbsE2e06Official',
	editSteps: 'nbsE2e07EditSteps',
	fuseGather: 'nbsE2e08FuseGather',
	verifyRouting: 'nbsE2e09VerifyRoute',
	errorOutput: 'nbsE2e10ErrorOutput',
	regularOutput: 'nbsE2e11RegularOutput',
	networkError: 'nbsE2e12NetworkError',
	vertex: 'nbsE2e13Vertex',
	batchCollect: 'nbsE2e14BatchCollect',
	hostErrors: 'nbsE2e15HostErrors',
	spendCap: 'nbsE2e16SpendCap',
	defaults: 'nbsE2e20Defaults',
	socialExample: 'nbsExample1Social',
	retryLoopExample: 'nbsExample3VerifyLoop',
	agentExample: 'nbsExample7AgentPost',
};
/** Run together by a second execute-batch (see 30.), not by the first. */
const QUOTA_SHARED = { first: 'nbsE2e30QuotaFirst', second: 'nbsE2e30QuotaSecond' };
/** Started by its form, so not by execute-batch: tested through a running n8n below. */
const RETOUCH_EXAMPLE = 'nbsExample2Retouch';

const E2E_CREDENTIAL = { id: 'nbsE2eCredential1', name: 'Nano Banana (e2e)' };
const OFFICIAL_CREDENTIAL = { id: 'nbsE2eCredential2', name: 'Google Gemini (e2e)' };
/** The agent example's chat model: the stand-in that makes its tool calls (chat-standin.ts). */
const CHAT_CREDENTIAL = { id: 'nbsE2eCredentialChat', name: 'Chat model stand-in (e2e)' };
/** Its Host is a port on 127.0.0.1 that nothing listens on. */
const CLOSED_PORT_CREDENTIAL = { id: 'nbsE2eCredential3', name: 'Nano Banana (closed port, e2e)' };
/** A Vertex AI service account whose JSON key is made when the suite starts; its token_uri is the simulator. */
const VERTEX_CREDENTIAL = { id: 'nbsE2eCredential4', name: 'Nano Banana (Vertex AI, e2e)' };
const VERTEX_LOCATION = 'us-central1';
/**
 * Its Host holds a user and a password with '#', '@', '%' and a space, so it cannot be used: the nodes
 * must fail every item without a request, and never repeat the password.
 */
const BAD_HOST_CREDENTIAL = { id: 'nbsE2eCredential5', name: 'Nano Banana (unusable Host, e2e)' };
const BAD_HOST_PASSWORD = 'Pw#Secret9@x y%25';

interface WorkflowFile {
	id: string;
	name: string;
	nodes: Array<{
		name: string;
		type: string;
		parameters: Record<string, unknown>;
		credentials?: unknown;
	}>;
}

const examples = readdirSync(examplesDir)
	.filter((name) => name.endsWith('.json'))
	.map((file) => ({
		file,
		workflow: JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as WorkflowFile,
	}));
const examplesStartedByHand = examples.filter(({ workflow }) =>
	workflow.nodes.some((node) => node.type === 'n8n-nodes-base.manualTrigger'),
);
const photosDir = path.join(repoDir, 'test', 'fixtures', 'photos');

let sim: GeminiSim;
let chat: ChatStandIn;
let photoServer: Server;
let photosUrl: string;
let n8n: N8nSandbox;
let batch: BatchResult;
let batchIds: string[];
let vertexKey: ServiceAccountKeyJson;
const vertexCredentialData = (extra: Record<string, string> = {}) => ({
	authentication: 'vertexServiceAccount',
	privateKeyJson: JSON.stringify(vertexKey, null, 2),
	location: VERTEX_LOCATION,
	vertexHost: sim.url,
	...extra,
});

function run(workflowId: string): IRun {
	const found = batch.runs[workflowId];
	if (!found)
		throw new Error(`no snapshot for ${workflowId}: ${JSON.stringify(batch.summary.summary)}`);
	return found;
}

function generateRequests(promptPart: string): RecordedRequest[] {
	return sim.requests.filter(
		(r) => r.action === 'generateContent' && promptOf(r).includes(promptPart),
	);
}

function pairedIndex(item: INodeExecutionData): number {
	const paired = item.pairedItem as IPairedItemData;
	return paired.item;
}

async function imageOf(item: INodeExecutionData, property = 'data') {
	const binary = item.binary?.[property];
	if (!binary) throw new Error(`item has no binary "${property}": ${JSON.stringify(item.json)}`);
	const bytes = await n8n.readBinary(binary);
	const metadata = await sharp(bytes).metadata();
	return { binary, bytes, metadata };
}

async function jsonFiles(dir: string): Promise<string[]> {
	return (await fs.readdir(dir))
		.filter((name) => name.endsWith('.json'))
		.map((name) => path.join(dir, name));
}

/**
 * The committed examples carry no credential, and may download photos from the web; here every Nano Banana
 * node gets the simulator's credential, and a download of a file that test/fixtures/photos has is served
 * from there instead.
 */
async function examplesForThisRun(): Promise<string[]> {
	const dir = path.join(runDir, 'examples');
	await fs.mkdir(dir, { recursive: true });
	const photos = new Set(await fs.readdir(photosDir));
	const files: string[] = [];
	for (const { file, workflow } of examples) {
		const copy = structuredClone(workflow);
		for (const node of copy.nodes) {
			if (node.type.startsWith('n8n-nodes-nano-banana-studio.'))
				node.credentials = { nanoBananaApi: E2E_CREDENTIAL };
			if (node.type === '@n8n/n8n-nodes-langchain.lmChatOpenAi')
				node.credentials = { openAiApi: CHAT_CREDENTIAL };
			const url = node.parameters.url;
			if (
				node.type === 'n8n-nodes-base.httpRequest' &&
				typeof url === 'string' &&
				photos.has(path.basename(url))
			) {
				node.parameters.url = `${photosUrl}/${path.basename(url)}`;
			}
		}
		const target = path.join(dir, file);
		await fs.writeFile(target, JSON.stringify(copy));
		files.push(target);
	}
	return files;
}

async function servePhotos(): Promise<void> {
	photoServer = createServer((request, response) => {
		const name = path.basename(decodeURIComponent(request.url ?? ''));
		fs.readFile(path.join(photosDir, name)).then(
			(bytes) => {
				response.writeHead(200, {
					'content-type': name.endsWith('.png') ? 'image/png' : 'image/jpeg',
				});
				response.end(bytes);
			},
			() => response.writeHead(404).end(),
		);
	});
	await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
	photosUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}`;
}

beforeAll(async () => {
	const timings: Record<string, number> = {};
	const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
		const started = Date.now();
		const result = await work();
		timings[step] = (Date.now() - started) / 1000;
		return result;
	};

	sim = await GeminiSim.start({ apiKey: 'e2e-api-key' });
	// Latency makes overlapping requests visible, so the concurrency limit can be observed.
	sim.setLatency(300);
	vertexKey = sim.vertex.createServiceAccountKey();
	// As under `npm start` (scripts/start.sh): 30% of images misspell the text their prompt quotes, so the
	// retry-loop example shows its Fail branch. No other workflow checks written text.
	sim.setTextMisrendering({ percent: 30 });
	await servePhotos();
	chat = new ChatStandIn({ default: POST_WITH_PICTURE }, { default: postWithPictureEnd });
	await chat.start();

	const installLog = path.join(repoDir, '.e2e', 'n8n-install.log');
	const install = await timed('installN8n', () => installN8n(10 * MINUTE, installLog));
	n8n = await N8nSandbox.create(install, runDir, {
		GEMINI_SIM_URL: sim.url,
		E2E_PHOTOS_URL: photosUrl,
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
	});
	await timed('buildPackAndInstall', () => n8n.loadPackage(5 * MINUTE));
	const closedPort = await freePort();
	await timed('importCredentials', () =>
		n8n.importCredentials(
			[
				{ ...E2E_CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
				{
					...OFFICIAL_CREDENTIAL,
					type: 'googlePalmApi',
					data: { apiKey: sim.apiKey, host: sim.url },
				},
				{
					...CLOSED_PORT_CREDENTIAL,
					type: 'nanoBananaApi',
					data: { apiKey: sim.apiKey, host: `http://127.0.0.1:${closedPort}` },
				},
				{ ...VERTEX_CREDENTIAL, type: 'nanoBananaApi', data: vertexCredentialData() },
				{ ...CHAT_CREDENTIAL, type: 'openAiApi', data: { apiKey: 'sk-standin', url: chat.url } },
				{
					...BAD_HOST_CREDENTIAL,
					type: 'nanoBananaApi',
					data: {
						apiKey: sim.apiKey,
						host: `http://e2e-user:${BAD_HOST_PASSWORD}@127.0.0.1:${new URL(sim.url).port}/v1beta/`,
					},
				},
			],
			2 * MINUTE,
		),
	);
	const files = [...(await jsonFiles(workflowsDir)), ...(await examplesForThisRun())];
	const ids = await timed('importWorkflows', () => n8n.importWorkflows(files, 2 * MINUTE));
	batchIds = ids.manual.filter((id) => !Object.values(QUOTA_SHARED).includes(id));
	// One n8n start for all of them; execute-batch runs the workflows one after another.
	batch = await timed('executeBatch', () => n8n.executeBatch(batchIds, 5 * MINUTE));
	// kept beside the run's logs, for reading when a CI run is slow
	await fs.writeFile(
		path.join(runDir, 'timings.json'),
		JSON.stringify({ n8n: install.n8nVersion, ...timings }, null, 2),
	);
}, 25 * MINUTE);

afterAll(async () => {
	await sim?.stop();
	await chat?.stop();
	await new Promise((resolve) => photoServer?.close(resolve));
});

describe('the package as users install it', () => {
	test('is extracted from the packed tarball, not linked to the source tree', async () => {
		const stats = await fs.lstat(n8n.packageDir);
		expect(stats.isSymbolicLink()).toBe(false);
		const entries = await fs.readdir(n8n.packageDir);
		expect(entries).toEqual(expect.arrayContaining(['dist', 'package.json', 'node_modules']));
		expect(entries).not.toContain('nodes');
	});

	test("has sharp's native binary for this platform installed", async () => {
		const binary = path.join(
			n8n.packageDir,
			'node_modules',
			'@img',
			`sharp-${process.platform}-${process.arch}`,
		);
		await expect(fs.stat(binary)).resolves.toBeTruthy();
	});
});

describe('execute-batch', () => {
	test('runs every workflow with a Manual Trigger; only the one that must stop fails', () => {
		expect(batchIds).toEqual(expect.arrayContaining(Object.values(WORKFLOW)));
		expect(batch.summary.totalWorkflows).toBe(batchIds.length);
		expect(batch.summary.summary.errors.map((e) => e.workflowId)).toEqual([WORKFLOW.stopOnFail]);
		expect(batch.summary.summary.warnings).toEqual([]);
		expect(batch.summary.summary.successfulExecutions).toBe(batchIds.length - 1);
		// execute-batch exits 1 when a workflow fails
		expect(batch.exitCode).toBe(1);
	});
});

describe('1. scheduled content: 6 prompts, 2 images each at 16:9', () => {
	test('gives 12 real 1376x768 PNG files, two per source item', async () => {
		const sources = outputOf(run(WORKFLOW.scheduled), 'Content Plan');
		const images = outputOf(run(WORKFLOW.scheduled), 'Generate Banners');
		expect(sources).toHaveLength(6);
		expect(images).toHaveLength(12);

		const perSource = new Map<number, number>();
		for (const item of images) {
			const index = pairedIndex(item);
			perSource.set(index, (perSource.get(index) ?? 0) + 1);
			expect(item.json.prompt).toBe(sources[index].json.prompt);

			const { metadata, binary, bytes } = await imageOf(item);
			expect(metadata.format).toBe('png');
			expect([metadata.width, metadata.height]).toEqual([1376, 768]);
			expect(binary.mimeType).toBe('image/png');
			// the simulator writes the prompt into the file, so this image really answers this item
			expect(GeminiSim.promptOf(bytes)).toBe(sources[index].json.prompt);
		}
		expect([...perSource.entries()].sort((a, b) => a[0] - b[0])).toEqual(
			[0, 1, 2, 3, 4, 5].map((index) => [index, 2]),
		);
	});

	test('reports usage and estimated cost on every image', () => {
		for (const item of outputOf(run(WORKFLOW.scheduled), 'Generate Banners')) {
			expect(item.json).toMatchObject({
				model: 'gemini-3.1-flash-image',
				aspectRatio: '16:9',
				imageSize: '1K',
				width: 1376,
				height: 768,
				usage: expect.objectContaining({ totalTokens: expect.any(Number) }),
				estimatedCostUsd: expect.any(Number),
			});
			expect(item.json.estimatedCostUsd).toBeGreaterThan(0);
		}
	});
});

describe('2. conversion', () => {
	test('gives a JPEG of exactly 1200x628', async () => {
		const [item, ...rest] = outputOf(run(WORKFLOW.conversion), 'Generate Link Preview');
		expect(rest).toHaveLength(0);
		const { metadata, binary } = await imageOf(item);
		expect(metadata.format).toBe('jpeg');
		expect([metadata.width, metadata.height]).toEqual([1200, 628]);
		expect(binary.mimeType).toBe('image/jpeg');
		expect(item.json).toMatchObject({ width: 1200, height: 628, mimeType: 'image/jpeg' });
	});

	test('says the original bytes, and any provenance in them, were not kept', () => {
		const [item] = outputOf(run(WORKFLOW.conversion), 'Generate Link Preview');
		expect(item.json.provenance).toMatchObject({
			keptOriginalBytes: false,
			note: expect.any(String),
		});
	});
});

describe('3. failure paths', () => {
	test('with Continue On Fail, failed items keep their json and carry the error', async () => {
		const sources = outputOf(run(WORKFLOW.continueOnFail), 'Prompts');
		const items = outputOf(run(WORKFLOW.continueOnFail), 'Generate Or Report');
		expect(items.map(pairedIndex)).toEqual([0, 1, 2]);
		const [good, blocked, textOnly] = items;

		expect(good.json.error).toBeUndefined();
		expect(good.json.prompt).toBe(sources[0].json.prompt);
		expect((await imageOf(good)).metadata.format).toBe('png');

		for (const [failed, source] of [
			[blocked, sources[1]],
			[textOnly, sources[2]],
		]) {
			expect(failed.json).toMatchObject(source.json);
			expect(failed.binary?.data).toBeUndefined();
		}
		expect(blocked.json.error).toMatchObject({
			message: expect.stringMatching(/blocked the prompt/i),
			description: expect.stringMatching(/rephrase/i),
			reason: expect.stringMatching(/PROMPT_BLOCKED/),
		});
		expect(textOnly.json.error).toMatchObject({
			message: expect.stringMatching(/text instead of an image/i),
			reason: 'TEXT_ONLY',
		});
	});

	test('without it, the execution fails and says why and where', () => {
		const failure = batch.summary.summary.errors.find((e) => e.workflowId === WORKFLOW.stopOnFail);
		// execute-batch reports the error's description and the node it happened on
		expect(failure?.error).toMatch(/safety system refused this prompt/i);
		expect(failure?.error).toMatch(/on node Generate Strictly$/);
		expect(batch.runs[WORKFLOW.stopOnFail]).toBeUndefined();
	});
});

describe('4. retry', () => {
	test('a 429 with RetryInfo is retried after the delay it asks for, and the workflow succeeds', async () => {
		const [first, second, ...more] = generateRequests('Retry: a lighthouse');
		expect(more).toHaveLength(0);
		expect(first.status).toBe(429);
		expect(first.fault).toBe('429');
		expect(second.status).toBe(200);
		expect(second.startedAt - (first.endedAt ?? first.startedAt)).toBeGreaterThanOrEqual(300);

		const [item] = outputOf(run(WORKFLOW.retry), 'Generate Despite Quota');
		expect((await imageOf(item)).metadata.format).toBe('png');
	});
});

describe('5. concurrency', () => {
	test('20 items with maxConcurrency 4: never more than 4 in flight, each answered once', () => {
		const requests = generateRequests('Concurrency product shot');
		const prompts = requests.map(promptOf);
		expect(new Set(prompts).size).toBe(20);
		expect(prompts).toHaveLength(20);
		expect(requests.every((r) => r.status === 200)).toBe(true);
		expect(peakOverlap(requests)).toBe(4);
		// no workflow in the suite goes past its limit of 4
		expect(sim.maxInFlight).toBe(4);

		const items = outputOf(run(WORKFLOW.concurrency), 'Generate Product Shots');
		expect(items.map(pairedIndex)).toEqual([...Array(20).keys()]);
	});
});

describe("6. n8n's own Google Gemini node against the same endpoint", () => {
	test('gets a real image through its googlePalmApi credential host', async () => {
		const [item] = outputOf(run(WORKFLOW.official), 'Google Gemini Generate Image');
		const { metadata } = await imageOf(item);
		expect(metadata.format).toBe('png');
		expect(metadata.width).toBeGreaterThan(0);

		const [request] = generateRequests('Official node:');
		expect(request.path).toBe('/v1beta/models/gemini-3.1-flash-image:generateContent');
		expect(request.apiKeySource).toBe('query');
		expect(request.apiKeyValid).toBe(true);
	});
});

describe('7. Edit: an uploaded photo, three steps, then a second Edit continues', () => {
	const instructions = [
		'Remove all people from the background.',
		'Remove skin imperfections and marks.',
		'Make the hair color more vibrant and bright.',
	];

	/** Every request of this conversation: they all start with its first instruction. */
	function conversationRequests(): RecordedRequest[] {
		return sim.requests.filter(
			(r) => r.action === 'generateContent' && contentsOf(r)[0]?.parts[0]?.text === instructions[0],
		);
	}

	test("the first Edit outputs each step, the image as sent and the final image, in the photo's shape", async () => {
		const [upload] = outputOf(run(WORKFLOW.editSteps), 'Upload A Photo');
		const [item, ...rest] = outputOf(run(WORKFLOW.editSteps), 'Retouch Step By Step');
		expect(rest).toHaveLength(0);
		expect(pairedIndex(item)).toBe(0);
		// the upload stays on the item, beside what the node added
		expect(Object.keys(item.binary ?? {}).sort()).toEqual([
			'Photo',
			'data',
			'editSource',
			'step1',
			'step2',
			'step3',
		]);

		const photo = (await imageOf(upload, 'Photo')).metadata;
		const source = await imageOf(item, 'editSource');
		expect(source.metadata.format).toBe('jpeg');
		expect([source.metadata.width, source.metadata.height]).toEqual([photo.width, photo.height]);
		for (const name of ['step1', 'step2', 'step3', 'data']) {
			const { metadata } = await imageOf(item, name);
			expect(metadata.format).toBe('png');
			expect(metadata.width! / metadata.height!).toBeCloseTo(photo.width! / photo.height!, 1);
		}
		for (const [k, instruction] of instructions.entries()) {
			expect(GeminiSim.promptOf((await imageOf(item, `step${k + 1}`)).bytes)).toContain(
				instruction,
			);
		}
		const [final, step3] = [await imageOf(item, 'data'), await imageOf(item, 'step3')];
		expect(final.bytes.equals(step3.bytes)).toBe(true);
	});

	test('the first Edit sums the usage of its steps and keeps the conversation', () => {
		const [item] = outputOf(run(WORKFLOW.editSteps), 'Retouch Step By Step');
		const steps = item.json.steps as Array<{
			step: number;
			instruction: string;
			usage: Record<string, number>;
		}>;
		expect(steps.map((s) => [s.step, s.instruction])).toEqual(
			instructions.map((instruction, k) => [k + 1, instruction]),
		);
		const usage = item.json.usage as Record<string, number>;
		for (const key of ['promptTokens', 'outputTokens', 'totalTokens']) {
			expect(usage[key]).toBe(steps.reduce((sum, s) => sum + s.usage[key], 0));
		}
		expect(usage.totalTokens).toBeGreaterThan(0);
		expect(item.json.editSession).toMatchObject({
			version: 1,
			model: 'gemini-3.1-flash-image',
			steps: 3,
		});
		expect((item.json.editSession as { turns: unknown[] }).turns).toHaveLength(6);
	});

	test('the second Edit continues the conversation: step 4, a real image in the same shape', async () => {
		const [item, ...rest] = outputOf(run(WORKFLOW.editSteps), 'Make Him Smile');
		expect(rest).toHaveLength(0);
		expect(item.json.editSession).toMatchObject({
			version: 1,
			model: 'gemini-3.1-flash-image',
			steps: 4,
		});
		expect((item.json.editSession as { turns: unknown[] }).turns).toHaveLength(8);
		expect(Object.keys(item.binary ?? {})).toEqual(
			expect.arrayContaining(['editSource', 'step1', 'step2', 'step3', 'step4', 'data']),
		);
		const { metadata, bytes } = await imageOf(item);
		expect(metadata.format).toBe('png');
		expect(metadata.width! / metadata.height!).toBeCloseTo(1408 / 768, 1);
		expect(GeminiSim.promptOf(bytes)).toContain('Now make him smile.');
	});

	test('each request carries the whole history; the last one 7 turns, with the earlier images and their signatures', async () => {
		const requests = conversationRequests();
		expect(requests.map((r) => contentsOf(r).length)).toEqual([1, 3, 5, 7]);
		expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);

		const history = contentsOf(requests[3]);
		expect(history.map((c) => c.role)).toEqual([
			'user',
			'model',
			'user',
			'model',
			'user',
			'model',
			'user',
		]);
		expect(history[6].parts).toEqual([{ text: 'Now make him smile.' }]);

		// The model turns go back exactly as the first Edit got them: its step images, with their signatures.
		const [first] = outputOf(run(WORKFLOW.editSteps), 'Retouch Step By Step');
		const session = first.json.editSession as {
			turns: Array<{ role: string; parts: Array<{ thoughtSignature?: string }> }>;
		};
		const modelImages = history
			.filter((c) => c.role === 'model')
			.map((c) => c.parts.find((p) => p.inlineData));
		expect(modelImages).toHaveLength(3);
		for (const [k, part] of modelImages.entries()) {
			expect(part?.thoughtSignature).toEqual(expect.stringMatching(/^[A-Za-z0-9+/]{20,}={0,2}$/));
			const step = await imageOf(first, `step${k + 1}`);
			expect(Buffer.from(part!.inlineData!.data, 'base64').equals(step.bytes)).toBe(true);
		}
		const keptSignatures = session.turns
			.filter((t) => t.role === 'model')
			.flatMap((t) => t.parts.map((p) => p.thoughtSignature));
		expect(
			history
				.filter((c) => c.role === 'model')
				.flatMap((c) => c.parts.map((p) => p.thoughtSignature)),
		).toEqual(keptSignatures);
		// and the photo as first sent opens the conversation
		const sent = history[0].parts.find((p) => p.inlineData);
		expect(
			Buffer.from(sent!.inlineData!.data, 'base64').equals(
				(await imageOf(first, 'editSource')).bytes,
			),
		).toBe(true);
	});
});

describe('8. Fuse: a product and a room from two branches, gathered into one request', () => {
	test('Merge hands over the product first, then the room', () => {
		const merged = outputOf(run(WORKFLOW.fuseGather), 'Product, Then Room');
		expect(merged.map((item) => item.binary?.data.fileName)).toEqual(['top.png', 'room.png']);
	});

	test("gives one real image, paired with both source items, in the room's shape", async () => {
		const [item, ...rest] = outputOf(run(WORKFLOW.fuseGather), 'Fuse Product Into Room');
		expect(rest).toHaveLength(0);
		expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		const { metadata } = await imageOf(item);
		expect(metadata.format).toBe('png');
		// room.png is 512x509, so the closest supported ratio is 1:1
		expect([metadata.width, metadata.height]).toEqual([1024, 1024]);
		expect(item.json).toMatchObject({
			source: 'allItems',
			aspectRatio: '1:1',
			aspectRatioFromImage: 2,
		});
		expect(item.json.inputs).toEqual([
			expect.objectContaining({ image: 1, label: 'the product', type: 'object', sourceItem: 0 }),
			expect.objectContaining({ image: 2, label: 'the room', sourceItem: 1 }),
		]);
	});

	test('the request names each image right before it, in order, and the product keeps its transparency', async () => {
		const [request, ...more] = generateRequests('Fuse: place the product');
		expect(more).toHaveLength(0);
		expect(request.status).toBe(200);
		const [content, ...otherTurns] = contentsOf(request);
		expect(otherTurns).toHaveLength(0);
		const parts = content.parts;
		expect(parts.map((p) => p.text ?? p.inlineData?.mimeType)).toEqual([
			'Fuse: place the product from image 1 naturally into the room of image 2',
			'Image 1 (the product, object):',
			'image/png',
			'Image 2 (the room):',
			'image/png',
		]);

		const product = sharp(Buffer.from(parts[2].inlineData!.data, 'base64'));
		const productMetadata = await product.metadata();
		expect([productMetadata.width, productMetadata.height, productMetadata.hasAlpha]).toEqual([
			1024,
			1098,
			true,
		]);
		const alpha = (await product.stats()).channels[3];
		expect(alpha.min).toBe(0);
		const room = await sharp(Buffer.from(parts[4].inlineData!.data, 'base64')).metadata();
		expect([room.width, room.height]).toEqual([512, 509]);
	});
});

describe('9. Verify: Pass goes to Publish, Fail to Needs Review', () => {
	/** The brief an item came from, following pairedItem back through Verify and Generate. */
	function briefOf(verified: INodeExecutionData): INodeExecutionData {
		const generated = outputOf(run(WORKFLOW.verifyRouting), 'Generate Shots')[
			pairedIndex(verified)
		];
		return outputOf(run(WORKFLOW.verifyRouting), 'Briefs')[pairedIndex(generated)];
	}

	test('routes each image by its own checks, and every item on both outputs is paired', () => {
		const passed = outputOf(run(WORKFLOW.verifyRouting), 'Verify Shots', 0);
		const failed = outputOf(run(WORKFLOW.verifyRouting), 'Verify Shots', 1);
		expect(passed.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 3 }]);
		expect(failed.map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
		expect(passed.map((item) => briefOf(item).json.sku)).toEqual(['A-1', 'D-4']);
		expect(failed.map((item) => briefOf(item).json.sku)).toEqual(['B-2', 'C-3']);
	});

	test('the Set nodes after it get those items, and n8n links each back to its brief', async () => {
		const published = outputOf(run(WORKFLOW.verifyRouting), 'Publish');
		const review = outputOf(run(WORKFLOW.verifyRouting), 'Needs Review');
		expect(published.map((item) => [item.json.sku, item.json.status])).toEqual([
			['A-1', 'published'],
			['D-4', 'published'],
		]);
		expect(review.map((item) => [item.json.sku, item.json.status, item.json.failedChecks])).toEqual(
			[
				['B-2', 'needs review', 'dimensions'],
				['C-3', 'needs review', 'promptAdherence'],
			],
		);
		expect(published.map(pairedIndex)).toEqual([0, 1]);
		expect(review.map(pairedIndex)).toEqual([0, 1]);
		// the image goes on with the item, untouched
		for (const item of published) {
			const { metadata } = await imageOf(item);
			expect([metadata.width, metadata.height]).toEqual([1024, 1024]);
		}
	});

	test('each item carries the verification report that decided its way', () => {
		const [a, d] = outputOf(run(WORKFLOW.verifyRouting), 'Verify Shots', 0);
		const [b, c] = outputOf(run(WORKFLOW.verifyRouting), 'Verify Shots', 1);
		type Report = {
			passed: boolean;
			checks: Array<{
				name: string;
				passed: boolean;
				score: number | null;
				details: Record<string, unknown>;
			}>;
		} & Record<string, unknown>;
		const report = (item: INodeExecutionData) => item.json.verification as Report;

		for (const item of [a, d]) {
			expect(report(item)).toMatchObject({
				passed: true,
				judgeModel: 'gemini-3.8-flash',
				synthId: expect.stringMatching(/not checked/),
			});
			expect(report(item).checks.map((check) => [check.name, check.passed])).toEqual([
				['dimensions', true],
				['promptAdherence', true],
			]);
		}
		// too small: the local check fails, and the judge is not paid for
		expect(report(b).passed).toBe(false);
		expect(report(b).checks.map((check) => [check.name, check.passed])).toEqual([
			['dimensions', false],
		]);
		expect(report(b).checks[0].details).toMatchObject({ width: 512, height: 512 });
		expect(report(b).judgeSkipped).toEqual(expect.any(String));
		// big enough, but not the picture the reviewer expected
		expect(report(c).passed).toBe(false);
		const adherence = report(c).checks.find((check) => check.name === 'promptAdherence');
		expect(adherence).toMatchObject({
			passed: false,
			details: expect.objectContaining({ prompt: 'Verify: a snowy mountain cabin' }),
		});
		expect(adherence!.score).toBeLessThan(0.7);

		const judged = sim.requests.filter(
			(r) =>
				r.action === 'generateContent' &&
				r.model === 'gemini-3.8-flash' &&
				promptOf(r).includes('Verify: a '),
		);
		expect(judged).toHaveLength(3);
	});
});

/** json.error of an item that failed under Continue On Fail, as the nodes write it. */
interface ItemError {
	message: string;
	description?: string;
	httpCode?: string;
	reason?: string;
	details?: Record<string, unknown>;
}

function errorOf(item: INodeExecutionData): ItemError | undefined {
	return item.json.error as ItemError | undefined;
}

/** How many main outputs n8n recorded for a node: its own, plus the error output when it has one. */
function outputCount(workflowId: string, nodeName: string): number {
	return run(workflowId).data.resultData.runData[nodeName][0].data?.main.length ?? 0;
}

/** What the node after an output got: the json and files of each item. */
function contentOf(items: INodeExecutionData[]) {
	return items.map((item) => ({ json: item.json, binary: item.binary }));
}

/**
 * Generate, Edit and Fuse in workflows 10 and 11: three items come from `source`, the second one
 * fails. In 10 the node's outputs lead to `succeeded` and `<node> Errors`, in 11 to `<node> Results`.
 */
const ONE_FAILS = [
	{
		node: 'Generate',
		source: 'Tickets',
		succeeded: 'Generated',
		sourceField: 'ticket',
		failure: /^Gemini blocked the prompt \(PROHIBITED_CONTENT\) \(item 1\)$/,
		reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
	},
	{
		node: 'Edit',
		source: 'Photo To Edit',
		succeeded: 'Edited',
		sourceField: 'job',
		failure: /^Gemini answered with text instead of an image: ".+" \(item 1\)$/,
		reason: 'TEXT_ONLY',
	},
	{
		node: 'Fuse',
		source: 'Room Photo To Fuse',
		succeeded: 'Fused',
		sourceField: 'job',
		failure: /^Gemini blocked the prompt \(PROHIBITED_CONTENT\) \(item 1\)$/,
		reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
	},
] as const;

describe('10. On Error "Continue (using error output)": a failed item leaves by the error output', () => {
	const workflow = WORKFLOW.errorOutput;

	describe.each(ONE_FAILS)('$node', ({ node, source, succeeded, sourceField, failure, reason }) => {
		const nodeName = `${node} With Error Output`;

		test('n8n gives the node a second output, for errors', () => {
			expect(outputCount(workflow, nodeName)).toBe(2);
		});

		test('of three items, the one that fails leaves by the error output only, paired with its input and with its files', () => {
			const sources = outputOf(run(workflow), source);
			const succeededItems = outputOf(run(workflow), nodeName, 0);
			const failed = outputOf(run(workflow), nodeName, 1);
			expect(succeededItems.map(pairedIndex)).toEqual([0, 2]);
			expect(failed.map(pairedIndex)).toEqual([1]);
			// the item's own files go on with it (Edit: the photo; Fuse: product and room), and nothing else
			expect(failed[0].binary ?? {}).toEqual(sources[1].binary ?? {});

			// and the node after each output gets exactly those items
			expect(contentOf(outputOf(run(workflow), `${node} Errors`))).toEqual(contentOf(failed));
			expect(contentOf(outputOf(run(workflow), succeeded))).toEqual(contentOf(succeededItems));
		});

		test('the other two leave by the success output with their images, and no error', async () => {
			for (const item of outputOf(run(workflow), nodeName, 0)) {
				expect(item.json.error).toBeUndefined();
				expect((await imageOf(item)).metadata.format).toBe('png');
			}
		});

		test('on the error output, the item keeps its json and json.error says what failed, naming the item', () => {
			const sources = outputOf(run(workflow), source);
			const [item] = outputOf(run(workflow), `${node} Errors`);
			expect(errorOf(item)).toMatchObject({
				message: expect.stringMatching(failure),
				description: expect.any(String),
				reason,
			});
			expect(item.json).toMatchObject(sources[1].json);
			expect(item.json[sourceField]).toBe(sources[1].json[sourceField]);
		});
	});

	describe('Verify', () => {
		const nodeName = 'Verify With Error Output';

		test('n8n gives it a third output, after Pass and Fail, for errors', () => {
			expect(outputCount(workflow, nodeName)).toBe(3);
		});

		test('a passing image goes to Pass, a failing one to Fail, and the one whose AI judge call failed to the error output', () => {
			const shots = outputOf(run(workflow), 'Make Shots To Verify');
			const [passed, failedChecks, errors] = [0, 1, 2].map((output) =>
				outputOf(run(workflow), nodeName, output),
			);
			expect(passed.map(pairedIndex)).toEqual([0]);
			expect(failedChecks.map(pairedIndex)).toEqual([2]);
			expect(errors.map(pairedIndex)).toEqual([1]);

			expect(passed[0].json.verification).toMatchObject({ passed: true });
			expect(failedChecks[0].json.verification).toMatchObject({ passed: false });
			expect(failedChecks[0].json.error).toBeUndefined();
			// the image goes on with the errored item, untouched
			expect(errors[0].binary).toEqual(shots[1].binary);

			for (const [output, next] of ['Passed', 'Failed Checks', 'Verify Errors'].entries()) {
				expect(contentOf(outputOf(run(workflow), next))).toEqual(
					contentOf(outputOf(run(workflow), nodeName, output)),
				);
			}
		});

		test('the judge was asked once per image, and only the blocked request failed', () => {
			const judged = sim.requests.filter(
				(r) => r.model === 'gemini-3.8-flash' && promptOf(r).includes('Error output shot:'),
			);
			expect(judged).toHaveLength(3);
			expect(
				judged.filter((r) => r.fault).map((r) => [r.fault, promptOf(r).includes('a yellow chair')]),
			).toEqual([['prompt-block', true]]);
		});

		test('on the error output, the item keeps its json and json.error says what failed, naming the item', () => {
			const shots = outputOf(run(workflow), 'Make Shots To Verify');
			const [item] = outputOf(run(workflow), 'Verify Errors');
			expect(errorOf(item)).toMatchObject({
				message: 'Gemini blocked the prompt (PROHIBITED_CONTENT) (item 1)',
				reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
			});
			expect(item.json).toMatchObject(shots[1].json);
		});
	});
});

describe('11. On Error "Continue (regular output)": a failed item goes on down the normal output', () => {
	const workflow = WORKFLOW.regularOutput;

	describe.each(ONE_FAILS)('$node', ({ node, source, sourceField, failure, reason }) => {
		const nodeName = `${node} Continuing`;

		test('all three items come out of the one output, in order, the failed one with its files; the next node gets all three', async () => {
			expect(outputCount(workflow, nodeName)).toBe(1);
			const sources = outputOf(run(workflow), source);
			const items = outputOf(run(workflow), nodeName);
			expect(items.map(pairedIndex)).toEqual([0, 1, 2]);
			const [good, failed, alsoGood] = items;

			expect(failed.binary ?? {}).toEqual(sources[1].binary ?? {});
			for (const item of [good, alsoGood]) {
				expect(item.json.error).toBeUndefined();
				expect((await imageOf(item)).metadata.format).toBe('png');
			}
			expect(contentOf(outputOf(run(workflow), `${node} Results`))).toEqual(contentOf(items));
		});

		test('the failed item keeps its json and json.error says what failed, naming the item', () => {
			const sources = outputOf(run(workflow), source);
			const [, failed] = outputOf(run(workflow), `${node} Results`);
			expect(errorOf(failed)).toMatchObject({ message: expect.stringMatching(failure), reason });
			expect(failed.json).toMatchObject(sources[1].json);
			expect(failed.json[sourceField]).toBe(sources[1].json[sourceField]);
		});
	});

	describe('Verify', () => {
		test('the item whose AI judge call failed goes to Fail, beside the one that failed its check; none is lost', () => {
			expect(outputCount(workflow, 'Verify Continuing')).toBe(2);
			const shots = outputOf(run(workflow), 'Make Shots To Verify');
			const passed = outputOf(run(workflow), 'Verify Continuing', 0);
			const failed = outputOf(run(workflow), 'Verify Continuing', 1);
			expect(passed.map(pairedIndex)).toEqual([0]);
			expect(failed.map(pairedIndex)).toEqual([1, 2]);

			const [errored, failedCheck] = failed;
			expect(errored.binary).toEqual(shots[1].binary);
			expect(failedCheck.json.error).toBeUndefined();
			expect(failedCheck.json.verification).toMatchObject({ passed: false });

			expect(contentOf(outputOf(run(workflow), 'Verify Passed'))).toEqual(contentOf(passed));
			expect(contentOf(outputOf(run(workflow), 'Verify Failed'))).toEqual(contentOf(failed));
		});

		test('on Fail, the errored item keeps its json and json.error says what failed, naming the item', () => {
			const shots = outputOf(run(workflow), 'Make Shots To Verify');
			const [errored] = outputOf(run(workflow), 'Verify Failed');
			expect(errorOf(errored)).toMatchObject({
				message: 'Gemini blocked the prompt (PROHIBITED_CONTENT) (item 1)',
			});
			expect(errored.json).toMatchObject(shots[1].json);
			expect(errored.json.verification).toMatchObject({ passed: false });
		});
	});
});

describe("12. nothing listens at the credential's Host", () => {
	test('with Max Attempts 1 and Continue (regular output), both items come out, each with its error; nothing reached the simulator', () => {
		const items = outputOf(run(WORKFLOW.networkError), 'Generate Unreachable');
		expect(items.map(pairedIndex)).toEqual([0, 1]);
		expect(items.map((item) => item.binary)).toEqual([undefined, undefined]);
		expect(outputOf(run(WORKFLOW.networkError), 'Report Unreachable')).toHaveLength(2);
		expect(generateRequests('Network error:')).toHaveLength(0);
	});

	test('json.error is the node\'s own message, naming the item, not n8n\'s "The service refused the connection"', () => {
		const orders = outputOf(run(WORKFLOW.networkError), 'Orders');
		const items = outputOf(run(WORKFLOW.networkError), 'Generate Unreachable');
		expect(items.map((item) => item.json.error)).toEqual([
			expect.objectContaining({
				message: 'Could not reach the Gemini API (ECONNREFUSED) (item 0)',
			}),
			expect.objectContaining({
				message: 'Could not reach the Gemini API (ECONNREFUSED) (item 1)',
			}),
		]);
		for (const [k, item] of items.entries()) {
			expect(errorOf(item)).toMatchObject({
				reason: 'NETWORK',
				description: expect.stringMatching(/credential's Host/),
			});
			expect(JSON.stringify(item.json)).not.toMatch(/refused the connection/i);
			expect(item.json).toMatchObject(orders[k].json);
		}
	});
});

describe('13. Vertex AI with a service account credential', () => {
	test('gives a 16:9 PNG per item, generated on the project and location path with a minted Bearer token', async () => {
		const briefs = outputOf(run(WORKFLOW.vertex), 'Briefs');
		const items = outputOf(run(WORKFLOW.vertex), 'Generate on Vertex');
		expect(items.map(pairedIndex)).toEqual([0, 1]);
		for (const [k, item] of items.entries()) {
			const { metadata } = await imageOf(item);
			expect(metadata.format).toBe('png');
			expect([metadata.width, metadata.height]).toEqual([1376, 768]);
			expect(item.json.prompt).toBe(briefs[k].json.prompt);
		}
		const requests = generateRequests('Vertex:');
		expect(requests).toHaveLength(2);
		for (const request of requests) {
			expect(request.path).toBe(
				`/v1beta1/projects/${SIM_PROJECT}/locations/${VERTEX_LOCATION}/publishers/google/models/gemini-3.1-flash-image:generateContent`,
			);
			expect(request.vertex).toEqual({
				auth: 'bearer',
				principal: vertexKey.client_email,
				project: SIM_PROJECT,
				location: VERTEX_LOCATION,
			});
			expect(request.headers['x-goog-api-key']).toBeUndefined();
			expect(request.body.generationConfig.imageConfig).toMatchObject({
				aspectRatio: '16:9',
				personGeneration: 'ALLOW_ADULT',
			});
		}
	});

	test('minted one token for the execution, and no item carries the key or the token', () => {
		// The suite's other uses of this key (the Test button) come later in this file.
		const minted = sim.vertex.exchanges.filter((e) => e.email === vertexKey.client_email);
		expect(minted).toEqual([expect.objectContaining({ outcome: 'issued' })]);
		const tokens = new Set(generateRequests('Vertex:').map((r) => r.headers.authorization));
		expect(tokens.size).toBe(1);
		const text = JSON.stringify(
			outputOf(run(WORKFLOW.vertex), 'Generate on Vertex').map((item) => item.json),
		);
		expect(text).not.toContain(vertexKey.private_key.split('\n')[1]);
		expect(text).not.toContain([...tokens][0]!.replace('Bearer ', ''));
	});
});

describe('14. Batch (half price): Submit Only, a Wait, then Nano Banana Batch Results', () => {
	const workflow = WORKFLOW.batchCollect;

	test('Submit Only outputs one item naming the job, paired with every prompt; nothing was generated in realtime', () => {
		const [job, ...more] = outputOf(run(workflow), 'Submit Batch');
		expect(more).toHaveLength(0);
		expect(job.json).toMatchObject({
			batchJob: expect.stringMatching(/^batches\//),
			state: 'PENDING',
			requestCount: 3,
			input: 'inline',
			estimatedCostUsd: 0.102,
		});
		expect(job.pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		const creates = sim.requests.filter(
			(r) =>
				r.action === 'batchGenerateContent' && JSON.stringify(r.body).includes('Batch: a sailboat'),
		);
		expect(creates).toHaveLength(1);
		expect(generateRequests('Batch: ')).toHaveLength(0);
	});

	test('Collect outputs a real image per answered request, written as the submitting node asked, at the batch price', async () => {
		const sources = outputOf(run(workflow), 'Batch Prompts');
		const images = outputOf(run(workflow), 'Collect Batch Results', 0);
		expect(images.map((item) => item.json.batchKey)).toEqual(['item0', 'item2']);
		for (const item of images) {
			const source = sources[item.json.sourceItem as number];
			const { metadata, bytes, binary } = await imageOf(item, 'banner');
			expect([metadata.width, metadata.height]).toEqual([1376, 768]);
			expect(GeminiSim.promptOf(bytes)).toBe(source.json.prompt);
			expect(binary.fileName).toBe(`${source.json.post}.png`);
			expect(item.json).toMatchObject({
				prompt: source.json.prompt,
				estimatedCostUsd: 0.034,
				aspectRatio: '16:9',
			});
			expect(item.pairedItem).toEqual({ item: 0 });
		}
		expect(contentOf(outputOf(run(workflow), 'Batch Banners'))).toEqual(contentOf(images));
	});

	test('the request that failed inside the job leaves by the error output, naming the request and its item', () => {
		const [failed, ...more] = outputOf(run(workflow), 'Batch Errors');
		expect(more).toHaveLength(0);
		expect(errorOf(failed)).toMatchObject({
			reason: 'TEXT_ONLY',
			message: expect.stringMatching(
				/text instead of an image.*\(request item1 of batches\/\w+, from item 1\)$/,
			),
		});
		expect(errorOf(failed)?.details).toMatchObject({
			batchKey: 'item1',
			sourceItem: 1,
			prompt: 'Batch: the model answers in words [[sim:text-only]]',
		});
	});
});

describe("15. a credential whose Host cannot be used (a password with '#' and '@' in it)", () => {
	const workflow = WORKFLOW.hostErrors;
	const NODES = [
		{ node: 'Generate', outputs: 1, failedOutput: 0 },
		{ node: 'Edit', outputs: 1, failedOutput: 0 },
		{ node: 'Fuse', outputs: 1, failedOutput: 0 },
		// Pass and Fail: an item that errors goes to Fail.
		{ node: 'Verify', outputs: 2, failedOutput: 1 },
	];
	const MESSAGE =
		/^The credential's Host is not usable: Host must not contain a user name or password.* \(item \d\)$/;

	describe.each(NODES)('$node', ({ node, outputs, failedOutput }) => {
		test('under Continue (regular output), both items come out with their json, their files and the error; none unchanged', () => {
			const sources = outputOf(run(workflow), 'Room Photo');
			const nodeName = `${node} Regular Output`;
			expect(outputCount(workflow, nodeName)).toBe(outputs);
			for (let output = 0; output < outputs; output++) {
				if (output !== failedOutput) expect(outputOf(run(workflow), nodeName, output)).toEqual([]);
			}
			const items = outputOf(run(workflow), nodeName, failedOutput);
			expect(items.map(pairedIndex)).toEqual([0, 1]);
			for (const [k, item] of items.entries()) {
				expect(errorOf(item)).toMatchObject({
					message: expect.stringMatching(MESSAGE),
					description: expect.stringMatching(/correct the Host field/),
					reason: 'SETUP',
				});
				expect(errorOf(item)!.message).toMatch(new RegExp(`\\(item ${k}\\)$`));
				expect(item.json).toMatchObject(sources[k].json);
				expect(item.binary).toEqual(sources[k].binary);
			}
			const next = node === 'Verify' ? 'Verify Regular Failed' : `${node} Regular Results`;
			expect(contentOf(outputOf(run(workflow), next))).toEqual(contentOf(items));
		});

		test('under Continue (using error output), both items leave by the error output only, with their json and files', () => {
			const sources = outputOf(run(workflow), 'Room Photo');
			const nodeName = `${node} Error Output`;
			// n8n adds the error output after the node's own.
			expect(outputCount(workflow, nodeName)).toBe(outputs + 1);
			for (let output = 0; output < outputs; output++)
				expect(outputOf(run(workflow), nodeName, output)).toEqual([]);
			const errors = outputOf(run(workflow), nodeName, outputs);
			expect(errors.map(pairedIndex)).toEqual([0, 1]);
			for (const [k, item] of errors.entries()) {
				expect(errorOf(item)).toMatchObject({
					message: expect.stringMatching(MESSAGE),
					reason: 'SETUP',
				});
				expect(item.json).toMatchObject(sources[k].json);
				expect(item.binary).toEqual(sources[k].binary);
			}
			expect(contentOf(outputOf(run(workflow), `${node} Error Output Errors`))).toEqual(
				contentOf(errors),
			);
		});
	});

	test('nothing was sent: no request reached the simulator from these nodes', () => {
		expect(sim.requests.filter((r) => promptOf(r).includes('Host error:'))).toEqual([]);
	});

	test("no part of the password is in the execution's data or in n8n's log", async () => {
		const stored = JSON.stringify(run(workflow));
		const log = await fs.readFile(n8n.logFile, 'utf8');
		expect(stored).toContain("The credential's Host is not usable");
		for (const part of ['Secret9', 'Pw#', '@x y', 'e2e-user']) {
			expect(stored).not.toContain(part);
			expect(log).not.toContain(part);
		}
	});
});

describe('16. a loop that never passes Verify stops at Max Spend per Execution', () => {
	const runsOf = (node: string) =>
		(run(WORKFLOW.spendCap).data.resultData.runData[node] ?? []).map(
			(task) => task.data?.main ?? [],
		);

	test('two rounds fit in the cap of $0.08; the third request is not sent', () => {
		const sent = generateRequests('Spend cap: a lighthouse');
		expect(sent.map((r) => /round (\d+)/.exec(promptOf(r))?.[1])).toEqual(['1', '2']);
		expect(sent.every((r) => r.status === 200)).toBe(true);
		expect(runsOf('Generate With A Cap')).toHaveLength(3);
		expect(runsOf('Never Good Enough').map((main) => (main[1] ?? []).length)).toEqual([1, 1]);
		expect(runsOf('Gave Up')).toEqual([]);
	});

	test('the third round leaves by the error output with the cap, the spend and the item', () => {
		const [stopped, ...more] = outputOf(run(WORKFLOW.spendCap), 'Stopped At The Cap');
		expect(more).toHaveLength(0);
		expect(errorOf(stopped)).toMatchObject({
			message:
				'Max Spend per Execution of $0.08 reached: this node has spent $0.0672 in this execution (requests in flight at their estimate), and this request would add $0.0336 (item 0)',
			reason: 'SPEND_CAP_REACHED',
			description: expect.stringMatching(/^The request was not sent\. Raise Max Spend/),
		});
		expect(stopped.json).toMatchObject({ round: 3 });
	});
});

describe('30. two executions at once share the gate of their quota', () => {
	let shared: BatchResult;
	let refused: RecordedRequest;

	beforeAll(async () => {
		// The next request is refused for 6 s: the first execution's. The second waits 2 s, then
		// asks while that pause is in force, in the same n8n process.
		sim.inject({ kind: '429', retryDelay: '6s' });
		shared = await n8n.executeBatch(Object.values(QUOTA_SHARED), 3 * MINUTE, {
			concurrency: 2,
			name: 'quota',
		});
		refused = generateRequests('Quota shared, first execution')[0];
	}, 4 * MINUTE);

	test('both succeed, the first after one 429', () => {
		expect(shared.summary.summary.successfulExecutions).toBe(2);
		expect(refused.status).toBe(429);
		const first = outputOf(shared.runs[QUOTA_SHARED.first], 'Generate');
		expect(first[0].json).toMatchObject({ attempts: 2 });
	});

	test("the second execution's request waits for the pause the first one's 429 set", () => {
		const [second, ...rest] = generateRequests('Quota shared, second execution');
		expect(rest).toHaveLength(0);
		expect(second.status).toBe(200);
		// Sent when the 6 s ended, not 2 s after the batch started.
		expect(second.startedAt - refused.endedAt).toBeGreaterThanOrEqual(5800);
		const item = outputOf(shared.runs[QUOTA_SHARED.second], 'Generate')[0];
		expect(item.json).toMatchObject({ attempts: 1 });
		expect(Number(item.json.quotaWaitMs)).toBeGreaterThanOrEqual(2500);
	});
});

describe('20. default models: a node added now, and one saved at version 1 with no model set', () => {
	test('the new node (version 1.1) makes its image with Nano Banana 2.1, marked active', () => {
		const [item] = outputOf(run(WORKFLOW.defaults), 'Generate New Node');
		expect(item.json).toMatchObject({ model: 'gemini-nano-banana-2.1', modelStatus: 'active' });
		// The judge's request quotes the prompt too; it is the other model.
		expect(generateRequests('Defaults: a pear').map((r) => [r.model, r.body.store])).toEqual([
			['gemini-nano-banana-2.1', false],
			['gemini-3.8-flash', false],
		]);
	});

	test('the version 1 node keeps the model it was saved with, marked deprecated', () => {
		const [item] = outputOf(run(WORKFLOW.defaults), 'Generate Version 1');
		expect(item.json).toMatchObject({ model: 'gemini-3.1-flash-image', modelStatus: 'deprecated' });
	});

	test("Verify's judge is gemini-3.8-flash when none is chosen", () => {
		const judged = [0, 1].flatMap((output) =>
			outputOf(run(WORKFLOW.defaults), 'Verify Default Judge', output),
		);
		expect(judged).toHaveLength(1);
		expect(judged[0].json.verification).toMatchObject({ judgeModel: 'gemini-3.8-flash' });
	});
});

describe('examples started by hand run offline', () => {
	test.each(examplesStartedByHand.map(({ file, workflow }) => [file, workflow]))(
		'%s succeeds, and its Nano Banana nodes give real images',
		async (_file, workflow) => {
			let images = 0;
			for (const node of workflow.nodes.filter((n) =>
				n.type.startsWith('n8n-nodes-nano-banana-studio.'),
			)) {
				for (const item of outputOf(run(workflow.id), node.name)) {
					for (const binary of Object.values(item.binary ?? {})) {
						if (!binary.mimeType.startsWith('image/')) continue;
						const metadata = await sharp(await n8n.readBinary(binary)).metadata();
						expect(metadata.width).toBeGreaterThan(0);
						images++;
					}
				}
			}
			expect(images).toBeGreaterThan(0);
		},
	);
});

describe('examples/agent-post-with-picture.json: an AI Agent with the Nano Banana tools', () => {
	test('the model called Generate, Edit by the ref Generate returned, then Verify by the ref Edit returned', () => {
		const calls = chat.results('default');
		expect(calls.map((c) => c.tool)).toEqual([
			expect.stringMatching(/Generate/),
			expect.stringMatching(/Edit/),
			expect.stringMatching(/Verify/),
		]);
		for (const call of calls) expect(call.content).not.toMatch(/[A-Za-z0-9+/]{200}/);
		const generated = lastRef(calls[0].content)!;
		const edited = lastRef(calls[1].content)!;
		expect(generated).not.toBe(edited);
		expect(calls[2].content).toMatch(/"pass"/);
	});

	test("Post gets the agent's text and the edited picture as binary data", async () => {
		const [post] = outputOf(run(WORKFLOW.agentExample), 'Post');
		expect(post.json.text).toMatch(
			/^Picture ready for "Write a short post about cycling to work in spring, with a picture\." #nanobanana$/,
		);
		expect(post.json.verification).toMatchObject({ passed: true });
		const { metadata, bytes } = await imageOf(post, 'data');
		expect(metadata.width).toBeGreaterThan(0);
		// the picture is Edit's result: the simulator drew it for Edit's instruction
		expect(GeminiSim.promptOf(bytes)).toBe('Warmer light and a little more contrast');
	});
});

describe('examples/weekly-social-posts.json', () => {
	test.each([
		['Instagram 1080x1080', 1080, 1080],
		['LinkedIn 1200x627', 1200, 627],
		['X 1600x900', 1600, 900],
	])('%s gives a JPEG of that size', async (nodeName, width, height) => {
		const [item, ...rest] = outputOf(run(WORKFLOW.socialExample), nodeName);
		expect(rest).toHaveLength(0);
		const { metadata } = await imageOf(item);
		expect(metadata.format).toBe('jpeg');
		expect([metadata.width, metadata.height]).toEqual([width, height]);
		const [week] = outputOf(run(WORKFLOW.socialExample), "This Week's Theme");
		expect(String(item.json.prompt)).toContain(String(week.json.theme));
	});
});

describe('examples/generate-verify-retry-loop.json, with text misspelled now and then as under npm start', () => {
	const runsOf = (node: string) =>
		(run(WORKFLOW.retryLoopExample).data.resultData.runData[node] ?? []).map(
			(task) => task.data?.main ?? [],
		);
	type Check = { name: string; passed: boolean; details?: { reasons?: string[] } };
	const checksOf = (item: INodeExecutionData) =>
		(item.json.verification as { checks: Check[] }).checks;

	test('goes Generate → Verify Fail (the text came out wrong) → Generate with the reasons → Verify Pass', () => {
		const verify = runsOf('Verify Image');
		expect(verify).toHaveLength(2);
		const [firstPass, firstFail] = [verify[0][0] ?? [], verify[0][1] ?? []];
		expect(firstPass).toEqual([]);
		expect(firstFail).toHaveLength(1);
		const failed = checksOf(firstFail[0]).filter((check) => !check.passed);
		expect(failed.map((check) => check.name)).toEqual(['expectedText']);
		expect(failed[0].details?.reasons?.[0]).toMatch(
			/^"GOOD MORNING" is not written in the image\. The image says: "(?!GOOD MORNING")/,
		);

		const [secondPass, secondFail] = [verify[1][0] ?? [], verify[1][1] ?? []];
		expect(secondFail).toEqual([]);
		expect(secondPass).toHaveLength(1);
		expect(checksOf(secondPass[0]).every((check) => check.passed)).toBe(true);
	});

	test('the second try asked again with what went wrong; the item reached Approved, not Gave Up', () => {
		const generate = runsOf('Generate Image');
		expect(generate).toHaveLength(2);
		const retry = (generate[1][0] ?? [])[0].json;
		expect(retry.prompt).toMatch(
			/^A product photo of a white ceramic mug[\s\S]*A previous try failed these checks: expectedText\. "GOOD MORNING" is not written/,
		);
		// the judge's requests quote the brief too
		expect(
			generateRequests('white ceramic mug').filter((r) => r.model === 'gemini-nano-banana-2.1'),
		).toHaveLength(2);
		expect(runsOf('Approved').map((main) => (main[0] ?? []).length)).toEqual([1]);
		expect(runsOf('Gave Up')).toEqual([]);
	});
});

const FILES_ON_PAGE = /const binar(?:y|ies) = "([^"]+)"/;

describe('a running n8n (n8n start)', () => {
	let server: N8nServer;

	beforeAll(async () => {
		await mustSucceed(
			n8n.cli(['publish:workflow', `--id=${RETOUCH_EXAMPLE}`], 2 * MINUTE),
			'publish:workflow',
		);
		server = await N8nServer.start(n8n, 3 * MINUTE);
	}, 6 * MINUTE);

	afterAll(async () => {
		await server?.stop();
	});

	describe('examples/form-photo-retouch.json, served by it', () => {
		const photo = path.join(repoDir, 'test', 'fixtures', 'photos', 'man.jpg');
		let page: string;

		beforeAll(async () => {
			// n8n reports ready before it has registered the published workflows' forms
			const formUrl = `${server.url}/form/retouch-photo`;
			for (let attempt = 0; attempt < 120 && (await fetch(formUrl)).status !== 200; attempt++) {
				await new Promise((resolve) => setTimeout(resolve, 500));
			}

			const form = new FormData();
			form.append(
				'field-0',
				new Blob([await fs.readFile(photo)], { type: 'image/jpeg' }),
				'man.jpg',
			);
			form.append('field-1', 'Product');
			form.append('field-2', 'Also remove the watch.');
			const submitted = await fetch(formUrl, { method: 'POST', body: form });
			expect(submitted.status).toBe(200);
			const { formWaitingUrl } = (await submitted.json()) as { formWaitingUrl: string };

			// The browser polls this page until the execution reaches the form's last page.
			const waiting = new URL(formWaitingUrl);
			for (let attempt = 0; attempt < 30 && !FILES_ON_PAGE.test(page ?? ''); attempt++) {
				const response = await fetch(`${server.url}${waiting.pathname}${waiting.search}`, {
					signal: AbortSignal.timeout(10_000),
				}).catch(() => undefined);
				page = (await response?.text()) ?? '';
				if (!FILES_ON_PAGE.test(page)) await new Promise((resolve) => setTimeout(resolve, 1000));
			}
		}, 3 * MINUTE);

		/** The completion page's files: URI-encoded JSON of Node Buffers, one object (n8n 2.8) or a list (2.41). */
		function filesOnPage(): Array<{ fileName: string; type: string; bytes: Buffer }> {
			const encoded = FILES_ON_PAGE.exec(page)?.[1];
			if (!encoded) throw new Error(`no file on the completion page:\n${page.slice(0, 500)}`);
			type PageFile = { fileName: string; type: string; data: { data: number[] } };
			const files = [JSON.parse(decodeURIComponent(encoded)) as PageFile | PageFile[]].flat();
			return files.map((file) => ({
				fileName: file.fileName,
				type: file.type,
				bytes: Buffer.from(file.data.data),
			}));
		}

		test('is imported but not run by execute-batch, which needs a Manual Trigger', () => {
			expect(batchIds).not.toContain(RETOUCH_EXAMPLE);
		});

		test('answers the form with the retouched photo, in the shape of the upload', async () => {
			const [file, ...rest] = filesOnPage();
			expect(rest).toHaveLength(0);
			expect(file).toMatchObject({ fileName: 'retouched.jpg', type: 'image/jpeg' });
			const retouched = await sharp(file.bytes).metadata();
			const upload = await sharp(photo).metadata();
			expect(retouched.format).toBe('jpeg');
			expect(retouched.width! / retouched.height!).toBeCloseTo(upload.width! / upload.height!, 1);
		});

		test('sent the uploaded photo and the chosen style to Gemini', () => {
			const [request, ...rest] = generateRequests('Retouch this product photo');
			expect(rest).toHaveLength(0);
			expect(promptOf(request)).toContain('Also remove the watch.');
			const body = request.body as {
				contents: Array<{ parts: Array<{ inlineData?: { mimeType: string } }> }>;
			};
			const images = body.contents
				.flatMap((content) => content.parts)
				.filter((part) => part.inlineData);
			expect(images).toHaveLength(1);
		});
	});

	describe("the credential's Test button, as the editor calls it", () => {
		const owner = { email: 'owner@example.com', password: 'E2eOwner1' };
		// The editor sends its browser id with every request; the session cookie is bound to it.
		const browserId = 'nano-banana-e2e-browser';
		let cookie: string;

		beforeAll(async () => {
			await mustSucceed(
				runCommand(
					process.execPath,
					[
						path.join(repoDir, 'scripts', 'setup-owner.js'),
						server.url,
						owner.email,
						owner.password,
					],
					{
						timeoutMs: MINUTE,
					},
				),
				'setup-owner.js',
			);
			const login = await fetch(`${server.url}/rest/login`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'browser-id': browserId },
				body: JSON.stringify({ emailOrLdapLoginId: owner.email, password: owner.password }),
			});
			expect(login.status).toBe(200);
			cookie = login.headers
				.getSetCookie()
				.map((line) => line.split(';')[0])
				.join('; ');
		}, 2 * MINUTE);

		/** POST /rest/credentials/test with the form's current values, for the stored credential. */
		async function testCredential(
			apiKey: string,
		): Promise<{ result: unknown; requests: RecordedRequest[] }> {
			return await testCredentialData(E2E_CREDENTIAL, { apiKey, host: sim.url });
		}

		async function testCredentialData(
			credential: { id: string; name: string },
			fields: Record<string, string>,
		): Promise<{ result: unknown; requests: RecordedRequest[] }> {
			const before = sim.requests.length;
			const response = await fetch(`${server.url}/rest/credentials/test`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'browser-id': browserId, cookie },
				body: JSON.stringify({
					credentials: { ...credential, type: 'nanoBananaApi', data: fields },
				}),
			});
			expect(response.status).toBe(200);
			const { data } = (await response.json()) as { data: unknown };
			return { result: data, requests: sim.requests.slice(before) };
		}

		test('passes with the right key, which listed the models', async () => {
			const { result, requests } = await testCredential(sim.apiKey);
			expect(result).toEqual({ status: 'OK', message: 'Connected to the Gemini API' });
			expect(requests).toEqual([
				expect.objectContaining({
					method: 'GET',
					path: '/v1beta/models',
					apiKeySource: 'header',
					apiKeyValid: true,
					status: 200,
				}),
			]);
		});

		test('fails with a wrong key, in the credential\'s own words rather than n8n\'s "Bad Request"', async () => {
			const { result, requests } = await testCredential('not-the-right-key');
			expect(result).toEqual({
				status: 'Error',
				message: expect.stringMatching(/^The Gemini API key is not valid: API key not valid\./),
			});
			expect(requests).toEqual([
				expect.objectContaining({ path: '/v1beta/models', apiKeyValid: false, status: 400 }),
			]);
		});

		test('Vertex AI service account: passes after minting a token, and names a wrong project', async () => {
			const ok = await testCredentialData(VERTEX_CREDENTIAL, vertexCredentialData());
			expect(ok.result).toEqual({
				status: 'OK',
				message: `Connected to Vertex AI: project ${SIM_PROJECT}, location ${VERTEX_LOCATION}, as ${vertexKey.client_email}`,
			});
			expect(ok.requests.map((r) => [r.action, r.status])).toEqual([
				['token', 200],
				['countTokens', 200],
			]);
			const wrong = await testCredentialData(
				VERTEX_CREDENTIAL,
				vertexCredentialData({ project: 'not-my-project' }),
			);
			expect(wrong.result).toEqual({
				status: 'Error',
				message: expect.stringMatching(
					/^Vertex AI refused access to project "not-my-project" in us-central1: .*roles\/aiplatform\.user/,
				),
			});
			const notJson = await testCredentialData(
				VERTEX_CREDENTIAL,
				vertexCredentialData({ privateKeyJson: 'not a key' }),
			);
			expect(notJson.result).toEqual({
				status: 'Error',
				message: expect.stringMatching(/^The Service Account Key is not valid JSON\./),
			});
		});
	});
});
