/**
 * A real n8n for the end-to-end suite: installed once by scripts/n8n-install.sh (cached outside the repo),
 * run in a fresh user folder with this package loaded from its packed tarball.
 *
 * Every child process is started asynchronously: the Gemini simulator runs inside the test process and
 * must keep answering while n8n works.
 */
import { spawn, type ChildProcess } from 'child_process';
import { promises as fs } from 'fs';
import { createServer } from 'net';
import * as path from 'path';
import type { IBinaryData, IRun, ITaskData, INodeExecutionData } from 'n8n-workflow';

import type { RecordedRequest } from '../gemini-sim/types';

export const repoDir = path.resolve(__dirname, '..', '..');
const scriptsDir = path.join(repoDir, 'scripts');

/**
 * The environment a user's shell would give n8n: this one without jest's NODE_ENV=test, which
 * makes n8n behave as in its own unit tests (silent, another database, and `n8n start` exits).
 */
export function userEnv(): NodeJS.ProcessEnv {
	const { NODE_ENV: _jest, ...env } = process.env;
	return env;
}

export interface N8nInstall {
	n8nVersion: string;
	nodeBin: string;
	n8nDir: string;
	n8nBin: string;
	/** A user folder whose database is already migrated. */
	template: string;
	encryptionKey: string;
}

export interface CommandResult {
	exitCode: number;
	stdout: string;
	stderr: string;
}

/** Runs a command without blocking the event loop; kills its whole process group on timeout. */
export function runCommand(
	command: string,
	args: string[],
	options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; logFile?: string },
): Promise<CommandResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, {
			cwd: options.cwd ?? repoDir,
			env: options.env ?? process.env,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const timer = setTimeout(() => {
			if (child.pid) killGroup(child.pid, 'SIGKILL');
			reject(
				new Error(`${path.basename(command)} ${args.join(' ')} took over ${options.timeoutMs} ms`),
			);
		}, options.timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', async (code) => {
			clearTimeout(timer);
			if (options.logFile) {
				const header = `\n$ ${path.basename(command)} ${args.join(' ')}  (exit ${code})\n`;
				await fs.appendFile(options.logFile, header + stdout + stderr);
			}
			resolve({ exitCode: code ?? 1, stdout, stderr });
		});
	});
}

export async function mustSucceed(
	result: Promise<CommandResult>,
	what: string,
): Promise<CommandResult> {
	const done = await result;
	if (done.exitCode !== 0) {
		throw new Error(`${what} failed (exit ${done.exitCode}):\n${done.stderr.slice(-4000)}`);
	}
	return done;
}

/** Installs n8n (or reuses the cached install) and returns where it is; its output goes to logFile. */
export async function installN8n(timeoutMs: number, logFile: string): Promise<N8nInstall> {
	await fs.mkdir(path.dirname(logFile), { recursive: true });
	const result = await mustSucceed(
		runCommand('bash', [path.join(scriptsDir, 'n8n-install.sh'), '--print'], {
			timeoutMs,
			logFile,
		}),
		'installing n8n',
	);
	const lastLine = result.stdout.trim().split('\n').pop() ?? '';
	return JSON.parse(lastLine) as N8nInstall;
}

export interface CredentialFile {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

export interface BatchExecution {
	workflowId: string;
	workflowName: string;
	executionStatus: 'success' | 'warning' | 'error';
	error?: string;
}

export interface BatchSummary {
	totalWorkflows: number;
	summary: {
		failedExecutions: number;
		warningExecutions: number;
		successfulExecutions: number;
		errors: Array<{ workflowId: string; error: string }>;
		warnings: Array<{ workflowId: string; error: string }>;
	};
	executions: BatchExecution[];
}

export interface BatchResult {
	exitCode: number;
	summary: BatchSummary;
	/** Full execution data per workflow id; n8n writes it only for workflows that did not fail. */
	runs: Record<string, IRun>;
	seconds: number;
}

/** One n8n user folder with this package installed in it. */
export class N8nSandbox {
	readonly userFolder: string;
	readonly logFile: string;

	private constructor(
		readonly install: N8nInstall,
		readonly dir: string,
		private readonly env: NodeJS.ProcessEnv,
	) {
		this.userFolder = path.join(dir, 'user-folder');
		this.logFile = path.join(dir, 'n8n.log');
	}

