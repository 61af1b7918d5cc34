/**
 * n8n in queue mode on this machine, for the queue-mode e2e test (test/e2e/queue-mode.test.ts) and the queue
 * benchmark (scripts/bench-queue.ts): PostgreSQL and Redis from scripts/queue-services.sh, one main
 * (`n8n start`) that receives webhooks and puts executions on the Bull queue in Redis, and workers
 * (`n8n worker`) that take them off it. Every process has its own user folder with the package installed from
 * its packed tarball, and they share only the database, Redis and the encryption key.
 *
 * Binary data mode: `database` (see the test's header for why). Each process gets NBS_QUEUE_PROCESS (main,
 * worker-1, ...), which workflows can write into prompts and output with $env, so the simulator's log says
 * which process sent each request; the workers' own logs ("Worker started execution N") confirm it.
 *
 * Nothing here uses jest: the benchmark imports it under plain ts-node.
 */
import { randomUUID } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IBinaryData, IRun, IRunExecutionData } from 'n8n-workflow';

import type { RecordedRequest } from '../gemini-sim/types';
import {
	freePort,
	installN8n,
	mustSucceed,
	N8nProcess,
	N8nSandbox,
	promptOf,
	repoDir,
	runCommand,
	type CredentialFile,
	type N8nInstall,
} from './local-n8n';

export const MINUTE = 60_000;
const servicesScript = path.join(repoDir, 'scripts', 'queue-services.sh');

/** Runs a step and reports how long it took (seconds), e.g. into the test's timings.json. */
export type Timed = <T>(step: string, work: () => Promise<T>) => Promise<T>;
const untimed: Timed = (_step, work) => work();

// --- PostgreSQL and Redis -----------------------------------------------------------------------------------

export interface QueueServices {
	/** bin: the folder of PostgreSQL's programs (psql). */
	postgres: {
		host: string;
		port: number;
		database: string;
		user: string;
		password: string;
		version: string;
		bin: string;
	};
	redis: { host: string; port: number; version: string };
	runDir: string;
}

/** scripts/queue-services.sh start|stop, its state kept in `stateDir`; returns its output. */
export async function queueServices(command: 'start' | 'stop', stateDir: string): Promise<string> {
	const result = await runCommand('bash', [servicesScript, command], {
		env: { ...process.env, QUEUE_SERVICES_STATE: stateDir },
		timeoutMs: 5 * MINUTE,
	});
	if (result.exitCode !== 0) {
		throw new Error(
			`scripts/queue-services.sh ${command} failed (exit ${result.exitCode}); queue mode needs PostgreSQL and Redis ` +
				`(Debian packages postgresql and redis-server, installed by the script when run as root with apt-get):\n${result.stderr.slice(-3000)}`,
		);
	}
	return result.stdout;
}

/** Stops the services a `start` with this state folder left running; does nothing when there are none. */
export async function stopQueueServices(stateDir: string): Promise<void> {
	if (await fs.stat(path.join(stateDir, 'state.env')).catch(() => undefined))
		await queueServices('stop', stateDir);
}

/**
 * Starts PostgreSQL and Redis and installs n8n (or reuses the cached install), side by side. Both run to their
 * end, so a failure leaves no install half done behind; `onServices` hears of the services as soon as they run.
 */
export async function startServicesAndN8n(
	stateDir: string,
	options: { timed?: Timed; onServices?: (services: QueueServices) => void } = {},
): Promise<{ services: QueueServices; install: N8nInstall }> {
	const timed = options.timed ?? untimed;
	const [servicesLine, installed] = await Promise.allSettled([
		timed('queueServices', () => queueServices('start', stateDir)),
		timed('installN8n', () =>
			installN8n(10 * MINUTE, path.join(repoDir, '.e2e', 'n8n-install.log')),
		),
	]);
	if (servicesLine.status === 'rejected') throw servicesLine.reason;
	const services = JSON.parse(servicesLine.value.trim().split('\n').pop()!) as QueueServices;
	options.onServices?.(services);
	if (installed.status === 'rejected') throw installed.reason;
	return { services, install: installed.value };
}

