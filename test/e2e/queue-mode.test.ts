/**
 * The package in n8n's queue mode, for real: PostgreSQL and Redis from scripts/queue-services.sh, one main
 * (`n8n start`) that receives webhooks and puts executions on the Bull queue in Redis, and two workers
 * (`n8n worker`) that take them off it. Every process has its own user folder with the package installed from
 * its packed tarball, and they share only the database, Redis and the encryption key.
 *
 * Binary data mode: `database`. n8n 2.41.1 offers filesystem, s3, azure and database
 * (n8n-core's BINARY_DATA_MODES; N8N_DEFAULT_BINARY_DATA_MODE); filesystem keeps files in one process's own
 * folder, so a worker could not read what another wrote, and s3/azure need a licence and a storage server we
 * cannot run offline. `database` stores binaries in PostgreSQL's binary_data table, and it is what n8n itself
 * picks in queue mode when no mode is set. It is set explicitly here all the same.
 *
 * PostgreSQL is Debian 12's 15: n8n 2.41.1 warns that it wants 16 or newer, and works.
 *
 * Executions are started the way production ones are: webhooks of published workflows, called on the main
 * (execute-batch would run them in its own process and never touch the queue). Results are read back through
 * the main's REST API, as the editor does: execution data, and every image through its binary-data endpoint
 * (except a file a webhook received, which that endpoint does not serve in database mode; see (b)).
 * Each process gets NBS_QUEUE_PROCESS (main, worker-1, worker-2), which the workflows write into prompts and
 * output with $env, so the simulator's log says which process sent each request; the workers' own logs
 * ("Worker started execution N") confirm it.
 *
 * (a) workflows 01, 07, 08 and 9 of the suite, their Manual Trigger swapped for a Webhook; (c) 8 webhook calls
 * of 25 items at once: one HTTP 200 generate per prompt, requests from both workers; (b) one execution whose
 * first part runs on one worker and is parked by a Wait node; that worker is stopped, and the other one
 * resumes the execution and sends, byte for byte, the images the stopped one stored; (d) 8 executions at once
 * against a quota of the simulator: both workers pause and pace together through Redis; (e) 8 executions at once
 * with a credential's Daily Budget: both workers spend from one count in Redis, and never past it.
 */
import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { readFileSync, promises as fs } from 'fs';
import { createServer, type Server } from 'http';
import * as path from 'path';
import sharp from 'sharp';
import type { IBinaryData, INodeExecutionData, IPairedItemData, IRun } from 'n8n-workflow';

import { GeminiSim } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim/types';
import {
	contentsOf,
	outputOf,
	promptOf,
	repoDir,
	type N8nInstall,
	type N8nProcess,
} from './local-n8n';
import {
	batchWorkflow,
	link,
	MINUTE,
	node,
	QueueCluster,
	senderOf,
	startServicesAndN8n,
	stopQueueServices,
	webhookNode,
	type N8nRest,
	type QueueServices,
	type WorkflowJson,
} from './queue-cluster';

const runDir = path.join(repoDir, '.e2e', 'queue');
const suiteWorkflowsDir = path.join(__dirname, 'workflows');
const photosDir = path.join(repoDir, 'test', 'fixtures', 'photos');
const servicesState = path.join(runDir, 'services');

/** The suite's workflows use this credential; here it lives in PostgreSQL. */
const CREDENTIAL = { id: 'nbsE2eCredential1', name: 'Nano Banana (e2e)' };
/** The same key with a Daily Budget: its own count, so no other test spends from it. */
const BUDGET_CREDENTIAL = { id: 'nbsE2eCredentialBudget', name: 'Nano Banana (daily budget, e2e)' };
const DAILY_BUDGET_USD = 0.3;
const WORKERS = ['worker-1', 'worker-2'] as const;
const BATCHES = 8;
const ITEMS_PER_BATCH = 25;

const WORKFLOW = {
	generate: { id: 'nbsQueue01Generate', path: 'nbs-queue-generate' },
	editSteps: { id: 'nbsQueue07EditSteps', path: 'nbs-queue-edit-steps' },
	fuseGather: { id: 'nbsQueue08FuseGather', path: 'nbs-queue-fuse-gather' },
	verifyRouting: { id: 'nbsQueue09VerifyRoute', path: 'nbs-queue-verify-routing' },
	batch: { id: 'nbsQueueBatch200', path: 'nbs-queue-batch' },
	handoff: { id: 'nbsQueueHandoff1', path: 'nbs-queue-handoff' },
	quota: { id: 'nbsQueueQuota1', path: 'nbs-queue-quota' },
	budget: { id: 'nbsQueueBudget1', path: 'nbs-queue-budget' },
};

// --- workflows ----------------------------------------------------------------------------------------------