	/** A fresh folder under `dir` (emptied first), with the migrated database copied in. */
	static async create(
		install: N8nInstall,
		dir: string,
		env: NodeJS.ProcessEnv = {},
	): Promise<N8nSandbox> {
		await fs.rm(dir, { recursive: true, force: true });
		await fs.mkdir(dir, { recursive: true });
		const sandbox = new N8nSandbox(install, dir, env);
		await fs.cp(install.template, sandbox.userFolder, { recursive: true });
		return sandbox;
	}

	/**
	 * Builds the package, packs it and installs the tarball into the user folder, as a user would.
	 * `build: false` packs the dist/ folder as it is (for a second user folder after a build).
	 */
	async loadPackage(timeoutMs: number, options: { build?: boolean } = {}): Promise<void> {
		const args = [path.join(scriptsDir, 'n8n-load-package.sh'), this.userFolder];
		if (options.build === false) args.push('--no-build');
		await mustSucceed(
			runCommand('bash', args, {
				timeoutMs,
				logFile: this.logFile,
			}),
			'loading the package into n8n',
		);
	}

	get packageDir(): string {
		return path.join(
			this.userFolder,
			'.n8n',
			'nodes',
			'node_modules',
			'n8n-nodes-nano-banana-studio',
		);
	}

	/** Runs the n8n CLI in this user folder. */
	cli(args: string[], timeoutMs: number): Promise<CommandResult> {
		return runCommand('bash', [path.join(scriptsDir, 'n8n.sh'), ...args], {
			env: { ...userEnv(), ...this.env, N8N_USER_FOLDER: this.userFolder },
			timeoutMs,
			logFile: this.logFile,
		});
	}

	async importCredentials(credentials: CredentialFile[], timeoutMs: number): Promise<void> {
		const file = path.join(this.dir, 'credentials.json');
		await fs.writeFile(file, JSON.stringify(credentials, null, 2));
		await mustSucceed(
			this.cli(['import:credentials', `--input=${file}`], timeoutMs),
			'import:credentials',
		);
	}

	/** Imports workflow files; returns the ids of all, and of those execute-batch can start (a Manual Trigger). */
	async importWorkflows(
		files: string[],
		timeoutMs: number,
	): Promise<{ all: string[]; manual: string[] }> {
		const folder = path.join(this.dir, 'workflows');
		await fs.mkdir(folder, { recursive: true });
		const all: string[] = [];
		const manual: string[] = [];
		for (const file of files) {
			const workflow = JSON.parse(await fs.readFile(file, 'utf8')) as {
				id?: string;
				nodes: Array<{ type: string }>;
			};
			if (!workflow.id || !/\d/.test(workflow.id) || workflow.id.length > 21) {
				throw new Error(
					`${file}: needs a fixed workflow id of at most 21 characters with a digit in it`,
				);
			}
			all.push(workflow.id);
			if (workflow.nodes.some((node) => node.type === 'n8n-nodes-base.manualTrigger'))
				manual.push(workflow.id);
			await fs.copyFile(file, path.join(folder, path.basename(file)));
		}
		await mustSucceed(
			this.cli(['import:workflow', '--separate', `--input=${folder}`], timeoutMs),
			'import:workflow',
		);
		return { all, manual };
	}

	/**
	 * Runs the workflows once each, in one n8n process; exit code 1 means at least one failed.
	 * `concurrency` runs that many at once; `name` keeps this run's snapshots apart from others'.
	 */
	async executeBatch(
		ids: string[],
		timeoutMs: number,
		options: { concurrency?: number; name?: string } = {},
	): Promise<BatchResult> {
		const name = options.name ?? '';
		const snapshots = path.join(this.dir, name ? `snapshots-${name}` : 'snapshots');
		const output = path.join(this.dir, name ? `summary-${name}.json` : 'summary.json');
		await fs.mkdir(snapshots, { recursive: true });
		const started = Date.now();
		const result = await this.cli(
			[
				'execute-batch',
				`--ids=${ids.join(',')}`,
				'--retries=0',
				`--snapshot=${snapshots}`,
				`--output=${output}`,
				...(options.concurrency ? [`--concurrency=${options.concurrency}`] : []),
			],
			timeoutMs,
		);
		const seconds = (Date.now() - started) / 1000;
		let summary: BatchSummary;
		try {
			summary = JSON.parse(await fs.readFile(output, 'utf8')) as BatchSummary;
		} catch {
			throw new Error(
				`execute-batch wrote no summary (exit ${result.exitCode}):\n${result.stderr.slice(-4000)}`,
			);
		}
		const runs: Record<string, IRun> = {};
		for (const file of await fs.readdir(snapshots)) {
			const id = file.replace(/-snapshot\.json$/, '');
			runs[id] = JSON.parse(await fs.readFile(path.join(snapshots, file), 'utf8')) as IRun;
		}
		return { exitCode: result.exitCode, summary, runs, seconds };
	}

