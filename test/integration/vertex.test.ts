/**
 * Vertex AI through the real @google/genai SDK in Vertex mode, over HTTP to the simulator: a
 * service account key made now (its token_uri is the simulator's token endpoint, which checks
 * the JWT signature), express mode with an API key, and the credential's Test button.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	IDataObject,
} from 'n8n-workflow';
import sharp from 'sharp';

import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import { connectionFor } from '../../nodes/shared/pipeline/credentials';
import { nanoBananaCredentialTest } from '../../nodes/shared/skeleton/methods/credentialTest';
import { searchImageModels } from '../../nodes/shared/skeleton/methods/listSearch';
import { GeminiClient, GeminiFailure } from '../../nodes/shared/transport';
import { GeminiSim, SIM_PROJECT, type ServiceAccountKeyJson } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';
import { startWebApp } from '../helpers/webApp';

const generateNode = new NanoBananaGenerate();
let sim: GeminiSim;
let key: ServiceAccountKeyJson;

beforeAll(async () => {
	sim = await GeminiSim.start();
	key = sim.vertex.createServiceAccountKey();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const serviceAccount = (extra: IDataObject = {}): IDataObject => ({
	authentication: 'vertexServiceAccount',
	privateKeyJson: JSON.stringify(key, null, 2),
	vertexHost: sim.url,
	...extra,
});
const express = (apiKey = sim.expressApiKey): IDataObject => ({
	authentication: 'vertexExpress',
	apiKey,
	vertexHost: sim.url,
});
const generate = (
	credentials: IDataObject,
	parameters: RunOptions['parameters'] = {},
	extra: Partial<RunOptions> = {},
) =>
	runNode(generateNode, {
		credentials,
		parameters: { prompt: 'a yellow banana', ...parameters },
		...extra,
	});
const errorOf = async (run: Promise<unknown>): Promise<Error & { description?: string }> => {
	try {
		await run;
	} catch (error) {
		return error as Error;
	}
	throw new Error('expected a failure');
};
const testCredential = async (data: IDataObject) =>
	await nanoBananaCredentialTest.call({} as ICredentialTestFunctions, {
		id: '1',
		name: 'Nano Banana',
		type: 'nanoBananaApi',
		data: data as ICredentialDataDecryptedObject,
	});
/** A service-account client and one plain request, for tests that call the transport directly. */
const clientCall = () => ({
	client: new GeminiClient(connectionFor(serviceAccount() as ICredentialDataDecryptedObject)),
	request: {
		model: 'gemini-3.1-flash-image',
		contents: [{ role: 'user', parts: [{ text: 'a pear' }] }],
		generationConfig: {},
	},
	call: { retry: { maxAttempts: 1, maxTotalWaitMs: 0 }, timeoutMs: 0 },
});
const MODEL_PATH = 'publishers/google/models/gemini-nano-banana-2.1:generateContent';

