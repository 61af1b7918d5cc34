/**
 * Side by side in one real n8n: this package's nodes against n8n's own Google Gemini node
 * (@n8n/n8n-nodes-langchain.googleGemini 1.2), both talking to Gemini simulators that run in this
 * process (one per measured node, so each one's requests are exactly that node's). n8n is the e2e
 * suite's install (scripts/n8n-install.sh, cached), in a fresh user folder with this package
 * installed from its packed tarball; the workflows are written here and run by `n8n execute-batch`.
 * Prints measured figures, one line each:
 *
 *   1. throughput: N prompts at 1 s simulator latency, our Generate at default settings (a node
 *      saved at version 1: Max Concurrent Requests 4) vs the official node, each timed by the node's
 *      own executionTime in n8n's run data; then Auto concurrency (a node added now, version 1.1):
 *      AUTO_N prompts at 2 s latency, ours vs the official node;
 *   2. CPU per image at zero latency: the n8n process's CPU time (utime+stime from /proc, per
 *      thread group, sampled every 20 ms from a worker thread) over the node's execution window,
 *      (N-image run - 1-image run) / (N - 1), vs a bare @google/genai loop in Node 24 (no n8n).
 *      For reference, the same measure for the official node, n8n's V8 heap (an observer loaded
 *      into n8n with NODE_OPTIONS=--require) and the bare loop again while holding that much heap;
 *   3. peak RSS of the n8n process for 20, 50 and 100 4K images (one fresh n8n process per run),
 *      our Generate as a node added now (Auto concurrency);
 *   4. bytes sent to edit a 24 MP photo: our Edit vs the file vs the official node (Files API).
 *
 * Run with `npm run bench:n8n` (about 4 minutes on 2 cores). BENCH_N8N_N (default 32) changes N
 * for part 1, BENCH_N8N_CPU_N (default 200) for part 2;
 * BENCH_N8N_MEMORY (default "20,50,100", empty for none) the memory runs; BENCH_N8N_PROFILE=1 also
 * runs the CPU workflow under --cpu-prof and prints where the n8n main thread spent its time;
 * BENCH_N8N_ONLY=cpu runs part 2 alone (about a minute and a half), BENCH_N8N_ONLY=throughput part 1
 * (about four minutes), BENCH_N8N_ONLY=auto the Auto comparison alone (about three minutes),
 * BENCH_N8N_ONLY=memory the memory runs of part 3 alone (about a minute a run),
 * BENCH_N8N_AUTO_N (default 64) its N, BENCH_N8N_TIMELINE=1 with it each request's start, answer made and end;
 * BENCH_N8N_CPU_RUNS (default 2, at most 6) how many times part 2 measures our node and the bare loop;
 * BENCH_N8N_V8_FLAGS sets V8 flags in the measured n8n process (e.g. --trace-gc, printed to
 * .e2e/bench-n8n/run/n8n.log; NODE_OPTIONS does not allow them), BENCH_N8N_NODE_OPTIONS adds to its
 * NODE_OPTIONS (e.g. --max-semi-space-size=1). The
 * package is built in a private copy of the tree (.e2e/bench-n8n/package), so a test run using
 * the repository's dist/ at the same time is never disturbed.
 */
import { execFileSync } from 'child_process';
import { promises as fs, readdirSync, readFileSync } from 'fs';
import { createServer, type Server } from 'http';
import os from 'os';
import path from 'path';
import sharp from 'sharp';
import { Worker } from 'worker_threads';
import type { INodeExecutionData, IRun, ITaskData } from 'n8n-workflow';

import { FIXED_CONCURRENCY_DEFAULT } from '../nodes/shared/pipeline/settings';
import { AUTO_MAX } from '../nodes/shared/transport';
import { GeminiSim } from '../test/gemini-sim';
import {
	freePort,
	installN8n,
	loadStagedPackage,
	mustSucceed,
	N8nSandbox,
	repoDir,
	runCommand,
	type BatchResult,
	type CredentialFile,
	type N8nInstall,
	stagePackage,
	peakOverlap,
} from '../test/e2e/local-n8n';
import { makePhoto } from './bench-photo';

const env = process.env;
const N = Number(env.BENCH_N8N_N ?? 32);
/** Images per CPU run (part 2): enough that one full garbage collection more or less moves the figure little. */
const CPU_N = Number(env.BENCH_N8N_CPU_N ?? 200);
const LATENCY_MS = 1000;
/** BENCH_N8N_ONLY=cpu: only the CPU figures (part 2), for measuring a change quickly. */
const CPU_ONLY = env.BENCH_N8N_ONLY === 'cpu';
/** BENCH_N8N_ONLY=throughput: only the throughput figures (part 1). */
const THROUGHPUT_ONLY = env.BENCH_N8N_ONLY === 'throughput';
/** BENCH_N8N_ONLY=auto: only the Auto concurrency comparison. */
const AUTO_ONLY = env.BENCH_N8N_ONLY === 'auto';
/** BENCH_N8N_ONLY=memory: only the memory runs (part 3). */
const MEMORY_ONLY = env.BENCH_N8N_ONLY === 'memory';
/** Auto concurrency: N prompts at 2 s latency, no quota (the issue's measure). */
const AUTO_N = Number(env.BENCH_N8N_AUTO_N ?? 64);
const AUTO_LATENCY_MS = 2000;
const MEMORY_RUNS =
	CPU_ONLY || AUTO_ONLY
		? []
		: (env.BENCH_N8N_MEMORY ?? '20,50,100').split(',').filter(Boolean).map(Number);
const PROFILE = env.BENCH_N8N_PROFILE === '1';
/** Runs of the CPU measure (1 and N images each) for our node, and of the bare loop: the load on a shared machine varies. */
const CPU_RUNS = Math.min(6, Math.max(1, Number(env.BENCH_N8N_CPU_RUNS ?? 2)));
const RUN_LETTERS = 'abcdef'.slice(0, CPU_RUNS).split('');
const MODEL = 'gemini-3.1-flash-image';
const MINUTE = 60_000;
const MB = 1e6;
const benchDir = path.join(repoDir, '.e2e', 'bench-n8n');
const OUR_PACKAGE = 'n8n-nodes-nano-banana-studio';

/** Max Concurrent Requests of a node saved at version 1 without the option (part 1). */
const DEFAULT_CONCURRENCY = FIXED_CONCURRENCY_DEFAULT;

const line = (name: string, value: string) => console.log(`${name.padEnd(50)} ${value}`);
const heading = (text: string) => console.log(`\n${text}`);
const progress = (text: string) => process.stderr.write(`[bench:n8n] ${text}\n`);
const mb = (bytes: number) => `${(bytes / MB).toFixed(2)} MB`;
const size = (bytes: number) =>
	bytes >= 100_000 ? mb(bytes) : bytes >= 1000 ? `${(bytes / 1000).toFixed(1)} kB` : `${bytes} B`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load1 = () => os.loadavg()[0].toFixed(2);

/* ---------- workflows ---------- */

