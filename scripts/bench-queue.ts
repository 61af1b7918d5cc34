/**
 * Queue mode throughput: 200 Generate items spread over 8 webhook executions (25 items each), all 8
 * submitted at once, against the Gemini simulator at 1 s latency making 1K images; first with one
 * worker, then with two. The cluster is the queue-mode e2e test's (test/e2e/queue-cluster.ts):
 * PostgreSQL and Redis from scripts/queue-services.sh, n8n 2.41.1 main + workers, binary data in
 * PostgreSQL, this package installed from its packed tarball in every process's user folder (built in
 * a private copy of the tree, .e2e/bench-queue/package, so the repository's dist/ is left alone).
 *
 * One cluster serves both runs: main + worker-1 run the 1-worker measurement, then worker-2 is started
 * and the 2-worker one runs. Before each, warm-up executions (1 item) run until every worker of that
 * run has finished one, so no measured run pays for a cold worker. Wall time runs from the first
 * webhook POST to the last of the 8 executions' stoppedAt, as n8n recorded it.
 *
 * Prints measured figures, one a line. Run with `npm run bench:queue`; BENCH_QUEUE_TEXTURE=flat uses the
 * simulator's small flat images instead of its real-size ('noise') ones.
 */
import { execFileSync } from 'child_process';
import { promises as fs, readdirSync, readFileSync } from 'fs';
import os from 'os';
import path from 'path';
import sharp from 'sharp';
import type { IRun } from 'n8n-workflow';

import { FIXED_CONCURRENCY_DEFAULT } from '../nodes/shared/pipeline/settings';
import { GeminiSim } from '../test/gemini-sim';
import type { ImageTexture } from '../test/gemini-sim/types';
import {
	loadStagedPackage,
	outputOf,
	repoDir,
	stagePackage,
	type N8nInstall,
} from '../test/e2e/local-n8n';
import {
	batchWorkflow,
	QueueCluster,
	requestsBySender,
	startServicesAndN8n,
	stopQueueServices,
	type ExecutionSummary,
	type QueueServices,
} from '../test/e2e/queue-cluster';

const BATCHES = 8;
const ITEMS_PER_BATCH = 25;
const ITEMS = BATCHES * ITEMS_PER_BATCH;
const LATENCY_MS = 1000;
const IMAGE_SIZE = '1K';
const TEXTURE: ImageTexture = process.env.BENCH_QUEUE_TEXTURE === 'flat' ? 'flat' : 'noise';
const WORKERS = ['worker-1', 'worker-2'] as const;
const benchDir = path.join(repoDir, '.e2e', 'bench-queue');
const servicesState = path.join(benchDir, 'services');
const CREDENTIAL = { id: 'nbsBenchQueueCred1', name: 'Nano Banana (bench:queue)' };
const WORKFLOW = { id: 'nbsBenchQueueBatch1', path: 'nbs-bench-queue-batch' };
/** Max Concurrent Requests of the workflow's Generate (version 1, the option not set). */
const DEFAULT_CONCURRENCY = FIXED_CONCURRENCY_DEFAULT;

