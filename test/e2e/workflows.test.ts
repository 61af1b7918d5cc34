/**
 * The package inside a real n8n: the packed tarball is installed into a fresh user folder, the workflows in
 * test/e2e/workflows and examples/ are imported and run once by `n8n execute-batch`, against the Gemini
 * simulator running in this process. The checks read n8n's execution snapshots and the image files n8n
 * stored. The form example is then served by `n8n start` and submitted over HTTP, as a browser would.
 */
import { readdirSync, readFileSync, promises as fs } from 'fs';
import { createServer, type Server } from 'http';
import * as path from 'path';
import sharp from 'sharp';
import type { IRun, INodeExecutionData, IPairedItemData } from 'n8n-workflow';

import { GeminiSim } from '../gemini-sim';
import type { RecordedRequest } from '../gemini-sim/types';
import { installN8n, mustSucceed, N8nSandbox, N8nServer, outputOf, repoDir, type BatchResult } from './local-n8n';

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
	socialExample: 'nbsExample1Social',
};
/** Started by its form, so not by execute-batch: tested through a running n8n below. */
const RETOUCH_EXAMPLE = 'nbsExample2Retouch';

const E2E_CREDENTIAL = { id: 'nbsE2eCredential1', name: 'Nano Banana (e2e)' };
const OFFICIAL_CREDENTIAL = { id: 'nbsE2eCredential2', name: 'Google Gemini (e2e)' };