/** A workflow of the e2e suite (test/e2e/workflows), published and started by a webhook instead of its Manual Trigger. */
function fromSuite(
	file: string,
	{ id, path: webhookPath }: { id: string; path: string },
	parameters: Record<string, unknown>,
): WorkflowJson {
	const workflow = JSON.parse(
		readFileSync(path.join(suiteWorkflowsDir, file), 'utf8'),
	) as WorkflowJson;
	const index = workflow.nodes.findIndex((node) => node.type === 'n8n-nodes-base.manualTrigger');
	if (index < 0) throw new Error(`${file} has no Manual Trigger to replace`);
	workflow.nodes[index] = webhookNode(workflow.nodes[index], webhookPath, parameters);
	return { ...workflow, id, name: `Queue mode: ${workflow.name}`, active: false };
}

/**
 * Workflow 7 cut in two by a Wait node. The photo arrives with the webhook call (the main stores it); the
 * first Edit runs its three steps and the webhook answers with the execution's resume URL; the execution then
 * waits in the database until that URL is called, and the second Edit continues the conversation, reading the
 * step images the first one stored. "Keep Session" (a Merge that waits for both inputs) carries the first
 * Edit's item over the wait, because a Wait node resumed by a webhook outputs that call's data instead.
 */
function handoffWorkflow(): WorkflowJson {
	const suite = JSON.parse(
		readFileSync(path.join(suiteWorkflowsDir, '07-edit-steps-continue.json'), 'utf8'),
	) as WorkflowJson;
	const byName = (name: string) => structuredClone(suite.nodes.find((n) => n.name === name)!);
	const retouch = byName('Retouch Step By Step');
	const smile = byName('Make Him Smile');
	smile.parameters.prompt = '=Now make him smile. (asked by {{ $env.NBS_QUEUE_PROCESS }})';
	smile.position = [1100, 0];
	return {
		id: WORKFLOW.handoff.id,
		name: 'Queue mode: Edit steps, wait, then continue the edit',
		active: false,
		nodes: [
			webhookNode(
				{ id: randomUUID(), name: 'Upload A Photo', position: [0, 0] },
				WORKFLOW.handoff.path,
				{
					responseMode: 'responseNode',
					// the request body is the photo itself
					options: { binaryPropertyName: 'Photo' },
				},
			),
			retouch,
			node('Handed Over', 'n8n-nodes-base.respondToWebhook', 1.5, 660, {
				respondWith: 'json',
				responseBody:
					'={{ { executionId: $execution.id, resumeUrl: $execution.resumeUrl, editedBy: $env.NBS_QUEUE_PROCESS } }}',
				options: {},
			}),
			node(
				'Approval',
				'n8n-nodes-base.wait',
				1.1,
				880,
				{
					resume: 'webhook',
					httpMethod: 'POST',
					responseMode: 'lastNode',
					responseData: 'firstEntryJson',
					options: {},
				},
				{ webhookId: randomUUID() },
			),
			node('Keep Session', 'n8n-nodes-base.merge', 3.2, 990, {
				mode: 'chooseBranch',
				chooseBranchMode: 'waitForAll',
				output: 'specifiedInput',
				useDataOfInput: 1,
			}),
			smile,
			node('Resumed On', 'n8n-nodes-base.set', 3.4, 1320, {
				assignments: {
					assignments: [
						{
							id: randomUUID(),
							name: 'continuedBy',
							type: 'string',
							value: '={{ $env.NBS_QUEUE_PROCESS }}',
						},
						{
							id: randomUUID(),
							name: 'executionId',
							type: 'string',
							value: '={{ $execution.id }}',
						},
					],
				},
				includeOtherFields: true,
				options: { stripBinary: false },
			}),
		],
		connections: {
			'Upload A Photo': { main: [[{ node: 'Retouch Step By Step', type: 'main', index: 0 }]] },
			'Retouch Step By Step': {
				main: [
					[
						{ node: 'Keep Session', type: 'main', index: 0 },
						{ node: 'Handed Over', type: 'main', index: 0 },
					],
				],
			},
			...link('Handed Over', 'Approval', ['Keep Session', 1]),
			...link('Keep Session', 'Make Him Smile', 'Resumed On'),
		},
		settings: { executionOrder: 'v1' },
	};
}