// --- workflows ----------------------------------------------------------------------------------------------

export interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	webhookId?: string;
	credentials?: unknown;
}
export type Connections = Record<
	string,
	{ main: Array<Array<{ node: string; type: 'main'; index: number }>> }
>;
export interface WorkflowJson {
	id: string;
	name: string;
	active: boolean;
	nodes: WorkflowNode[];
	connections: Connections;
	settings?: Record<string, unknown>;
}

/** A POST Webhook node listening on `webhookPath`. */
export function webhookNode(
	base: Pick<WorkflowNode, 'id' | 'name' | 'position'>,
	webhookPath: string,
	parameters: Record<string, unknown>,
): WorkflowNode {
	return {
		...base,
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2.1,
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path: webhookPath, options: {}, ...parameters },
	};
}

/** Connects the nodes in a chain; `[name, index]` names a node's input other than the first. */
export function link(...nodes: Array<string | [string, number]>): Connections {
	const connections: Connections = {};
	for (let k = 0; k + 1 < nodes.length; k++) {
		const [from, to] = [nodes[k], nodes[k + 1]];
		const [fromName] = [from].flat() as [string];
		const [toName, toIndex = 0] = [to].flat() as [string, number?];
		(connections[fromName] ??= { main: [[]] }).main[0].push({
			node: toName,
			type: 'main',
			index: toIndex,
		});
	}
	return connections;
}

export function node(
	name: string,
	type: string,
	typeVersion: number,
	x: number,
	parameters: Record<string, unknown>,
	extra: Partial<WorkflowNode> = {},
): WorkflowNode {
	return { id: randomUUID(), name, type, typeVersion, position: [x, 0], parameters, ...extra };
}

export const model = (value: string) => ({ __rl: true, mode: 'list', value });

/**
 * A batch of images per webhook call: the call's JSON body `{ batch, count }` makes `count` items, each a
 * prompt naming its batch and item, then the process and execution that sent it; one Generate node (default
 * settings but the size) makes one image per item. The webhook answers when the execution is done.
 */
export function batchWorkflow(options: {
	id: string;
	path: string;
	credential: { id: string; name: string };
	imageSize: '512' | '1K' | '2K' | '4K';
	name?: string;
	model?: string;
	/** Generate's version: 1 (default; Max Concurrent Requests 4) or 1.1 (a node added now: Auto). */
	typeVersion?: number;
	/** Generate's On Error setting (default: stop the workflow). */
	onError?: 'continueRegularOutput' | 'continueErrorOutput';
}): WorkflowJson {
	return {
		id: options.id,
		name: options.name ?? 'Queue mode: a batch of images per webhook call',
		active: false,
		nodes: [
			webhookNode({ id: randomUUID(), name: 'Start', position: [0, 0] }, options.path, {
				responseMode: 'lastNode',
				responseData: 'firstEntryJson',
			}),
			node('Prompts', 'n8n-nodes-base.code', 2, 220, {
				jsCode:
					"const { batch, count } = $('Start').first().json.body;\n" +
					'return Array.from({ length: count }, (_, item) => ({ json: { batch, item, prompt: `Queue batch ${batch} item ${item}` } }));',
			}),
			node(
				'Generate Batch',
				'n8n-nodes-nano-banana-studio.nanoBananaGenerate',
				options.typeVersion ?? 1,
				440,
				{
					model: model(options.model ?? 'gemini-3.1-flash-image'),
					prompt:
						'={{ $json.prompt }} (sent by {{ $env.NBS_QUEUE_PROCESS }}, execution {{ $execution.id }})',
					aspectRatio: '1:1',
					imageSize: options.imageSize,
					numberOfImages: 1,
					options: {},
				},
				{
					credentials: { nanoBananaApi: options.credential },
					...(options.onError ? { onError: options.onError } : {}),
				},
			),
		],
		connections: link('Start', 'Prompts', 'Generate Batch'),
		settings: { executionOrder: 'v1' },
	};
}