/** Workflow ids: execute-batch runs them in id order. */
const ID = {
	warm: 'nbsBench00Warm',
	officialT: 'nbsBench01OfficialT',
	oursT: 'nbsBench02OursT',
	officialFlat: 'nbsBench03OfficialF',
	oursFlat: 'nbsBench04OursF',
	officialAuto: 'nbsBench04OffclAuto',
	oursAuto: 'nbsBench04OursAuto',
	cpu1: (run: string) => `nbsBench05Cpu${run}1`,
	cpuN: (run: string) => `nbsBench05Cpu${run}N`,
	offCpu1: 'nbsBench09OffCpu1',
	offCpuN: 'nbsBench10OffCpuN',
	editOurs: 'nbsBench11EditOurs',
	editOfficial: 'nbsBench12EditOffcl',
	profile: 'nbsBench13Profile',
	memory: (n: number) => `nbsBench2Memory${n}`,
};
/** Names of the measured nodes in the workflows. */
const NODE = {
	official: 'Official Gemini Generate',
	ours: 'Nano Banana Generate',
	editOurs: 'Nano Banana Edit',
	editOfficial: 'Official Gemini Edit',
};

interface WorkflowNode {
	name: string;
	type: string;
	typeVersion: number;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
}

interface Credential {
	id: string;
	name: string;
	type: 'nanoBananaApi' | 'googlePalmApi';
	sim: GeminiSim;
}

function credentialRef(credential: Credential) {
	return { [credential.type]: { id: credential.id, name: credential.name } };
}

/** A workflow of nodes run one after the other, started by a Manual Trigger. */
function workflow(id: string, name: string, steps: WorkflowNode[]) {
	const nodes = [
		{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} },
		...steps,
	].map((node, index) => ({
		id: `b3c4d5e6-0000-4000-8000-${String(index + 1).padStart(12, '0')}`,
		position: [index * 220, 0],
		...node,
	}));
	const connections: Record<string, unknown> = {};
	for (let k = 0; k + 1 < nodes.length; k++) {
		connections[nodes[k].name] = { main: [[{ node: nodes[k + 1].name, type: 'main', index: 0 }]] };
	}
	return { id, name, active: false, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** `count` items with a distinct prompt each: a literal JSON list (no Code node, so no task runner) split into items. */
function prompts(count: number, label: string): WorkflowNode[] {
	const list = Array.from(
		{ length: count },
		(_, i) => `${label} ${i + 1}: a banana on a pastel desk, soft daylight`,
	);
	return [
		{
			name: `${count} Prompts`,
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ prompts: list }), options: {} },
		},
		{
			name: 'One Item Each',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			parameters: { fieldToSplitOut: 'prompts', options: {} },
		},
	];
}

/**
 * Our Generate at default settings (only the model is set, as the editor saves it). Version 1 is a
 * node saved before Auto concurrency (Max Concurrent Requests 4); 1.1 a node added now (Auto).
 */
function ourGenerate(
	name: string,
	credential: Credential,
	imageSize?: string,
	typeVersion = 1,
): WorkflowNode {
	return {
		name,
		type: `${OUR_PACKAGE}.nanoBananaGenerate`,
		typeVersion,
		parameters: {
			model: { __rl: true, mode: 'list', value: MODEL },
			prompt: '={{ $json.prompts }}',
			...(imageSize ? { imageSize } : {}),
			options: {},
		},
		credentials: credentialRef(credential),
	};
}

function officialGenerate(
	name: string,
	credential: Credential,
	prompt = '={{ $json.prompts }}',
): WorkflowNode {
	return {
		name,
		type: '@n8n/n8n-nodes-langchain.googleGemini',
		typeVersion: 1.2,
		parameters: {
			resource: 'image',
			operation: 'generate',
			modelId: { __rl: true, mode: 'id', value: `models/${MODEL}` },
			prompt,
			options: {},
		},
		credentials: credentialRef(credential),
	};
}

function downloadPhoto(url: string): WorkflowNode {
	return {
		name: 'Download Photo',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		parameters: {
			url,
			options: { response: { response: { responseFormat: 'file', outputPropertyName: 'data' } } },
		},
	};
}

const EDIT_PROMPT = 'Warm up the colours';

/* ---------- measuring the n8n process ---------- */

/**
 * [Date.now(), VmRSS kB, VmHWM kB, then utime+stime in clock ticks of: the whole process, its main thread,
 * its V8 platform threads (garbage collection, compilation), its libuv thread pool; then the machine's load average]
 */
type Sample = [number, number, number, number, number, number, number, number];
const RSS = 1;
const HWM = 2;
const CPU = 3;
const MAIN_THREAD = 4;
const V8_THREADS = 5;
const LIBUV_THREADS = 6;
/** The 1-minute load average, times 100 */
const LOAD = 7;