	/** The bytes of a binary from an execution: snapshots hold only an id such as `filesystem-v2:...`. */
	async readBinary(binary: IBinaryData): Promise<Buffer> {
		if (!binary.id) return Buffer.from(binary.data, 'base64');
		const [mode, fileId] = binary.id.split(/:(.*)/s);
		if (!mode.startsWith('filesystem'))
			throw new Error(`unexpected binary data mode in ${binary.id}`);
		return await fs.readFile(path.join(this.userFolder, '.n8n', 'storage', fileId));
	}
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pid, signal);
	} catch {
		// already gone
	}
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** `n8n start` in a sandbox's user folder: serves published workflows' webhooks and forms. */
export class N8nServer {
	private constructor(
		private readonly child: ChildProcess,
		readonly url: string,
	) {}

	static async start(sandbox: N8nSandbox, timeoutMs: number): Promise<N8nServer> {
		const port = await freePort();
		const log = await fs.open(path.join(sandbox.dir, 'n8n-server.log'), 'w');
		const child = spawn('bash', [path.join(scriptsDir, 'n8n.sh'), 'start'], {
			env: {
				...userEnv(),
				N8N_USER_FOLDER: sandbox.userFolder,
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_LOG_LEVEL: 'info',
			},
			detached: true,
			stdio: ['ignore', log.fd, log.fd],
		});
		await log.close();
		const server = new N8nServer(child, `http://127.0.0.1:${port}`);
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (child.exitCode !== null)
				throw new Error(`n8n start exited with ${child.exitCode}; see n8n-server.log`);
			try {
				if ((await fetch(`${server.url}/healthz/readiness`)).ok) return server;
			} catch {
				// not listening yet
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		await server.stop();
		throw new Error(`n8n start was not ready within ${timeoutMs} ms; see n8n-server.log`);
	}

	/** Stops n8n and its task runner (one process group), giving it a moment to shut down cleanly. */
	async stop(): Promise<void> {
		const pid = this.child.pid;
		if (!pid || this.child.exitCode !== null) return;
		const exited = new Promise((resolve) => this.child.once('exit', resolve));
		killGroup(pid, 'SIGTERM');
		const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 15_000);
		await exited;
		clearTimeout(timer);
	}
}

/**
 * A long-running n8n command (`start`, `worker`, ...) in a sandbox's user folder, with settings of its own, e.g.
 * one process of n8n's queue mode. Its output goes to `<sandbox dir>/<name>.log`; it is ready when `readyUrl`
 * answers 2xx.
 */
export class N8nProcess {
	private constructor(
		private readonly child: ChildProcess,
		readonly name: string,
		readonly logFile: string,
	) {}