const line = (name: string, value: string) => console.log(`${name.padEnd(44)} ${value}`);
const progress = (text: string) => process.stderr.write(`[bench:queue] ${text}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const loadavg = () =>
	os
		.loadavg()
		.map((l) => l.toFixed(2))
		.join(' ');

/* ---------- the machine ---------- */

/** Busy and total jiffies of all CPUs together, from /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
	const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
	const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
	const busy = user + nice + system + irq + softirq + steal;
	return { busy, total: busy + idle + iowait };
}

/** CPU jiffies (utime+stime, and those of reaped children) of the processes given, from /proc/<pid>/stat. */
function processJiffies(pids: Iterable<number>): number {
	let sum = 0;
	for (const pid of pids) {
		try {
			const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			// after the command: state is field 3, utime..cstime are fields 14..17
			sum += fields
				.slice(11, 15)
				.map(Number)
				.reduce((a, b) => a + b, 0);
		} catch {
			// gone meanwhile
		}
	}
	return sum;
}

/** Every running process's parent, from /proc. */
function parentPids(): Map<number, number> {
	const parent = new Map<number, number>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
		} catch {
			// gone meanwhile
		}
	}
	return parent;
}

/** This bench's processes: its own tree (n8n main, workers, task runners) and the PostgreSQL and Redis it started. */
function benchPids(services: QueueServices): Set<number> {
	const parent = parentPids();
	const pidFile = (file: string) => {
		try {
			return Number(readFileSync(file, 'utf8').split('\n')[0]);
		} catch {
			return NaN;
		}
	};
	const roots = new Set([
		process.pid,
		pidFile(path.join(services.runDir, 'pg', 'data', 'postmaster.pid')),
		pidFile(path.join(services.runDir, 'redis', 'redis.pid')),
	]);
	const ours = new Set<number>();
	for (const pid of parent.keys()) {
		for (let at: number | undefined = pid; at && at > 1; at = parent.get(at)) {
			if (roots.has(at)) {
				ours.add(pid);
				break;
			}
		}
	}
	return ours;
}

/** Processes this bench started that still run: its descendants (an n8n that was still starting when it failed). */
async function stopLeftovers(): Promise<void> {
	const parent = parentPids();
	const descendants = [...parent.keys()].filter((pid) => {
		for (let at = parent.get(pid); at && at > 1; at = parent.get(at))
			if (at === process.pid) return true;
		return false;
	});
	const signal = (pids: number[], name: NodeJS.Signals) => {
		for (const pid of pids) {
			try {
				process.kill(pid, name);
			} catch {
				// gone meanwhile
			}
		}
	};
	const alive = () =>
		descendants.filter((pid) => {
			try {
				process.kill(pid, 0);
				return true;
			} catch {
				return false;
			}
		});
	if (!descendants.length) return;
	progress(`stopping ${descendants.length} leftover process(es): ${descendants.join(', ')}`);
	signal(descendants, 'SIGTERM');
	for (let k = 0; k < 50 && alive().length; k++)
		await new Promise((resolve) => setTimeout(resolve, 200));
	signal(alive(), 'SIGKILL');
}

/** Other processes running the project's n8n benchmark (scripts/bench-n8n.ts) right now. */
function otherN8nBench(): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
			if (cmdline.includes('scripts/bench-n8n.ts') && !cmdline.includes(' -c '))
				pids.push(Number(entry));
		} catch {
			// gone meanwhile
		}
	}
	return pids;
}

/* ---------- the package, built in a private copy of the tree ---------- */

/* ---------- one measured run ---------- */

interface RunResult {
	workers: number;
	wallMs: number;
	lastAnswerMs: number;
	answered: number;
	executions: ExecutionSummary[];
	succeeded: number;
	images: number;
	distinctPrompts: number;
	imageBytes: number;
	imagePixels: string;
	requests: number;
	requests200: number;
	requestsBy: Map<string, number>;
	executionsBy: Map<string, number>;
	maxInFlight: number;
	busyShare: number;
	/** Share of all CPUs this bench's processes used during the run. */
	ownShare: number;
	loadBefore: string;
	loadAfter: string;
	/** pids of scripts/bench-n8n.ts processes seen when the run started. */
	otherBench: number[];
}

async function executionIds(cluster: QueueCluster): Promise<string[]> {
	return (await cluster.rest.executions(WORKFLOW.id)).map((execution) => execution.id);
}

/** 1-item executions until each of `names` has finished one since `since` (their log line count then). */
async function warmUp(
	cluster: QueueCluster,
	names: readonly string[],
	sim: GeminiSim,
): Promise<void> {
	const finished = async (name: string) =>
		((await cluster.workers.get(name)!.log()).match(/Worker finished execution/g) ?? []).length;
	const before = new Map(
		await Promise.all(names.map(async (name) => [name, await finished(name)] as const)),
	);
	for (let round = 1; ; round++) {
		const known = await executionIds(cluster);
		const answers = await Promise.all(
			names.map((_, k) =>
				cluster.callWebhook(WORKFLOW.path, { batch: `warm-up ${round}.${k}`, count: 1 }),
			),
		);
		const failed = answers.find((answer) => answer.status !== 200);
		if (failed) throw new Error(`warm-up webhook: HTTP ${failed.status} ${await failed.text()}`);
		await cluster.waitForExecutions(WORKFLOW.id, names.length, { except: known });
		const cold = [];
		for (const name of names) if ((await finished(name)) === before.get(name)) cold.push(name);
		if (cold.length === 0) break;
		if (round === 10)
			throw new Error(`warm-up: ${cold.join(', ')} ran no execution in ${round} rounds`);
	}
	sim.reset();
}

async function measure(
	cluster: QueueCluster,
	sim: GeminiSim,
	services: QueueServices,
	label: string,
	names: readonly string[],
): Promise<RunResult> {
	await warmUp(cluster, names, sim);
	const known = await executionIds(cluster);
	const startedBy = await cluster.executionsByWorker();
	sim.reset();
	const otherBench = otherN8nBench();
	progress(`uptime before the measured ${label} run: ${execFileSync('uptime').toString().trim()}`);
	const loadBefore = loadavg();
	const ours = benchPids(services);
	const ownBefore = processJiffies(ours);
	const cpuBefore = cpuTimes();

	const submitted = Date.now();
	const answers = await Promise.all(
		[...Array(BATCHES).keys()].map(async (batch) => {
			const response = await cluster.callWebhook(WORKFLOW.path, {
				batch: `${label}-${batch}`,
				count: ITEMS_PER_BATCH,
			});
			await response.arrayBuffer();
			return { status: response.status, at: Date.now() };
		}),
	);
	const executions = await cluster.waitForExecutions(WORKFLOW.id, BATCHES, { except: known });
	const cpuAfter = cpuTimes();
	const ownAfter = processJiffies(ours);
	const loadAfter = loadavg();
	const lastStop = Math.max(
		...executions.map((execution) => Date.parse(execution.stoppedAt ?? '')),
	);
	if (!Number.isFinite(lastStop))
		throw new Error(`an execution has no stoppedAt: ${JSON.stringify(executions)}`);

	// what came out: the Generate node's items with an image n8n stored in PostgreSQL
	let images = 0;
	const prompts = new Set<string>();
	const fileIds: string[] = [];
	let sample: IRun | undefined;
	for (const execution of executions) {
		const { status, run } = await cluster.rest.execution(execution.id);
		if (status !== 'success') continue;
		for (const item of outputOf(run, 'Generate Batch')) {
			const fileId = /^database:(.+)$/.exec(item.binary?.data?.id ?? '')?.[1];
			if (!fileId || item.json.error) continue;
			images++;
			fileIds.push(fileId);
			prompts.add(String(item.json.prompt));
			sample ??= run;
		}
	}
	const [count, bytes] = fileIds.length
		? (
				await cluster.sql(
					`select count(*), coalesce(sum(octet_length(data)), 0) from binary_data where "fileId" in (${fileIds.map((id) => `'${id.replace(/'/g, '')}'`).join(',')})`,
				)
			)
				.split('|')
				.map(Number)
		: [0, 0];
	let imagePixels = 'none';
	if (sample) {
		const first = outputOf(sample, 'Generate Batch')[0].binary!.data;
		const metadata = await sharp(await cluster.rest.binary(first)).metadata();
		imagePixels = `${metadata.width}x${metadata.height} ${metadata.format}`;
	}

	const requests = sim.generateRequests;
	const requestsBy = requestsBySender(requests);
	const ids = new Set(executions.map((execution) => execution.id));
	const executionsBy = new Map<string, number>();
	for (const [name, started] of await cluster.executionsByWorker()) {
		const before = new Set(startedBy.get(name) ?? []);
		executionsBy.set(name, started.filter((id) => ids.has(id) && !before.has(id)).length);
	}
	return {
		workers: names.length,
		wallMs: lastStop - submitted,
		lastAnswerMs: Math.max(...answers.map((answer) => answer.at)) - submitted,
		answered: answers.filter((answer) => answer.status === 200).length,
		executions,
		succeeded: executions.filter((execution) => execution.status === 'success').length,
		images,
		distinctPrompts: prompts.size,
		imageBytes: count ? bytes / count : 0,
		imagePixels,
		requests: requests.length,
		requests200: requests.filter((request) => request.status === 200).length,
		requestsBy,
		executionsBy,
		maxInFlight: sim.maxInFlight,
		busyShare: (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total),
		ownShare: (ownAfter - ownBefore) / Math.max(1, cpuAfter.total - cpuBefore.total),
		loadBefore,
		loadAfter,
		otherBench,
	};
}

/* ---------- main ---------- */

async function main(): Promise<number> {
	const benchStarted = Date.now();
	const sim = await GeminiSim.start({
		apiKey: 'bench-queue-api-key',
		latencyMs: LATENCY_MS,
		imageTexture: TEXTURE,
	});
	let services: QueueServices | undefined;
	let install: N8nInstall | undefined;
	let cluster: QueueCluster | undefined;
	let tornDown: Promise<void> | undefined;
	const teardown = () =>
		(tornDown ??= (async () => {
			// every step runs, whatever failed before it
			for (const step of [
				() => cluster?.stop(),
				stopLeftovers,
				() => stopQueueServices(servicesState),
				() => sim.stop(),
			]) {
				try {
					await step();
				} catch (error) {
					process.stderr.write(`[bench:queue] teardown: ${(error as Error).message}\n`);
				}
			}
		})());
	const onSignal = (signal: NodeJS.Signals) => {
		progress(`${signal}: stopping n8n, PostgreSQL and Redis`);
		void teardown().finally(() => process.exit(130));
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	try {
		progress(
			'starting PostgreSQL and Redis, installing n8n (cached), building the package in a private copy',
		);
		await fs.mkdir(benchDir, { recursive: true });
		const [started, stage] = await Promise.all([
			startServicesAndN8n(servicesState, { onServices: (running) => (services = running) }),
			stagePackage(path.join(benchDir, 'package')),
		]);
		({ services, install } = started);
		cluster = new QueueCluster({
			runDir: path.join(benchDir, 'cluster'),
			install,
			services,
			workers: WORKERS,
			startWorkers: [WORKERS[0]],
			credentials: [
				{ ...CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
			],
			workflows: [
				{
					workflow: batchWorkflow({
						...WORKFLOW,
						credential: CREDENTIAL,
						imageSize: IMAGE_SIZE,
						name: 'bench:queue batch',
					}),
					path: WORKFLOW.path,
				},
			],
			loadPackage: (sandbox, first) => loadStagedPackage(sandbox, stage, first),
		});
		progress('starting n8n: main + worker-1 (queue mode, binary data in PostgreSQL)');
		await cluster.start();
		const setupMs = Date.now() - benchStarted;

		progress('1 worker: warm-up, then 8 executions x 25 items');
		const one = await measure(cluster, sim, services, 'w1', [WORKERS[0]]);

		progress('starting worker-2');
		await cluster.startWorker(WORKERS[1]);
		progress('2 workers: warm-up, then 8 executions x 25 items');
		const two = await measure(cluster, sim, services, 'w2', WORKERS);

		const workerLog = await cluster.workers.get(WORKERS[0])!.log();
		const workerConcurrency = /Concurrency: (\d+)/.exec(workerLog)?.[1] ?? 'unknown';
		const nodeVersion = execFileSync(install.nodeBin, ['-v']).toString().trim();

		console.log(
			`Queue mode: ${ITEMS} Generate items over ${BATCHES} webhook executions of ${ITEMS_PER_BATCH}, all ${BATCHES} POSTed at once; ` +
				`simulator latency ${LATENCY_MS / 1000} s, ${IMAGE_SIZE} images ('${TEXTURE}' texture), gemini-3.1-flash-image`,
		);
		console.log(
			`n8n ${install.n8nVersion} on Node ${nodeVersion}: 1 main + N workers (worker concurrency ${workerConcurrency}), PostgreSQL ${services.postgres.version}, ` +
				`Redis ${services.redis.version}, binary data mode database; Generate at defaults (Max Concurrent Requests ${DEFAULT_CONCURRENCY}); simulator in the bench process`,
		);
		for (const run of [one, two]) {
			const tag = `${run.workers} worker${run.workers > 1 ? 's' : ''}:`;
			const ok = run.images === ITEMS && run.distinctPrompts === ITEMS;
			line(
				`${tag} images out`,
				`${run.images} of ${ITEMS}${ok ? '' : '  (NOT ALL)'} (${run.distinctPrompts} distinct prompts; ${run.succeeded}/${BATCHES} executions success, ${run.answered}/${BATCHES} webhooks HTTP 200)`,
			);
			line(
				`${tag} wall time`,
				`${seconds(run.wallMs)} from first POST to last execution's stoppedAt (last webhook answer at ${seconds(run.lastAnswerMs)})`,
			);
			line(`${tag} throughput`, `${((ITEMS * 1000) / run.wallMs).toFixed(2)} images/s`);
			line(
				`${tag} requests`,
				`${run.requests} generateContent, ${run.requests200} HTTP 200; ${[...run.requestsBy]
					.sort(([a], [b]) => a.localeCompare(b))
					.map(([name, n]) => `${name} ${n}`)
					.join(', ')}`,
			);
			line(
				`${tag} executions per worker`,
				[...run.executionsBy]
					.sort(([a], [b]) => a.localeCompare(b))
					.map(([name, n]) => `${name} ${n}`)
					.join(', '),
			);
			line(`${tag} simulator max in-flight`, `${run.maxInFlight}`);
			line(
				`${tag} images`,
				`${run.imagePixels}, ${(run.imageBytes / 1e6).toFixed(3)} MB each on average in PostgreSQL`,
			);
			line(
				`${tag} machine during the run`,
				`all ${os.cpus().length} CPUs ${(100 * run.busyShare).toFixed(0)}% busy: this bench's processes ${(100 * run.ownShare).toFixed(0)}%, others ${(100 * Math.max(0, run.busyShare - run.ownShare)).toFixed(0)}% (/proc); load ${run.loadBefore} before, ${run.loadAfter} after; bench-n8n running: ${run.otherBench.length ? `yes (pid ${run.otherBench.join(', ')})` : 'no'}`,
			);
		}
		line('throughput 2 workers / 1 worker', `${(one.wallMs / two.wallMs).toFixed(2)}x`);
		const rounds = Math.ceil(ITEMS_PER_BATCH / DEFAULT_CONCURRENCY);
		line(
			'latency floor of one execution',
			`${seconds(rounds * LATENCY_MS)} (ceil(${ITEMS_PER_BATCH}/${DEFAULT_CONCURRENCY}) x ${LATENCY_MS / 1000} s); ${BATCHES} executions, ${workerConcurrency} at once per worker`,
		);
		line(
			'machine',
			`${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), load ${loadavg()} at the end, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM; ${new Date().toISOString()}`,
		);
		line('setup (services, packages, n8n start)', seconds(setupMs));
		return one.images === ITEMS && two.images === ITEMS ? 0 : 1;
	} finally {
		progress('stopping n8n, PostgreSQL and Redis');
		await teardown();
	}
}

main().then(
	(code) => process.exit(code),
	(error: Error) => {
		console.error(error.stack ?? error.message);
		process.exit(1);
	},
);
