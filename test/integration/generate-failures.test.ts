/**
 * Every way a call can fail, as the user sees it: a clear NodeApiError naming the item, retries
 * where they help, and under Continue On Fail the original item with the error attached.
 */
import { execFile } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { promisify } from 'util';
import type { ICredentialTestFunctions } from 'n8n-workflow';

import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { nanoBananaCredentialTest } from '../../nodes/shared/skeleton/methods/credentialTest';
import { GeminiSim } from '../gemini-sim';
import type { Fault } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';
import { startWebApp } from '../helpers/webApp';

const node = new NanoBananaGenerate();
const execFileAsync = promisify(execFile);
let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const fast = { maxAttempts: 3, maxRetryWaitSeconds: 30, timeoutSeconds: 20 };
const generate = (parameters: RunOptions['parameters'] = {}, extra: Partial<RunOptions> = {}) =>
	runNode(node, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters: {
			prompt: 'a lighthouse at dusk',
			...parameters,
			options: { ...fast, ...(parameters.options as object) },
		},
		...extra,
	});
const generateCalls = () => sim.generateRequests;
const failure = (parameters: RunOptions['parameters'] = {}, extra: Partial<RunOptions> = {}) =>
	generate(parameters, extra).then(
		() => {
			throw new Error('expected the node to fail');
		},
		(error) => error,
	);