/** The process and execution a batch prompt names: `... (sent by worker-1, execution 12)`. */
export function senderOf(prompt: string): { process: string; executionId: string } | undefined {
	const [, sender, executionId] = /\(sent by ([\w-]+), execution (\d+)\)$/.exec(prompt) ?? [];
	return sender ? { process: sender, executionId } : undefined;
}

/** How many of these requests each process sent, by the sender their prompts name ('unknown': none). */
export function requestsBySender(requests: RecordedRequest[]): Map<string, number> {
	const by = new Map<string, number>();
	for (const request of requests) {
		const sender = senderOf(promptOf(request))?.process ?? 'unknown';
		by.set(sender, (by.get(sender) ?? 0) + 1);
	}
	return by;
}

// --- the main's REST API ------------------------------------------------------------------------------------

export interface ExecutionSummary {
	id: string;
	status: string;
	mode: string;
	startedAt?: string | null;
	stoppedAt?: string | null;
}

/** The main's REST API, signed in as the owner, as the editor uses it. */
export class N8nRest {
	// The editor sends its browser id with every request; the session cookie is bound to it.
	private readonly browserId = 'nano-banana-queue-e2e';
	private cookie = '';
	private readonly flatted: { parse: (text: string) => unknown };

	constructor(
		readonly url: string,
		n8nDir: string,
	) {
		// n8n stores execution data with flatted; its own copy reads it back
		this.flatted = require(path.join(n8nDir, 'node_modules', 'flatted')) as {
			parse: (text: string) => unknown;
		};
	}

