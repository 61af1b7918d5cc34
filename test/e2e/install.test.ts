/**
 * The README's install, run as written: the packed tarball goes into a fresh `~/.n8n/nodes` with the README's
 * commands, read from the README itself, on Node 24 and on Node 20.19 (the oldest Node the README lists).
 *
 * On Node 24 the folder is then n8n's: n8n 2.41.1 starts from it and runs a Generate node against the
 * simulator. On Node 20 no n8n is started (the last n8n for Node 20, 2.8.4, takes minutes to install); instead
 * Node 20 loads what n8n would: every node and credential file listed in package.json, with n8n-workflow
 * provided from outside the folder as n8n provides it, plus sharp and the C2PA reader (an ES module loaded
 * through require(), the reason for the Node 20.19 floor).
 */
import { promises as fs, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

import { GeminiSim } from '../gemini-sim';
import {
	installN8n,
	mustSucceed,
	N8nSandbox,
	outputOf,
	repoDir,
	runCommand,
	stagePackage,
	type N8nInstall,
} from './local-n8n';

const MINUTE = 60_000;
const NODE20 = '20.19.0';
const PACKAGE = 'n8n-nodes-nano-banana-studio';
const pkg = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as {
	version: string;
	n8n: { nodes: string[]; credentials: string[] };
};
const readmeTarball = `${PACKAGE}-${pkg.version}.tgz`;
const readme = readFileSync(path.join(repoDir, 'README.md'), 'utf8');

// Outside the repository: npm looks for a package.json further up, and must not find the repository's.
const workDir = path.join(tmpdir(), `nano-banana-install-e2e-${process.pid}`);
const logFile = path.join(workDir, 'commands.log');

/** The README's from-source commands from `mkdir -p ~/.n8n/nodes` to the install. */
function readmeInstallCommands(): string {
	const block = readme.match(/\*\*From source\.\*\*[\s\S]*?```bash\n([\s\S]*?)```/)?.[1];
	if (!block) throw new Error('README: no "From source" block');
	const lines = block.split('\n');
	const from = lines.findIndex((line) => line.startsWith('mkdir -p ~/.n8n/nodes'));
	const to = lines.findIndex((line) => line.startsWith('npm install --omit=dev --omit=peer'));
	if (from < 0 || to < from) throw new Error('README: the From source block changed shape');
	return lines.slice(from, to + 1).join('\n');
}

/** The shell command the README's Docker block runs inside the container. */
function readmeDockerCommand(): string {
	const block = readme.match(/With Docker[\s\S]*?```bash\n([\s\S]*?)```/)?.[1];
	const inner = block?.match(/docker exec n8n sh -c '([\s\S]*?)'\n/)?.[1];
	if (!inner) throw new Error('README: no docker exec command');
	return inner;
}

/** Runs README commands with HOME at `home` and the given Node first on PATH; the tarball at its place. */
async function runReadme(
	shell: 'bash' | 'sh',
	commands: string,
	home: string,
	nodeBinDir: string,
	tarball: string,
): Promise<void> {
	const script = commands
		.replace(`/path/to/${readmeTarball}`, tarball)
		.replace(`/tmp/${readmeTarball}`, tarball);
	await mustSucceed(
		runCommand(shell, ['-c', `set -e\n${script}`], {
			cwd: home,
			env: { ...process.env, HOME: home, PATH: `${nodeBinDir}:${process.env.PATH}` },
			timeoutMs: 5 * MINUTE,
			logFile,
		}),
		`the README's install (${shell}, ${path.basename(path.dirname(nodeBinDir))})`,
	);
}

interface Installed {
	packages: string[];
	megabytes: number;
}

/** Every package under a node_modules folder (nested ones too), and the folder's size. */
async function inspect(nodesDir: string): Promise<Installed> {
	const packages: string[] = [];
	const walk = async (modules: string): Promise<void> => {
		const entries = await fs.readdir(modules).catch(() => [] as string[]);
		for (const entry of entries.filter((e) => !e.startsWith('.'))) {
			const dirs = entry.startsWith('@')
				? (await fs.readdir(path.join(modules, entry))).map((e) => path.join(entry, e))
				: [entry];
			for (const dir of dirs) {
				packages.push(dir);
				await walk(path.join(modules, dir, 'node_modules'));
			}
		}
	};
	await walk(path.join(nodesDir, 'node_modules'));
	const du = await mustSucceed(
		runCommand('du', ['-sk', path.join(nodesDir, 'node_modules')], { timeoutMs: MINUTE }),
		'du',
	);
	return { packages, megabytes: Number(du.stdout.split(/\s/)[0]) / 1024 };
}

function expectSmallAndSingleN8nWorkflow(installed: Installed): void {
	expect(installed.packages).toContain(PACKAGE);
	// n8n provides n8n-workflow; a second copy would break its identity checks of error classes
	expect(installed.packages.filter((p) => p === 'n8n-workflow')).toEqual([]);
	expect(installed.packages).not.toContain('isolated-vm');
	expect(installed.packages).not.toContain('n8n-core');
	// Measured: 59 packages, 66 MB (2026-12-08). Installing the peer too pulls about 210 packages and 205 MB.
	expect(installed.packages.length).toBeLessThanOrEqual(70);
	expect(installed.megabytes).toBeLessThan(90);
}

let sim: GeminiSim;
let install: N8nInstall;
let tarball: string;

beforeAll(async () => {
	await fs.rm(workDir, { recursive: true, force: true });
	await fs.mkdir(workDir, { recursive: true });
	sim = await GeminiSim.start({ apiKey: 'install-e2e-key' });
	install = await installN8n(10 * MINUTE, path.join(repoDir, '.e2e', 'n8n-install.log'));
	// built and packed from a copy, so the repository's dist/ stays as other runs use it
	const stage = await stagePackage(path.join(workDir, 'stage'));
	await mustSucceed(
		runCommand('npm', ['run', '--silent', 'build'], { cwd: stage, timeoutMs: 5 * MINUTE, logFile }),
		'npm run build',
	);
	await mustSucceed(
		runCommand('npm', ['pack', '--silent', '--pack-destination', workDir], {
			cwd: stage,
			timeoutMs: 2 * MINUTE,
			logFile,
		}),
		'npm pack',
	);
	tarball = path.join(workDir, readmeTarball);
	await fs.access(tarball);
}, 20 * MINUTE);

afterAll(async () => {
	await sim?.stop();
	await fs.rm(workDir, { recursive: true, force: true });
});

describe('the README install on Node 24, loaded by n8n', () => {
	let n8n: N8nSandbox;
	let installed: Installed;

	beforeAll(async () => {
		// the user folder is HOME, so the README's ~/.n8n/nodes is the folder this n8n reads
		n8n = await N8nSandbox.create(install, path.join(workDir, 'node24'));
		await runReadme(
			'bash',
			readmeInstallCommands(),
			n8n.userFolder,
			path.dirname(install.nodeBin),
			tarball,
		);
		installed = await inspect(path.join(n8n.userFolder, '.n8n', 'nodes'));
	}, 10 * MINUTE);

	test('installs the package alone: no second n8n-workflow, a small folder', () => {
		expectSmallAndSingleN8nWorkflow(installed);
	});

	test(
		'n8n loads it and runs a Generate node',
		async () => {
			const credential = { id: 'nbsInstallCred1', name: 'Nano Banana (install e2e)' };
			await n8n.importCredentials(
				[{ ...credential, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } }],
				2 * MINUTE,
			);
			const workflow = {
				id: 'nbsInstallE2e1',
				name: 'Installed the README way',
				nodes: [
					{
						id: 'a0000000-0000-4000-8000-000000000001',
						name: 'Start',
						type: 'n8n-nodes-base.manualTrigger',
						typeVersion: 1,
						position: [0, 0],
						parameters: {},
					},
					{
						id: 'a0000000-0000-4000-8000-000000000002',
						name: 'Generate',
						type: `${PACKAGE}.nanoBananaGenerate`,
						typeVersion: 1,
						position: [220, 0],
						parameters: { prompt: 'a banana on a plate, installed the README way', options: {} },
						credentials: { nanoBananaApi: credential },
					},
				],
				connections: { Start: { main: [[{ node: 'Generate', type: 'main', index: 0 }]] } },
				settings: { executionOrder: 'v1' },
			};
			const file = path.join(n8n.dir, 'installed.json');
			await fs.writeFile(file, JSON.stringify(workflow));
			await n8n.importWorkflows([file], 2 * MINUTE);
			const batch = await n8n.executeBatch([workflow.id], 5 * MINUTE);

			expect(batch.summary.summary.successfulExecutions).toBe(1);
			const [item] = outputOf(batch.runs[workflow.id], 'Generate');
			expect(item.binary?.data?.mimeType).toMatch(/^image\//);
			expect(GeminiSim.promptOf(await n8n.readBinary(item.binary!.data))).toContain(
				'installed the README way',
			);
		},
		10 * MINUTE,
	);
});

describe(`the README install on Node ${NODE20}`, () => {
	const home = path.join(workDir, 'node20-home');
	const nodesDir = path.join(home, '.n8n', 'nodes');
	let nodeBinDir: string;

	beforeAll(async () => {
		await fs.mkdir(home, { recursive: true });
		const which = await mustSucceed(
			runCommand(
				'bash',
				[path.join(repoDir, 'scripts', 'with-node.sh'), NODE20, 'node', '-p', 'process.execPath'],
				{ timeoutMs: 5 * MINUTE, logFile },
			),
			`Node ${NODE20}`,
		);
		nodeBinDir = path.dirname(which.stdout.trim());
		await runReadme('bash', readmeInstallCommands(), home, nodeBinDir, tarball);
	}, 10 * MINUTE);

	test('installs without compiling anything and without a second n8n-workflow', async () => {
		expectSmallAndSingleN8nWorkflow(await inspect(nodesDir));
	});

	test("loads every node and credential, sharp and the C2PA reader, as n8n's require() would, and generates", async () => {
		// n8n resolves n8n-workflow from its own install: here a folder holding only that
		const peers = path.join(workDir, 'peers', 'node_modules');
		await fs.mkdir(peers, { recursive: true });
		await fs.symlink(
			path.join(repoDir, 'node_modules', 'n8n-workflow'),
			path.join(peers, 'n8n-workflow'),
		);
		const packageDir = path.join(nodesDir, 'node_modules', PACKAGE);
		const files = [...pkg.n8n.nodes, ...pkg.n8n.credentials];
		const script = `
			const path = require('path');
			const dir = process.argv[1];
			const loaded = JSON.parse(process.argv[2]).map((file) => {
				const exports = require(path.join(dir, file));
				const Type = Object.values(exports)[0];
				const type = new Type();
				return type.description ? type.description.name : type.name;
			});
			const sharp = require(require.resolve('sharp', { paths: [dir] }));
			const { loadC2paWasm } = require(path.join(dir, 'dist/nodes/shared/provenance/c2paWasm.js'));
			const { GeminiClient } = require(path.join(dir, 'dist/nodes/shared/transport/index.js'));
			const [apiKey, host] = process.argv.slice(3);
			const generate = () => new GeminiClient({ apiKey, host }).generate(
				{ model: 'gemini-3.1-flash-image', contents: [{ role: 'user', parts: [{ text: 'a banana on Node 20' }] }],
					generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } },
				{ retry: { maxAttempts: 1, maxTotalWaitMs: 0 }, timeoutMs: 60000 },
			);
			sharp({ create: { width: 4, height: 4, channels: 3, background: '#fc0' } }).png().toBuffer()
				.then(async (png) => {
					const c2pa = await loadC2paWasm();
					const answer = await generate();
					console.log(JSON.stringify({
						node: process.version, loaded, png: (await sharp(png).metadata()).format,
						c2pa: typeof c2pa.default, images: answer.images.length,
						workflowFrom: require.resolve('n8n-workflow', { paths: [dir] }),
					}));
				})
				.catch((error) => { console.error(error); process.exit(1); });
		`;
		const result = await mustSucceed(
			runCommand(
				path.join(nodeBinDir, 'node'),
				['-e', script, packageDir, JSON.stringify(files), sim.apiKey, sim.url],
				{
					cwd: home,
					env: { ...process.env, NODE_PATH: peers },
					timeoutMs: 2 * MINUTE,
					logFile,
				},
			),
			`loading the package on Node ${NODE20}`,
		);
		const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
			node: string;
			loaded: string[];
			png: string;
			c2pa: string;
			images: number;
			workflowFrom: string;
		};
		expect(report.node).toBe(`v${NODE20}`);
		expect(report.loaded).toEqual([
			'nanoBananaGenerate',
			'nanoBananaEdit',
			'nanoBananaFuse',
			'nanoBananaVerify',
			'nanoBananaBatchResults',
			'nanoBananaApi',
		]);
		expect(report.png).toBe('png');
		expect(report.c2pa).toBe('function');
		// a request through the package's own HTTP client (undici) on this Node
		expect(report.images).toBe(1);
		// from outside the install folder, as n8n provides it
		expect(report.workflowFrom.startsWith(nodesDir)).toBe(false);
	});

	test("the Docker block's command installs the same way (run here without Docker)", async () => {
		const dockerHome = path.join(workDir, 'docker-home');
		await fs.mkdir(dockerHome, { recursive: true });
		await runReadme('sh', readmeDockerCommand(), dockerHome, nodeBinDir, tarball);
		expectSmallAndSingleN8nWorkflow(await inspect(path.join(dockerHome, '.n8n', 'nodes')));
		const written = JSON.parse(
			await fs.readFile(path.join(dockerHome, '.n8n', 'nodes', 'package.json'), 'utf8'),
		) as { dependencies: Record<string, string> };
		expect(Object.keys(written.dependencies)).toEqual([PACKAGE]);
	});
});
