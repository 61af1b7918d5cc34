/**
 * Screenshots of the n8n editor for the README, taken in a real browser after real runs against the simulator:
 *   docs/editor-generate.png     Generate's panel after a run (weekly social posts), the output json
 *   docs/editor-edit.png         Edit's panel after the form example's form was filled in, the retouched image shown
 *   docs/editor-fuse.png         Fuse's panel after a run (product in scene), the fused image shown
 *   docs/editor-verify.png       Verify's panel after a run (product in scene), the check report
 *   docs/canvas-retry-loop.png   the retry-loop example's canvas after a run: Fail, retry, Pass
 * It also prints each Nano Banana node's name and subtitle as the canvas shows them.
 *
 * Starts `npm start` itself, always against the Gemini simulator (GEMINI_API_KEY is not passed on, so nothing is
 * billed), signs in with the owner account it prints, and drives a headless Chromium. Needs Debian's chromium
 * (`apt-get install chromium`) or CHROMIUM=/path/to/chrome. Ports 5678 (N8N_PORT) and 8787 (GEMINI_SIM_PORT) must
 * be free.
 *
 *   npm run docs:screenshot
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

const SOCIAL = 'nbsExample1Social';
const RETOUCH = 'nbsExample2Retouch';
const PRODUCT = 'nbsExample3Fuse';
const LOOP = 'nbsExample3VerifyLoop';
/** What the form example's form gets, as a user would fill it in. */
const RETOUCH_FORM = {
	photo: path.join(repoDir, 'test', 'fixtures', 'photos', 'man.jpg'),
	style: 'Product',
	note: 'Also remove the watch.',
};