describe('Vertex AI with a service account', () => {
	it('generates an image on the project/location path with a Bearer token the token endpoint minted from the key', async () => {
		const { outputs, store } = await generate(serviceAccount());
		const image = store.get(outputs[0][0].binary!.data);
		expect((await sharp(image).metadata()).format).toBe('png');
		expect(GeminiSim.promptOf(image)).toBe('a yellow banana');

		const [call] = sim.generateRequests;
		expect(call.path).toBe(`/v1beta1/projects/${SIM_PROJECT}/locations/global/${MODEL_PATH}`);
		expect(call.headers.authorization).toMatch(/^Bearer ya29\.sim-/);
		expect(call.headers['x-goog-api-key']).toBeUndefined();
		expect(call.vertex).toEqual({
			auth: 'bearer',
			principal: key.client_email,
			project: SIM_PROJECT,
			location: 'global',
		});
		expect(sim.vertex.exchanges).toEqual([
			expect.objectContaining({ email: key.client_email, outcome: 'issued' }),
		]);
	});

	it("uses the Project ID and Location of the credential over the key's project_id", async () => {
		const other = sim.vertex.createServiceAccountKey({ project: 'key-home-project' });
		await generate(
			serviceAccount({
				privateKeyJson: JSON.stringify(other),
				project: SIM_PROJECT,
				location: 'us-central1',
			}),
		);
		expect(sim.generateRequests[0].path).toBe(
			`/v1beta1/projects/${SIM_PROJECT}/locations/us-central1/${MODEL_PATH}`,
		);
	});

	it('mints one token for all the items of an execution', async () => {
		const items = [0, 1, 2, 3].map((id) => ({ json: { id } }));
		const { outputs } = await generate(serviceAccount(), {}, { items });
		expect(outputs[0]).toHaveLength(4);
		expect(sim.generateRequests).toHaveLength(4);
		expect(new Set(sim.generateRequests.map((r) => r.headers.authorization)).size).toBe(1);
		expect(sim.vertex.exchanges).toHaveLength(1);
	});

	it('asks once when the key is refused: every item gets the refusal, without a token request each', async () => {
		const deleted = sim.vertex.createServiceAccountKey();
		sim.vertex.deleteKey(deleted);
		const items = Array.from({ length: 12 }, (_, id) => ({ json: { id } }));
		const { outputs } = await generate(
			serviceAccount({ privateKeyJson: JSON.stringify(deleted) }),
			{},
			{ items, continueOnFail: true },
		);
		expect(outputs[0]).toHaveLength(12);
		for (const item of outputs[0])
			expect(item.json.error).toMatchObject({
				message: expect.stringMatching(/^Google refused the service account key \(invalid_grant/),
			});
		expect(sim.vertex.exchanges).toHaveLength(1);
		expect(sim.generateRequests).toHaveLength(0);
	});

	it('mints a new token when the one it holds is about to expire (long executions run past an hour)', async () => {
		// Tokens live 302 s here; the client refreshes 300 s before expiry, so after 2 s it needs a new one.
		sim.vertex.tokenLifetimeSeconds = 302;
		const { client, request, call } = clientCall();
		await client.generate(request, call);
		await client.generate(request, call);
		expect(client.tokens!.minted).toBe(1);
		await new Promise((resolve) => setTimeout(resolve, 2200));
		await client.generate(request, call);
		expect(client.tokens!.minted).toBe(2);
		expect(sim.vertex.exchanges.map((e) => e.outcome)).toEqual(['issued', 'issued']);
		const [first, second, third] = sim.generateRequests.map((r) => r.headers.authorization);
		expect(second).toBe(first);
		expect(third).not.toBe(first);
	}, 15_000);

	it('retries a Vertex 429 that carries no details, with its own backoff', async () => {
		sim.inject({ kind: '429-no-details' });
		const { outputs } = await generate(serviceAccount());
		expect(outputs[0][0].binary?.data).toBeDefined();
		expect(sim.generateRequests.map((r) => r.status)).toEqual([429, 200]);
	}, 20_000);

	it('lists the image models from Vertex (publishers/google/models) for the model picker', async () => {
		const context = {
			getCredentials: async () => serviceAccount(),
			getNode: () => ({}),
		} as unknown as ThisParameterType<typeof searchImageModels>;
		const { results } = await searchImageModels.call(context);
		expect(results.map((r) => r.value)).toEqual(
			expect.arrayContaining(['gemini-3.1-flash-image', 'gemini-3-pro-image']),
		);
		expect(results.every((r) => /-image|nano-banana/.test(String(r.value)))).toBe(true);
		const [list] = sim.requests.filter((r) => r.action === 'listModels');
		expect(list.path).toBe('/v1beta1/publishers/google/models');
		expect(list.vertex).toMatchObject({ auth: 'bearer', principal: key.client_email });
	});

	it('names a model Vertex does not offer in the location as not found there, with what to check', async () => {
		const error = await errorOf(
			generate(serviceAccount({ location: 'europe-west4' }), { model: 'gemini-9-image' }),
		);
		expect(error.message).toMatch(
			/^Not found on Vertex AI \(project "sim-project" in europe-west4\): Publisher Model/,
		);
		expect(error.description).toMatch(/Project ID and Location/);
	});

	it('names a real model the location does not offer, and generates with it where it is offered', async () => {
		sim.vertex.withholdModel('europe-west4', 'gemini-3-pro-image');
		const model = 'gemini-3-pro-image';
		const error = await errorOf(generate(serviceAccount({ location: 'europe-west4' }), { model }));
		expect(error.message).toMatch(
			/^Not found on Vertex AI \(project "sim-project" in europe-west4\): Publisher Model `projects\/sim-project\/locations\/europe-west4\/publishers\/google\/models\/gemini-3-pro-image` was not found/,
		);
		expect(error.description).toMatch(/not offered in this location.*"global"/);
		const { outputs } = await generate(serviceAccount({ location: 'global' }), { model });
		expect(outputs[0][0].json).toMatchObject({ model, width: 1024 });
	});

	it('tells a network failure as one of Vertex AI, not the Gemini API', async () => {
		const closed = await new Promise<number>((resolve) => {
			const server = createServer();
			server.listen(0, '127.0.0.1', () => {
				const { port } = server.address() as AddressInfo;
				server.close(() => resolve(port));
			});
		});
		const error = await errorOf(
			generate(serviceAccount({ vertexHost: `http://127.0.0.1:${closed}` }), {
				options: { maxAttempts: 1 },
			}),
		);
		expect(error.message).toBe('Could not reach Vertex AI (ECONNREFUSED) (item 0)');
	});
});

describe('Verify with the AI judge on Vertex AI', () => {
	it('judges an image made on Vertex with the judge model on the same project path and token', async () => {
		const made = await generate(serviceAccount(), {
			prompt: 'A red bicycle leaning on a brick wall',
		});
		const { outputs } = await runNode(new NanoBananaVerify(), {
			credentials: serviceAccount(),
			binaryStore: made.store,
			items: made.outputs[0],
			parameters: { prompt: (_i: number, item: { json: IDataObject }) => item.json.prompt },
		});
		expect(outputs[0]).toHaveLength(1);
		const [judgeCall] = sim.requests.filter((r) =>
			r.path.includes('gemini-3.8-flash:generateContent'),
		);
		expect(judgeCall.path).toBe(
			`/v1beta1/projects/${SIM_PROJECT}/locations/global/publishers/google/models/gemini-3.8-flash:generateContent`,
		);
		expect(judgeCall.vertex).toMatchObject({ auth: 'bearer', principal: key.client_email });
		expect(judgeCall.status).toBe(200);
	});
});

describe('Vertex AI express mode (API key)', () => {
	it('generates on the bare publishers path with the key in a header and no project', async () => {
		const { outputs } = await generate(express());
		expect(outputs[0][0].binary?.data).toBeDefined();
		const [call] = sim.generateRequests;
		expect(call.path).toBe(`/v1beta1/${MODEL_PATH}`);
		expect(call.headers['x-goog-api-key']).toBe(sim.expressApiKey);
		expect(call.headers.authorization).toBeUndefined();
		expect(call.vertex).toEqual({ auth: 'api-key', project: undefined, location: undefined });
		expect(sim.vertex.exchanges).toHaveLength(0);
	});
});

describe('Options only Vertex AI takes', () => {
	it('are sent in imageConfig on Vertex', async () => {
		await generate(serviceAccount(), {
			options: { personGeneration: 'ALLOW_NONE', prominentPeople: 'BLOCK_PROMINENT_PEOPLE' },
		});
		expect(sim.generateRequests[0].body.generationConfig.imageConfig).toMatchObject({
			personGeneration: 'ALLOW_NONE',
			prominentPeople: 'BLOCK_PROMINENT_PEOPLE',
		});
	});

	it('stop the item with the option named on a Gemini API key credential, and nothing is sent', async () => {
		const error = await errorOf(
			generate(
				{ apiKey: sim.apiKey, host: sim.url },
				{ options: { personGeneration: 'ALLOW_ADULT' } },
			),
		);
		expect(error.message).toBe(
			'"People in Images (Vertex AI Only)" works only with Vertex AI (item 0)',
		);
		expect(error.description).toMatch(/switch the Nano Banana credential to Vertex AI/);
		expect(sim.generateRequests).toHaveLength(0);
	});
});

describe('No Files API on Vertex AI', () => {
	it('re-encodes an input over 7 MB to fit inline, where the Gemini API sends it as it is', async () => {
		// Noise does not compress: the prepared JPEG of this is about 10 MB.
		const big = await sharp({
			create: {
				width: 4096,
				height: 4096,
				channels: 3,
				background: '#808080',
				noise: { type: 'gaussian', mean: 128, sigma: 60 },
			},
		})
			.png()
			.toBuffer();
		const edit = async (credentials: IDataObject) => {
			const store = new BinaryStore();
			const items = [
				await store.binaryItem(
					{},
					{ data: { data: big, fileName: 'big.png', mimeType: 'image/png' } },
				),
			];
			sim.reset();
			const { outputs } = await runNode(new NanoBananaEdit(), {
				credentials,
				binaryStore: store,
				items,
				parameters: { prompt: 'make it blue', options: { maxInputLongSide: 4096 } },
			});
			const parts = sim.generateRequests[0].body.contents[0].parts as Array<{
				inlineData?: { data: string };
			}>;
			const sent = parts
				.filter((p) => p.inlineData)
				.map((p) => Buffer.from(p.inlineData!.data, 'base64').length);
			return {
				input: outputs[0][0].json.input as IDataObject,
				sent,
				uploads: sim.requests.filter((r) => r.action === 'uploadFile').length,
			};
		};

		const gemini = await edit({ apiKey: sim.apiKey, host: sim.url });
		expect(gemini.sent).toHaveLength(1);
		expect(gemini.sent[0]).toBeGreaterThan(7 * 1024 * 1024);

		const vertex = await edit(serviceAccount());
		expect(vertex.uploads).toBe(0);
		expect(vertex.sent).toHaveLength(1);
		expect(vertex.sent[0]).toBeLessThanOrEqual(7 * 1024 * 1024);
		expect(vertex.input).toMatchObject({ sentVia: 'inline', bytesSent: vertex.sent[0] });
	}, 90_000);

	it('the client refuses a Files API upload on Vertex', async () => {
		const client = new GeminiClient(
			connectionFor(serviceAccount() as ICredentialDataDecryptedObject),
		);
		expect(client.isVertex).toBe(true);
		expect(client.hasFilesApi).toBe(false);
		await expect(
			client.uploadFile(Buffer.from('x'), 'image/png', 'x', {
				retry: { maxAttempts: 1, maxTotalWaitMs: 0 },
				timeoutMs: 0,
			}),
		).rejects.toThrow('Vertex AI has no Files API');
		expect(new GeminiClient(connectionFor({ apiKey: 'k' })).isVertex).toBe(false);
	});
});

describe("the credential's Test button", () => {
	it('passes for each authentication type, with what it connected to', async () => {
		expect(await testCredential(serviceAccount())).toEqual({
			status: 'OK',
			message: `Connected to Vertex AI: project ${SIM_PROJECT}, location global, as ${key.client_email}`,
		});
		expect(sim.requests.at(-1)).toMatchObject({
			path: `/v1beta1/projects/${SIM_PROJECT}/locations/global/publishers/google/models/gemini-nano-banana-2.1:countTokens`,
			status: 200,
		});
		expect(await testCredential(express())).toEqual({
			status: 'OK',
			message: 'Connected to Vertex AI in express mode',
		});
		expect(await testCredential({ apiKey: sim.apiKey, host: sim.url })).toEqual({
			status: 'OK',
			message: 'Connected to the Gemini API',
		});
		expect(sim.requests.at(-1)).toMatchObject({ path: '/v1beta/models', status: 200 });
	});

	it.each([200, 404])(
		'says there is no Gemini API at a Host that is another web app (%i with a page)',
		async (status) => {
			const app = await startWebApp(status);
			try {
				expect(await testCredential({ apiKey: sim.apiKey, host: app.url })).toEqual({
					status: 'Error',
					message: `No Gemini API at the credential's Host: it answered ${status} with an HTML page. Check the Host field of the Nano Banana credential: it must be the API's base URL with no path, e.g. https://generativelanguage.googleapis.com, or your proxy's.`,
				});
				expect(app.paths).toEqual(['/v1beta/models?pageSize=1']);
			} finally {
				await app.stop();
			}
		},
	);

	it.each([
		[
			'a key that is not JSON',
			() =>
				// A paste cut off halfway, of the key this suite generated.
				serviceAccount({ privateKeyJson: JSON.stringify(key).slice(0, 80) }),
			/^The Service Account Key is not valid JSON\. Paste the whole downloaded \.json file/,
		],
		[
			'a key without its private key',
			() => serviceAccount({ privateKeyJson: JSON.stringify({ ...key, private_key: undefined }) }),
			/^The Service Account Key lacks private_key\./,
		],
		[
			'a damaged private key',
			() =>
				serviceAccount({
					privateKeyJson: JSON.stringify({ ...key, private_key: key.private_key.slice(0, 200) }),
				}),
			/^The private_key in the Service Account Key cannot be read\./,
		],
		[
			'an OAuth client file',
			() =>
				serviceAccount({
					privateKeyJson: JSON.stringify({ type: 'authorized_user', client_id: 'x' }),
				}),
			/^The Service Account Key is a "authorized_user" key, not a service account key/,
		],
		[
			'a token_uri over plain http to another machine',
			() =>
				serviceAccount({
					privateKeyJson: JSON.stringify({ ...key, token_uri: 'http://evil.example/token' }),
				}),
			/token_uri must use https/,
		],
		[
			'a wrong project',
			() => serviceAccount({ project: 'someone-elses-project' }),
			/^Vertex AI refused access to project "someone-elses-project" in global: Permission 'aiplatform\.endpoints\.predict' denied.*roles\/aiplatform\.user/,
		],
		[
			'a wrong Gemini API key',
			() => ({ apiKey: 'not-the-key', host: sim.url }),
			/^The Gemini API key is not valid: API key not valid/,
		],
		[
			'a wrong express key',
			() => express('not-the-key'),
			/^The Vertex AI express API key is not valid: API key not valid/,
		],
		[
			'a Gemini API key in express mode',
			() => express(sim.apiKey),
			/^The API key may not call Vertex AI: Requests to this API aiplatform\.googleapis\.com method \S+ are blocked\. A Gemini API key from Google AI Studio works only with the Gemini API: set Authentication to "Gemini API Key"/,
		],
		[
			'an express key as a Gemini API key',
			() => ({ apiKey: sim.expressApiKey, host: sim.url }),
			/^The key is a Vertex AI express key, which the Gemini API does not take: API key not valid\. Please pass a valid API key\. Set Authentication to "Vertex AI Express \(API Key\)"/,
		],
	])('fails clearly for %s', async (_what, data, message) => {
		const result = await testCredential(data());
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(message);
		expect(result.message).not.toMatch(/\.\. /);
	});

	it("fails clearly when the key's token_uri is not the token endpoint's own address (invalid_grant: audience)", async () => {
		// The endpoint is reached, but the JWT is addressed to the URI as the key spells it.
		const elsewhere = { ...key, token_uri: `${sim.url}/token?via=proxy` };
		const result = await testCredential(
			serviceAccount({ privateKeyJson: JSON.stringify(elsewhere) }),
		);
		expect(result).toEqual({
			status: 'Error',
			message: `Google refused the service account key (invalid_grant: Invalid JWT: Failed audience check.). The token endpoint did not take the key's token_uri (${sim.url}/token) as its own address. Paste the JSON key file as Google issued it (token_uri https://oauth2.googleapis.com/token); a proxy in between must keep that address.`,
		});
		expect(sim.vertex.exchanges.map((e) => e.outcome)).toEqual(['invalid_grant']);
		expect(result.message).not.toContain('via=proxy');
	});

	it('fails clearly when the key was deleted (invalid_grant), the account has no permission, or the API is off', async () => {
		const deleted = sim.vertex.createServiceAccountKey();
		sim.vertex.deleteKey(deleted);
		expect(
			await testCredential(serviceAccount({ privateKeyJson: JSON.stringify(deleted) })),
		).toEqual({
			status: 'Error',
			message: expect.stringMatching(
				/^Google refused the service account key \(invalid_grant: Invalid JWT Signature\.\)\. The key of \S+ was refused: it was deleted or disabled/,
			),
		});
		sim.vertex.deny(key.client_email);
		expect((await testCredential(serviceAccount())).message).toMatch(
			/^Vertex AI refused access to project "sim-project" in global.*Grant it the role "Vertex AI User" \(roles\/aiplatform\.user\)/,
		);
		sim.vertex.deny(key.client_email, false);
		sim.vertex.serviceDisabled = true;
		expect((await testCredential(serviceAccount())).message).toMatch(
			/^The Vertex AI API is not enabled for project "sim-project" in global.*Enable the Vertex AI API/,
		);
	});
});

describe('secrets never leave the package', () => {
	const secretsOf = (k: ServiceAccountKeyJson) => [
		k.private_key,
		k.private_key.split('\n')[1],
		'eyJ' /* any JWT */,
		'ya29.',
	];

	it('redacts the signed assertion a token endpoint echoes back', async () => {
		const deleted = sim.vertex.createServiceAccountKey();
		sim.vertex.deleteKey(deleted);
		sim.vertex.echoSecrets = true;
		const result = await testCredential(
			serviceAccount({ privateKeyJson: JSON.stringify(deleted) }),
		);
		expect(result.message).toMatch(/invalid_grant: Invalid JWT Signature\. Assertion: \*\*\*/);
		for (const secret of secretsOf(deleted)) expect(result.message).not.toContain(secret);

		const error = await errorOf(
			generate(serviceAccount({ privateKeyJson: JSON.stringify(deleted) })),
		);
		for (const text of [error.message, error.description ?? '', JSON.stringify(error)]) {
			for (const secret of secretsOf(deleted)) expect(text).not.toContain(secret);
		}
	});

	it('redacts an access token a server echoes back, also under Continue On Fail', async () => {
		const { client, request, call } = clientCall();
		await client.generate(request, call);
		const token = sim.generateRequests[0].headers.authorization.replace('Bearer ', '');
		sim.vertex.revokeTokens();
		sim.vertex.echoSecrets = true;
		const failure = (await errorOf(client.generate(request, call))) as GeminiFailure;
		expect(failure.httpCode).toBe(401);
		expect(failure.message).toMatch(
			/^Vertex AI did not accept the credential: Request had invalid authentication credentials.* Token: \*\*\*$/,
		);
		expect(failure.message).not.toContain(token);
		expect(failure.message).not.toContain(token.slice(0, 20));

		const { outputs } = await generate(
			serviceAccount({ privateKeyJson: JSON.stringify({ ...key, private_key_id: 'gone' }) }),
			{},
			{ continueOnFail: true },
		);
		const text = JSON.stringify(outputs);
		expect(text).toContain('Invalid JWT Signature');
		for (const secret of secretsOf(key)) expect(text).not.toContain(secret);
	});
});

describe('Batch mode on Vertex AI', () => {
	it('is refused before anything is sent: Vertex runs batches only from Cloud Storage or BigQuery', async () => {
		const error = await errorOf(
			generate(serviceAccount(), {
				executionMode: 'batch',
				batchOptions: { pollIntervalSeconds: 0.02 },
			}),
		);
		expect(error.message).toBe(
			'Batch mode needs a Gemini API key credential: Vertex AI runs batches only from Cloud Storage or BigQuery (item 0)',
		);
		expect(error.description).toMatch(/Set Execution Mode to Realtime/);
		expect(sim.requests.filter((r) => r.path !== '/token')).toHaveLength(0);
	});

	it('Batch Results says which credential to select', async () => {
		const run = runNode(new NanoBananaBatchResults(), {
			credentials: express(),
			items: [{ json: { batchJob: 'batches/abc' } }],
			parameters: { jobName: 'batches/abc' },
		});
		const error = await errorOf(run);
		expect(error.message).toMatch(/^Batch mode needs a Gemini API key credential/);
		expect(error.description).toMatch(/Gemini API key credential the batch job was submitted with/);
		expect(sim.requests).toHaveLength(0);
	});
});
