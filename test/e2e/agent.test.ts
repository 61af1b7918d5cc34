/**
 * The nodes as tools of n8n's AI Agent, in a real n8n: the agent's OpenAI Chat Model is pointed at
 * a local stand-in (chat-standin.ts) that makes scripted tool calls, Gemini is the simulator.
 * Generate → Edit (by the ref Generate returned) → Verify (by the ref Edit returned) in one agent
 * run, under agent versions 3.1 and 2.2; what the model read after each call; the image reaching a
 * node after the agent; a ref from another execution, an image URL and a URL to a web page.
 */
import { promises as fs } from 'fs';
import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import sharp from 'sharp';
import type { IRun } from 'n8n-workflow';

import { GeminiSim } from '../gemini-sim';
import { ChatStandIn, lastRef, type SeenResult } from './chat-standin';
import { installN8n, N8nSandbox, outputOf, promptOf, repoDir, type BatchResult } from './local-n8n';

const MINUTE = 60_000;
const runDir = path.join(repoDir, '.e2e', 'agent');
const NB_CREDENTIAL = { id: 'nbsAgentCredential1', name: 'Nano Banana (agent e2e)' };
const OPENAI_CREDENTIAL = { id: 'nbsAgentCredential2', name: 'OpenAI stand-in (agent e2e)' };
const PROMPT = 'A red bicycle leaning on a brick wall';
const INSTRUCTION = 'Paint the wall blue';

let sim: GeminiSim;
let chat: ChatStandIn;
let files: Server;
let filesUrl: string;
let n8n: N8nSandbox;
let first: BatchResult;
let second: BatchResult;

const chain = [
	{ tool: /Generate/, args: () => ({ prompt: PROMPT }) },
	{
		tool: /Edit/,
		args: (seen: SeenResult[]) => ({ image: lastRef(seen[0].content), instruction: INSTRUCTION }),
	},
	{
		tool: /Verify/,
		args: (seen: SeenResult[]) => ({ image: lastRef(seen[1].content), prompt: INSTRUCTION }),
	},
];