interface WorkflowFile {
	id: string;
	name: string;
	nodes: Array<{ name: string; type: string; parameters: Record<string, unknown>; credentials?: unknown }>;
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
let photoServer: Server;
let photosUrl: string;
let n8n: N8nSandbox;
let batch: BatchResult;
let batchIds: string[];

function run(workflowId: string): IRun {
	const found = batch.runs[workflowId];
	if (!found) throw new Error(`no snapshot for ${workflowId}: ${JSON.stringify(batch.summary.summary)}`);
	return found;
}

function promptOf(request: RecordedRequest): string {
	const body = request.body as { contents?: Array<{ parts?: Array<{ text?: string }> }> } | undefined;
	return (body?.contents ?? [])
		.flatMap((content) => content.parts ?? [])
		.map((part) => part.text ?? '')
		.join('');
}

function generateRequests(promptPart: string): RecordedRequest[] {
	return sim.requests.filter((r) => r.action === 'generateContent' && promptOf(r).includes(promptPart));
}

function pairedIndex(item: INodeExecutionData): number {
	const paired = item.pairedItem as IPairedItemData;
	return paired.item;
}

/** The largest number of requests whose [startedAt, endedAt) intervals overlap. */
function peakOverlap(requests: RecordedRequest[]): number {
	const events = requests.flatMap((r) => [
		{ at: r.startedAt, delta: 1 },
		{ at: r.endedAt ?? Infinity, delta: -1 },
	]);
	events.sort((a, b) => a.at - b.at || a.delta - b.delta);
	let current = 0;
	let peak = 0;
	for (const event of events) {
		current += event.delta;
		peak = Math.max(peak, current);
	}
	return peak;
}

async function imageOf(item: INodeExecutionData, property = 'data') {
	const binary = item.binary?.[property];
	if (!binary) throw new Error(`item has no binary "${property}": ${JSON.stringify(item.json)}`);
	const bytes = await n8n.readBinary(binary);
	const metadata = await sharp(bytes).metadata();
	return { binary, bytes, metadata };
}

async function jsonFiles(dir: string): Promise<string[]> {
	return (await fs.readdir(dir)).filter((name) => name.endsWith('.json')).map((name) => path.join(dir, name));
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
			if (node.type.startsWith('n8n-nodes-nano-banana-studio.')) node.credentials = { nanoBananaApi: E2E_CREDENTIAL };
			const url = node.parameters.url;
			if (node.type === 'n8n-nodes-base.httpRequest' && typeof url === 'string' && photos.has(path.basename(url))) {
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
				response.writeHead(200, { 'content-type': name.endsWith('.png') ? 'image/png' : 'image/jpeg' });
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
	await servePhotos();

	const installLog = path.join(repoDir, '.e2e', 'n8n-install.log');
	const install = await timed('installN8n', () => installN8n(10 * MINUTE, installLog));
	n8n = await N8nSandbox.create(install, runDir, {
		GEMINI_SIM_URL: sim.url,
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
	});
	await timed('buildPackAndInstall', () => n8n.loadPackage(5 * MINUTE));
	await timed('importCredentials', () =>
		n8n.importCredentials(
			[
				{ ...E2E_CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
				{ ...OFFICIAL_CREDENTIAL, type: 'googlePalmApi', data: { apiKey: sim.apiKey, host: sim.url } },
			],
			2 * MINUTE,
		),
	);
	const files = [...(await jsonFiles(workflowsDir)), ...(await examplesForThisRun())];
	const ids = await timed('importWorkflows', () => n8n.importWorkflows(files, 2 * MINUTE));
	batchIds = ids.manual;
	// One n8n start for all of them; execute-batch runs the workflows one after another.
	batch = await timed('executeBatch', () => n8n.executeBatch(batchIds, 5 * MINUTE));
	// kept beside the run's logs, for reading when a CI run is slow
	await fs.writeFile(path.join(runDir, 'timings.json'), JSON.stringify({ n8n: install.n8nVersion, ...timings }, null, 2));
}, 25 * MINUTE);

afterAll(async () => {
	await sim?.stop();
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
		const binary = path.join(n8n.packageDir, 'node_modules', '@img', `sharp-${process.platform}-${process.arch}`);
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
		expect(item.json.provenance).toMatchObject({ keptOriginalBytes: false, note: expect.any(String) });
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

describe('examples started by hand run offline', () => {
	test.each(examplesStartedByHand.map(({ file, workflow }) => [file, workflow]))(
		'%s succeeds, and its Nano Banana nodes give real images',
		async (_file, workflow) => {
			let images = 0;
			for (const node of workflow.nodes.filter((n) => n.type.startsWith('n8n-nodes-nano-banana-studio.'))) {
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

const FILES_ON_PAGE = /const binar(?:y|ies) = "([^"]+)"/;

describe('examples/form-photo-retouch.json, served by a running n8n', () => {
	const photo = path.join(repoDir, 'test', 'fixtures', 'photos', 'man.jpg');
	let server: N8nServer | undefined;
	let page: string;

	beforeAll(async () => {
		await mustSucceed(n8n.cli(['publish:workflow', `--id=${RETOUCH_EXAMPLE}`], 2 * MINUTE), 'publish:workflow');
		server = await N8nServer.start(n8n, 3 * MINUTE);
		// n8n reports ready before it has registered the published workflows' forms
		const formUrl = `${server.url}/form/retouch-photo`;
		for (let attempt = 0; attempt < 120 && (await fetch(formUrl)).status !== 200; attempt++) {
			await new Promise((resolve) => setTimeout(resolve, 500));
		}

		const form = new FormData();
		form.append('field-0', new Blob([await fs.readFile(photo)], { type: 'image/jpeg' }), 'man.jpg');
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
	}, 8 * MINUTE);

	afterAll(async () => {
		await server?.stop();
	});

	/** The completion page's files: URI-encoded JSON of Node Buffers, one object (n8n 2.8) or a list (2.41). */
	function filesOnPage(): Array<{ fileName: string; type: string; bytes: Buffer }> {
		const encoded = FILES_ON_PAGE.exec(page)?.[1];
		if (!encoded) throw new Error(`no file on the completion page:\n${page.slice(0, 500)}`);
		type PageFile = { fileName: string; type: string; data: { data: number[] } };
		const files = [JSON.parse(decodeURIComponent(encoded)) as PageFile | PageFile[]].flat();
		return files.map((file) => ({ fileName: file.fileName, type: file.type, bytes: Buffer.from(file.data.data) }));
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
		const body = request.body as { contents: Array<{ parts: Array<{ inlineData?: { mimeType: string } }> }> };
		const images = body.contents.flatMap((content) => content.parts).filter((part) => part.inlineData);
		expect(images).toHaveLength(1);
	});
});