	static async start(
		sandbox: N8nSandbox,
		options: {
			name: string;
			args: string[];
			env: NodeJS.ProcessEnv;
			readyUrl: string;
			timeoutMs: number;
		},
	): Promise<N8nProcess> {
		const logFile = path.join(sandbox.dir, `${options.name}.log`);
		const log = await fs.open(logFile, 'w');
		const child = spawn('bash', [path.join(scriptsDir, 'n8n.sh'), ...options.args], {
			env: { ...userEnv(), ...options.env, N8N_USER_FOLDER: sandbox.userFolder },
			detached: true,
			stdio: ['ignore', log.fd, log.fd],
		});
		await log.close();
		const started = new N8nProcess(child, options.name, logFile);
		const deadline = Date.now() + options.timeoutMs;
		while (Date.now() < deadline) {
			if (child.exitCode !== null) {
				throw new Error(
					`n8n ${options.args.join(' ')} (${options.name}) exited with ${child.exitCode}:\n${await started.logTail()}`,
				);
			}
			try {
				if ((await fetch(options.readyUrl)).ok) return started;
			} catch {
				// not listening yet
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		await started.stop();
		throw new Error(
			`n8n ${options.args.join(' ')} (${options.name}) was not ready within ${options.timeoutMs} ms:\n${await started.logTail()}`,
		);
	}

	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	async log(): Promise<string> {
		return await fs.readFile(this.logFile, 'utf8').catch(() => '');
	}

	async logTail(lines = 40): Promise<string> {
		return (await this.log()).split('\n').slice(-lines).join('\n');
	}

	/** Stops the process and its task runner (one process group), giving it a moment to shut down cleanly. */
	async stop(): Promise<void> {
		const pid = this.child.pid;
		if (!pid || !this.running) return;
		const exited = new Promise((resolve) => this.child.once('exit', resolve));
		killGroup(pid, 'SIGTERM');
		const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 15_000);
		await exited;
		clearTimeout(timer);
	}
}

/** The items a node sent on one of its main outputs (the first unless told) in its first run. */
export function outputOf(run: IRun, nodeName: string, output = 0): INodeExecutionData[] {
	const tasks: ITaskData[] | undefined = run.data.resultData.runData[nodeName];
	if (!tasks) throw new Error(`node "${nodeName}" did not run`);
	return tasks[0].data?.main?.[output] ?? [];
}

/** The text of a recorded generateContent request, every part of every turn: prompts name their item and process. */
export function promptOf(request: RecordedRequest): string {
	const body = request.body as
		{ contents?: Array<{ parts?: Array<{ text?: string }> }> } | undefined;
	return (body?.contents ?? [])
		.flatMap((content) => content.parts ?? [])
		.map((part) => part.text ?? '')
		.join('');
}

export interface WirePart {
	text?: string;
	inlineData?: { mimeType: string; data: string };
	thoughtSignature?: string;
}

/** The largest number of recorded requests whose [startedAt, endedAt) intervals overlap (endedAt 0: still open). */
export function peakOverlap(requests: RecordedRequest[]): number {
	const events = requests.flatMap((r) => [
		{ at: r.startedAt, delta: 1 },
		{ at: r.endedAt || Infinity, delta: -1 },
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

/** The conversation a recorded request carried. */
export function contentsOf(request: RecordedRequest): Array<{ role: string; parts: WirePart[] }> {
	return (
		(request.body as { contents?: Array<{ role: string; parts: WirePart[] }> } | undefined)
			?.contents ?? []
	);
}

/**
 * Copies what the package is built from into `stage` (node_modules linked), so that building and packing
 * there leaves the repository's dist/ alone while other runs use it. scripts/n8n-load-package.sh, copied
 * along, then builds, packs and installs that copy.
 */
export async function stagePackage(stage: string): Promise<string> {
	await fs.rm(stage, { recursive: true, force: true });
	await fs.mkdir(path.join(stage, 'scripts'), { recursive: true });
	for (const entry of [
		'package.json',
		'tsconfig.json',
		'tsconfig.build.json',
		'gulpfile.js',
		'README.md',
		'LICENSE',
		'nodes',
		'credentials',
	]) {
		await fs
			.cp(path.join(repoDir, entry), path.join(stage, entry), { recursive: true })
			.catch((error: NodeJS.ErrnoException) => {
				if (error.code !== 'ENOENT') throw error;
			});
	}
	for (const script of ['n8n-common.sh', 'n8n-load-package.sh']) {
		await fs.copyFile(path.join(repoDir, 'scripts', script), path.join(stage, 'scripts', script));
	}
	await fs.symlink(path.join(repoDir, 'node_modules'), path.join(stage, 'node_modules'));
	return stage;
}

/**
 * Builds, packs and installs a staged copy (stagePackage) into a sandbox's user folder; `build:
 * false` installs the tarball an earlier call packed (the further user folders of one cluster).
 */
export async function loadStagedPackage(
	sandbox: N8nSandbox,
	stage: string,
	build = true,
): Promise<void> {
	const args = [path.join(stage, 'scripts', 'n8n-load-package.sh'), sandbox.userFolder];
	if (!build) args.push('--no-build');
	await mustSucceed(
		runCommand('bash', args, { cwd: stage, timeoutMs: 6 * 60_000, logFile: sandbox.logFile }),
		'building, packing and installing the package',
	);
}