/** `npm start` in its own process group, so it can be stopped like Ctrl-C stops it. */
function startEditor(): {
	child: ChildProcess;
	signIn: Promise<{ email: string; password: string }>;
} {
	const { GEMINI_API_KEY: _billed, ...env } = process.env;
	const child = spawn('npm', ['start'], {
		cwd: repoDir,
		env: { ...env, N8N_PORT: String(port) },
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	const signIn = new Promise<{ email: string; password: string }>((resolve, reject) => {
		const read = (chunk: Buffer) => {
			output += chunk.toString();
			// start.sh prints its banner once n8n is ready and the owner account exists
			const found = /Sign in:\s+(\S+) \/ (\S+)/.exec(output);
			if (found && output.includes('Press Ctrl-C to stop'))
				resolve({ email: found[1], password: found[2] });
		};
		child.stdout!.on('data', read);
		child.stderr!.on('data', read);
		child.on('exit', (code) =>
			reject(
				new Error(
					`npm start exited (${code}) before the editor was ready:\n${output.slice(-3000)}`,
				),
			),
		);
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

const output = (page: Page) => page.locator('[data-test-id=output-panel]');

/** Presses the open panel's "Execute step" (which runs the nodes before it too) and waits for its output. */
async function executeStep(page: Page, whileRunning?: () => Promise<void>): Promise<void> {
	await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
	await whileRunning?.();
	await output(page)
		.locator('[data-test-id=node-run-status-success]')
		.waitFor({ timeout: 120_000 });
}

/** The output's first binary file, opened with its View button, so the image itself is on screen. */
async function showOutputImage(page: Page): Promise<void> {
	await output(page).locator('[data-test-id=radio-button-binary]').click();
	await output(page).getByRole('button', { name: 'View' }).first().click();
	const image = output(page).locator('img[src*="/rest/binary-data"]');
	await image.waitFor();
	// runs in the browser (this file is compiled without the DOM types)
	type Img = {
		complete: boolean;
		naturalWidth: number;
		addEventListener(type: 'load', listener: () => void): void;
	};
	const width = await image.evaluate(async (img: Img) => {
		if (!img.complete) await new Promise<void>((resolve) => img.addEventListener('load', resolve));
		return img.naturalWidth;
	});
	if (!width) throw new Error('the output image did not load');
}

async function shoot(page: Page, file: string): Promise<void> {
	await closeToasts(page);
	await page.mouse.move(0, viewport.height - 1);
	await page.screenshot({ path: path.join(docsDir, file) });
	console.log(`wrote docs/${file}`);
}

/** The canvas text of every Nano Banana node (name, then subtitle), to see that the subtitles render. */
async function canvasSubtitles(page: Page, workflowId: string): Promise<string[]> {
	await page.goto(`${editorUrl}/workflow/${workflowId}`);
	const nodes = page.locator(
		'[data-test-id=canvas-node][data-node-type^="n8n-nodes-nano-banana-studio."]',
	);
	await nodes.first().waitFor();
	return await nodes.evaluateAll((elements) =>
		elements.map((element) =>
			(element as unknown as { innerText: string }).innerText.trim().replace(/\s*\n\s*/g, ' | '),
		),
	);
}

async function main(): Promise<void> {
	if (!(await portIsFree()))
		throw new Error(
			`Something already answers on ${editorUrl}; stop it (or set N8N_PORT) and run again.`,
		);
	mkdirSync(docsDir, { recursive: true });
	const editor = startEditor();
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--no-first-run',
		],
	});
	try {
		const { email, password } = await editor.signIn;
		const context = await browser.newContext({ viewport });
		const page = await context.newPage();
		await signInAs(page, email, password);

		for (const workflowId of [SOCIAL, RETOUCH, PRODUCT, LOOP]) {
			for (const node of await canvasSubtitles(page, workflowId))
				console.log(`canvas of ${workflowId}: ${node}`);
		}

		// Generate: run the step, so the panel shows its input and the output json.
		await openNode(page, SOCIAL, 'Instagram 1080x1080');
		await executeStep(page);
		await output(page).locator('[data-test-id=radio-button-json]').click();
		await output(page).getByText('estimatedCostUsd').waitFor();
		await shoot(page, 'editor-generate.png');

		// Edit: the form example starts from its form, so "Execute step" opens the test form in a new tab; fill it in.
		await openNode(page, RETOUCH, 'Retouch');
		await executeStep(page, async () => {
			const form = await context.waitForEvent('page', { timeout: 60_000 });
			await form.waitForLoadState();
			await form.setInputFiles('input[type=file]', RETOUCH_FORM.photo);
			await form.selectOption('select', RETOUCH_FORM.style);
			await form.fill('textarea', RETOUCH_FORM.note);
			await form.click('button[type=submit]');
			await page.bringToFront();
		});
		await page.locator('[data-test-id=ndv] [data-test-id=radio-button-binary]').first().click();
		await showOutputImage(page);
		await shoot(page, 'editor-edit.png');

		// Fuse: the step runs both downloads (served by the simulator) and the Merge first.
		await openNode(page, PRODUCT, 'Put Product In Room');
		await executeStep(page);
		await showOutputImage(page);
		await shoot(page, 'editor-fuse.png');

		// Verify: the same example's check of the fused image.
		await openNode(page, PRODUCT, 'Check The Result');
		await executeStep(page);
		await output(page).locator('[data-test-id=radio-button-json]').click();
		// The report comes after the fused image's own json: scroll the output to its end.
		const box = (await output(page).boundingBox())!;
		await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
		for (let i = 0; i < 20; i++) await page.mouse.wheel(0, 1500);
		await output(page).getByText('synthId').first().waitFor();
		await shoot(page, 'editor-verify.png');

		// The retry loop: the simulator misspells the mug's text on the first try, so Verify fails once, then passes.
		await page.goto(`${editorUrl}/workflow/${LOOP}`);
		await page.locator('[data-test-id=canvas-node]').first().waitFor();
		await page.click('[data-test-id=execute-workflow-button]');
		await page
			.locator('[data-test-id=canvas-node][data-node-name="Approved"] [data-plus-type=success]')
			.waitFor({ timeout: 120_000 });
		await page.waitForTimeout(1000);
		await shoot(page, 'canvas-retry-loop.png');
	} catch (error) {
		const failed = path.join(repoDir, '.e2e', 'screenshot-failure.png');
		await browser
			.contexts()[0]
			?.pages()[0]
			?.screenshot({ path: failed })
			.catch(() => undefined);
		console.error(`The page when it failed: ${failed}`);
		throw error;
	} finally {
		await browser.close();
		await stopEditor(editor.child);
	}
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