/** An agent with our three tools, and a Verify after it that takes the image out of the steps. */
function agentWorkflow(id: string, agentVersion: number, script: string) {
	const nb = { nanoBananaApi: NB_CREDENTIAL };
	const tool = (name: string, type: string, version: number, y: number) => ({
		id: `${id}-${type}`,
		name,
		type: `n8n-nodes-nano-banana-studio.${type}`,
		typeVersion: version,
		position: [400 + y, 300],
		parameters: {},
		credentials: nb,
	});
	return {
		id,
		name: `Agent e2e ${script}`,
		nodes: [
			{
				id: `${id}-start`,
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: `${id}-agent`,
				name: 'AI Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: agentVersion,
				position: [200, 0],
				parameters: {
					promptType: 'define',
					text: `script:${script} Make a picture for a post about city cycling.`,
					options: { returnIntermediateSteps: true },
				},
			},
			{
				id: `${id}-model`,
				name: 'Chat Model',
				type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
				typeVersion: 1.2,
				position: [100, 300],
				parameters: { model: { __rl: true, mode: 'id', value: 'gpt-standin' }, options: {} },
				credentials: { openAiApi: OPENAI_CREDENTIAL },
			},
			tool('Generate Image', 'nanoBananaGenerateTool', 1.1, 0),
			tool('Edit Image', 'nanoBananaEditTool', 1.1, 200),
			tool('Verify Image', 'nanoBananaVerifyTool', 1, 400),
			{
				id: `${id}-after`,
				name: 'Image From Agent',
				type: 'n8n-nodes-nano-banana-studio.nanoBananaVerify',
				typeVersion: 1,
				position: [500, 0],
				parameters: {
					binaryPropertyName: '={{ JSON.stringify($json.intermediateSteps) }}',
					aiJudge: false,
					technicalChecks: { minWidth: 64 },
				},
			},
		],
		connections: {
			Start: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'AI Agent': { main: [[{ node: 'Image From Agent', type: 'main', index: 0 }]] },
			'Chat Model': {
				ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]],
			},
			'Generate Image': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
			'Edit Image': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
			'Verify Image': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

async function importAndRun(workflows: Array<ReturnType<typeof agentWorkflow>>, stage: string) {
	const dir = path.join(runDir, stage);
	await fs.mkdir(dir, { recursive: true });
	const paths: string[] = [];
	for (const workflow of workflows) {
		const file = path.join(dir, `${workflow.id}.json`);
		await fs.writeFile(file, JSON.stringify(workflow, null, 2));
		paths.push(file);
	}
	const { manual } = await n8n.importWorkflows(paths, 2 * MINUTE);
	return await n8n.executeBatch(manual, 6 * MINUTE);
}

const runOf = (batch: BatchResult, id: string): IRun => {
	const found = batch.runs[id];
	if (!found) throw new Error(`no snapshot for ${id}: ${JSON.stringify(batch.summary.summary)}`);
	return found;
};

beforeAll(async () => {
	sim = await GeminiSim.start({ apiKey: 'agent-e2e-key' });
	const png = await sharp({
		create: { width: 640, height: 480, channels: 3, background: { r: 30, g: 120, b: 200 } },
	})
		.png()
		.toBuffer();
	files = createServer((req, res) => {
		if (req.url === '/photo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
		else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an image</html>');
	});
	await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
	filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
	chat = new ChatStandIn({
		chain31: chain,
		chain22: chain,
		elsewhere: [
			// A ref the first batch's execution made: refused here.
			{
				tool: /Edit/,
				args: () => ({
					image: lastRef(chat.results('chain31')[0].content),
					instruction: INSTRUCTION,
				}),
			},
			{ tool: /Edit/, args: () => ({ image: `${filesUrl}/photo.png`, instruction: INSTRUCTION }) },
			{ tool: /Edit/, args: () => ({ image: `${filesUrl}/page.html`, instruction: INSTRUCTION }) },
		],
	});
	await chat.start();

	const install = await installN8n(10 * MINUTE, path.join(repoDir, '.e2e', 'n8n-install.log'));
	n8n = await N8nSandbox.create(install, runDir);
	await n8n.loadPackage(5 * MINUTE);
	await n8n.importCredentials(
		[
			{ ...NB_CREDENTIAL, type: 'nanoBananaApi', data: { apiKey: sim.apiKey, host: sim.url } },
			{ ...OPENAI_CREDENTIAL, type: 'openAiApi', data: { apiKey: 'sk-standin', url: chat.url } },
		],
		2 * MINUTE,
	);
	first = await importAndRun(
		[
			agentWorkflow('nbsAgent31Chain', 3.1, 'chain31'),
			agentWorkflow('nbsAgent22Chain', 2.2, 'chain22'),
		],
		'first',
	);
	second = await importAndRun([agentWorkflow('nbsAgentElsewhere1', 3.1, 'elsewhere')], 'second');
}, 25 * MINUTE);

afterAll(async () => {
	await chat?.stop();
	await sim?.stop();
	await new Promise((resolve) => files?.close(resolve));
});

describe.each([
	['3.1', 'nbsAgent31Chain', 'chain31'],
	['2.2', 'nbsAgent22Chain', 'chain22'],
])('AI Agent %s with Generate, Edit and Verify as tools', (_version, id, script) => {
	it('offers the three tools and runs the chain without error', () => {
		expect(first.summary.executions.find((e) => e.workflowId === id)).toMatchObject({
			executionStatus: 'success',
		});
		expect([...(chat.toolsOffered.get(script) ?? [])].sort()).toEqual([
			'Edit_Image',
			'Generate_Image',
			'Verify_Image',
		]);
		expect(chat.results(script).map((s) => s.tool)).toEqual([
			'Generate_Image',
			'Edit_Image',
			'Verify_Image',
		]);
	});

	it('the model reads compact results: refs, no base64, no item numbers', () => {
		const [generated, edited, verified] = chat.results(script);
		for (const seen of [generated, edited, verified]) {
			expect(seen.content.length).toBeLessThan(400);
			expect(seen.content).not.toMatch(/[A-Za-z0-9+/]{200}|\(item \d/);
		}
		expect(JSON.parse(generated.content)).toEqual([
			expect.objectContaining({
				ok: true,
				images: [expect.objectContaining({ mimeType: 'image/png' })],
			}),
		]);
		expect(lastRef(generated.content)).toBeDefined();
		expect(lastRef(edited.content)).not.toBe(lastRef(generated.content));
		const [verdict] = JSON.parse(verified.content) as Array<Record<string, unknown>>;
		expect(Object.keys(verdict).sort()).toEqual(['pass', 'reasons', 'scores']);
	});

	it('Gemini got the prompt, and for Edit the very image Generate made', async () => {
		const requests = sim.requests.filter((r) => r.action === 'generateContent');
		const generate = requests.find((r) => promptOf(r) === PROMPT)!;
		expect(generate).toBeDefined();
		const edits = requests.filter((r) => promptOf(r).includes(INSTRUCTION) && r.body.contents);
		expect(edits.length).toBeGreaterThan(0);
		const run = runOf(first, id);
		const ref = lastRef(chat.results(script)[0].content)!;
		const [, mode, execution, file] = ref.split(':');
		const made = await n8n.readBinary({
			id: `${mode}:workflows/${id}/executions/${execution}/binary_data/${file}`,
		} as never);
		const sent = edits
			.map((r) =>
				(r.body.contents[0].parts as Array<{ inlineData?: { data: string } }>).find(
					(p) => p.inlineData,
				),
			)
			.filter(Boolean)
			.map((p) => Buffer.from(p!.inlineData!.data, 'base64'));
		const pixels = async (data: Buffer) => await sharp(data).removeAlpha().raw().toBuffer();
		const madePixels = await pixels(made);
		const matches = await Promise.all(sent.map(async (s) => (await pixels(s)).equals(madePixels)));
		expect(matches).toContain(true);
		expect(run.data.resultData.error).toBeUndefined();
	});

	it('the edited image reaches the node after the agent as binary "data"', async () => {
		const [item] = outputOf(runOf(first, id), 'Image From Agent');
		expect(item.binary?.data).toMatchObject({ mimeType: 'image/png' });
		const editedRef = lastRef(chat.results(script)[1].content)!;
		expect(item.binary!.data.id).toContain(editedRef.split(':')[3]);
		const bytes = await n8n.readBinary(item.binary!.data);
		expect((await sharp(bytes).metadata()).width).toBeGreaterThan(64);
	});
});

describe('references and URLs across executions', () => {
	it('refuses a ref from another execution, fetches an image URL, refuses a web page', () => {
		const [foreign, url, page] = chat.results('elsewhere').map((s) => JSON.parse(s.content)[0]);
		expect(foreign).toEqual({
			ok: false,
			error: expect.stringContaining('comes from another execution'),
			hint: expect.stringContaining('same run'),
		});
		expect(url).toMatchObject({
			ok: true,
			images: [expect.objectContaining({ ref: expect.any(String) })],
		});
		expect(page).toEqual({
			ok: false,
			error: expect.stringContaining('did not return an image (content type "text/html")'),
			hint: expect.any(String),
		});
		expect(second.summary.executions[0]).toMatchObject({ executionStatus: 'success' });
	});
});