const SAMPLER = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const samples = [];
let done = false;
function finish() {
	if (done) return;
	done = true;
	clearInterval(timer);
	parentPort.postMessage(samples);
}
function ticks(file) {
	const stat = fs.readFileSync(file, 'utf8');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return Number(fields[11]) + Number(fields[12]);
}
function read() {
	try {
		const pid = workerData.pid;
		const whole = ticks('/proc/' + pid + '/stat');
		let main = 0;
		let v8 = 0;
		let libuv = 0;
		for (const tid of fs.readdirSync('/proc/' + pid + '/task')) {
			try {
				const name = fs.readFileSync('/proc/' + pid + '/task/' + tid + '/comm', 'utf8');
				const used = ticks('/proc/' + pid + '/task/' + tid + '/stat');
				if (tid === String(pid)) main += used;
				else if (name.startsWith('V8')) v8 += used;
				else if (name.startsWith('libuv')) libuv += used;
			} catch {
				// the thread ended meanwhile
			}
		}
		const status = fs.readFileSync('/proc/' + pid + '/status', 'utf8');
		const rss = /VmRSS:\\s+(\\d+)/.exec(status);
		const hwm = /VmHWM:\\s+(\\d+)/.exec(status);
		if (!rss || !hwm) return finish();
		const load = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
		samples.push([Date.now(), Number(rss[1]), Number(hwm[1]), whole, main, v8, libuv, Math.round(load * 100)]);
	} catch {
		finish();
	}
}
const timer = setInterval(read, workerData.intervalMs);
read();
parentPort.on('message', finish);
`;

/** Samples a process from a worker thread, so the simulator's work on this thread never delays a sample. */
function sample(pid: number, intervalMs = 20): { stop: () => Promise<Sample[]> } {
	const worker = new Worker(SAMPLER, { eval: true, workerData: { pid, intervalMs } });
	const result = new Promise<Sample[]>((resolve, reject) => {
		worker.once('message', (samples: Sample[]) => {
			resolve(samples);
			void worker.terminate();
		});
		worker.once('error', reject);
	});
	return {
		stop: async () => {
			worker.postMessage('stop');
			return await result;
		},
	};
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The pid of this process's child whose command line contains `marker` (bash execs node, so it stays the same). */
async function findChild(marker: string, timeoutMs: number): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		for (const entry of readdirSync('/proc')) {
			if (!/^\d+$/.test(entry)) continue;
			try {
				const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
				const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
				if (ppid !== process.pid) continue;
				if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) return Number(entry);
			} catch {
				// gone meanwhile
			}
		}
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	throw new Error(`no child process with "${marker}" within ${timeoutMs} ms`);
}

/** CPU ms of the sampled process (or its main thread) at time t, interpolated between samples. */
function cpuAt(samples: Sample[], t: number, field = CPU): number {
	let k = samples.findIndex((s) => s[0] >= t);
	if (k === -1) k = samples.length - 1;
	if (k === 0) return (samples[0][field] * 1000) / CLOCK_TICKS;
	const [t0, c0] = [samples[k - 1][0], samples[k - 1][field]];
	const [t1, c1] = [samples[k][0], samples[k][field]];
	const share = t1 === t0 ? 1 : Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
	return ((c0 + (c1 - c0) * share) * 1000) / CLOCK_TICKS;
}

interface CpuSplit {
	/** The whole process, all threads, including threads that ended. */
	cpuMs: number;
	mainMs: number;
	v8Ms: number;
	libuvMs: number;
}

/** CPU ms between from and to: the process, and its main thread, V8 threads and libuv pool. */
function cpuBetween(samples: Sample[], from: number, to: number): CpuSplit {
	const used = (field: number) => cpuAt(samples, to, field) - cpuAt(samples, from, field);
	return {
		cpuMs: used(CPU),
		mainMs: used(MAIN_THREAD),
		v8Ms: used(V8_THREADS),
		libuvMs: used(LIBUV_THREADS),
	};
}

function splitText(split: CpuSplit, per = 1): string {
	const ms = (value: number) => (value / per).toFixed(1);
	// The parts are read a few ms apart from the total, in 10 ms ticks: 'other' can come out slightly below 0.
	const other = Math.max(0, split.cpuMs - split.mainMs - split.v8Ms - split.libuvMs);
	return `main thread ${ms(split.mainMs)}, V8 threads (GC) ${ms(split.v8Ms)}, libuv pool ${ms(split.libuvMs)}, other ${ms(other)}`;
}

function peakRssKb(samples: Sample[], from: number, to: number): number {
	return Math.max(0, ...samples.filter((s) => s[0] >= from && s[0] <= to).map((s) => s[RSS]));
}

function rssBeforeKb(samples: Sample[], t: number): number {
	const before = samples.filter((s) => s[0] < t);
	return before.length ? before[before.length - 1][RSS] : 0;
}

interface SampledBatch extends BatchResult {
	samples: Sample[];
	pid: number;
}

/** One `n8n execute-batch` process for these workflows, its CPU and memory sampled the whole time. */
async function runBatch(
	sandbox: N8nSandbox,
	ids: string[],
	timeoutMs: number,
): Promise<SampledBatch> {
	const running = sandbox.executeBatch(ids, timeoutMs);
	const pid = await findChild('execute-batch', 30_000);
	const sampler = sample(pid);
	const batch = await running;
	const samples = await sampler.stop();
	const failed = batch.summary.executions.filter((e) => e.executionStatus !== 'success');
	if (failed.length) {
		throw new Error(
			`workflows failed in n8n: ${failed.map((e) => `${e.workflowId}: ${e.error}`).join('; ')} (see ${sandbox.logFile})`,
		);
	}
	return { ...batch, samples, pid };
}

interface NodeRun {
	startTime: number;
	executionTime: number;
	items: INodeExecutionData[];
}

function nodeRun(batch: BatchResult, workflowId: string, nodeName: string): NodeRun {
	const run: IRun | undefined = batch.runs[workflowId];
	const task: ITaskData | undefined = run?.data.resultData.runData[nodeName]?.[0];
	if (!task) throw new Error(`no run data for "${nodeName}" in ${workflowId}`);
	if (task.error) throw new Error(`"${nodeName}" in ${workflowId} failed: ${task.error.message}`);
	return {
		startTime: task.startTime,
		executionTime: task.executionTime,
		items: task.data?.main?.[0] ?? [],
	};
}

function imagesOut(run: NodeRun): number {
	return run.items.filter((item) => Object.keys(item.binary ?? {}).length > 0 && !item.json.error)
		.length;
}

/* ---------- the bare @google/genai loop ---------- */

const BARE_LOOP = `
const { createRequire } = require('module');
const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const [repoDir, baseUrl, apiKey, model, count, outDir, configJson, ballastBytes, acceptEncoding] = process.argv.slice(2);
const { GoogleGenAI } = createRequire(path.join(repoDir, 'package.json'))('@google/genai');
// Optionally the Accept-Encoding our node sends (identity); else fetch's default, gzip.
const headers = acceptEncoding ? { 'accept-encoding': acceptEncoding } : undefined;
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta', headers } });
const config = JSON.parse(configJson);
// Optionally, live objects until the V8 heap holds as much as n8n's does: the same loop in a big process.
globalThis.ballast = [];
while (v8.getHeapStatistics().used_heap_size < Number(ballastBytes)) {
	for (let i = 0; i < 100000; i++) globalThis.ballast.push({ i, name: 'node ' + i, data: { value: i } });
}
async function once(i) {
	const response = await ai.models.generateContent({
		model,
		contents: [{ role: 'user', parts: [{ text: 'Bare loop ' + i + ': a banana on a pastel desk, soft daylight' }] }],
		config,
	});
	const part = response.candidates[0].content.parts.find((p) => p.inlineData && !p.thought);
	const bytes = Buffer.from(part.inlineData.data, 'base64');
	await fs.promises.writeFile(path.join(outDir, 'image-' + i + '.png'), bytes);
	return bytes.length;
}
(async () => {
	await once(0);
	const cpu = process.cpuUsage();
	const main = process.threadCpuUsage();
	const started = performance.now();
	let bytes = 0;
	for (let i = 1; i <= Number(count); i++) bytes += await once(i);
	const used = process.cpuUsage(cpu);
	const usedMain = process.threadCpuUsage(main);
	console.log(JSON.stringify({
		cpuMs: (used.user + used.system) / 1000,
		mainMs: (usedMain.user + usedMain.system) / 1000,
		wallMs: performance.now() - started,
		heapUsed: v8.getHeapStatistics().used_heap_size,
		bytes,
	}));
})().catch((error) => {
	console.error(error);
	process.exit(1);
});
`;

interface BareResult {
	cpuMs: number;
	mainMs: number;
	wallMs: number;
	heapUsed: number;
	bytes: number;
	/** The 1-minute load average when the run started. */
	load?: string;
}

/** The loop under the Node that runs n8n, with the same generationConfig our node sent. */
async function bareLoop(
	install: N8nInstall,
	sim: GeminiSim,
	config: Record<string, unknown>,
	ballastBytes = 0,
	acceptEncoding = '',
): Promise<BareResult> {
	const dir = path.join(benchDir, 'bare-loop');
	await fs.rm(dir, { recursive: true, force: true });
	await fs.mkdir(path.join(dir, 'out'), { recursive: true });
	const script = path.join(dir, 'bare-loop.js');
	await fs.writeFile(script, BARE_LOOP);
	const load = load1();
	const args = [
		script,
		repoDir,
		sim.url,
		sim.apiKey,
		MODEL,
		String(CPU_N),
		path.join(dir, 'out'),
		JSON.stringify(config),
		String(ballastBytes),
		acceptEncoding,
	];
	const { stdout } = await mustSucceed(
		runCommand(install.nodeBin, args, { timeoutMs: 3 * MINUTE }),
		'the bare @google/genai loop',
	);
	await fs.rm(path.join(dir, 'out'), { recursive: true, force: true });
	return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as BareResult), load };
}

/* ---------- n8n's V8 heap and garbage collections, seen from inside ---------- */

/**
 * Loaded into the n8n process with NODE_OPTIONS=--require: every 100 ms the V8 heap in use, and every
 * garbage collection (perf_hooks), written to a file when execute-batch exits. Costs a timer and an observer.
 */
const HEAP_PRELOAD = `
const { PerformanceObserver, performance } = require('perf_hooks');
const fs = require('fs');
const v8 = require('v8');
if (process.argv.some((arg) => arg === 'execute-batch')) {
	if (process.env.BENCH_N8N_V8_FLAGS) v8.setFlagsFromString(process.env.BENCH_N8N_V8_FLAGS);
	const gcs = [];
	const heap = [];
	new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) gcs.push([performance.timeOrigin + entry.startTime, entry.detail ? entry.detail.kind : entry.kind, entry.duration]);
	}).observe({ entryTypes: ['gc'] });
	setInterval(() => heap.push([Date.now(), v8.getHeapStatistics().used_heap_size]), 100).unref();
	process.on('exit', () => {
		fs.writeFileSync(process.env.BENCH_HEAP_DIR + '/heap-' + process.pid + '.json', JSON.stringify({ gcs, heap }));
	});
}
`;

interface HeapLog {
	/** [epoch ms, perf_hooks kind (1 minor, 4 major, 8 incremental, 16 weak callbacks), duration ms on the main thread] */
	gcs: Array<[number, number, number]>;
	/** [epoch ms, V8 heap used bytes] */
	heap: Array<[number, number]>;
}

/* ---------- the CPU profile (BENCH_N8N_PROFILE=1) ---------- */

interface ProfileNode {
	id: number;
	parent?: ProfileNode;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
}

/** Self time inside [from, to] (epoch ms) by function, from a V8 .cpuprofile of the n8n process. */
function profileBreakdown(profile: Profile, from: number, to: number, epochOfStart: number) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	for (const node of profile.nodes)
		for (const child of node.children ?? []) byId.get(child)!.parent = node;
	const self = new Map<string, number>();
	const groups = new Map<string, number>();
	const kinds = new Map<string, number>();
	let t = epochOfStart;
	let total = 0;
	for (let k = 0; k < profile.samples.length; k++) {
		t += profile.timeDeltas[k] / 1000;
		if (t < from || t > to) continue;
		const node = byId.get(profile.samples[k])!;
		const delta = (profile.timeDeltas[k + 1] ?? 0) / 1000;
		const { functionName, url, lineNumber } = node.callFrame;
		if (functionName === '(idle)') continue;
		const key = `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
		const pkg = packageOf(url);
		groups.set(pkg, (groups.get(pkg) ?? 0) + delta);
		self.set(key, (self.get(key) ?? 0) + delta);
		const kind = kindOf(node);
		kinds.set(kind, (kinds.get(kind) ?? 0) + delta);
		total += delta;
	}
	const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
	return { total, top: sorted(self), groups: sorted(groups), kinds: sorted(kinds) };
}