	async signIn(email: string, password: string): Promise<void> {
		await mustSucceed(
			runCommand(
				process.execPath,
				[path.join(repoDir, 'scripts', 'setup-owner.js'), this.url, email, password],
				{ timeoutMs: MINUTE },
			),
			'setup-owner.js',
		);
		const login = await fetch(`${this.url}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': this.browserId },
			body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		});
		if (login.status !== 200)
			throw new Error(`login failed: HTTP ${login.status} ${await login.text()}`);
		this.cookie = login.headers
			.getSetCookie()
			.map((line) => line.split(';')[0])
			.join('; ');
	}

	private async get(pathAndQuery: string): Promise<Response> {
		const response = await fetch(`${this.url}${pathAndQuery}`, {
			headers: { 'browser-id': this.browserId, cookie: this.cookie },
		});
		if (!response.ok)
			throw new Error(`GET ${pathAndQuery}: HTTP ${response.status} ${await response.text()}`);
		return response;
	}

	/** Publishes a workflow's current version, as the editor's Publish button does; its webhooks go live on the main. */
	async publish(workflowId: string): Promise<void> {
		const { data } = (await (await this.get(`/rest/workflows/${workflowId}`)).json()) as {
			data: { versionId: string };
		};
		const response = await fetch(`${this.url}/rest/workflows/${workflowId}/activate`, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'browser-id': this.browserId,
				cookie: this.cookie,
			},
			body: JSON.stringify({ versionId: data.versionId }),
		});
		if (!response.ok)
			throw new Error(`publishing ${workflowId}: HTTP ${response.status} ${await response.text()}`);
	}

	/** The workflow's executions, newest first (at most 100). */
	async executions(workflowId: string): Promise<ExecutionSummary[]> {
		const filter = encodeURIComponent(JSON.stringify({ workflowId }));
		const body = (await (await this.get(`/rest/executions?filter=${filter}&limit=100`)).json()) as {
			data: { results: ExecutionSummary[] };
		};
		return body.data.results;
	}

	async execution(id: string): Promise<{ status: string; run: IRun }> {
		const body = (await (await this.get(`/rest/executions/${id}`)).json()) as {
			data: { status: string; data: string };
		};
		const data = this.flatted.parse(body.data.data) as IRunExecutionData;
		return { status: body.data.status, run: { data } as IRun };
	}

	/** The bytes of a stored binary, through the endpoint the editor downloads files from. */
	async binary(binary: IBinaryData): Promise<Buffer> {
		if (!binary.id)
			throw new Error(
				`binary ${binary.fileName} has no id: it was not stored by a binary data manager`,
			);
		return Buffer.from(
			await (
				await this.get(`/rest/binary-data?id=${encodeURIComponent(binary.id)}&action=download`)
			).arrayBuffer(),
		);
	}
}

// --- the cluster --------------------------------------------------------------------------------------------

/** Statuses of an execution that will not change any more. */
const FINISHED = new Set(['success', 'error', 'crashed', 'canceled']);

export interface QueueClusterOptions {
	/** Where the processes' folders go: `<runDir>/main`, `<runDir>/<worker>`, `<runDir>/workflows`. */
	runDir: string;
	install: N8nInstall;
	services: QueueServices;
	/** Every worker the cluster may run; each gets its user folder with the package. */
	workers: readonly string[];
	/** The workers `start()` starts (default: all); the others can be started later with `startWorker()`. */
	startWorkers?: readonly string[];
	credentials: CredentialFile[];
	/** Imported, then published one by one; each must start with a POST webhook at `path`. */
	workflows: Array<{ workflow: WorkflowJson; path: string }>;
	/** Settings every process gets on top of the cluster's own. */
	env?: NodeJS.ProcessEnv;
	/** More arguments for `n8n worker`, e.g. `--concurrency=3`. */
	workerArgs?: string[];
	/**
	 * Puts the package into a user folder; `first` is true for the main's, which may build it, and false for the
	 * workers', which reuse that build. Default: scripts/n8n-load-package.sh in the repository.
	 */
	loadPackage?: (sandbox: N8nSandbox, first: boolean) => Promise<void>;
	owner?: { email: string; password: string };
	timed?: Timed;
}

/**
 * One main and its workers. `start()` prepares every user folder, imports the credentials and workflows into
 * the database, starts the processes, signs in as the owner and publishes the workflows; `stop()` stops
 * whatever runs, also after a `start()` that failed halfway.
 */
export class QueueCluster {
	main: N8nProcess | undefined;
	readonly workers = new Map<string, N8nProcess>();
	private rest_: N8nRest | undefined;
	private readonly timed: Timed;
	private readonly sandboxes = new Map<string, N8nSandbox>();
	private readonly envs = new Map<string, NodeJS.ProcessEnv>();
	private mainUrl = '';

	constructor(readonly options: QueueClusterOptions) {
		this.timed = options.timed ?? untimed;
	}

	get rest(): N8nRest {
		if (!this.rest_) throw new Error('the queue cluster is not started');
		return this.rest_;
	}

	get url(): string {
		return this.mainUrl;
	}

	async start(): Promise<void> {
		const { options, timed } = this;
		const { install, services } = options;
		const mainPort = await freePort();
		this.mainUrl = `http://127.0.0.1:${mainPort}`;
		// Shared by every process. n8n.sh exports E2E_ENCRYPTION_KEY as N8N_ENCRYPTION_KEY, the same fixed key the
		// user-folder template was made with, so the processes can decrypt each other's credentials.
		const shared: NodeJS.ProcessEnv = {
			E2E_ENCRYPTION_KEY: install.encryptionKey,
			EXECUTIONS_MODE: 'queue',
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: services.postgres.host,
			DB_POSTGRESDB_PORT: String(services.postgres.port),
			DB_POSTGRESDB_DATABASE: services.postgres.database,
			DB_POSTGRESDB_USER: services.postgres.user,
			DB_POSTGRESDB_PASSWORD: services.postgres.password,
			QUEUE_BULL_REDIS_HOST: services.redis.host,
			QUEUE_BULL_REDIS_PORT: String(services.redis.port),
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
			// resume URLs ($execution.resumeUrl) are made by the workers, and must point at the main
			N8N_WEBHOOK_URL: `${this.mainUrl}/`,
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_LOG_LEVEL: 'info',
			N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
			...options.env,
		};
		const envOf = async (name: string, own: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> => ({
			...shared,
			...own,
			NBS_QUEUE_PROCESS: name,
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		});
		this.envs.set('main', await envOf('main', { N8N_PORT: String(mainPort) }));
		for (const name of options.workers) {
			this.envs.set(
				name,
				await envOf(name, {
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(await freePort()),
					N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
				}),
			);
		}
		for (const name of ['main', ...options.workers]) {
			this.sandboxes.set(
				name,
				await N8nSandbox.create(install, path.join(options.runDir, name), this.envs.get(name)),
			);
		}
		const loadPackage =
			options.loadPackage ??
			((sandbox: N8nSandbox, first: boolean) => sandbox.loadPackage(5 * MINUTE, { build: first }));

		// The package goes into every process's user folder; built once, packed and installed once per process.
		await timed('loadPackageMain', () => loadPackage(this.sandboxes.get('main')!, true));
		const workflowsDir = path.join(options.runDir, 'workflows');
		await fs.rm(workflowsDir, { recursive: true, force: true });
		await fs.mkdir(workflowsDir, { recursive: true });
		for (const { workflow } of options.workflows)
			await fs.writeFile(
				path.join(workflowsDir, `${workflow.id}.json`),
				JSON.stringify(workflow, null, 2),
			);
		const mainSandbox = this.sandboxes.get('main')!;
		await Promise.all([
			...options.workers.map((name, k) =>
				timed(`loadPackageWorker${k + 1}`, () => loadPackage(this.sandboxes.get(name)!, false)),
			),
			timed('migrateAndImport', async () => {
				// the first command against the empty database runs n8n's migrations
				await mainSandbox.importCredentials(options.credentials, 3 * MINUTE);
				// Published below through the REST API: `--activeState=fromJson` would have the CLI publish them, but
				// n8n 2.41.1 refuses that before the owner account is set up ("without permissions").
				await mustSucceed(
					mainSandbox.cli(['import:workflow', '--separate', `--input=${workflowsDir}`], 2 * MINUTE),
					'import:workflow',
				);
			}),
		]);

		await timed('startProcesses', async () => {
			const started = await Promise.allSettled([
				N8nProcess.start(mainSandbox, {
					name: 'main',
					args: ['start'],
					env: this.envs.get('main')!,
					readyUrl: `${this.mainUrl}/healthz/readiness`,
					timeoutMs: 3 * MINUTE,
				}),
				...(options.startWorkers ?? options.workers).map((name) => this.launchWorker(name)),
			]);
			for (const result of started) {
				if (result.status !== 'fulfilled') continue;
				if (result.value.name === 'main') this.main = result.value;
				else this.workers.set(result.value.name, result.value);
			}
			const failed = started.find((result) => result.status === 'rejected');
			if (failed) throw failed.reason;
		});

		const rest = new N8nRest(this.mainUrl, install.n8nDir);
		const owner = options.owner ?? { email: 'owner@example.com', password: 'QueueOwner1' };
		await timed('signIn', () => rest.signIn(owner.email, owner.password));
		this.rest_ = rest;
		// One at a time: published all at once, some of the workflows' webhooks never went live on n8n 2.41.1.
		await timed('publish', async () => {
			for (const { workflow, path: webhookPath } of options.workflows) {
				await rest.publish(workflow.id);
				// A GET to a live POST webhook is refused with "not registered for GET requests. Did you mean ... POST".
				for (let attempt = 0; ; attempt++) {
					const probe = await (await fetch(`${this.mainUrl}/webhook/${webhookPath}`)).text();
					if (/Did you mean to make a POST request/.test(probe)) break;
					if (attempt === 40)
						throw new Error(
							`${workflow.id} was published, but its webhook ${webhookPath} is not live on the main: ${probe}`,
						);
					await new Promise((resolve) => setTimeout(resolve, 250));
				}
			}
		});
	}

	private launchWorker(name: string): Promise<N8nProcess> {
		const sandbox = this.sandboxes.get(name);
		const env = this.envs.get(name);
		if (!sandbox || !env) throw new Error(`${name} is not one of the cluster's workers`);
		return N8nProcess.start(sandbox, {
			name,
			args: ['worker', ...(this.options.workerArgs ?? [])],
			env,
			readyUrl: `http://127.0.0.1:${env.QUEUE_HEALTH_CHECK_PORT}/healthz/readiness`,
			timeoutMs: 3 * MINUTE,
		});
	}

	/** Starts one of the cluster's workers that `start()` left out (or that was stopped). */
	async startWorker(name: string): Promise<N8nProcess> {
		if (this.workers.get(name)?.running) throw new Error(`${name} runs already`);
		const worker = await this.launchWorker(name);
		this.workers.set(name, worker);
		return worker;
	}

	/** POSTs to a production webhook of the main; waits for n8n's answer. */
	async callWebhook(
		webhookPath: string,
		body: unknown,
		headers: Record<string, string> = {},
	): Promise<Response> {
		const isBuffer = Buffer.isBuffer(body);
		return await fetch(`${this.mainUrl}/webhook/${webhookPath}`, {
			method: 'POST',
			headers: {
				'content-type': isBuffer ? 'application/octet-stream' : 'application/json',
				...headers,
			},
			body: isBuffer ? new Uint8Array(body) : JSON.stringify(body),
			signal: AbortSignal.timeout(3 * MINUTE),
		});
	}

	/**
	 * Waits until the workflow has `count` finished executions besides those in `except`, and returns them,
	 * oldest first. Throws when it takes longer than `timeoutMs`, or when more than `count` new ones appear.
	 */
	async waitForExecutions(
		workflowId: string,
		count: number,
		options: { except?: Iterable<string>; timeoutMs?: number } = {},
	): Promise<ExecutionSummary[]> {
		const except = new Set(options.except ?? []);
		const deadline = Date.now() + (options.timeoutMs ?? 3 * MINUTE);
		for (;;) {
			const fresh = (await this.rest.executions(workflowId)).filter(
				(execution) => !except.has(execution.id),
			);
			if (fresh.length > count)
				throw new Error(`${workflowId}: expected ${count} new executions, found ${fresh.length}`);
			if (fresh.length === count && fresh.every((execution) => FINISHED.has(execution.status))) {
				return fresh.sort((a, b) => Number(a.id) - Number(b.id));
			}
			if (Date.now() > deadline) {
				throw new Error(
					`${workflowId}: ${count} executions not finished in time: ${JSON.stringify(fresh.map(({ id, status }) => ({ id, status })))}`,
				);
			}
			await new Promise((resolve) => setTimeout(resolve, 200));
		}
	}

	/** Execution ids each worker says it started, from its own log. */
	async executionsByWorker(): Promise<Map<string, string[]>> {
		const byWorker = new Map<string, string[]>();
		for (const [name, worker] of this.workers) {
			byWorker.set(
				name,
				[...(await worker.log()).matchAll(/Worker started execution (\d+)/g)].map((m) => m[1]),
			);
		}
		return byWorker;
	}

	/** One query against n8n's database, rows as psql -At prints them. */
	async sql(query: string): Promise<string> {
		const { postgres } = this.options.services;
		const result = await mustSucceed(
			runCommand(
				path.join(postgres.bin, 'psql'),
				[
					'-h',
					postgres.host,
					'-p',
					String(postgres.port),
					'-U',
					postgres.user,
					'-d',
					postgres.database,
					'-At',
					'-c',
					query,
				],
				{
					env: { ...process.env, PGPASSWORD: postgres.password },
					timeoutMs: MINUTE,
				},
			),
			'psql',
		);
		return result.stdout.trim();
	}

	/** The bytes of a binary as n8n stored them in its database (binary data mode `database`). */
	async storedBytes(binary: IBinaryData): Promise<Buffer> {
		const fileId = /^database:([0-9a-f-]{36})$/.exec(binary.id ?? '')?.[1];
		if (!fileId) throw new Error(`not a binary stored in the database: ${binary.id}`);
		const hex = await this.sql(
			`select encode(data, 'hex') from binary_data where "fileId" = '${fileId}'`,
		);
		if (!hex) throw new Error(`no row for ${binary.id} in binary_data`);
		return Buffer.from(hex, 'hex');
	}

	/** Stops the main and every worker that runs. */
	async stop(): Promise<void> {
		await Promise.all([
			this.main?.stop(),
			...[...this.workers.values()].map((worker) => worker.stop()),
		]);
	}
}