function queueWorkflows(): WorkflowJson[] {
	return [
		// the webhook answers with the first image itself, as n8n read it back from the database
		fromSuite('01-scheduled-content.json', WORKFLOW.generate, {
			responseMode: 'lastNode',
			responseData: 'firstEntryBinary',
		}),
		fromSuite('07-edit-steps-continue.json', WORKFLOW.editSteps, {
			responseMode: 'lastNode',
			responseData: 'firstEntryJson',
		}),
		fromSuite('08-fuse-gather.json', WORKFLOW.fuseGather, {
			responseMode: 'lastNode',
			responseData: 'firstEntryJson',
		}),
		fromSuite('09-verify-routing.json', WORKFLOW.verifyRouting, {
			responseMode: 'lastNode',
			responseData: 'firstEntryJson',
		}),
		// 200 items in 8 executions: each webhook call asks for 25 images. Every prompt names its batch and item,
		// and the process and execution that sent it.
		batchWorkflow({ ...WORKFLOW.batch, credential: CREDENTIAL, imageSize: '512' }),
		handoffWorkflow(),
		// Its own model, so its quota (and the pace learned for it) is no other test's.
		batchWorkflow({
			...WORKFLOW.quota,
			credential: CREDENTIAL,
			imageSize: '1K',
			model: 'gemini-3-pro-image',
			name: 'Queue mode: one quota for both workers',
		}),
		batchWorkflow({
			...WORKFLOW.budget,
			credential: BUDGET_CREDENTIAL,
			imageSize: '1K',
			model: 'gemini-nano-banana-2.1',
			typeVersion: 1.1,
			onError: 'continueRegularOutput',
			name: 'Queue mode: one Daily Budget for both workers',
		}),
	];
}

// --- n8n in queue mode --------------------------------------------------------------------------------------

let sim: GeminiSim;
let photoServer: Server | undefined;
let photosUrl: string;
let services: QueueServices | undefined;
let install: N8nInstall;
let cluster: QueueCluster | undefined;
let main: N8nProcess | undefined;
let workers = new Map<string, N8nProcess>();
let rest: N8nRest;
const timings: Record<string, number> = {};
let ready = false;

