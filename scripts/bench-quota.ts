/**
 * Quota: prompts through Generate at the defaults of a node added now (Auto concurrency) against the simulator's quota mode (Q
 * requests per window W, 429 with RetryInfo rounded down as Google sends it, the exact delay in
 * the message), each answer taking L. Three runs, each printing how many images came out, the wall
 * time against the quota's floor, and the share of requests answered 429:
 *
 *   1. one execution of N prompts, in this process (the node run as n8n runs it, test/helpers);
 *   2. K executions of M prompts at once in one real n8n (`execute-batch --concurrency K`): one
 *      gate per quota, shared by the executions of the process;
 *   3. the same K executions in queue mode, two workers taking K/2 each (webhooks on the main,
 *      `n8n worker --concurrency K/2`, PostgreSQL and Redis from scripts/queue-services.sh): the
 *      gate's pause and pace shared through Redis.
 *
 * Run with `npm run bench:quota` (about 5 minutes); BENCH_QUOTA_ONLY=1, 2 or 3 runs one part;
 * BENCH_QUOTA_N, _K, _M, _Q, _WINDOW_S and _LATENCY_MS change the figures. n8n is the e2e suite's
 * install (cached); the package is built in a private copy of the tree (.e2e/bench-quota/package).
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import type { INodeExecutionData } from 'n8n-workflow';

import { NanoBananaGenerate } from '../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { resetQuotaGates } from '../nodes/shared/transport';
import { GeminiSim } from '../test/gemini-sim';
import type { RecordedRequest } from '../test/gemini-sim/types';
import {
	freePort,
	installN8n,
	loadStagedPackage,
	N8nSandbox,
	outputOf,
	repoDir,
	stagePackage,
} from '../test/e2e/local-n8n';
import {
	batchWorkflow,
	MINUTE,
	QueueCluster,
	requestsBySender,
	startServicesAndN8n,
	stopQueueServices,
	type QueueServices,
} from '../test/e2e/queue-cluster';
import { runNode } from '../test/helpers/n8nContext';

const env = process.env;
const N = Number(env.BENCH_QUOTA_N ?? 60);
const K = Number(env.BENCH_QUOTA_K ?? 6);
const M = Number(env.BENCH_QUOTA_M ?? 10);
const Q = Number(env.BENCH_QUOTA_Q ?? 10);
const windowMs = Number(env.BENCH_QUOTA_WINDOW_S ?? 10) * 1000;
const latencyMs = Number(env.BENCH_QUOTA_LATENCY_MS ?? 2000);
const ONLY = env.BENCH_QUOTA_ONLY;
const benchDir = path.join(repoDir, '.e2e', 'bench-quota');
const CREDENTIAL = { id: 'nbsBenchQuotaCred1', name: 'Nano Banana (bench:quota)' };
const MODEL = 'gemini-3.1-flash-image';

const line = (name: string, value: string) => console.log(`${name.padEnd(36)} ${value}`);
const progress = (text: string) => process.stderr.write(`[bench:quota] ${text}\n`);
const startSim = () => GeminiSim.start({ latencyMs, quota: { requests: Q, windowMs } });
const machine = () =>
	`${os.cpus().length} CPUs, load ${os
		.loadavg()
		.map((l) => l.toFixed(2))
		.join(' ')}, Node ${process.version}`;

interface Figures {
	prompts: number;
	images: number;
	distinctPrompts: number;
	wallMs: number;
	requests: RecordedRequest[];
	/** Extra lines: who sent what. */
	notes?: Array<[string, string]>;
}

/** Prints one run's figures; true when they are within the bounds. */
function report(title: string, figures: Figures): boolean {
	const { prompts, images, wallMs, requests } = figures;
	const refused = requests.filter((r) => r.status === 429).length;
	// At the quota's rate N requests take N/Q windows. Stricter: the first Q can start at once, so
	// the last Q start after (N/Q - 1) windows and take L.
	const floorMs = (prompts / Q) * windowMs;
	const strictFloorMs = (Math.ceil(prompts / Q) - 1) * windowMs + latencyMs;
	console.log(`\n${title}`);
	line('images out', `${images} of ${prompts} (${figures.distinctPrompts} distinct prompts)`);
	line('wall time', `${(wallMs / 1000).toFixed(1)} s`);
	line('N/Q floor (N/Q windows)', `${(floorMs / 1000).toFixed(1)} s`);
	line('wall / floor', `${(wallMs / floorMs).toFixed(3)} (bound: at most 1.10)`);
	line(
		'strict floor ((ceil(N/Q)-1)·W + L)',
		`${(strictFloorMs / 1000).toFixed(1)} s, wall / strict floor ${(wallMs / strictFloorMs).toFixed(3)}`,
	);
	line('requests sent', `${requests.length}`);
	line(
		'answered 429',
		`${refused} (${((100 * refused) / requests.length).toFixed(1)}%, bound: at most 5%)`,
	);
	for (const [name, value] of figures.notes ?? []) line(name, value);
	line('machine', machine());
	const ok = images === prompts && wallMs <= floorMs * 1.1 && refused <= requests.length * 0.05;
	line('within bounds', ok ? 'yes' : 'NO');
	return ok;
}