/** fs calls as they show in a profile: after an await, a stack no longer shows who wrote the file. */
const FS_CALLS = new Set([
	'writeBuffer',
	'writev',
	'writeFileHandle',
	'openFileHandle',
	'open',
	'close',
	'access',
	'rename',
	'mkdir',
	'stat',
	'fstat',
]);

/** What a sample's time was for: the first frame from the leaf up that tells. */
function kindOf(leaf: ProfileNode): string {
	for (let node: ProfileNode | undefined = leaf; node; node = node.parent) {
		const { functionName, url } = node.callFrame;
		const pkg = packageOf(url);
		if (functionName === '(garbage collector)') return 'garbage collection on the main thread';
		if (functionName === '(program)') return '(program): native code V8 does not attribute';
		if (functionName === 'base64Write') return 'base64 decode of the image';
		if ((!url && FS_CALLS.has(functionName)) || url.startsWith('node:internal/fs'))
			return "file writes (n8n's binary data store)";
		if (pkg === 'ours (dist)' && url.endsWith('/transport/answer.js'))
			return 'ours: reading the answer (JSON, images decoded as they arrive)';
		if (functionName === 'readJson' && pkg === 'ours (dist)')
			return 'ours: UTF-8 decode + JSON.parse of the answer';
		if (url.includes('undici') || url.includes('webstreams'))
			return 'fetch: receiving the body (undici, web streams)';
		if (pkg === '@n8n/blob-storage' || url.includes('binary-data'))
			return "file writes (n8n's binary data store)";
		if (pkg === '@n8n/expression-runtime') return 'n8n: evaluating the prompt expression';
		if (pkg === '@google/genai') return '@google/genai';
		if (pkg === 'ours (dist)') return 'ours: other';
		if (pkg.startsWith('n8n') || pkg.startsWith('@n8n/')) return 'n8n: engine, other';
	}
	return 'other (Node internals, timers, libraries)';
}

/** `n8n-core`, `@google/genai`, `ours` (this package's dist), `node:` internals or a V8 pseudo-frame such as (garbage collector). */
function packageOf(url: string): string {
	if (!url.includes('node_modules/'))
		return url.startsWith('node:') ? 'node: internals' : url || '(native: V8, GC, libuv, addons)';
	const parts = url.split('node_modules/').pop()!.split('/');
	const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
	return name === OUR_PACKAGE ? 'ours (dist)' : name;
}

function where(url: string): string {
	const pkg = packageOf(url);
	if (pkg === 'ours (dist)') return `ours ${url.split(`${OUR_PACKAGE}/`).pop()}`;
	return url.includes('node_modules/') ? `${pkg} ${path.basename(url)}` : url || '(native)';
}

/* ---------- part 3: peak RSS ---------- */

interface MemoryRun {
	n: number;
	images: number;
	peakKb: number;
	beforeKb: number;
	hwmKb: number;
	ms: number;
	load: string;
	fileBytes: number;
}

/** Part 3: each of MEMORY_RUNS in a fresh n8n process (execute-batch starts one per call). */
async function memoryRuns(sandbox: N8nSandbox, sim: GeminiSim): Promise<MemoryRun[]> {
	const memory: MemoryRun[] = [];
	for (const n of MEMORY_RUNS) {
		const load = load1();
		progress(`memory run: ${n} 4K images in a fresh n8n process (load ${load})`);
		sim.reset();
		const batch = await runBatch(sandbox, [ID.memory(n)], 8 * MINUTE);
		const run = nodeRun(batch, ID.memory(n), NODE.ours);
		const end = run.startTime + run.executionTime;
		const sizes = run.items.map((item) => Number(item.json.fileSize ?? 0));
		memory.push({
			n,
			images: imagesOut(run),
			peakKb: peakRssKb(batch.samples, run.startTime, end),
			beforeKb: rssBeforeKb(batch.samples, run.startTime),
			// VmHWM can lag a sampled VmRSS by a few pages: the larger of both
			hwmKb: Math.max(...batch.samples.map((sample) => Math.max(sample[HWM], sample[RSS]))),
			ms: run.executionTime,
			load,
			fileBytes: Math.max(0, ...sizes),
		});
		// 4K files add up to gigabytes: keep only the last run's
		await fs.rm(path.join(sandbox.userFolder, '.n8n', 'storage'), {
			recursive: true,
			force: true,
		});
	}
	return memory;
}