async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
	const started = Date.now();
	try {
		return await work();
	} finally {
		timings[step] = (Date.now() - started) / 1000;
	}
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
	await new Promise<void>((resolve) => photoServer!.listen(0, '127.0.0.1', resolve));
	photosUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}`;
}

/** POSTs to a production webhook of the main; waits for n8n's answer. */
function callWebhook(
	webhookPath: string,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<Response> {
	return cluster!.callWebhook(webhookPath, body, headers);
}

/** The only execution of a workflow, finished. */
async function onlyExecution(workflowId: string): Promise<{ id: string; run: IRun }> {
	const executions = await rest.executions(workflowId);
	if (executions.length !== 1)
		throw new Error(`${workflowId}: expected one execution, found ${JSON.stringify(executions)}`);
	const { status, run } = await rest.execution(executions[0].id);
	if (status !== 'success')
		throw new Error(
			`${workflowId}: execution ${executions[0].id} is ${status}: ${JSON.stringify(run.data.resultData.error)}`,
		);
	return { id: executions[0].id, run };
}

/** The bytes of a binary as n8n stored them in its database (binary data mode `database`). */
function storedBytes(binary: IBinaryData): Promise<Buffer> {
	return cluster!.storedBytes(binary);
}

/** Execution ids each worker says it started, from its own log. */
function executionsByWorker(): Promise<Map<string, string[]>> {
	return cluster!.executionsByWorker();
}

beforeAll(async () => {
	sim = await GeminiSim.start({ apiKey: 'queue-e2e-api-key' });
	// requests that take a moment keep several executions in flight at once, on both workers
	sim.setLatency(150);
	await servePhotos();

	({ services, install } = await startServicesAndN8n(servicesState, {
		timed,
		onServices: (started) => (services = started),
	}));

	cluster = new QueueCluster({
		runDir,
		install,
		services,
		workers: WORKERS,
		credentials: [
			{ ...CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
			{
				...BUDGET_CREDENTIAL,
				type: 'nanoBananaApi',
				data: { apiKey: sim.apiKey, host: sim.url, dailyBudgetUsd: DAILY_BUDGET_USD },
			},
		],
		workflows: queueWorkflows().map((workflow) => ({
			workflow,
			path: Object.values(WORKFLOW).find(({ id }) => id === workflow.id)!.path,
		})),
		env: { E2E_PHOTOS_URL: photosUrl },
		timed,
	});
	workers = cluster.workers;
	try {
		await cluster.start();
	} finally {
		main = cluster.main;
	}
	rest = cluster.rest;
	ready = true;
}, 15 * MINUTE);

/** Nested setups do nothing when the main one failed: its error is the one to read. */
function assertReady(): void {
	if (!ready) throw new Error('queue mode did not start: see the error of the first test');
}

afterAll(async () => {
	// every step runs, whatever failed before it; the first failure is reported
	const steps = [
		() => cluster?.stop(),
		() => stopQueueServices(servicesState),
		() => sim?.stop(),
		() => new Promise((resolve) => (photoServer ? photoServer.close(resolve) : resolve(undefined))),
		async () => {
			await fs.mkdir(runDir, { recursive: true });
			await fs.writeFile(
				path.join(runDir, 'timings.json'),
				JSON.stringify({ n8n: install?.n8nVersion, ...timings }, null, 2),
			);
		},
	];
	let firstError: unknown;
	for (const step of steps) {
		try {
			await step();
		} catch (error) {
			firstError ??= error;
		}
	}
	if (firstError) throw firstError;
}, 2 * MINUTE);

// --- checks -------------------------------------------------------------------------------------------------

function pairedIndex(item: INodeExecutionData): number {
	return (item.pairedItem as IPairedItemData).item;
}

async function imageOf(item: INodeExecutionData, property = 'data') {
	const binary = item.binary?.[property];
	if (!binary) throw new Error(`item has no binary "${property}": ${JSON.stringify(item.json)}`);
	// stored in PostgreSQL by whichever process made it, read back through the main
	expect(binary.id).toMatch(/^database:/);
	const bytes = await rest.binary(binary);
	const metadata = await sharp(bytes).metadata();
	return { binary, bytes, metadata };
}

describe('the services and processes', () => {
	test('PostgreSQL and Redis run on ports of their own, not the defaults', () => {
		expect(services!.postgres.port).not.toBe(5432);
		expect(services!.redis.port).not.toBe(6379);
	});

	test('one main and two workers run in queue mode, each with the package from the tarball in its own user folder', async () => {
		expect(main?.running).toBe(true);
		expect([...workers.keys()]).toEqual([...WORKERS]);
		for (const worker of workers.values()) {
			expect(worker.running).toBe(true);
			expect(await worker.log()).toMatch(/n8n worker is now ready/);
		}
		for (const name of ['main', ...WORKERS]) {
			const packageDir = path.join(
				runDir,
				name,
				'user-folder',
				'.n8n',
				'nodes',
				'node_modules',
				'n8n-nodes-nano-banana-studio',
			);
			expect((await fs.lstat(packageDir)).isSymbolicLink()).toBe(false);
			expect(await fs.readdir(packageDir)).toEqual(
				expect.arrayContaining(['dist', 'package.json', 'node_modules']),
			);
		}
	});
});

describe("(a) the suite's Generate, Edit, Fuse and Verify workflows, started by webhooks, run on the workers", () => {
	const runs: Record<string, IRun> = {};
	const responses: Record<string, Response> = {};
	let firstImageFromWebhook: Buffer;

	beforeAll(async () => {
		assertReady();
		sim.reset();
		// all four at once: the queue hands them to both workers
		const calls = [
			WORKFLOW.generate,
			WORKFLOW.editSteps,
			WORKFLOW.fuseGather,
			WORKFLOW.verifyRouting,
		].map(async ({ id, path: p }) => {
			responses[id] = await callWebhook(p, { from: 'queue-mode.test.ts' });
		});
		await timed('suiteWorkflows', () => Promise.all(calls));
		firstImageFromWebhook = Buffer.from(await responses[WORKFLOW.generate.id].arrayBuffer());
		for (const { id } of [
			WORKFLOW.generate,
			WORKFLOW.editSteps,
			WORKFLOW.fuseGather,
			WORKFLOW.verifyRouting,
		]) {
			runs[id] = (await onlyExecution(id)).run;
		}
	}, 5 * MINUTE);

	test('every webhook call was answered, and no process ran an execution but the workers', async () => {
		for (const response of Object.values(responses)) expect(response.status).toBe(200);
		const ran = [...(await executionsByWorker()).values()].flat();
		expect(ran).toHaveLength(4);
		expect(await main!.log()).not.toMatch(/Worker started execution/);
	});

	describe('1. Generate: 6 prompts, 2 images each at 16:9', () => {
		test('gives 12 real 1376x768 PNG files, two per source item, each answering its own prompt', async () => {
			const run = runs[WORKFLOW.generate.id];
			const sources = outputOf(run, 'Content Plan');
			const images = outputOf(run, 'Generate Banners');
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
				expect(GeminiSim.promptOf(bytes)).toBe(sources[index].json.prompt);
			}
			expect([...perSource.entries()].sort((a, b) => a[0] - b[0])).toEqual(
				[0, 1, 2, 3, 4, 5].map((index) => [index, 2]),
			);
		});

		test('the webhook answered with the first image, the same bytes the REST API serves', async () => {
			const [first] = outputOf(runs[WORKFLOW.generate.id], 'Generate Banners');
			expect(responses[WORKFLOW.generate.id].headers.get('content-type')).toMatch(/^image\/png/);
			expect(firstImageFromWebhook.equals((await imageOf(first)).bytes)).toBe(true);
		});
	});

	describe('7. Edit: three steps, then a second Edit continues', () => {
		const instructions = [
			'Remove all people from the background.',
			'Remove skin imperfections and marks.',
			'Make the hair color more vibrant and bright.',
		];

		test("the first Edit outputs each step, the image as sent and the final image, in the photo's shape", async () => {
			const run = runs[WORKFLOW.editSteps.id];
			const [upload] = outputOf(run, 'Upload A Photo');
			const [item, ...rest] = outputOf(run, 'Retouch Step By Step');
			expect(rest).toHaveLength(0);
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
			for (const [k, instruction] of instructions.entries()) {
				const { metadata, bytes } = await imageOf(item, `step${k + 1}`);
				expect(metadata.format).toBe('png');
				expect(metadata.width! / metadata.height!).toBeCloseTo(photo.width! / photo.height!, 1);
				expect(GeminiSim.promptOf(bytes)).toContain(instruction);
			}
			expect((await imageOf(item, 'data')).bytes.equals((await imageOf(item, 'step3')).bytes)).toBe(
				true,
			);
		});

		test('the second Edit continues: step 4, and its request carries the stored step images with their signatures', async () => {
			const run = runs[WORKFLOW.editSteps.id];
			const [first] = outputOf(run, 'Retouch Step By Step');
			const [item, ...rest] = outputOf(run, 'Make Him Smile');
			expect(rest).toHaveLength(0);
			expect(item.json.editSession).toMatchObject({
				version: 1,
				model: 'gemini-3.1-flash-image',
				steps: 4,
			});
			const { metadata, bytes } = await imageOf(item);
			expect(metadata.format).toBe('png');
			expect(GeminiSim.promptOf(bytes)).toContain('Now make him smile.');

			const requests = sim.requests.filter(
				(r) =>
					r.action === 'generateContent' && contentsOf(r)[0]?.parts[0]?.text === instructions[0],
			);
			expect(requests.map((r) => contentsOf(r).length)).toEqual([1, 3, 5, 7]);
			expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
			const history = contentsOf(requests[3]);
			const modelImages = history
				.filter((c) => c.role === 'model')
				.map((c) => c.parts.find((p) => p.inlineData));
			expect(modelImages).toHaveLength(3);
			for (const [k, part] of modelImages.entries()) {
				expect(part?.thoughtSignature).toEqual(expect.stringMatching(/^[A-Za-z0-9+/]{20,}={0,2}$/));
				expect(
					Buffer.from(part!.inlineData!.data, 'base64').equals(
						(await imageOf(first, `step${k + 1}`)).bytes,
					),
				).toBe(true);
			}
			const sent = history[0].parts.find((p) => p.inlineData);
			expect(
				Buffer.from(sent!.inlineData!.data, 'base64').equals(
					(await imageOf(first, 'editSource')).bytes,
				),
			).toBe(true);
		});
	});

	describe('8. Fuse: a product and a room from two branches, gathered into one request', () => {
		test("gives one real image, paired with both source items, in the room's shape", async () => {
			const run = runs[WORKFLOW.fuseGather.id];
			expect(outputOf(run, 'Product, Then Room').map((item) => item.binary?.data.fileName)).toEqual(
				['top.png', 'room.png'],
			);
			const [item, ...rest] = outputOf(run, 'Fuse Product Into Room');
			expect(rest).toHaveLength(0);
			expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
			const { metadata } = await imageOf(item);
			expect(metadata.format).toBe('png');
			expect([metadata.width, metadata.height]).toEqual([1024, 1024]);
			expect(item.json).toMatchObject({
				source: 'allItems',
				aspectRatio: '1:1',
				aspectRatioFromImage: 2,
			});
		});

		test('the request names each image right before it, in order, with the bytes the HTTP Request nodes stored', async () => {
			const requests = sim.requests.filter(
				(r) => r.action === 'generateContent' && promptOf(r).includes('Fuse: place the product'),
			);
			expect(requests).toHaveLength(1);
			const [content] = contentsOf(requests[0]);
			expect(content.parts.map((p) => p.text ?? p.inlineData?.mimeType)).toEqual([
				'Fuse: place the product from image 1 naturally into the room of image 2',
				'Image 1 (the product, object):',
				'image/png',
				'Image 2 (the room):',
				'image/png',
			]);
			const product = await sharp(
				Buffer.from(content.parts[2].inlineData!.data, 'base64'),
			).metadata();
			expect([product.width, product.height, product.hasAlpha]).toEqual([1024, 1098, true]);
			const room = await sharp(Buffer.from(content.parts[4].inlineData!.data, 'base64')).metadata();
			expect([room.width, room.height]).toEqual([512, 509]);
		});
	});

	describe('9. Verify: Pass goes to Publish, Fail to Needs Review', () => {
		test('routes each image by its own checks, and the Set nodes after it get those items with their images', async () => {
			const run = runs[WORKFLOW.verifyRouting.id];
			expect(outputOf(run, 'Verify Shots', 0).map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 3 },
			]);
			expect(outputOf(run, 'Verify Shots', 1).map((item) => item.pairedItem)).toEqual([
				{ item: 1 },
				{ item: 2 },
			]);
			const published = outputOf(run, 'Publish');
			const review = outputOf(run, 'Needs Review');
			expect(published.map((item) => [item.json.sku, item.json.status])).toEqual([
				['A-1', 'published'],
				['D-4', 'published'],
			]);
			expect(
				review.map((item) => [item.json.sku, item.json.status, item.json.failedChecks]),
			).toEqual([
				['B-2', 'needs review', 'dimensions'],
				['C-3', 'needs review', 'promptAdherence'],
			]);
			for (const item of published) {
				const { metadata } = await imageOf(item);
				expect([metadata.width, metadata.height]).toEqual([1024, 1024]);
			}
			const judged = sim.requests.filter(
				(r) =>
					r.action === 'generateContent' &&
					r.model === 'gemini-3.8-flash' &&
					promptOf(r).includes('Verify: a '),
			);
			expect(judged).toHaveLength(3);
		});
	});
});

describe(`(c) ${BATCHES * ITEMS_PER_BATCH} items in ${BATCHES} executions submitted at once`, () => {
	const byKey = new Map<string, RecordedRequest[]>();
	let responses: Response[];
	let executionIds: string[];

	beforeAll(async () => {
		assertReady();
		sim.reset();
		responses = await timed('batch200', () =>
			Promise.all(
				[...Array(BATCHES).keys()].map((batch) =>
					callWebhook(WORKFLOW.batch.path, { batch, count: ITEMS_PER_BATCH }),
				),
			),
		);
		for (const request of sim.generateRequests) {
			const key = /^Queue batch \d+ item \d+/.exec(promptOf(request))?.[0];
			if (key) byKey.set(key, [...(byKey.get(key) ?? []), request]);
		}
		executionIds = (await rest.executions(WORKFLOW.batch.id)).map((execution) => execution.id);
	}, 5 * MINUTE);

	test('every call is answered, and every prompt was generated exactly once, with HTTP 200', () => {
		expect(responses.map((response) => response.status)).toEqual(Array(BATCHES).fill(200));
		expect(byKey.size).toBe(BATCHES * ITEMS_PER_BATCH);
		for (let batch = 0; batch < BATCHES; batch++) {
			for (let item = 0; item < ITEMS_PER_BATCH; item++) {
				const requests = byKey.get(`Queue batch ${batch} item ${item}`) ?? [];
				expect(requests.map((r) => r.status)).toEqual([200]);
			}
		}
		expect(sim.generateRequests).toHaveLength(BATCHES * ITEMS_PER_BATCH);
	});

	test('both workers sent requests, and each request came from the worker whose log shows its execution', async () => {
		const ranBy = await executionsByWorker();
		const senders = new Map<string, number>();
		for (const [request] of byKey.values()) {
			const [, sender, executionId] =
				/\(sent by ([\w-]+), execution (\d+)\)$/.exec(promptOf(request)) ?? [];
			expect(WORKERS).toContain(sender);
			expect(ranBy.get(sender)).toContain(executionId);
			senders.set(sender, (senders.get(sender) ?? 0) + 1);
		}
		expect([...senders.keys()].sort()).toEqual([...WORKERS]);
		// each execution ran on one worker only
		const [one, two] = WORKERS.map(
			(name) => new Set(ranBy.get(name)!.filter((id) => executionIds.includes(id))),
		);
		expect([...one].filter((id) => two.has(id))).toEqual([]);
		expect(one.size + two.size).toBe(BATCHES);
		// kept for the report: how the queue spread the work
		timings.batchSplit = one.size;
	});

	test('each execution outputs its 25 images once each, real PNG files answering their own prompts', async () => {
		expect(executionIds).toHaveLength(BATCHES);
		const seen = new Set<string>();
		for (const id of executionIds) {
			const { status, run } = await rest.execution(id);
			expect(status).toBe('success');
			const sources = outputOf(run, 'Prompts');
			const images = outputOf(run, 'Generate Batch');
			expect(images.map(pairedIndex)).toEqual([...Array(ITEMS_PER_BATCH).keys()]);
			for (const item of images) {
				const source = sources[pairedIndex(item)];
				const { bytes, metadata } = await imageOf(item);
				expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', 512, 512]);
				const prompt = GeminiSim.promptOf(bytes)!;
				expect(prompt.startsWith(`${source.json.prompt as string} (sent by worker-`)).toBe(true);
				expect(prompt.endsWith(`execution ${id})`)).toBe(true);
				seen.add(source.json.prompt as string);
			}
		}
		expect(seen.size).toBe(BATCHES * ITEMS_PER_BATCH);
	});
});

describe('(d) one quota for both workers: its pause and pace are shared through Redis', () => {
	const QUOTA = { requests: 6, windowMs: 4000 };
	const EXECUTIONS = 8;
	const ITEMS = 2;
	let responses: Response[];
	let requests: RecordedRequest[];

	beforeAll(async () => {
		assertReady();
		sim.reset();
		sim.setQuota(QUOTA);
		try {
			responses = await Promise.all(
				[...Array(EXECUTIONS).keys()].map((batch) =>
					callWebhook(WORKFLOW.quota.path, { batch, count: ITEMS }),
				),
			);
		} finally {
			sim.setQuota(null);
		}
		requests = sim.generateRequests;
	}, 5 * MINUTE);

	test('every image is made, by both workers', () => {
		expect(responses.map((response) => response.status)).toEqual(Array(EXECUTIONS).fill(200));
		expect(requests.filter((r) => r.status === 200)).toHaveLength(EXECUTIONS * ITEMS);
		const senders = new Set(requests.map((r) => senderOf(promptOf(r))?.process));
		expect([...senders].sort()).toEqual([...WORKERS]);
	});

	test("once the quota is known, neither worker is refused: 429s only in the quota's first window", () => {
		const firstWindowEnds = Math.min(...requests.map((r) => r.startedAt)) + QUOTA.windowMs;
		const refused = requests.filter((r) => r.status === 429);
		// Both workers start at once, more than the quota admits: that burst teaches the quota.
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.filter((r) => r.startedAt >= firstWindowEnds)).toEqual([]);
	});

	test("the quota's gate is in n8n's Redis, named without the key, and no worker fell back", async () => {
		const { host, port } = services!.redis;
		const client = new Redis({ host, port });
		try {
			const keys = await client.keys('nano-banana-studio:quota:*');
			expect(keys).toContain('nano-banana-studio:quota:salt');
			expect(keys.some((key) => key.endsWith(':pace'))).toBe(true);
			expect(keys.join(' ')).not.toContain(sim.apiKey);
		} finally {
			client.disconnect();
		}
		for (const worker of workers.values())
			expect(await worker.log()).not.toMatch(/Redis at .* does not answer/);
	});
});

describe("(e) one Daily Budget for both workers: the credential's count is in Redis", () => {
	const EXECUTIONS = 8;
	const ITEMS = 2;
	/** Nano Banana 2.1 at 1K; $0.30 holds eight, the ninth would make $0.3024. */
	const PRICE = 0.0336;
	const FITS = 8;
	let responses: Response[];
	let items: INodeExecutionData[];
	let executionIds: string[];

	beforeAll(async () => {
		assertReady();
		sim.reset();
		responses = await Promise.all(
			[...Array(EXECUTIONS).keys()].map((batch) =>
				callWebhook(WORKFLOW.budget.path, { batch, count: ITEMS }),
			),
		);
		const executions = await rest.executions(WORKFLOW.budget.id);
		executionIds = executions.map((execution) => execution.id);
		items = [];
		for (const { id } of executions) {
			const { status, run } = await rest.execution(id);
			if (status !== 'success') throw new Error(`budget execution ${id} is ${status}`);
			items.push(...outputOf(run, 'Generate Batch'));
		}
	}, 5 * MINUTE);

	test('both workers ran executions, and together they sent what the budget holds, no more', async () => {
		expect(responses.map((response) => response.status)).toEqual(Array(EXECUTIONS).fill(200));
		const ranBy = await executionsByWorker();
		for (const worker of WORKERS)
			expect(executionIds.some((id) => ranBy.get(worker)!.includes(id))).toBe(true);
		const sent = sim.generateRequests.filter((r) => promptOf(r).startsWith('Queue batch'));
		expect(sent.filter((r) => r.status === 200)).toHaveLength(FITS);
		expect(sent).toHaveLength(FITS);
	});

	test('the other items fail with the budget, today’s spend and when it resets; the made ones tell the count', () => {
		expect(items).toHaveLength(EXECUTIONS * ITEMS);
		const refused = items.filter((item) => item.json.error);
		const made = items.filter((item) => !item.json.error);
		expect(made).toHaveLength(FITS);
		const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
		for (const item of refused)
			expect(item.json.error).toMatchObject({
				reason: 'SPEND_BUDGET_REACHED',
				message: expect.stringMatching(
					new RegExp(
						`^Daily Budget of \\$0\\.30 reached: \\$0\\.\\d+ spent today with this credential .*resets at ${tomorrow} 00:00 UTC \\(item \\d\\)$`,
					),
				),
			});
		for (const item of made) {
			expect(item.json.budgetUsd).toBe(DAILY_BUDGET_USD);
			expect(item.json.spentTodayUsd).toBeGreaterThanOrEqual(PRICE);
			expect(item.json.spentTodayUsd).toBeLessThanOrEqual(DAILY_BUDGET_USD);
		}
	});

	test("today's count is in n8n's Redis under an HMAC name, settled at what the answers reported", async () => {
		const { host, port } = services!.redis;
		const client = new Redis({ host, port });
		try {
			const day = new Date().toISOString().slice(0, 10);
			const keys = await client.keys(`nano-banana-studio:quota:*:spend:${day}`);
			expect(keys).toHaveLength(1);
			expect(keys[0]).not.toContain(sim.apiKey);
			expect(await client.hmget(keys[0], 'spent', 'reserved')).toEqual([
				String(Math.round(FITS * PRICE * 1e6)),
				'0',
			]);
			expect(await client.pttl(keys[0])).toBeGreaterThan(86_400_000);
		} finally {
			client.disconnect();
		}
	});
});

/**
 * The execution's first part runs on one worker and stores the step images in PostgreSQL. That worker is then
 * stopped, so the resumed execution can only run on the other one, which must read those images back from the
 * database to send them to Gemini. Last, because it stops a worker.
 */
describe('(b) binaries written by one worker are read by a node on the other', () => {
	let firstPart: { executionId: string; resumeUrl: string; editedBy: string };
	let resumed: { continuedBy: string; executionId: string };
	let run: IRun;
	let requests: RecordedRequest[];
	let stopped: string;

	beforeAll(async () => {
		assertReady();
		sim.reset();
		const photo = await fs.readFile(path.join(photosDir, 'man.jpg'));
		const answer = await callWebhook(WORKFLOW.handoff.path, photo, {
			'content-type': 'image/jpeg',
			'content-disposition': 'attachment; filename="man.jpg"',
		});
		if (answer.status !== 200)
			throw new Error(`handoff webhook: HTTP ${answer.status} ${await answer.text()}`);
		firstPart = (await answer.json()) as typeof firstPart;
		// the execution is parked in the database once its first part is done
		for (
			let attempt = 0;
			attempt < 60 && (await rest.execution(firstPart.executionId)).status !== 'waiting';
			attempt++
		) {
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		stopped = firstPart.editedBy;
		await workers.get(stopped)!.stop();

		const resume = await fetch(firstPart.resumeUrl, {
			method: 'POST',
			signal: AbortSignal.timeout(2 * MINUTE),
		});
		if (resume.status !== 200)
			throw new Error(`resume: HTTP ${resume.status} ${await resume.text()}`);
		resumed = (await resume.json()) as typeof resumed;
		const execution = await rest.execution(firstPart.executionId);
		if (execution.status !== 'success') throw new Error(`handoff execution is ${execution.status}`);
		run = execution.run;
		requests = sim.generateRequests;
	}, 5 * MINUTE);

	test('the first part ran on one worker, which was stopped; the other worker continued the same execution', async () => {
		expect(WORKERS).toContain(firstPart.editedBy);
		expect(workers.get(stopped)!.running).toBe(false);
		const other = WORKERS.find((name) => name !== stopped)!;
		expect(resumed).toMatchObject({ continuedBy: other, executionId: firstPart.executionId });
		const ranBy = await executionsByWorker();
		expect(ranBy.get(stopped)).toContain(firstPart.executionId);
		expect(ranBy.get(other)).toContain(firstPart.executionId);
	});

	test("the photo the main stored was read by the first worker, and the step images it stored were sent by the other worker's Edit", async () => {
		const [upload] = outputOf(run, 'Upload A Photo');
		const [first] = outputOf(run, 'Retouch Step By Step');
		const [continued] = outputOf(run, 'Make Him Smile');
		// The main stored the upload in PostgreSQL, and the first worker read it from there. The REST API does not
		// serve it: in database mode n8n 2.41.1 leaves a webhook's files on its "temp" pseudo-execution (its
		// restoreBinaryDataId only renames filesystem-style ids), and the binary-data endpoint answers 404 for those.
		// So files that may be the upload are read from the database itself.
		const photo = upload.binary?.Photo;
		expect(photo).toMatchObject({
			fileName: 'man.jpg',
			mimeType: 'image/jpeg',
			id: expect.stringMatching(/^database:/),
		});
		const sent = await fs.readFile(path.join(photosDir, 'man.jpg'));
		expect((await storedBytes(photo!)).equals(sent)).toBe(true);
		expect(continued.json.editSession).toMatchObject({ steps: 4 });

		expect(requests.map((r) => contentsOf(r).length)).toEqual([1, 3, 5, 7]);
		expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
		const last = contentsOf(requests[3]);
		expect(last[6].parts).toEqual([
			{ text: `Now make him smile. (asked by ${resumed.continuedBy})` },
		]);
		// the images in the other worker's request are, byte for byte, those the stopped worker stored
		const modelImages = last
			.filter((c) => c.role === 'model')
			.map((c) => c.parts.find((p) => p.inlineData)!);
		for (const [k, part] of modelImages.entries()) {
			const step = await imageOf(first, `step${k + 1}`);
			expect(Buffer.from(part.inlineData!.data, 'base64').equals(step.bytes)).toBe(true);
		}
		// and the conversation opens with the photo as the first Edit recorded it (editSource: the main's upload
		// itself when the Edit could send it as it came)
		const source = await storedBytes(first.binary!.editSource);
		const [sourceSize, photoSize] = [
			await sharp(source).metadata(),
			await sharp(sent).metadata(),
		].map((m) => [m.width, m.height]);
		expect(sourceSize).toEqual(photoSize);
		expect(
			Buffer.from(last[0].parts.find((p) => p.inlineData)!.inlineData!.data, 'base64').equals(
				source,
			),
		).toBe(true);

		const { metadata, bytes } = await imageOf(continued);
		expect(metadata.format).toBe('png');
		expect(GeminiSim.promptOf(bytes)).toContain(
			`Now make him smile. (asked by ${resumed.continuedBy})`,
		);
	});
});
