/**
 * Screenshots of the n8n editor for the README: the Generate node's panel after a run (docs/editor-generate.png)
 * and the Edit node's panel (docs/editor-edit.png).
 *
 * Starts `npm start` itself, always against the Gemini simulator (GEMINI_API_KEY is not passed on, so nothing is
 * billed), signs in with the owner account it prints, and drives a headless Chromium. Needs Debian's chromium
 * (`apt-get install chromium`) or CHROMIUM=/path/to/chrome. Port 5678 (N8N_PORT) must be free.
 *
 *   TS_NODE_PREFER_TS_EXTS=true npx ts-node --transpile-only scripts/screenshot-editor.ts
 */
import { spawn, type ChildProcess } from 'child_process';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { chromium, type Page } from 'playwright-core';

const repoDir = path.resolve(__dirname, '..');
const docsDir = path.join(repoDir, 'docs');
const port = Number(process.env.N8N_PORT ?? 5678);
const editorUrl = `http://localhost:${port}`;
const viewport = { width: 1440, height: 900 };

const GENERATE = { workflowId: 'nbsExample1Social', node: 'Instagram 1080x1080', file: 'editor-generate.png' };
const EDIT = { workflowId: 'nbsExample2Retouch', node: 'Retouch', file: 'editor-edit.png' };

/** `npm start` in its own process group, so it can be stopped like Ctrl-C stops it. */
function startEditor(): { child: ChildProcess; signIn: Promise<{ email: string; password: string }> } {
	const { GEMINI_API_KEY: _billed, ...env } = process.env;
	const child = spawn('npm', ['start'], { cwd: repoDir, env: { ...env, N8N_PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	const signIn = new Promise<{ email: string; password: string }>((resolve, reject) => {
		const read = (chunk: Buffer) => {
			output += chunk.toString();
			// start.sh prints its banner once n8n is ready and the owner account exists
			const found = /Sign in:\s+(\S+) \/ (\S+)/.exec(output);
			if (found && output.includes('Press Ctrl-C to stop')) resolve({ email: found[1], password: found[2] });
		};
		child.stdout!.on('data', read);
		child.stderr!.on('data', read);
		child.on('exit', (code) => reject(new Error(`npm start exited (${code}) before the editor was ready:\n${output.slice(-3000)}`)));
	});
	return { child, signIn };
}

async function stopEditor(child: ChildProcess): Promise<void> {
	if (!child.pid || child.exitCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	// SIGINT, as Ctrl-C: start.sh then stops n8n and the simulator, which run in their own process groups.
	process.kill(-child.pid, 'SIGINT');
	const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
	await exited;
	clearTimeout(timer);
}

async function portIsFree(): Promise<boolean> {
	try {
		await fetch(`${editorUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
		return false;
	} catch {
		return true;
	}
}

async function signInAs(page: Page, email: string, password: string): Promise<void> {
	await page.goto(`${editorUrl}/signin`);
	await page.fill('input[name=emailOrLdapLoginId]', email);
	await page.fill('input[name=password]', password);
	await page.click('[data-test-id=form-submit-button]');
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
}

/** Opens a workflow and double-clicks a node, which opens its parameter panel. */
async function openNode(page: Page, workflowId: string, nodeName: string): Promise<void> {
	await page.goto(`${editorUrl}/workflow/${workflowId}`);
	const node = page.locator(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`);
	await node.waitFor();
	await node.dblclick();
	await page.locator('[data-test-id=ndv] [data-test-id=node-parameters]').waitFor();
}

/** The "Node executed successfully" toast would cover the end of the output. */
async function closeToasts(page: Page): Promise<void> {
	const close = page.locator('.el-notification .el-notification__closeBtn');
	while ((await close.count()) > 0) {
		await close.first().click();
		await page.waitForTimeout(500);
	}
}

async function main(): Promise<void> {
	if (!(await portIsFree())) throw new Error(`Something already answers on ${editorUrl}; stop it (or set N8N_PORT) and run again.`);
	mkdirSync(docsDir, { recursive: true });
	const editor = startEditor();
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
	});
	try {
		const { email, password } = await editor.signIn;
		const page = await browser.newPage({ viewport });
		await signInAs(page, email, password);

		// Generate: run the step (against the simulator), so the panel shows its input and the output json.
		await openNode(page, GENERATE.workflowId, GENERATE.node);
		await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
		await page.locator('[data-test-id=output-panel] [data-test-id=node-run-status-success]').waitFor({ timeout: 60_000 });
		await page.click('[data-test-id=output-panel] [data-test-id=radio-button-json]');
		await page.locator('[data-test-id=output-panel]').getByText('estimatedCostUsd').waitFor();
		await closeToasts(page);
		await page.mouse.move(0, viewport.height - 1);
		await page.screenshot({ path: path.join(docsDir, GENERATE.file) });

		// Edit: the form example's retouch node; it starts from a form, so it is shown without a run.
		await openNode(page, EDIT.workflowId, EDIT.node);
		await page.mouse.move(0, viewport.height - 1);
		await page.screenshot({ path: path.join(docsDir, EDIT.file) });
		console.log(`wrote docs/${GENERATE.file} and docs/${EDIT.file}`);
	} finally {
		await browser.close();
		await stopEditor(editor.child);
	}
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