function printMemory(memory: MemoryRun[]): void {
	if (memory.length)
		heading(
			`3. Peak RSS of the n8n process, 4K PNGs (noise texture), latency 0, defaults of a node added now (Auto concurrency); a fresh n8n process per run`,
		);
	for (const m of memory) {
		line(
			`${m.n} images`,
			`peak ${(m.peakKb / 1024).toFixed(0)} MiB during the node, +${((m.peakKb - m.beforeKb) / 1024).toFixed(0)} MiB over the ${(m.beforeKb / 1024).toFixed(0)} MiB before it (bound: +250 MiB; process high-water mark ${(m.hwmKb / 1024).toFixed(0)} MiB); ${m.images} images of ${mb(m.fileBytes)} in ${seconds(m.ms)}, load ${m.load}`,
		);
	}
	if (memory.length >= 2) {
		const first = memory[0];
		const last = memory[memory.length - 1];
		const growth = last.peakKb / first.peakKb - 1;
		line(
			`growth of the peak, ${first.n} -> ${last.n} images`,
			`${(100 * growth).toFixed(1)}%  (flat: below 25%) -> ${growth < 0.25 ? 'flat' : 'NOT flat'}`,
		);
	}
}

function printSummary(benchStarted: number, loadAtStart: number[]): void {
	heading('Summary');
	line(
		'machine',
		`${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
	);
	line('load average at start', loadAtStart.map((l) => l.toFixed(2)).join(' '));
	line(
		'load average at end',
		os
			.loadavg()
			.map((l) => l.toFixed(2))
			.join(' '),
	);
	line('date', new Date().toISOString());
	line('bench time', seconds(Date.now() - benchStarted));
}

/* ---------- main ---------- */

/** The workflows the one n8n process of parts 1, 2 and 4 runs, as BENCH_N8N_ONLY chooses. */
function mainBatchIds(): string[] {
	const auto = [ID.officialAuto, ID.oursAuto];
	const throughput = [ID.officialT, ID.oursT, ID.officialFlat, ID.oursFlat, ...auto];
	const cpu = [
		...RUN_LETTERS.flatMap((run) => [ID.cpu1(run), ID.cpuN(run)]),
		ID.offCpu1,
		ID.offCpuN,
	];
	if (CPU_ONLY) return [ID.warm, ...cpu];
	if (AUTO_ONLY) return [ID.warm, ...auto];
	if (THROUGHPUT_ONLY) return [ID.warm, ...throughput];
	return [ID.warm, ...throughput, ...cpu, ID.editOurs, ID.editOfficial];
}

async function main() {
	const benchStarted = Date.now();
	const loadAtStart = os.loadavg();
	if (!Number.isFinite(DEFAULT_CONCURRENCY))
		throw new Error('cannot read the default of Max Concurrent Requests');

	progress('making the 24 MP photo and starting the simulators');
	const photo = await makePhoto();
	const photoServer: Server = createServer((_req, res) => {
		res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photo.length) });
		res.end(photo);
	});
	await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
	const photoUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}/photo.jpg`;

	// One simulator per measured node, so each one's requests are exactly that node's.
	const sims = {
		officialT: await GeminiSim.start({ latencyMs: LATENCY_MS, imageTexture: 'noise' }),
		oursT: await GeminiSim.start({ latencyMs: LATENCY_MS, imageTexture: 'noise' }),
		officialFlat: await GeminiSim.start({ latencyMs: LATENCY_MS }),
		oursFlat: await GeminiSim.start({ latencyMs: LATENCY_MS }),
		officialAuto: await GeminiSim.start({ latencyMs: AUTO_LATENCY_MS, imageTexture: 'noise' }),
		oursAuto: await GeminiSim.start({ latencyMs: AUTO_LATENCY_MS, imageTexture: 'noise' }),
		cpu: await GeminiSim.start({ imageTexture: 'noise' }),
		cpuOfficial: await GeminiSim.start({ imageTexture: 'noise' }),
		bare: await GeminiSim.start({ imageTexture: 'noise' }),
		memory: await GeminiSim.start({ imageTexture: 'noise' }),
		editOurs: await GeminiSim.start(),
		editOfficial: await GeminiSim.start(),
		warm: await GeminiSim.start({ imageTexture: 'noise' }),
	};
	const credential = (n: number, type: Credential['type'], sim: GeminiSim): Credential => ({
		id: `nbsBenchCred${n}`,
		name: `bench ${n} (${type})`,
		type,
		sim,
	});
	const cred = {
		officialT: credential(1, 'googlePalmApi', sims.officialT),
		oursT: credential(2, 'nanoBananaApi', sims.oursT),
		officialFlat: credential(10, 'googlePalmApi', sims.officialFlat),
		oursFlat: credential(11, 'nanoBananaApi', sims.oursFlat),
		cpu: credential(3, 'nanoBananaApi', sims.cpu),
		memory: credential(4, 'nanoBananaApi', sims.memory),
		editOurs: credential(5, 'nanoBananaApi', sims.editOurs),
		editOfficial: credential(6, 'googlePalmApi', sims.editOfficial),
		warmOurs: credential(7, 'nanoBananaApi', sims.warm),
		warmOfficial: credential(8, 'googlePalmApi', sims.warm),
		cpuOfficial: credential(9, 'googlePalmApi', sims.cpuOfficial),
		officialAuto: credential(12, 'googlePalmApi', sims.officialAuto),
		oursAuto: credential(13, 'nanoBananaApi', sims.oursAuto),
	};

	try {
		progress('installing n8n (cached) and the package from its tarball (private build)');
		const install = await installN8n(10 * MINUTE, path.join(benchDir, 'n8n-install.log'));
		const heapDir = path.join(benchDir, 'heap');
		await fs.rm(heapDir, { recursive: true, force: true });
		await fs.mkdir(heapDir, { recursive: true });
		await fs.writeFile(path.join(heapDir, 'preload.js'), HEAP_PRELOAD);
		const sandbox = await N8nSandbox.create(install, path.join(benchDir, 'run'), {
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			N8N_PORT: String(await freePort()),
			NODE_OPTIONS:
				`--require ${path.join(heapDir, 'preload.js')} ${env.BENCH_N8N_NODE_OPTIONS ?? ''}`.trim(),
			BENCH_HEAP_DIR: heapDir,
		});
		await loadStagedPackage(sandbox, await stagePackage(path.join(benchDir, 'package')));
		await sandbox.importCredentials(
			Object.values(cred).map((c): CredentialFile => ({
				id: c.id,
				name: c.name,
				type: c.type,
				data: { apiKey: c.sim.apiKey, host: c.sim.url },
			})),
			2 * MINUTE,
		);

		const workflows = [
			workflow(ID.warm, 'bench: warm-up (both nodes load and run once)', [
				...prompts(1, 'Warm-up'),
				ourGenerate(NODE.ours, cred.warmOurs),
				officialGenerate(NODE.official, cred.warmOfficial, '={{ $json.prompt }}'),
			]),
			workflow(ID.officialT, `bench: official node, ${N} prompts`, [
				...prompts(N, 'Throughput'),
				officialGenerate(NODE.official, cred.officialT),
			]),
			workflow(ID.oursT, `bench: our Generate, ${N} prompts`, [
				...prompts(N, 'Throughput'),
				ourGenerate(NODE.ours, cred.oursT),
			]),
			workflow(ID.officialFlat, `bench: official node, ${N} prompts, flat images`, [
				...prompts(N, 'Flat'),
				officialGenerate(NODE.official, cred.officialFlat),
			]),
			workflow(ID.oursFlat, `bench: our Generate, ${N} prompts, flat images`, [
				...prompts(N, 'Flat'),
				ourGenerate(NODE.ours, cred.oursFlat),
			]),
			workflow(ID.officialAuto, `bench: official node, ${AUTO_N} prompts at 2 s`, [
				...prompts(AUTO_N, 'Auto'),
				officialGenerate(NODE.official, cred.officialAuto),
			]),
			workflow(ID.oursAuto, `bench: our Generate added now (Auto), ${AUTO_N} prompts at 2 s`, [
				...prompts(AUTO_N, 'Auto'),
				ourGenerate(NODE.ours, cred.oursAuto, undefined, 1.1),
			]),
			...RUN_LETTERS.flatMap((run) => [
				workflow(ID.cpu1(run), `bench: CPU, 1 image (${run})`, [
					...prompts(1, `CPU ${run}`),
					ourGenerate(NODE.ours, cred.cpu),
				]),
				workflow(ID.cpuN(run), `bench: CPU, ${CPU_N} images (${run})`, [
					...prompts(CPU_N, `CPU ${run}`),
					ourGenerate(NODE.ours, cred.cpu),
				]),
			]),
			workflow(ID.offCpu1, 'bench: CPU, official node, 1 image', [
				...prompts(1, 'CPU official'),
				officialGenerate(NODE.official, cred.cpuOfficial),
			]),
			workflow(ID.offCpuN, `bench: CPU, official node, ${CPU_N} images`, [
				...prompts(CPU_N, 'CPU official'),
				officialGenerate(NODE.official, cred.cpuOfficial),
			]),
			workflow(ID.editOurs, 'bench: our Edit, 24 MP photo', [
				downloadPhoto(photoUrl),
				{
					name: NODE.editOurs,
					type: `${OUR_PACKAGE}.nanoBananaEdit`,
					typeVersion: 1,
					parameters: {
						model: { __rl: true, mode: 'list', value: MODEL },
						prompt: EDIT_PROMPT,
						options: {},
					},
					credentials: credentialRef(cred.editOurs),
				},
			]),
			workflow(ID.editOfficial, 'bench: official Edit, 24 MP photo', [
				downloadPhoto(photoUrl),
				{
					name: NODE.editOfficial,
					type: '@n8n/n8n-nodes-langchain.googleGemini',
					typeVersion: 1.2,
					parameters: {
						resource: 'image',
						operation: 'edit',
						modelId: { __rl: true, mode: 'id', value: `models/${MODEL}` },
						prompt: EDIT_PROMPT,
						images: { values: [{ binaryPropertyName: 'data' }] },
						options: {},
					},
					credentials: credentialRef(cred.editOfficial),
				},
			]),
			workflow(ID.profile, `bench: CPU profile, ${CPU_N} images`, [
				...prompts(CPU_N, 'Profile'),
				ourGenerate(NODE.ours, cred.cpu),
			]),
			...MEMORY_RUNS.map((n) =>
				workflow(ID.memory(n), `bench: memory, ${n} 4K images`, [
					...prompts(n, 'Memory'),
					ourGenerate(NODE.ours, cred.memory, '4K', 1.1),
				]),
			),
		];
		const files: string[] = [];
		const wfDir = path.join(benchDir, 'workflows');
		await fs.rm(wfDir, { recursive: true, force: true });
		await fs.mkdir(wfDir, { recursive: true });
		for (const wf of workflows) {
			const file = path.join(wfDir, `${wf.id}.json`);
			await fs.writeFile(file, JSON.stringify(wf, null, '\t'));
			files.push(file);
		}
		await sandbox.importWorkflows(files, 2 * MINUTE);

		if (MEMORY_ONLY) {
			console.log(`n8n ${install.n8nVersion}, this package from its tarball`);
			printMemory(await memoryRuns(sandbox, sims.memory));
			printSummary(benchStarted, loadAtStart);
			return;
		}

		/* 1, 2 and 4: one n8n process */
		const loadBeforeMain = load1();
		progress(`running throughput, CPU and edit workflows in one n8n (load ${loadBeforeMain})`);
		const main = await runBatch(sandbox, mainBatchIds(), 10 * MINUTE);
		const loadAfterMain = load1();

		/* ---------- figures, part 1 printed as soon as it is measured ---------- */
		const floorMs = Math.ceil(N / DEFAULT_CONCURRENCY) * LATENCY_MS;
		console.log(
			`n8n ${install.n8nVersion} on Node ${execFileSync(install.nodeBin, ['-v']).toString().trim()}, this package from its tarball; simulator in the bench process`,
		);

		/** One comparison: the official node and ours on the same prompts, each against its own simulator. */
		const throughput = (
			officialId: string,
			oursId: string,
			officialSim: GeminiSim,
			oursSim: GeminiSim,
			suffix: string,
		) => {
			const official = nodeRun(main, officialId, NODE.official);
			const ours = nodeRun(main, oursId, NODE.ours);
			const fileSize = size(Number(ours.items[0]?.json.fileSize ?? 0));
			const counts = (run: NodeRun, sim: GeminiSim) =>
				`node executionTime; ${imagesOut(run)} images, ${sim.generateRequests.length} requests, at most ${peakOverlap(sim.generateRequests)} in flight`;
			line(
				`n8n's Google Gemini node${suffix}`,
				`${seconds(official.executionTime)}  (${counts(official, officialSim)})`,
			);
			line(
				`Nano Banana Generate, C = ${DEFAULT_CONCURRENCY}${suffix}`,
				`${seconds(ours.executionTime)}  (${counts(ours, oursSim)}; ${fileSize} PNGs)`,
			);
			line(
				`speed-up (official / ours)${suffix}`,
				`${(official.executionTime / ours.executionTime).toFixed(2)}x  (target: at least 3.8x)`,
			);
			line(
				`ours above the floor ceil(N/C)·L = ${seconds(floorMs)}${suffix}`,
				`${(100 * (ours.executionTime / floorMs - 1)).toFixed(1)}%  (target: within 10%)`,
			);
			const requests = oursSim.generateRequests;
			const busyMs = requests.reduce((sum, r) => sum + r.endedAt - r.startedAt, 0);
			line(
				`  where it goes${suffix}`,
				`a request took ${(busyMs / requests.length).toFixed(0)} ms on average (latency + answer and transfer); a request slot stood idle ${((DEFAULT_CONCURRENCY * ours.executionTime - busyMs) / requests.length).toFixed(0)} ms per request ((C·wall − Σ request time)/N)`,
			);
			if (env.BENCH_N8N_TIMELINE === '1')
				for (const r of [...requests].sort((a, b) => a.startedAt - b.startedAt))
					console.log(
						`    request ${r.id}: ${r.startedAt - ours.startTime} → made ${(r.answerMadeAt ?? 0) - ours.startTime} → ${r.endedAt - ours.startTime} ms`,
					);
			const firstStart = Math.min(...requests.map((r) => r.startedAt));
			const lastEnd = Math.max(...requests.map((r) => r.endedAt));
			const nodeEnd = ours.startTime + ours.executionTime;
			line(
				`  at the edges${suffix}`,
				`first request ${firstStart - ours.startTime} ms after the node started; last answer sent ${nodeEnd - lastEnd} ms before the node ended`,
			);
		};
		if (!CPU_ONLY && !AUTO_ONLY) {
			heading(
				`1. Throughput: N = ${N} prompts, simulator latency ${LATENCY_MS / 1000} s, 1K images, default settings of a node saved at version 1, one workflow run each (load ${loadBeforeMain} before, ${loadAfterMain} after)`,
			);
			throughput(ID.officialT, ID.oursT, sims.officialT, sims.oursT, '');
			console.log(
				`   the same with the simulator's default flat images (small files, so little work per image):`,
			);
			throughput(ID.officialFlat, ID.oursFlat, sims.officialFlat, sims.oursFlat, ', flat');
		}
		if (!CPU_ONLY) {
			const official = nodeRun(main, ID.officialAuto, NODE.official);
			const ours = nodeRun(main, ID.oursAuto, NODE.ours);
			const autoFloorMs = Math.ceil(AUTO_N / AUTO_MAX) * AUTO_LATENCY_MS;
			heading(
				`1b. Auto concurrency: N = ${AUTO_N} prompts, simulator latency ${AUTO_LATENCY_MS / 1000} s, no quota, 1K images (noise), our Generate as a node added now (version 1.1, Max Concurrent Requests not set: Auto)`,
			);
			line(
				"n8n's Google Gemini node",
				`${seconds(official.executionTime)}  (${imagesOut(official)} images, at most ${peakOverlap(sims.officialAuto.generateRequests)} in flight)`,
			);
			line(
				'Nano Banana Generate, Auto',
				`${seconds(ours.executionTime)}  (${imagesOut(ours)} images, ${sims.oursAuto.generateRequests.length} requests, at most ${peakOverlap(sims.oursAuto.generateRequests)} in flight)`,
			);
			line(
				'speed-up (official / ours)',
				`${(official.executionTime / ours.executionTime).toFixed(2)}x  (target: at least 7x)`,
			);
			line(
				`ours against ceil(N/${AUTO_MAX})·L = ${seconds(autoFloorMs)}`,
				`${(ours.executionTime / autoFloorMs).toFixed(2)}x (Auto starts at 4 and climbs: the first rounds are narrower)`,
			);
		}
		if (THROUGHPUT_ONLY || AUTO_ONLY) return;

		const heapLog = await fs
			.readFile(path.join(heapDir, `heap-${main.pid}.json`), 'utf8')
			.then((text) => JSON.parse(text) as HeapLog)
			.catch(() => undefined);
		const windowOf = (id: string, node: string): [number, number] => {
			const run = nodeRun(main, id, node);
			return [run.startTime, run.startTime + run.executionTime];
		};
		const heapIn = ([from, to]: [number, number]) => {
			const used =
				heapLog?.heap.filter(([t]) => t >= from && t <= to).map(([, bytes]) => bytes) ?? [];
			return used.length ? used.reduce((a, b) => a + b, 0) / used.length : undefined;
		};
		const ourHeap = RUN_LETTERS.map((run) => heapIn(windowOf(ID.cpuN(run), NODE.ours))).filter(
			(h): h is number => h !== undefined,
		);
		const n8nHeapBytes = ourHeap.length
			? ourHeap.reduce((a, b) => a + b, 0) / ourHeap.length
			: undefined;

		/* the bare loop, right after, against its own simulator: as it is, then holding as much heap as n8n did */
		const ourConfig =
			(
				sims.cpu.generateRequests[0]?.body as
					{ generationConfig?: Record<string, unknown> } | undefined
			)?.generationConfig ?? {};
		progress(`running the bare @google/genai loop (load ${load1()})`);
		const bareRuns: BareResult[] = [];
		for (const _run of RUN_LETTERS) bareRuns.push(await bareLoop(install, sims.bare, ourConfig));
		const meanOf = (key: 'cpuMs' | 'mainMs' | 'wallMs') =>
			bareRuns.reduce((sum, b) => sum + b[key], 0) / bareRuns.length;
		const bare: BareResult = {
			cpuMs: meanOf('cpuMs'),
			mainMs: meanOf('mainMs'),
			wallMs: meanOf('wallMs'),
			heapUsed: Math.max(...bareRuns.map((b) => b.heapUsed)),
			bytes: bareRuns[0].bytes,
		};
		const bareUncompressed = await bareLoop(install, sims.bare, ourConfig, 0, 'identity');
		const bareWithHeap = n8nHeapBytes
			? await bareLoop(install, sims.bare, ourConfig, n8nHeapBytes)
			: undefined;

		const memory = await memoryRuns(sandbox, sims.memory);

		/* optional: where the n8n process spends its CPU */
		let profile:
			| {
					total: number;
					top: Array<[string, number]>;
					groups: Array<[string, number]>;
					kinds: Array<[string, number]>;
					windowMs: number;
			  }
			| undefined;
		if (PROFILE) {
			progress('profiling the CPU workflow (--cpu-prof)');
			const profDir = path.join(benchDir, 'profile');
			await fs.rm(profDir, { recursive: true, force: true });
			await fs.mkdir(profDir, { recursive: true });
			const profiled = await N8nSandbox.create(install, path.join(benchDir, 'run-profile'), {
				N8N_RUNNERS_BROKER_PORT: String(await freePort()),
				NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir} --cpu-prof-interval=200`,
			});
			await fs.rm(profiled.userFolder, { recursive: true, force: true });
			await fs.cp(sandbox.userFolder, profiled.userFolder, { recursive: true });
			await fs.rm(profDir, { recursive: true, force: true });
			await fs.mkdir(profDir, { recursive: true });
			// warmed up first, as in the measured run: no compilation of a cold process in the profile
			const batch = await runBatch(profiled, [ID.warm, ID.profile], 5 * MINUTE);
			const run = nodeRun(batch, ID.profile, NODE.ours);
			const biggest = (await fs.readdir(profDir))
				.map((name) => path.join(profDir, name))
				.map((file) => ({ file, size: readFileSync(file).length }))
				.sort((a, b) => b.size - a.size)[0];
			const data = JSON.parse(readFileSync(biggest.file, 'utf8')) as Profile;
			// The profile's clock is CLOCK_MONOTONIC in µs, the one process.hrtime reads here too.
			const epochOfMonotonicZero = Date.now() - Number(process.hrtime.bigint() / 1000n) / 1000;
			const breakdown = profileBreakdown(
				data,
				run.startTime,
				run.startTime + run.executionTime,
				epochOfMonotonicZero + data.startTime / 1000,
			);
			profile = { ...breakdown, windowMs: run.executionTime };
			await fs.rm(profiled.userFolder, { recursive: true, force: true });
		}

		/* ---------- the other figures ---------- */

		heading(
			`2. CPU per image at zero latency, N = ${CPU_N}, 1K PNGs (noise texture); the n8n process's CPU (utime+stime from /proc) over the node's executionTime window`,
		);
		const cpuOf = (id: string, node: string) => {
			const run = nodeRun(main, id, node);
			const [from, to] = windowOf(id, node);
			const gcs = heapLog?.gcs.filter(([t]) => t >= from && t <= to);
			const pauseMs = (kinds: number[]) =>
				gcs?.filter(([, kind]) => kinds.includes(kind)).reduce((sum, [, , ms]) => sum + ms, 0) ?? 0;
			const loads = main.samples
				.filter(([t]) => t >= from && t <= to)
				.map((sample) => sample[LOAD] / 100);
			return {
				run,
				load: loads.length ? (loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(2) : '?',
				split: cpuBetween(main.samples, from, to),
				majorGcs: gcs?.filter(([, kind]) => kind === 4).length,
				// main-thread pauses as perf_hooks reports them: scavenges (1), and mark-compact with its incremental steps (4, 8)
				minorGcMs: pauseMs([1]),
				majorGcMs: pauseMs([4, 8]),
			};
		};
		/** (N-image run - 1-image run) / (N - 1): what one more image costs, the fixed cost of a run left out. */
		const perImage = (oneId: string, manyId: string, node: string) => {
			const one = cpuOf(oneId, node);
			const many = cpuOf(manyId, node);
			const per = (key: keyof CpuSplit) => (many.split[key] - one.split[key]) / (CPU_N - 1);
			const split: CpuSplit = {
				cpuMs: per('cpuMs'),
				mainMs: per('mainMs'),
				v8Ms: per('v8Ms'),
				libuvMs: per('libuvMs'),
			};
			const gcPerImage = {
				minorMs: (many.minorGcMs - one.minorGcMs) / (CPU_N - 1),
				majorMs: (many.majorGcMs - one.majorGcMs) / (CPU_N - 1),
			};
			return { one, many, split, gcPerImage };
		};
		const ourRuns = RUN_LETTERS.map((run) => ({
			label: `our Generate in n8n, run ${run}`,
			...perImage(ID.cpu1(run), ID.cpuN(run), NODE.ours),
		}));
		const officialRun = {
			label: "n8n's Google Gemini node in n8n",
			...perImage(ID.offCpu1, ID.offCpuN, NODE.official),
		};
		const runs = [...ourRuns, officialRun];
		for (const r of runs) {
			const gcs =
				r.many.majorGcs === undefined
					? ''
					: `, ${r.many.majorGcs} major GCs; GC pauses on the main thread ${r.gcPerImage.minorMs.toFixed(1)} ms/image scavenge, ${r.gcPerImage.majorMs.toFixed(1)} ms/image mark-compact`;
			line(
				r.label,
				`${r.split.cpuMs.toFixed(1)} ms/image (${splitText(r.split)}); ${CPU_N} images ${r.many.split.cpuMs.toFixed(0)} ms CPU in ${r.many.run.executionTime} ms at load ${r.many.load}${gcs}, 1 image ${r.one.split.cpuMs.toFixed(0)} ms in ${r.one.run.executionTime} ms`,
			);
		}
		const ourPerImage = ourRuns.reduce((sum, r) => sum + r.split.cpuMs, 0) / ourRuns.length;
		const imageBytes = Number(runs[0].many.run.items[0]?.json.fileSize ?? 0);
		line(
			`our Generate node in n8n (mean of ${ourRuns.length} runs)`,
			`${ourPerImage.toFixed(1)} ms CPU per image  (${mb(imageBytes)} PNGs, default settings, C = ${DEFAULT_CONCURRENCY})`,
		);
		const bareText = (b: BareResult) =>
			`${(b.cpuMs / CPU_N).toFixed(1)} ms CPU per image (main thread ${(b.mainMs / CPU_N).toFixed(1)}, other threads ${((b.cpuMs - b.mainMs) / CPU_N).toFixed(1)}); ${CPU_N} images in ${b.wallMs.toFixed(0)} ms, V8 heap ${(b.heapUsed / MB).toFixed(0)} MB`;
		line(
			'bare @google/genai loop (Node 24, no n8n)',
			`${bareText(bare)}; mean of ${bareRuns.length} runs (${bareRuns.map((b) => `${(b.cpuMs / CPU_N).toFixed(1)} at load ${b.load}`).join(', ')}), sequential, same generationConfig, writes each file`,
		);
		line(
			'ratio ours in n8n / bare',
			`${(ourPerImage / (bare.cpuMs / CPU_N)).toFixed(2)}x  (target: at most 1.5x)`,
		);
		line(
			"ratio n8n's own node in n8n / bare",
			`${(officialRun.split.cpuMs / (bare.cpuMs / CPU_N)).toFixed(2)}x  (for reference: the same measure for n8n's node)`,
		);
		line(
			'bare loop asking for uncompressed answers',
			`${bareText(bareUncompressed)}; Accept-Encoding: identity, as our node sends`,
		);
		line(
			'ratio ours in n8n / that bare loop',
			`${(ourPerImage / (bareUncompressed.cpuMs / CPU_N)).toFixed(2)}x`,
		);
		if (n8nHeapBytes && bareWithHeap) {
			line(
				"n8n's V8 heap in use during our runs",
				`${(n8nHeapBytes / MB).toFixed(0)} MB (from a --require'd observer in the n8n process)`,
			);
			line('bare loop holding a heap of that size', bareText(bareWithHeap));
			line(
				'ratio ours in n8n / bare with that heap',
				`${(ourPerImage / (bareWithHeap.cpuMs / CPU_N)).toFixed(2)}x`,
			);
		} else {
			line(
				"n8n's V8 heap in use during our runs",
				'not measured: the observer loaded into n8n wrote no log',
			);
		}
		if (profile) {
			line(
				`profile of the n8n process (--cpu-prof)`,
				`${profile.total.toFixed(0)} ms sampled in the node's ${profile.windowMs} ms window, top self time:`,
			);
			const mainPerImage = ourRuns.reduce((sum, r) => sum + r.split.mainMs, 0) / ourRuns.length;
			line(
				'  main thread by purpose',
				`share of the profile's samples, and that share of the ${mainPerImage.toFixed(1)} ms/image the main thread used above`,
			);
			for (const [kind, ms] of profile.kinds) {
				line(
					`  ${((100 * ms) / profile.total).toFixed(1)}% = ${((mainPerImage * ms) / profile.total).toFixed(2)} ms/image`,
					kind,
				);
			}
			line('  by package', '(self time, ms/image of the profile)');
			for (const [name, ms] of profile.groups.slice(0, 8))
				line(`  ${(ms / CPU_N).toFixed(2)} ms/image`, `in ${name}`);
			for (const [name, ms] of profile.top.slice(0, 15))
				line(`  ${(ms / CPU_N).toFixed(2)} ms/image`, name);
		}

		printMemory(memory);

		if (!CPU_ONLY) {
			heading(`4. Edit upload of a 24 MP photo`);
			const meta = await sharp(photo).metadata();
			const bodyBytes = (sim: GeminiSim) => sim.requests.reduce((sum, r) => sum + r.bodyBytes, 0);
			const describe = (sim: GeminiSim) =>
				sim.requests.map((r) => `${r.action ?? r.path} ${size(r.bodyBytes)}`).join(' + ');
			const editOurs = nodeRun(main, ID.editOurs, NODE.editOurs);
			const editOfficial = nodeRun(main, ID.editOfficial, NODE.editOfficial);
			line('the photo', `${meta.width}x${meta.height} JPEG, ${mb(photo.length)}`);
			line(
				'our Edit node (defaults)',
				`${mb(bodyBytes(sims.editOurs))} sent = ${(bodyBytes(sims.editOurs) / photo.length).toFixed(3)}x the file  (${describe(sims.editOurs)}; ${imagesOut(editOurs)} image out)`,
			);
			line(
				"n8n's Google Gemini node (image edit)",
				`${mb(bodyBytes(sims.editOfficial))} sent = ${(bodyBytes(sims.editOfficial) / photo.length).toFixed(3)}x the file  (${describe(sims.editOfficial)}; ${imagesOut(editOfficial)} image out)`,
			);
			line(
				'ours / official',
				`${(bodyBytes(sims.editOurs) / bodyBytes(sims.editOfficial)).toFixed(3)}x`,
			);
		}

		printSummary(benchStarted, loadAtStart);
	} finally {
		await Promise.all(Object.values(sims).map((sim) => sim.stop()));
		await new Promise((resolve) => photoServer.close(resolve));
	}
}

main().catch((error: Error) => {
	console.error(error.stack ?? error.message);
	process.exit(1);
});
