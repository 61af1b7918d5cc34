/**
 * Every fault kind, as the SDK surfaces it; scripted, by prompt directive, at random, and
 * through the HTTP control API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { GeminiSim, parseFault } from './index';
import type { Fault } from './index';
import { client, failure, finalImage, partsOf, readJson } from './testkit';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const generate = (contents = 'a lighthouse', model = 'gemini-3.1-flash-image') =>
	client(sim).models.generateContent({ model, contents });
const fixture = (name: string) =>
	JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'responses', name), 'utf8'));

describe('error answers', () => {
	it('429 carries Help, QuotaFailure and RetryInfo like the real capture, and asks for the given delay', async () => {
		sim.inject({ kind: '429', retryDelay: '0.35s' });
		const error = await failure(generate());
		expect(error).toMatchObject({ name: 'ApiError', status: 429 });
		const real = fixture('real_429_gemini-api_RetryInfo_58s.json');
		const body = error.body!.error;
		expect(body.status).toBe('RESOURCE_EXHAUSTED');
		expect(body.details!.map((d) => d['@type'])).toEqual(
			real.error.details.map((d: Record<string, unknown>) => d['@type']),
		);
		expect(body.details![1]).toEqual({
			'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
			violations: [
				{
					quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
					quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
					quotaDimensions: { model: 'gemini-3.1-flash-image', location: 'global' },
					quotaValue: '10',
				},
			],
		});
		expect(body.details![2]).toEqual({
			'@type': 'type.googleapis.com/google.rpc.RetryInfo',
			retryDelay: '0.35s',
		});
		expect(body.message).toMatch(/^You exceeded your current quota/);
		expect(body.message).toMatch(/Please retry in 0\.35s\.$/);
		// The next request is answered normally.
		expect(finalImage(await generate()).length).toBeGreaterThan(0);
	});

	it('429-no-details is the Vertex body, word for word', async () => {
		sim.inject('429-no-details');
		const error = await failure(generate());
		expect(error.status).toBe(429);
		expect(error.body).toEqual(
			fixture('real_429_vertex_gemini-3-pro-image-preview_no-details.json'),
		);
	});

	it.each([
		[
			'500',
			'INTERNAL',
			'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
		],
		['503', 'UNAVAILABLE', 'The model is overloaded. Please try again later.'],
	])('%s', async (kind, status, message) => {
		sim.inject(kind);
		const error = await failure(generate());
		expect(error.status).toBe(Number(kind));
		expect(error.body).toEqual({ error: { code: Number(kind), message, status } });
	});

	it('sends retry-after when asked', async () => {
		sim.inject({ kind: '503', retryAfter: 2 });
		const response = await fetch(
			`${sim.url}/v1beta/models/gemini-3.1-flash-image:generateContent?key=${sim.apiKey}`,
			{
				method: 'POST',
				body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }),
			},
		);
		expect(response.status).toBe(503);
		expect(response.headers.get('retry-after')).toBe('2');
	});

	it('html is a 502 page the SDK wraps as text', async () => {
		sim.inject('html');
		const error = await failure(generate());
		expect(error.status).toBe(502);
		expect(error.body?.error).toMatchObject({
			code: 502,
			status: 'Bad Gateway',
			message: expect.stringContaining('Error 502 (Server Error)'),
		});
	});

	it("404-html is a web server's 404 page, quoting the request path, that the SDK wraps as text", async () => {
		sim.inject('404-html');
		const error = await failure(generate());
		expect(error.status).toBe(404);
		expect(error.body?.error).toMatchObject({ code: 404, status: 'Not Found' });
		expect(error.body?.error?.message).toContain(
			'The requested URL /v1beta/models/gemini-3.1-flash-image:generateContent was not found',
		);
		expect(error.body?.error?.message).not.toMatch(/<title>/);
	});

	it('malformed-json is a 200 the SDK cannot parse', async () => {
		sim.inject('malformed-json');
		const error = await failure(generate());
		expect(error.name).toBe('SyntaxError');
		expect(sim.requests[0]).toMatchObject({ status: 200, fault: 'malformed-json' });
	});

	it('reset destroys the socket: fetch fails', async () => {
		sim.inject('reset');
		const error = await failure(generate());
		expect(error.message).toMatch(/fetch failed/);
		expect(sim.requests[0]).toMatchObject({ status: 0, fault: 'reset' });
		expect(sim.requests[0].aborted).toBeUndefined();
	});
});

describe('delays', () => {
	it('slow holds the headers back for ms, then answers normally', async () => {
		sim.inject({ kind: 'slow', ms: 300 });
		const started = Date.now();
		const response = await generate();
		expect(Date.now() - started).toBeGreaterThanOrEqual(290);
		expect(finalImage(response).length).toBeGreaterThan(0);
	});

	it('hang holds the request until the client gives up, and records the abort', async () => {
		sim.inject('hang');
		const started = Date.now();
		const error = await failure(
			client(sim, { timeout: 2000 }).models.generateContent({
				model: 'gemini-3.1-flash-image',
				contents: 'x',
			}),
		);
		// In Jest the abort DOMException comes from another realm, so the SDK wraps it in an Error.
		expect(`${error.name} ${error.message}`).toMatch(/abort/i);
		expect(Date.now() - started).toBeLessThan(20_000);
		await waitFor(() => sim.requests[0].endedAt > 0);
		expect(sim.requests[0]).toMatchObject({ status: 0, aborted: true, fault: 'hang' });
		expect(sim.inFlight).toBe(0);
	});

	it('does not keep stop() waiting', async () => {
		const own = await GeminiSim.start();
		own.inject('hang');
		const pending = failure(
			client(own).models.generateContent({ model: 'gemini-3.1-flash-image', contents: 'x' }),
		);
		await waitFor(() => own.inFlight === 1);
		const started = Date.now();
		await own.stop();
		expect(Date.now() - started).toBeLessThan(500);
		expect((await pending).message).toMatch(/fetch failed/);
	});

	it('hang with ms answers late', async () => {
		sim.inject({ kind: 'hang', ms: 200 });
		const started = Date.now();
		await generate();
		expect(Date.now() - started).toBeGreaterThanOrEqual(190);
	});

	it('latency applies to every generateContent request, and in-flight requests are counted', async () => {
		sim.setLatency(150);
		try {
			await Promise.all([generate('a'), generate('b'), generate('c')]);
			expect(sim.maxInFlight).toBe(3);
			expect(sim.inFlight).toBe(0);
			for (const r of sim.generateRequests)
				expect(r.endedAt - r.startedAt).toBeGreaterThanOrEqual(140);
		} finally {
			sim.setLatency(0);
		}
	});

	it('the answer is made while the latency runs: the client waits the latency, not latency plus making', async () => {
		sim.setLatency(1500);
		try {
			await generate('made during the wait');
			const [r] = sim.generateRequests;
			expect(r.answerMadeAt! - r.startedAt).toBeLessThan(1000);
			expect(r.endedAt - r.startedAt).toBeGreaterThanOrEqual(1490);
		} finally {
			sim.setLatency(0);
		}
	});
});

describe('answers without an image (HTTP 200)', () => {
	it('prompt-block: no candidates, a block reason', async () => {
		sim.inject('prompt-block');
		const response = await generate();
		expect(response.candidates).toBeUndefined();
		expect(response.promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
		const recorded = fixture('vercel-ai_issue-19758-image-prompt-block.json');
		expect(
			Object.keys(response)
				.filter((k) => k !== 'sdkHttpResponse')
				.sort(),
		).toEqual(Object.keys(recorded).sort());
	});

	it('prompt-block with another reason', async () => {
		sim.inject({ kind: 'prompt-block', blockReason: 'SAFETY' });
		expect((await generate()).promptFeedback?.blockReason).toBe('SAFETY');
	});

	it('image-safety: a candidate with IMAGE_SAFETY and no content', async () => {
		sim.inject('image-safety');
		const candidate = (await generate()).candidates![0];
		expect(candidate).toMatchObject({ finishReason: 'IMAGE_SAFETY', index: 0 });
		expect(candidate.content).toBeUndefined();
	});

	it('no-image: empty content and NO_IMAGE, like the live capture', async () => {
		sim.inject('no-image');
		const response = await generate();
		expect(response.candidates).toEqual(
			fixture('vercel-ai_google-image-no-image-live.json').candidates,
		);
	});

	it('text-only: one text part refusing in words', async () => {
		sim.inject('text-only', { kind: 'text-only', text: 'Not this one.' });
		const first = partsOf(await generate());
		expect(first).toHaveLength(1);
		expect(first[0].text).toMatch(/^I can't create images of real people/);
		expect(partsOf(await generate())[0].text).toBe('Not this one.');
	});

	it('no-content: STOP without content', async () => {
		sim.inject('no-content');
		expect((await generate()).candidates).toEqual([{ finishReason: 'STOP', index: 0 }]);
	});

	it('are still checked first: a bad request stays a 400', async () => {
		sim.inject('prompt-block');
		const error = await failure(
			client(sim).models.generateContent({
				model: 'gemini-3-pro-image',
				contents: 'x',
				config: { imageConfig: { imageSize: '1k' } },
			}),
		);
		expect(error.status).toBe(400);
	});
});

describe('replay of recordings', () => {
	it('merges the js-genai stream recording into one response for generateContent', async () => {
		sim.inject({
			kind: 'replay',
			file: 'js-genai_mldev_streamGenerateContent_image_gemini-2.0-flash-preview-image-generation',
		});
		const response = await generate();
		const parts = partsOf(response);
		expect(parts.map((p) => (p.text !== undefined ? 'text' : 'image'))).toEqual(['text', 'image']);
		expect(parts[0].text).toMatch(/^I will generate an image of the Eiffel Tower/);
		expect(finalImage(response).length).toBe(990040);
		expect(response.candidates![0].finishReason).toBe('STOP');
	});

	it('streams the recorded chunks for streamGenerateContent', async () => {
		sim.inject(
			'replay:js-genai_mldev_streamGenerateContent_image_gemini-2.0-flash-preview-image-generation',
		);
		const chunks = [];
		for await (const chunk of await client(sim).models.generateContentStream({
			model: 'gemini-3.1-flash-image',
			contents: 'x',
		})) {
			chunks.push(chunk);
		}
		expect(chunks).toHaveLength(5);
	});

	it('replays SSE chunk files and recorded errors with their status', async () => {
		sim.inject(
			'replay:vercel-ai_issue-10660-image-thought-signature.chunks.txt',
			'replay:real_429_gemini-api_RetryInfo_58s',
		);
		const response = await generate();
		expect(response.modelVersion).toBe('gemini-3-pro-image-preview');
		expect(partsOf(response)[0].thoughtSignature).toBe('live-image-thought-signature');
		const error = await failure(generate());
		expect(error.status).toBe(429);
		expect(error.body).toEqual(fixture('real_429_gemini-api_RetryInfo_58s.json'));
	});
});

describe('prompt directives', () => {
	it.each([
		[
			'[[sim:prompt-block]]',
			(r: Awaited<ReturnType<typeof generate>>) =>
				r.promptFeedback?.blockReason === 'PROHIBITED_CONTENT',
		],
		[
			'[[sim:prompt-block:OTHER]]',
			(r: Awaited<ReturnType<typeof generate>>) => r.promptFeedback?.blockReason === 'OTHER',
		],
		[
			'[[sim:no-image]]',
			(r: Awaited<ReturnType<typeof generate>>) => r.candidates?.[0].finishReason === 'NO_IMAGE',
		],
		['[[sim:text-only]]', (r: Awaited<ReturnType<typeof generate>>) => partsOf(r).length === 1],
	])('%s', async (directive, check) => {
		expect(check(await generate(`a cat ${directive}`))).toBe(true);
	});

	it('[[sim:429:0.2s]] sets the retry delay', async () => {
		const error = await failure(generate('a cat [[sim:429:0.2s]]'));
		expect(error.body?.error.details?.[2]).toEqual({
			'@type': 'type.googleapis.com/google.rpc.RetryInfo',
			retryDelay: '0.2s',
		});
	});

	it('[[sim:slow:300]] delays one request, and the image keeps the whole prompt', async () => {
		const started = Date.now();
		const response = await generate('a cat [[sim:slow:300]]');
		expect(Date.now() - started).toBeGreaterThanOrEqual(290);
		expect(GeminiSim.promptOf(finalImage(response))).toBe('a cat [[sim:slow:300]]');
	});

	it('wins over the scripted queue, which it leaves alone', async () => {
		sim.inject('503');
		expect((await generate('x [[sim:no-content]]')).candidates?.[0].finishReason).toBe('STOP');
		expect(sim.faultsQueued).toBe(1);
		expect((await failure(generate())).status).toBe(503);
	});

	it('only counts in the last user turn, and an unknown kind is plain text', async () => {
		const response = await client(sim).models.generateContent({
			model: 'gemini-3.1-flash-lite-image',
			contents: [
				{ role: 'user', parts: [{ text: 'first [[sim:503]]' }] },
				{ role: 'model', parts: [{ text: 'ok' }] },
				{ role: 'user', parts: [{ text: 'second [[sim:nonsense]]' }] },
			],
		});
		expect(response.candidates?.[0].finishReason).toBe('STOP');
	});
});

describe('random faults', () => {
	it('fail about the given share of requests, repeatably for a seed', async () => {
		const run = async () => {
			sim.reset();
			sim.setRandomFaults({ percent: 50, kinds: ['503', 'no-content'], seed: 42 });
			const outcomes = [];
			for (let i = 0; i < 20; i++) {
				outcomes.push(
					await generate(`r${i}`).then(
						(r) => (r.candidates?.[0].content ? 'ok' : 'empty'),
						(e) => String(e.status),
					),
				);
			}
			return outcomes;
		};
		const first = await run();
		const second = await run();
		expect(first).toEqual(second);
		const failed = first.filter((o) => o !== 'ok').length;
		expect(failed).toBeGreaterThanOrEqual(5);
		expect(failed).toBeLessThanOrEqual(15);
		expect(new Set(first)).toEqual(new Set(['ok', '503', 'empty']));
		sim.setRandomFaults(null);
		expect((await generate()).candidates?.[0].finishReason).toBe('STOP');
	});
});

describe('fault specs', () => {
	it.each<[string, Fault]>([
		['429', { kind: '429' }],
		['429:0.2s:retryAfter=1', { kind: '429', retryDelay: '0.2s', retryAfter: '1' }],
		['slow:300', { kind: 'slow', ms: 300 }],
		['hang:ms=50', { kind: 'hang', ms: 50 }],
		['text-only:text=no thanks', { kind: 'text-only', text: 'no thanks' }],
		['replay:some-file', { kind: 'replay', file: 'some-file' }],
	])('%s', (spec, fault) => {
		expect(parseFault(spec)).toEqual(fault);
	});

	it('refuses an unknown kind', () => {
		expect(() => sim.inject('418')).toThrow(/Unknown fault kind/);
	});
});

describe('the control API', () => {
	const control = async (method: string, path: string, body?: unknown) => {
		const response = await fetch(`${sim.url}/__sim/${path}`, {
			method,
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: response.status, json: await readJson(response) };
	};

	it('injects faults, lists requests without the key, counts, and resets', async () => {
		expect(await control('POST', 'inject', ['503', { kind: '429', retryDelay: '0.1s' }])).toEqual({
			status: 200,
			json: { queued: 2 },
		});
		expect((await failure(generate())).status).toBe(503);
		expect((await failure(generate())).status).toBe(429);
		await generate('fine');

		const { json: requests } = await control('GET', 'requests');
		expect(
			requests.map((r: { status: number; fault?: string }) => [r.status, r.fault ?? null]),
		).toEqual([
			[503, '503'],
			[429, '429'],
			[200, null],
		]);
		expect(requests[2]).toMatchObject({
			action: 'generateContent',
			model: 'gemini-3.1-flash-image',
			apiVersion: 'v1beta',
		});
		expect(requests[2].headers['x-goog-api-key']).toBe('<redacted>');
		expect(JSON.stringify(requests)).not.toContain(sim.apiKey);
		const newer = (await control('GET', 'requests?bodies=0&since=2')).json;
		expect(newer.map((r: { id: number }) => r.id)).toEqual([3]);
		expect(newer[0].body).toBeUndefined();

		const { json: stats } = await control('GET', 'stats');
		expect(stats).toMatchObject({
			requests: 3,
			generateContent: 3,
			inFlight: 0,
			maxInFlight: 1,
			faultsQueued: 0,
			faultsServed: { '503': 1, '429': 1 },
			byStatus: { '200': 1, '429': 1, '503': 1 },
		});

		expect((await control('POST', 'reset')).status).toBe(200);
		expect((await control('GET', 'stats')).json).toMatchObject({ requests: 0, faultsServed: {} });
		expect(sim.requests).toHaveLength(0);
	});

	it('sets random faults and configuration', async () => {
		await control('POST', 'random', { percent: 100, kinds: ['500'] });
		expect((await failure(generate())).status).toBe(500);
		await control('POST', 'random', null);
		const { json } = await control('POST', 'config', {
			imageFormat: 'jpeg',
			latencyMs: 0,
			gzipAnswers: 'always',
		});
		expect(json).toMatchObject({ imageFormat: 'jpeg', latencyMs: 0, gzipAnswers: 'always' });
		try {
			expect(partsOf(await generate()).find((p) => p.inlineData)?.inlineData?.mimeType).toBe(
				'image/jpeg',
			);
		} finally {
			await control('POST', 'config', { imageFormat: 'png', gzipAnswers: 'accepted' });
		}
	});

	it('says what is wrong with a bad fault', async () => {
		expect(await control('POST', 'inject', [{ kind: 'teapot' }])).toMatchObject({
			status: 400,
			json: { error: { message: expect.stringMatching(/Unknown fault kind/) } },
		});
	});
});

async function waitFor(condition: () => boolean, ms = 2000) {
	const until = Date.now() + ms;
	while (!condition()) {
		if (Date.now() > until) throw new Error('condition not met in time');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