/** Images out (with a file, no error) and distinct prompts among a run's output items. */
function imagesOf(items: INodeExecutionData[]): Pick<Figures, 'images' | 'distinctPrompts'> {
	return {
		images: items.filter((item) => item.binary?.data && !item.json.error).length,
		distinctPrompts: new Set(items.map((item) => item.json.prompt)).size,
	};
}

/** Figures of K executions of M prompts: wall time from the first request to the last answer. */
function executionsFigures(
	items: INodeExecutionData[],
	requests: RecordedRequest[],
	notes: Array<[string, string]>,
): Figures {
	return { prompts: K * M, ...imagesOf(items), wallMs: requestSpan(requests), requests, notes };
}

/** From the first request's start to the last answer's end, as the simulator saw them. */
function requestSpan(requests: RecordedRequest[]): number {
	const start = Math.min(...requests.map((r) => r.startedAt));
	const end = Math.max(...requests.map((r) => r.endedAt));
	return end - start;
}

/* ---------- 1. one execution, in this process ---------- */

async function oneExecution(): Promise<boolean> {
	const sim = await startSim();
	try {
		await resetQuotaGates();
		const started = performance.now();
		const { outputs } = await runNode(new NanoBananaGenerate(), {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: (i: number) => `Social image ${i + 1}: a banana on a pastel desk` },
			items: Array.from({ length: N }, (_, i) => ({ json: { n: i } })),
		});
		const wallMs = performance.now() - started;
		const quotaWait = outputs[0].map((item) => Number(item.json.quotaWaitMs ?? 0));
		return report(
			`1. One execution: N = ${N} prompts, Q = ${Q} requests per ${windowMs / 1000} s, latency ${latencyMs / 1000} s, default settings`,
			{
				prompts: N,
				...imagesOf(outputs[0]),
				wallMs,
				requests: sim.generateRequests,
				notes: [['max quota wait of one image', `${(Math.max(...quotaWait) / 1000).toFixed(1)} s`]],
			},
		);
	} finally {
		await resetQuotaGates();
		await sim.stop();
	}
}

/* ---------- 2. K executions at once in one n8n ---------- */

/**
 * A Manual Trigger, M prompts (a literal list split into items: no Code node), Generate at the
 * defaults of a node added now (Auto concurrency).
 */
function manualWorkflow(k: number) {
	const prompts = Array.from({ length: M }, (_, i) => `Execution ${k} prompt ${i + 1}: a banana`);
	const nodes = [
		{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} },
		{
			name: 'Prompts',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ prompts }), options: {} },
		},
		{
			name: 'One Item Each',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			parameters: { fieldToSplitOut: 'prompts', options: {} },
		},
		{
			name: 'Generate',
			type: 'n8n-nodes-nano-banana-studio.nanoBananaGenerate',
			typeVersion: 1.1,
			parameters: {
				model: { __rl: true, mode: 'list', value: MODEL },
				prompt: '={{ $json.prompts }}',
				options: {},
			},
			credentials: { nanoBananaApi: CREDENTIAL },
		},
	].map((node, index) => ({
		id: `b3c4d5e6-00${String(k).padStart(2, '0')}-4000-8000-${String(index + 1).padStart(12, '0')}`,
		position: [index * 220, 0],
		...node,
	}));
	const connections: Record<string, unknown> = {};
	for (let j = 0; j + 1 < nodes.length; j++)
		connections[nodes[j].name] = { main: [[{ node: nodes[j + 1].name, type: 'main', index: 0 }]] };
	return {
		id: `nbsBenchQuota${k}`,
		name: `bench:quota execution ${k}`,
		active: false,
		nodes,
		connections,
		settings: { executionOrder: 'v1' },
	};
}