describe('answers with no image are clear errors, never empty files', () => {
	it.each<[Fault['kind'], RegExp, string]>([
		[
			'prompt-block',
			/blocked the prompt \(PROHIBITED_CONTENT\)/,
			'PROMPT_BLOCKED_PROHIBITED_CONTENT',
		],
		['image-safety', /blocked \(IMAGE_SAFETY\)/, 'IMAGE_SAFETY'],
		['no-image', /no image \(NO_IMAGE\)/, 'NO_IMAGE'],
		['text-only', /answered with text instead of an image: ".+"/, 'TEXT_ONLY'],
	])('%s', async (kind, message, reason) => {
		sim.inject({ kind });
		const error = await failure();
		expect(error.constructor.name).toBe('NodeApiError');
		expect(error.message).toMatch(message);
		expect(error.message).toContain('(item 0)');
		expect(error.description).toEqual(expect.any(String));
		expect(error.context).toMatchObject({ itemIndex: 0, reason });
		expect(generateCalls()).toHaveLength(1);
	});

	it("quotes the model's own words when it refuses", async () => {
		sim.inject({ kind: 'text-only', text: "I can't draw real people in that situation." });
		const error = await failure();
		expect(error.message).toContain("I can't draw real people in that situation.");
	});

	it('retries a candidate without content, then reports it if it persists', async () => {
		sim.inject({ kind: 'no-content' }, { kind: 'no-content' }, { kind: 'no-content' });
		const error = await failure();
		expect(error.message).toMatch(/candidate with no content/);
		expect(generateCalls()).toHaveLength(3);
	});

	it("under Continue On Fail keeps the failed item's json and binary and finishes the others", async () => {
		const store = new BinaryStore();
		const upload = await store.binaryItem(
			{ id: 'b', prompt: 'keep me [[sim:prompt-block]]' },
			{ data: { data: Buffer.from('original bytes'), fileName: 'in.txt', mimeType: 'text/plain' } },
		);
		const items = [
			{ json: { id: 'a', prompt: 'a calm sea' } },
			upload,
			{ json: { id: 'c', prompt: 'refuse [[sim:text-only]]' } },
			{ json: { id: 'd', prompt: 'a pine forest' } },
		];
		const { outputs } = await generate(
			{ prompt: (_i: number, item: { json: { prompt: string } }) => item.json.prompt },
			{ items, continueOnFail: true, binaryStore: store },
		);
		const out = outputs[0];
		expect(out.map((o) => o.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(out[0].json.width).toBe(1024);
		expect(out[1].json).toMatchObject({
			id: 'b',
			prompt: 'keep me [[sim:prompt-block]]',
			error: {
				message: expect.stringMatching(/blocked the prompt/),
				httpCode: '200',
				reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
			},
		});
		expect(out[1].binary).toEqual(upload.binary);
		expect(store.get(out[1].binary!.data).toString()).toBe('original bytes');
		expect(out[2].json).toMatchObject({ id: 'c', error: { reason: 'TEXT_ONLY' } });
		expect(out[3].json.width).toBe(1024);
	});

	it('for "Continue (using error output)" gives the failed item as n8n routes it: json of only the error, the source binary', async () => {
		// n8n moves an item whose json holds only `error` to the error output and
		// merges the source item's json back in; the e2e suite shows it in a real n8n.
		const store = new BinaryStore();
		const upload = await store.binaryItem(
			{ id: 'b', prompt: 'keep me [[sim:prompt-block]]' },
			{ data: { data: Buffer.from('original bytes'), fileName: 'in.txt', mimeType: 'text/plain' } },
		);
		const items = [{ json: { id: 'a', prompt: 'a calm sea' } }, upload];
		const { outputs } = await generate(
			{ prompt: (_i: number, item: { json: { prompt: string } }) => item.json.prompt },
			{ items, onError: 'continueErrorOutput', binaryStore: store },
		);
		const [ok, failed] = outputs[0];
		expect(ok.json.error).toBeUndefined();
		expect(Object.keys(failed.json)).toEqual(['error']);
		expect(failed.json.error).toMatchObject({
			message: 'Gemini blocked the prompt (PROHIBITED_CONTENT) (item 1)',
			reason: 'PROMPT_BLOCKED_PROHIBITED_CONTENT',
			description: expect.any(String),
		});
		expect(failed.pairedItem).toEqual({ item: 1 });
		expect(store.get(failed.binary!.data).toString()).toBe('original bytes');
		// No `item.error`: n8n 2.x would replace the json with the bare message.
		expect(failed.error).toBeUndefined();
	});
});

describe('real recorded answers, replayed by the simulator', () => {
	it('outputs the exact bytes Google returned, provenance metadata and all', async () => {
		sim.inject({
			kind: 'replay',
			file: 'js-genai_mldev_streamGenerateContent_image_gemini-2.0-flash-preview-image-generation',
		});
		const { outputs, store } = await generate();
		const file = store.get(outputs[0][0].binary!.data);
		const recorded = readFileSync(
			join(
				__dirname,
				'..',
				'fixtures',
				'gemini',
				'gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png',
			),
		);
		expect(file.equals(recorded)).toBe(true);
		expect(file.includes('trainedAlgorithmicMedia')).toBe(true);
		expect(outputs[0][0].json).toMatchObject({
			width: 510,
			height: 1024,
			provenance: { keptOriginalBytes: true },
		});
	});

	it.each([
		['vercel-ai_google-image-no-image-live', 'NO_IMAGE'],
		['vercel-ai_issue-19758-image-prompt-block', 'PROMPT_BLOCKED_PROHIBITED_CONTENT'],
	])('turns the live %s answer into a clear error', async (file, reason) => {
		sim.inject({ kind: 'replay', file });
		const error = await failure();
		expect(error.context.reason).toBe(reason);
	});
});

describe('Continue On Fail for every kind of failure', () => {
	it.each<[string, Fault[], string]>([
		['prompt block', [{ kind: 'prompt-block' }], 'PROMPT_BLOCKED_PROHIBITED_CONTENT'],
		['IMAGE_SAFETY', [{ kind: 'image-safety' }], 'IMAGE_SAFETY'],
		['NO_IMAGE', [{ kind: 'no-image' }], 'NO_IMAGE'],
		['text-only refusal', [{ kind: 'text-only' }], 'TEXT_ONLY'],
		[
			'empty candidate, every attempt',
			[{ kind: 'no-content' }, { kind: 'no-content' }, { kind: 'no-content' }],
			'EMPTY_CONTENT',
		],
		['429 past the wait budget', [{ kind: '429', retryDelay: '99s' }], 'RESOURCE_EXHAUSTED'],
		['503, every attempt', [{ kind: '503' }, { kind: '503' }, { kind: '503' }], 'UNAVAILABLE'],
		[
			'HTML error page, every attempt',
			[{ kind: 'html' }, { kind: 'html' }, { kind: 'html' }],
			'HTTP_502',
		],
		[
			'malformed JSON, every attempt',
			[{ kind: 'malformed-json' }, { kind: 'malformed-json' }, { kind: 'malformed-json' }],
			'MALFORMED_RESPONSE',
		],
		[
			'connection reset, every attempt',
			[{ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }],
			'NETWORK',
		],
	])('%s: the item comes out as it came in, with the error', async (_name, faults, reason) => {
		sim.inject(...faults);
		const store = new BinaryStore();
		const item = await store.binaryItem(
			{ campaign: 'spring' },
			{
				logo: { data: Buffer.from('logo bytes'), fileName: 'logo.svg', mimeType: 'image/svg+xml' },
			},
		);
		const { outputs } = await generate(
			{ options: { maxRetryWaitSeconds: 30 } },
			{ items: [item], continueOnFail: true, binaryStore: store },
		);
		expect(outputs[0]).toHaveLength(1);
		const [out] = outputs[0];
		expect(out.json).toMatchObject({
			campaign: 'spring',
			error: {
				message: expect.stringMatching(/\(item 0\)$/),
				description: expect.any(String),
				reason,
			},
		});
		expect(out.binary).toEqual(item.binary);
		expect(out.pairedItem).toEqual({ item: 0 });
	});
});

describe('retries', () => {
	it('waits as long as RetryInfo says (fractional seconds), then succeeds', async () => {
		sim.inject({ kind: '429', retryDelay: '0.4s' });
		const { outputs } = await generate();
		expect(outputs[0]).toHaveLength(1);
		const [first, second] = generateCalls();
		expect(first.status).toBe(429);
		expect(second.status).toBe(200);
		expect(second.startedAt - first.endedAt).toBeGreaterThanOrEqual(390);
	});

	it('fails at once with the quota message when Google asks for more than the allowed wait', async () => {
		sim.inject({ kind: '429', retryDelay: '45s' });
		const started = Date.now();
		const error = await failure({ options: { maxRetryWaitSeconds: 10 } });
		expect(Date.now() - started).toBeLessThan(3000);
		expect(error.message).toMatch(/quota exceeded/);
		expect(error.description).toMatch(/wait 45\.0 s/);
		expect(error.httpCode).toBe('429');
		expect(generateCalls()).toHaveLength(1);
	});

	it.each<[string, Fault[]]>([
		['a Vertex-style 429 with no details', [{ kind: '429-no-details' }]],
		['500 then 503', [{ kind: '500' }, { kind: '503' }]],
		['a connection reset', [{ kind: 'reset' }]],
		['malformed JSON', [{ kind: 'malformed-json' }]],
		['an HTML error page', [{ kind: 'html' }]],
	])('retries %s and succeeds', async (_name, faults) => {
		sim.inject(...faults);
		const { outputs } = await generate();
		expect(outputs[0][0].json.width).toBe(1024);
		expect(generateCalls()).toHaveLength(faults.length + 1);
	});

	it("gives up after Max Attempts and says so, with the server's reason", async () => {
		sim.inject({ kind: '503' }, { kind: '503' }, { kind: '503' });
		const error = await failure();
		expect(error.message).toMatch(/overloaded/);
		expect(error.description).toMatch(/Tried 3 times/);
		expect(generateCalls()).toHaveLength(3);
	});

	it('shows an HTML error page as a short message, not markup', async () => {
		sim.inject({ kind: 'html' }, { kind: 'html' }, { kind: 'html' });
		const error = await failure();
		expect(error.message).not.toMatch(/<html|<body/i);
		expect(error.httpCode).toBe('502');
	});

	it('never retries a 400, and a bad key fails on the first answer with no delay', async () => {
		const started = Date.now();
		const error = await failure({}, { credentials: { apiKey: 'wrong-key', host: sim.url } });
		expect(Date.now() - started).toBeLessThan(2000);
		expect(error.message).toMatch(/API key is not valid/);
		expect(error.description).toMatch(/Google AI Studio/);
		expect(generateCalls()).toHaveLength(1);
		expect(error.httpCode).toBe('400');
	});

	it('times out a hung attempt, retries it, and succeeds', async () => {
		// A 3 s timeout leaves a loaded machine room to answer the retry; the hang is far longer.
		sim.inject({ kind: 'hang', ms: 60_000 });
		const started = Date.now();
		const { outputs } = await generate({ options: { timeoutSeconds: 3 } });
		expect(outputs[0]).toHaveLength(1);
		expect(Date.now() - started).toBeLessThan(50_000);
		expect(generateCalls()).toHaveLength(2);
	});

	it('reports a timeout clearly when every attempt hangs', async () => {
		sim.inject({ kind: 'hang', ms: 60_000 });
		const error = await failure({ options: { timeoutSeconds: 2, maxAttempts: 1 } });
		expect(error.message).toMatch(/did not answer in time/);
		expect(error.description).toMatch(/Timeout \(Seconds\)/);
	});
});

describe('a slow generation is not cut off by a hidden client timeout', () => {
	// Node's fetch (undici) cuts requests whose headers take over 300 s; the node's client has its
	// own connection pool with that limit off. Scaled down, in a plain Node process (where the
	// global dispatcher of Node's fetch can be set): a 300 ms header timeout for Node's fetch, and
	// answers whose headers take 1.2 s.
	it("a plain fetch is cut off; the node's client waits", async () => {
		sim.inject({ kind: 'slow', ms: 1200 }, { kind: 'slow', ms: 1200 });
		const { stdout } = await execFileAsync(
			process.execPath,
			['-r', 'ts-node/register/transpile-only', join(__dirname, 'slow-headers.script.ts')],
			{
				env: { ...process.env, SIM_URL: sim.url, SIM_KEY: sim.apiKey, HEADERS_TIMEOUT_MS: '300' },
				timeout: 30_000,
			},
		);
		const result = JSON.parse(stdout.trim().split('\n').pop()!);
		expect(result.plainFetch).toBe('UND_ERR_HEADERS_TIMEOUT');
		expect(result.client).toEqual({ ok: true, images: 1 });
		expect(result.clientMs).toBeGreaterThanOrEqual(1200);
	});
});

describe('setup mistakes are named, not retried', () => {
	const withCredentials = (credentials: { apiKey: string; host: string }) =>
		runNode(node, { credentials, parameters: { prompt: 'a lighthouse', options: fast } }).then(
			() => {
				throw new Error('expected the node to fail');
			},
			(error) => error,
		);

	it('a Host with the API path pasted in is refused before any request', async () => {
		const error = await withCredentials({ apiKey: sim.apiKey, host: `${sim.url}/v1beta/models` });
		expect(error.message).toBe(
			`The credential's Host is not usable: Host must be the base URL without the API path: end it before "/v1beta/". (item 0)`,
		);
		expect(error.description).toMatch(/correct the Host field\. Nothing was sent/);
		expect(sim.requests).toHaveLength(0);
	});

	it('a 404 from something that is not the Gemini API says to check the Host, once', async () => {
		const error = await withCredentials({ apiKey: sim.apiKey, host: `${sim.url}/some-proxy` });
		expect(error.message).toBe(
			"No Gemini API at the credential's Host: it answered 404 with no Gemini API error (item 0)",
		);
		expect(error.description).toMatch(/Check the Host field/);
		expect(sim.requests).toHaveLength(1);
	});

	it.each([200, 404])(
		'a Host that is another web app (%i with a page) reads as the Test button says it, tried once',
		async (status) => {
			const app = await startWebApp(status);
			try {
				const credentials = { apiKey: sim.apiKey, host: app.url };
				const error = await withCredentials(credentials);
				expect(error.message).toBe(
					`No Gemini API at the credential's Host: it answered ${status} with an HTML page (item 0)`,
				);
				expect(error.context.reason).toBe('NO_API_AT_HOST');
				expect(app.paths).toEqual([
					expect.stringMatching(/^\/v1beta\/models\/.+:generateContent$/),
				]);
				const test = await nanoBananaCredentialTest.call({} as ICredentialTestFunctions, {
					id: '1',
					name: 'Nano Banana',
					type: 'nanoBananaApi',
					data: credentials,
				});
				expect(test.message).toBe(
					`${error.message.replace(/ \(item 0\)$/, '.')} ${error.description}`,
				);
			} finally {
				await app.stop();
			}
		},
	);

	it("a web server's 404 page that quotes the model's path is not taken for Google's model 404", async () => {
		const error = await runNode(node, {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: 'a lighthouse [[sim:404-html]]', options: fast },
		}).catch((e) => e);
		const [request] = sim.requests;
		expect(request).toMatchObject({ status: 404, fault: '404-html' });
		expect(error.message).toBe(
			"No Gemini API at the credential's Host: it answered 404 with an HTML page (item 0)",
		);
		expect(error.context.reason).toBe('NO_API_AT_HOST');
		expect(error.description).toMatch(/Check the Host field/);
		expect(sim.requests).toHaveLength(1);
	});

	it("Google's JSON 404 for an unknown model names the model", async () => {
		const error = await runNode(node, {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: {
				prompt: 'a lighthouse',
				model: { __rl: true, mode: 'id', value: 'gemini-9-image' },
				options: fast,
			},
		}).catch((e) => e);
		expect(sim.requests[0].status).toBe(404);
		expect(error.message).toMatch(
			/^The model gemini-9-image was not found: models\/gemini-9-image is not found .*\(item 0\)$/,
		);
		expect(error.context.reason).toBe('NOT_FOUND');
		expect(sim.requests).toHaveLength(1);
	});

	it('a port fetch refuses is a setup error, tried once', async () => {
		const error = await withCredentials({ apiKey: sim.apiKey, host: 'http://127.0.0.1:6000' });
		expect(error.message).toBe(
			"The credential's Host uses a port that fetch refuses to connect to (item 0)",
		);
		expect(error.description).not.toMatch(/Tried/);
	});

	it('a key with a hidden character is named without showing the key', async () => {
		const key = `${sim.apiKey}\u2028`;
		const error = await withCredentials({ apiKey: key, host: sim.url });
		expect(error.message).toBe(
			'The API key contains a character that cannot be sent in a header (item 0)',
		);
		expect(
			JSON.stringify({ message: error.message, description: error.description }),
		).not.toContain(sim.apiKey);
		expect(sim.requests).toHaveLength(0);
	});

	it('a key pasted with a line break around it works as it is', async () => {
		const result = await runNode(node, {
			credentials: { apiKey: ` ${sim.apiKey}\r\n`, host: sim.url },
			parameters: { prompt: 'a lighthouse', options: fast },
		});
		expect(result.outputs[0]).toHaveLength(1);
		expect(result.outputs[0][0].binary?.data?.mimeType).toBe('image/png');
		expect(sim.requests).toHaveLength(1);
	});

	it("a refused connection keeps this node's message, which n8n would otherwise replace", async () => {
		const closed = await GeminiSim.start();
		const host = closed.url;
		await closed.stop();
		const error = await withCredentials({ apiKey: sim.apiKey, host });
		expect(error.constructor.name).toBe('NodeApiError');
		expect(error.message).toBe('Could not reach the Gemini API (ECONNREFUSED) (item 0)');
		expect(error.description).toMatch(/Tried 3 times/);
	});
});
