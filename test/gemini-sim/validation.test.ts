/**
 * Requests the simulator refuses, with Google's status and wording, as the SDK surfaces them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { GeminiSim } from './index';
import { client, failure, readJson, solidPng } from './testkit';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start({ inlineLimitBytes: 2 * 1024 * 1024 });
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

/** POSTs a raw body, as a client other than the SDK would. */
async function post(
	path: string,
	body: unknown,
	headers: Record<string, string> = { 'x-goog-api-key': sim.apiKey },
) {
	const response = await fetch(`${sim.url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
	return { status: response.status, body: await readJson(response) };
}

const generatePath = (model = 'gemini-3.1-flash-image') =>
	`/v1beta/models/${model}:generateContent`;
const userText = (text: string) => [{ role: 'user', parts: [{ text }] }];

describe('the API key', () => {
	const invalidKey = {
		error: {
			code: 400,
			message: 'API key not valid. Please pass a valid API key.',
			status: 'INVALID_ARGUMENT',
			details: [
				{
					'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
					reason: 'API_KEY_INVALID',
					domain: 'googleapis.com',
					metadata: { service: 'generativelanguage.googleapis.com' },
				},
				{
					'@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
					locale: 'en-US',
					message: 'API key not valid. Please pass a valid API key.',
				},
			],
		},
	};

	it("is refused with Google's exact body when wrong, and never echoed", async () => {
		const error = await failure(
			client(sim, {}, 'AIza-wrong-key').models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: 'x',
			}),
		);
		expect(error).toMatchObject({ name: 'ApiError', status: 400 });
		expect(error.body).toEqual(invalidKey);
		expect(error.message).not.toContain('AIza-wrong-key');
		expect(sim.requests[0]).toMatchObject({
			apiKeySource: 'header',
			apiKeyValid: false,
			status: 400,
		});
	});

	it('is refused when missing', async () => {
		expect(await post(generatePath(), { contents: userText('x') }, {})).toEqual({
			status: 400,
			body: invalidKey,
		});
	});

	it("is accepted as ?key=, the way n8n's own Gemini node sends it", async () => {
		const { status } = await post(
			`${generatePath()}?key=${sim.apiKey}`,
			{ contents: userText('x') },
			{},
		);
		expect(status).toBe(200);
		expect(sim.requests[0]).toMatchObject({ apiKeySource: 'query', apiKeyValid: true });
	});

	it('is checked on the model list too', async () => {
		expect((await fetch(`${sim.url}/v1beta/models`)).status).toBe(400);
		expect(
			(await fetch(`${sim.url}/v1beta/models`, { headers: { 'x-goog-api-key': sim.apiKey } }))
				.status,
		).toBe(200);
	});
});

describe('unknown models', () => {
	// Shut down (previews, 2.5 Flash Image), limited to earlier users (2.5 Flash), never served
	// (gemini-3-flash), or made up: Google answers each the same way.
	it.each([
		'gemini-9-image',
		'gemini-3-pro-image-preview',
		'gemini-2.5-flash-image-preview',
		'gemini-2.5-flash-image',
		'gemini-2.5-flash',
		'gemini-3-flash',
	])('%s is 404 NOT_FOUND', async (model) => {
		const error = await failure(client(sim).models.generateContent({ model, contents: 'x' }));
		expect(error.status).toBe(404);
		expect(error.body?.error).toEqual({
			code: 404,
			status: 'NOT_FOUND',
			message:
				`models/${model} is not found for API version v1beta, or is not supported for generateContent. ` +
				'Call ListModels to see the list of available models and their supported methods.',
		});
	});
});

describe("unknown fields, worded like Google's JSON parser", () => {
	it.each([
		[
			{ contents: userText('x'), foo: 1 },
			'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
			undefined,
		],
		[
			{ contents: userText('x'), generationConfig: { foo: 1 } },
			'Invalid JSON payload received. Unknown name "foo" at \'generation_config\': Cannot find field.',
			'generation_config',
		],
		[
			{
				contents: userText('x'),
				generationConfig: { imageConfig: { personGeneration: 'ALLOW_ALL' } },
			},
			'Invalid JSON payload received. Unknown name "personGeneration" at \'generation_config.image_config\': Cannot find field.',
			'generation_config.image_config',
		],
		[
			{ contents: userText('x'), generationConfig: { thinkingConfig: { effort: 'high' } } },
			'Invalid JSON payload received. Unknown name "effort" at \'generation_config.thinking_config\': Cannot find field.',
			'generation_config.thinking_config',
		],
		[
			{ contents: [{ role: 'user', parts: [{ text: 'x' }, { image: 'abc' }] }] },
			'Invalid JSON payload received. Unknown name "image" at \'contents[0].parts[1]\': Cannot find field.',
			'contents[0].parts[1]',
		],
	])('%j', async (body, message, field) => {
		const { status, body: answer } = await post(generatePath(), body);
		expect(status).toBe(400);
		expect(answer.error).toEqual({
			code: 400,
			message,
			status: 'INVALID_ARGUMENT',
			details: [
				{
					'@type': 'type.googleapis.com/google.rpc.BadRequest',
					fieldViolations: [{ ...(field ? { field } : {}), description: message }],
				},
			],
		});
	});

	it('reports every unknown field at once', async () => {
		const { body } = await post(generatePath(), {
			contents: userText('x'),
			a: 1,
			generationConfig: { b: 2 },
		});
		expect(body.error.message.split('\n')).toHaveLength(2);
		expect(body.error.details[0].fieldViolations).toHaveLength(2);
	});

	it('accepts snake_case names, as Google does', async () => {
		const { status } = await post(generatePath(), {
			contents: [{ role: 'user', parts: [{ text: 'x' }] }],
			generation_config: {
				response_modalities: ['IMAGE'],
				image_config: { aspect_ratio: '16:9', image_size: '2K' },
			},
		});
		expect(status).toBe(200);
	});

	it('accepts every field the SDK can send', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'every option',
			config: {
				systemInstruction: 'be brief',
				temperature: 0.5,
				topP: 0.9,
				topK: 40,
				seed: 7,
				candidateCount: 1,
				maxOutputTokens: 2000,
				stopSequences: ['END'],
				presencePenalty: 0,
				frequencyPenalty: 0,
				responseModalities: ['TEXT', 'IMAGE'],
				mediaResolution: 'MEDIA_RESOLUTION_HIGH' as never,
				safetySettings: [
					{ category: 'HARM_CATEGORY_HATE_SPEECH' as never, threshold: 'BLOCK_ONLY_HIGH' as never },
				],
				tools: [{ googleSearch: {} }],
				thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' as never },
				imageConfig: { aspectRatio: '4:5', imageSize: '512' },
				labels: { team: 'design' },
			},
		});
		expect(response.candidates?.[0].finishReason).toBe('STOP');
	});

	it('refuses a value of the wrong type and an unknown modality', async () => {
		const typed = await post(generatePath(), {
			contents: userText('x'),
			generationConfig: { temperature: 'hot' },
		});
		expect(typed.body.error.message).toBe(
			'Invalid value at \'generation_config.temperature\' (TYPE_FLOAT), "hot"',
		);
		const modality = await post(generatePath(), {
			contents: userText('x'),
			generationConfig: { responseModalities: ['VIDEO'] },
		});
		expect(modality.body.error.message).toBe(
			'Invalid value at \'generation_config.response_modalities[0]\' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "VIDEO"',
		);
	});

	it('refuses a body that is not JSON', async () => {
		expect(await post(generatePath(), '{"contents": [')).toMatchObject({
			status: 400,
			body: { error: { status: 'INVALID_ARGUMENT' } },
		});
	});
});

describe('what each model refuses', () => {
	const generate = (model: string, imageConfig: Record<string, string>) =>
		failure(client(sim).models.generateContent({ model, contents: 'x', config: { imageConfig } }));

	it.each([
		['gemini-3-pro-image', { aspectRatio: '8:1' }, /Unsupported aspect ratio "8:1"/],
		['gemini-3-pro-image', { aspectRatio: '1:4' }, /Unsupported aspect ratio "1:4"/],
		['gemini-3.1-flash-image', { aspectRatio: '9:21' }, /Unsupported aspect ratio "9:21"/],
		['gemini-3.1-flash-image', { aspectRatio: '2:1' }, /Unsupported aspect ratio "2:1"/],
		['gemini-3-pro-image', { imageSize: '512' }, /Unsupported image size "512"/],
		['gemini-3.1-flash-lite-image', { imageSize: '2K' }, /Unsupported image size "2K"/],
		['gemini-nano-banana-2.1', { imageSize: '512' }, /Unsupported image size "512"/],
		['gemini-3.1-flash-image', { imageSize: '1k' }, /Unsupported image size "1k".*case-sensitive/],
		['gemini-3.1-flash-image', { imageSize: '512px' }, /Unsupported image size "512px"/],
	])('%s refuses %j', async (model, imageConfig, message) => {
		const error = await generate(model, imageConfig);
		expect(error.status).toBe(400);
		expect(error.body?.error.status).toBe('INVALID_ARGUMENT');
		expect(error.body?.error.message).toMatch(message);
	});

	it('gemini-3-pro-image cannot set a thinking level; gemini-3.1-flash-image only minimal or high', async () => {
		const ai = client(sim);
		const pro = await failure(
			ai.models.generateContent({
				model: 'gemini-3-pro-image',
				contents: 'x',
				config: { thinkingConfig: { thinkingLevel: 'HIGH' as never } },
			}),
		);
		expect(pro.body?.error.message).toBe('Thinking level is not supported for this model.');
		const low = await failure(
			ai.models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: 'x',
				config: { thinkingConfig: { thinkingLevel: 'LOW' as never } },
			}),
		);
		expect(low.body?.error.message).toBe(
			'Thinking level LOW is not supported for this model. Please retry with other thinking level.',
		);
		const minimal = await ai.models.generateContent({
			model: 'gemini-3.1-flash-image',
			contents: 'x',
			config: { thinkingConfig: { thinkingLevel: 'MINIMAL' as never } },
		});
		expect(minimal.candidates?.[0].finishReason).toBe('STOP');
		const medium = await ai.models.generateContent({
			model: 'gemini-nano-banana-2.1',
			contents: 'x',
			config: { thinkingConfig: { thinkingLevel: 'MEDIUM' as never } },
		});
		expect(medium.candidates?.[0].finishReason).toBe('STOP');
		const judgeMinimal = await failure(
			ai.models.generateContent({
				model: 'gemini-3.8-flash',
				contents: 'x',
				config: { thinkingConfig: { thinkingLevel: 'MINIMAL' as never } },
			}),
		);
		expect(judgeMinimal.body?.error.message).toMatch(/Thinking level MINIMAL is not supported/);
	});

	it('gemini-3-pro-image always thinks', async () => {
		const error = await failure(
			client(sim).models.generateContent({
				model: 'gemini-3-pro-image',
				contents: 'x',
				config: { thinkingConfig: { thinkingBudget: 0 } },
			}),
		);
		expect(error.body?.error.message).toBe(
			'Budget 0 is invalid. This model only works in thinking mode.',
		);
	});

	it('only models with search accept the Google Search tool', async () => {
		const error = await failure(
			client(sim).models.generateContent({
				model: 'gemini-3.1-flash-lite-image',
				contents: 'x',
				config: { tools: [{ googleSearch: {} }] },
			}),
		);
		expect(error.body?.error.message).toBe('Search Grounding is not supported.');
	});

	it('image models have no JSON mode, and text models make no images', async () => {
		const ai = client(sim);
		const json = await failure(
			ai.models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: 'x',
				config: { responseMimeType: 'application/json' },
			}),
		);
		expect(json.body?.error.message).toBe(
			'JSON mode is not enabled for models/gemini-3.1-flash-image',
		);
		const image = await failure(
			ai.models.generateContent({
				model: 'gemini-3.8-flash',
				contents: 'x',
				config: { responseModalities: ['TEXT', 'IMAGE'] as never },
			}),
		);
		expect(image.body?.error.message).toBe(
			'Model does not support the requested response modalities: text,image',
		);
	});

	it.each([
		['gemini-3.1-flash-image', 14],
		['gemini-nano-banana-2.1', 14],
	])('%s takes at most %i input images', async (model, limit) => {
		const png = (await solidPng(8, 8, { r: 9, g: 9, b: 9 })).toString('base64');
		const request = (count: number) =>
			client(sim).models.generateContent({
				model,
				contents: [
					{
						role: 'user',
						parts: [
							{ text: 'combine' },
							...Array.from({ length: count }, () => ({
								inlineData: { mimeType: 'image/png', data: png },
							})),
						],
					},
				],
			});
		expect((await request(limit)).candidates?.[0].finishReason).toBe('STOP');
		const error = await failure(request(limit + 1));
		expect(error.status).toBe(400);
		expect(error.body?.error.message).toMatch(
			new RegExp(`Too many images in the request: ${limit + 1}`),
		);
	});

	it('refuses an input image it cannot read, or base64 that is not', async () => {
		const ai = client(sim);
		const unreadable = await failure(
			ai.models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: [
					{
						role: 'user',
						parts: [
							{ text: 'x' },
							{
								inlineData: {
									mimeType: 'image/png',
									data: Buffer.from('not a png').toString('base64'),
								},
							},
						],
					},
				],
			}),
		);
		expect(unreadable.body?.error.message).toMatch(/^Unable to process input image/);
		const giant = readFileSync(
			join(__dirname, '..', 'fixtures', 'photos', 'giant-image.jpg'),
		).toString('base64');
		const bomb = await failure(
			ai.models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: [
					{
						role: 'user',
						parts: [{ text: 'x' }, { inlineData: { mimeType: 'image/jpeg', data: giant } }],
					},
				],
			}),
		);
		expect(bomb.body?.error.message).toMatch(/^Unable to process input image/);
		const { body } = await post(generatePath(), {
			contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: '***' } }] }],
		});
		expect(body.error.message).toBe(
			'Invalid value at \'contents[0].parts[0].inline_data.data\' (TYPE_BYTES), Base64 decoding failed for "***"',
		);
	});
});

describe('contents', () => {
	it('must not be empty', async () => {
		const { status, body } = await post(generatePath(), { contents: [] });
		expect(status).toBe(400);
		expect(body.error.message).toBe(
			'* GenerateContentRequest.contents: contents is not specified\n',
		);
		expect((await post(generatePath(), {})).body.error.message).toBe(
			'* GenerateContentRequest.contents: contents is not specified\n',
		);
	});

	it('needs parts with data and a known role', async () => {
		expect(
			(await post(generatePath(), { contents: [{ role: 'user', parts: [] }] })).body.error.message,
		).toBe('* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n');
		expect(
			(await post(generatePath(), { contents: [{ role: 'user', parts: [{ thought: true }] }] }))
				.body.error.message,
		).toBe(
			"* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field\n",
		);
		expect(
			(await post(generatePath(), { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }))
				.body.error.message,
		).toBe('Please use a valid role: user, model.');
	});
});

describe('request size', () => {
	it("refuses a body over the inline limit, in Google's words", async () => {
		const big = Buffer.alloc(2 * 1024 * 1024, 1).toString('base64');
		const error = await failure(
			client(sim).models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: [
					{
						role: 'user',
						parts: [{ text: 'x' }, { inlineData: { mimeType: 'image/png', data: big } }],
					},
				],
			}),
		);
		expect(error.status).toBe(400);
		expect(error.body?.error.message).toBe(
			'Request payload size exceeds the limit: 2097152 bytes.',
		);
		expect(sim.requests[0].bodyBytes).toBeGreaterThan(2 * 1024 * 1024);
	});

	it('is 100 MB by default', async () => {
		const defaults = await GeminiSim.start();
		try {
			const { body } = await (async () => {
				const response = await fetch(`${defaults.url}${generatePath()}`, {
					method: 'POST',
					headers: { 'x-goog-api-key': defaults.apiKey },
					body: Buffer.alloc(100 * 1024 * 1024 + 1, 32),
				});
				return { body: await readJson(response) };
			})();
			expect(body.error.message).toBe('Request payload size exceeds the limit: 104857600 bytes.');
		} finally {
			await defaults.stop();
		}
	});
});

describe('stored requests ("Logs and datasets")', () => {
	const ask = (extra: Record<string, unknown>) =>
		post(generatePath('gemini-nano-banana-2.1'), { contents: userText('a pear'), ...extra });

	it('a new project keeps every request not sent store: false', async () => {
		expect((await ask({})).status).toBe(200);
		expect((await ask({ store: false })).status).toBe(200);
		expect((await ask({ store: true })).status).toBe(200);
		expect(sim.storedLogs).toEqual([
			{ model: 'gemini-nano-banana-2.1', prompt: 'a pear', images: 0 },
			{ model: 'gemini-nano-banana-2.1', prompt: 'a pear', images: 0 },
		]);
	});

	it('a project made before 2026-10-26 keeps only what is sent store: true', async () => {
		sim.setStoreByDefault(false);
		try {
			await ask({});
			await ask({ store: true });
			expect(sim.storedLogs).toHaveLength(1);
		} finally {
			sim.setStoreByDefault(true);
		}
	});

	it('store is a boolean', async () => {
		const { status, body } = await ask({ store: 'no' });
		expect(status).toBe(400);
		expect(body.error.message).toMatch(/store/);
	});

	it('Vertex AI does not know the field', async () => {
		const { status, body } = await post(
			'/v1beta1/publishers/google/models/gemini-nano-banana-2.1:generateContent',
			{ contents: userText('a pear'), store: false },
			{ 'x-goog-api-key': sim.expressApiKey },
		);
		expect(status).toBe(400);
		expect(body.error.message).toMatch(/Unknown name "store"/);
		expect(sim.storedLogs).toEqual([]);
	});
});