async function executionsInN8n(stage: string): Promise<boolean> {
	const sim = await startSim();
	try {
		progress('installing n8n (cached) and the package from its tarball');
		const install = await installN8n(10 * MINUTE, path.join(benchDir, 'n8n-install.log'));
		const sandbox = await N8nSandbox.create(install, path.join(benchDir, 'run'), {
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			N8N_PORT: String(await freePort()),
		});
		await loadStagedPackage(sandbox, stage);
		await sandbox.importCredentials(
			[{ ...CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } }],
			2 * MINUTE,
		);
		const folder = path.join(benchDir, 'workflows');
		await fs.rm(folder, { recursive: true, force: true });
		await fs.mkdir(folder, { recursive: true });
		const files: string[] = [];
		for (let k = 1; k <= K; k++) {
			const file = path.join(folder, `execution-${k}.json`);
			await fs.writeFile(file, JSON.stringify(manualWorkflow(k)));
			files.push(file);
		}
		const { all } = await sandbox.importWorkflows(files, 2 * MINUTE);
		progress(`${K} executions of ${M} prompts at once (execute-batch --concurrency ${K})`);
		sim.reset();
		const batch = await sandbox.executeBatch(all, 10 * MINUTE, { concurrency: K, name: 'quota' });
		const items = all.flatMap((id) => (batch.runs[id] ? outputOf(batch.runs[id], 'Generate') : []));
		const requests = sim.generateRequests;
		return report(
			`2. ${K} executions of ${M} prompts at once in one n8n ${install.n8nVersion} (execute-batch --concurrency ${K}), Q = ${Q} per ${windowMs / 1000} s, latency ${latencyMs / 1000} s, default settings`,
			executionsFigures(items, requests, [
				[
					'executions',
					`${batch.summary.summary.successfulExecutions} of ${K} successful (wall time: first request to last answer)`,
				],
			]),
		);
	} finally {
		await sim.stop();
	}
}

/* ---------- 3. the same in queue mode, two workers ---------- */

const WORKERS = ['worker-1', 'worker-2'] as const;
const QUEUE_WORKFLOW = { id: 'nbsBenchQuotaQueue1', path: 'nbs-bench-quota-queue' };

async function executionsInQueueMode(stage: string): Promise<boolean> {
	const sim = await startSim();
	const servicesState = path.join(benchDir, 'services');
	let services: QueueServices | undefined;
	let cluster: QueueCluster | undefined;
	try {
		progress('starting PostgreSQL and Redis, n8n main and two workers (queue mode)');
		const started = await startServicesAndN8n(servicesState, {
			onServices: (running) => (services = running),
		});
		services = started.services;
		cluster = new QueueCluster({
			runDir: path.join(benchDir, 'cluster'),
			install: started.install,
			services,
			workers: WORKERS,
			// Each worker takes half the executions.
			workerArgs: [`--concurrency=${Math.ceil(K / WORKERS.length)}`],
			credentials: [
				{ ...CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
			],
			workflows: [
				{
					workflow: batchWorkflow({
						...QUEUE_WORKFLOW,
						credential: CREDENTIAL,
						imageSize: '1K',
						name: 'bench:quota queue',
						typeVersion: 1.1,
					}),
					path: QUEUE_WORKFLOW.path,
				},
			],
			loadPackage: (sandbox, first) => loadStagedPackage(sandbox, stage, first),
		});
		await cluster.start();
		progress(`${K} webhook executions of ${M} prompts at once, ${WORKERS.length} workers`);
		sim.reset();
		const answers = await Promise.all(
			Array.from({ length: K }, (_, k) =>
				cluster!.callWebhook(QUEUE_WORKFLOW.path, { batch: k + 1, count: M }),
			),
		);
		const executions = await cluster.waitForExecutions(QUEUE_WORKFLOW.id, K, {
			timeoutMs: 10 * MINUTE,
		});
		const items = [];
		for (const execution of executions) {
			const { run } = await cluster.rest.execution(execution.id);
			items.push(...outputOf(run, 'Generate Batch'));
		}
		const requests = sim.generateRequests;
		const by = requestsBySender(requests);
		const refusedBy = requestsBySender(requests.filter((r) => r.status === 429));
		const list = (map: Map<string, number>) =>
			[...map]
				.sort(([a], [b]) => a.localeCompare(b))
				.map(([name, n]) => `${name} ${n}`)
				.join(', ') || 'none';
		return report(
			`3. Queue mode: ${K} webhook executions of ${M} prompts at once, ${WORKERS.length} workers taking ${Math.ceil(K / WORKERS.length)} each, n8n ${started.install.n8nVersion}, Redis ${services.redis.version}, same quota and latency`,
			executionsFigures(items, requests, [
				['webhooks answered HTTP 200', `${answers.filter((a) => a.status === 200).length} of ${K}`],
				['requests by worker', list(by)],
				['429s by worker', list(refusedBy)],
			]),
		);
	} finally {
		for (const step of [
			() => cluster?.stop(),
			() => (services ? stopQueueServices(servicesState) : undefined),
			() => sim.stop(),
		]) {
			try {
				await step();
			} catch (error) {
				progress(`teardown: ${(error as Error).message}`);
			}
		}
	}
}

/** Figures, not assertions: the exit code is 0 whatever they are ("within bounds" says). */
async function main(): Promise<void> {
	if (!ONLY || ONLY === '1') await oneExecution();
	if (ONLY === '1') return;
	await fs.mkdir(benchDir, { recursive: true });
	const stage = await stagePackage(path.join(benchDir, 'package'));
	if (!ONLY || ONLY === '2') await executionsInN8n(stage);
	if (!ONLY || ONLY === '3') await executionsInQueueMode(stage);
}

main().then(
	() => process.exit(0),
	(error: Error) => {
		console.error(error.stack ?? error.message);
		process.exit(1);
	},
);
