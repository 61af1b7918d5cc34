/**
 * The nodes as AI Agent tools, against the Gemini simulator over HTTP: the compact result the
 * model reads, image references chained Generate → Edit → Verify within one execution, a
 * reference from another execution refused, image URLs fetched and checked, and failures as
 * `{ ok: false, error, hint }`. The real n8n agent runs these in test/e2e/agent.test.ts.
 */
import { createServer } from 'http';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import sharp from 'sharp';
import { Readable } from 'stream';
import type { IDataObject } from 'n8n-workflow';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import { MAX_URL_IMAGE_BYTES, imageSourceOf } from '../../nodes/shared/pipeline/imageSource';
import { GeminiSim } from '../gemini-sim';
import { BinaryStore, runNode } from '../helpers/n8nContext';
import type { RunOptions } from '../helpers/n8nContext';

jest.mock('@contentauth/c2pa-wasm', () =>
	jest.requireActual('../unit/provenance-helpers').c2paWasmFromNode(),
);

let sim: GeminiSim;
let files: Server;
let filesUrl: string;
let png: Buffer;
/** Random pixels: no re-encoding makes them small, so a low inline limit needs the Files API. */
let noise: Buffer;

beforeAll(async () => {
	sim = await GeminiSim.start();
	png = await sharp({
		create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 80, b: 20 } },
	})
		.png()
		.toBuffer();
	const side = 1024;
	const random = Buffer.alloc(side * side * 3);
	for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
	noise = await sharp(random, { raw: { width: side, height: side, channels: 3 } })
		.png()
		.toBuffer();
	// A small web server: an image, a web page, an image too large, and a liar.
	files = createServer((req, res) => {
		const path = new URL(req.url ?? '/', 'http://files').pathname;
		if (path === '/photo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
		else if (path === '/noise.png') res.writeHead(200, { 'content-type': 'image/png' }).end(noise);
		else if (path === '/page.html')
			res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a photo</html>');
		else if (path === '/huge.png') {
			res.writeHead(200, { 'content-type': 'image/png' });
			res.end(Buffer.alloc(MAX_URL_IMAGE_BYTES + 1024));
		} else if (path === '/fake.png')
			res.writeHead(200, { 'content-type': 'image/png' }).end('not a png at all');
		else res.writeHead(404).end();
	});
	await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
	filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
	await sim.stop();
	await new Promise((resolve) => files.close(resolve));
});
beforeEach(() => sim.reset());

/** n8n's httpRequest helper with encoding "stream" and the full response, over real HTTP. */
async function httpRequest(options: IDataObject) {
	const response = await fetch(String(options.url));
	if (!response.ok) throw new Error(`Request failed with status code ${response.status}`);
	return {
		body: Readable.fromWeb(response.body as never),
		headers: Object.fromEntries(response.headers.entries()),
		statusCode: response.status,
	};
}

const run = (
	node: ConstructorParameters<typeof Object>[0],
	parameters: RunOptions['parameters'],
	store: BinaryStore,
	extra: Partial<RunOptions> = {},
) =>
	runNode(node as never, {
		credentials: { apiKey: sim.apiKey, host: sim.url },
		parameters,
		binaryStore: store,
		httpRequest,
		...extra,
	});

/** What the model reads: n8n gives it JSON.stringify of the first output's items' json. */
function modelSees(outputs: RunOptions['items'][]) {
	expect(outputs[0]).toHaveLength(1);
	expect(outputs.slice(1).flat()).toHaveLength(0);
	expect(outputs[0]![0].binary).toBeUndefined();
	const text = JSON.stringify(outputs[0]!.map((item) => item.json));
	return { text, result: outputs[0]![0].json as IDataObject };
}

const sentImage = (call: (typeof sim.generateRequests)[number]) => {
	const parts = call.body.contents[0].parts as Array<{ inlineData?: { data: string } }>;
	return Buffer.from(parts.find((p) => p.inlineData)!.inlineData!.data, 'base64');
};
const pixels = async (data: Buffer) => await sharp(data).removeAlpha().raw().toBuffer();

describe('as AI Agent tools', () => {
	it('chains Generate → Edit → Verify by reference, each result compact and free of base64', async () => {
		const store = new BinaryStore('wf-agent', '501');
		const generated = await run(
			new NanoBananaGenerate(),
			{ prompt: 'A red bicycle leaning on a brick wall', aspectRatio: '16:9' },
			store,
			{ asTool: true, items: [{ json: { prompt: 'ignored: tool arguments' } }] },
		);
		const first = modelSees(generated.outputs);
		expect(first.text.length).toBeLessThan(400);
		expect(first.text).not.toMatch(/[A-Za-z0-9+/]{200}/);
		expect(first.result).toMatchObject({ ok: true, model: expect.any(String) });
		const [image] = first.result.images as IDataObject[];
		expect(image).toMatchObject({ mimeType: 'image/png', width: expect.any(Number) });
		expect(String(image.ref)).toMatch(/^nbimg:filesystem-v2:501:[0-9a-f-]{36}$/);
		expect(first.text).not.toMatch(/item \d|provenance|responseId|quotaWaitMs/);

		const edited = await run(
			new NanoBananaEdit(),
			{ binaryPropertyName: image.ref, prompt: 'Make the wall blue' },
			store,
			{ asTool: true },
		);
		const second = modelSees(edited.outputs);
		expect(second.text.length).toBeLessThan(400);
		expect(second.result.ok).toBe(true);
		// Gemini got the very image Generate made (metadata stripped, pixels the same).
		const [, editCall] = sim.generateRequests;
		const madeByGenerate = store.get({ id: refToId(String(image.ref)) } as never);
		expect(await pixels(sentImage(editCall))).toEqual(await pixels(madeByGenerate));
		const editedRef = String((second.result.images as IDataObject[])[0].ref);
		expect(editedRef).not.toBe(image.ref);

		const verified = await run(
			new NanoBananaVerify(),
			{ binaryPropertyName: editedRef, prompt: 'Make the wall blue' },
			store,
			{ asTool: true },
		);
		const third = modelSees(verified.outputs);
		expect(Object.keys(third.result).sort()).toEqual(['pass', 'reasons', 'scores']);
		expect(third.result.scores).toHaveProperty('promptAdherence');
	});

	it('gives Verify one result on the first output also when the image fails', async () => {
		const store = new BinaryStore('wf-agent', '502');
		const generated = await run(
			new NanoBananaGenerate(),
			{ prompt: 'A lighthouse at dusk' },
			store,
			{
				asTool: true,
			},
		);
		const ref = (generated.outputs[0][0].json.images as IDataObject[])[0].ref;
		const verified = await run(
			new NanoBananaVerify(),
			{ binaryPropertyName: ref, prompt: 'A bowl of ramen on a dark table' },
			store,
			{ asTool: true },
		);
		const { result } = modelSees(verified.outputs);
		expect(result.pass).toBe(false);
		expect((result.reasons as string[])[0]).toMatch(/^promptAdherence: /);
	});

	it('refuses a reference from another execution, as a result with a hint and no item number', async () => {
		const earlier = new BinaryStore('wf-agent', '600');
		const generated = await run(new NanoBananaGenerate(), { prompt: 'A cat' }, earlier, {
			asTool: true,
		});
		const ref = (generated.outputs[0][0].json.images as IDataObject[])[0].ref;
		sim.reset();
		const edited = await run(
			new NanoBananaEdit(),
			{ binaryPropertyName: ref, prompt: 'Add a hat' },
			new BinaryStore('wf-agent', '601'),
			{ asTool: true },
		);
		const { result } = modelSees(edited.outputs);
		expect(result).toEqual({
			ok: false,
			error: expect.stringContaining('comes from another execution (600)'),
			hint: expect.stringContaining('Use a ref returned earlier in this same run'),
		});
		expect(String(result.error)).not.toMatch(/item/);
		expect(sim.generateRequests).toHaveLength(0);
	});

	it('refuses a made-up reference in this execution', async () => {
		const store = new BinaryStore('wf-agent', '700');
		const edited = await run(
			new NanoBananaEdit(),
			{
				binaryPropertyName: `nbimg:filesystem-v2:700:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
			},
			store,
			{ asTool: true },
		);
		const { result } = modelSees(edited.outputs);
		expect(result.ok).toBe(false);
		expect(result.error).toMatch(/No image is stored under the reference/);
	});

	it('turns a Gemini failure into advice the model can act on', async () => {
		sim.inject({ kind: 'prompt-block' });
		const generated = await run(
			new NanoBananaGenerate(),
			{ prompt: 'A cat' },
			new BinaryStore('wf-agent', '800'),
			{ asTool: true },
		);
		const { result } = modelSees(generated.outputs);
		expect(result.ok).toBe(false);
		expect(String(result.error)).not.toMatch(/\(item/);
		expect(String(result.hint).length).toBeGreaterThan(10);
	});

	it('fuses images named by reference and URL', async () => {
		const store = new BinaryStore('wf-agent', '900');
		const generated = await run(new NanoBananaGenerate(), { prompt: 'A sofa' }, store, {
			asTool: true,
		});
		const ref = (generated.outputs[0][0].json.images as IDataObject[])[0].ref;
		const fused = await run(
			new NanoBananaFuse(),
			{ binaryPropertyNames: `${ref}, ${filesUrl}/photo.png`, prompt: 'Put image 1 on image 2' },
			store,
			{ asTool: true },
		);
		const { result } = modelSees(fused.outputs);
		expect(result.ok).toBe(true);
		const parts = sim.generateRequests[1].body.contents[0].parts as Array<{ inlineData?: object }>;
		expect(parts.filter((p) => p.inlineData)).toHaveLength(2);
	});
});

describe('a URL with a token in it', () => {
	it('is never shown to Google: an upload through the Files API is named without its query', async () => {
		const store = new BinaryStore('wf-agent', '950');
		const { outputs } = await run(
			new NanoBananaEdit(),
			// An inline limit so small that the image must go through the Files API.
			{
				binaryPropertyName: `${filesUrl}/noise.png?token=SECRET-123`,
				prompt: 'Make it blue',
				options: { inlineLimitMb: 0.1 },
			},
			store,
		);
		expect(outputs[0]).toHaveLength(1);
		const uploads = sim.files.list();
		expect(uploads).toHaveLength(1);
		expect(uploads[0].displayName).toBe(`n8n item 0 ${filesUrl}/noise.png`);
		const sent = JSON.stringify(sim.requests.map((r) => [r.path, r.query, r.headers, r.body]));
		expect(sent).not.toMatch(/SECRET/);
	});

	it('a URL whose fetch fails is named without its user info or query, also where the HTTP client quoted it', async () => {
		const store = new BinaryStore('wf-agent', '951');
		const secretUrl = `${filesUrl.replace('http://', 'http://user:pw-SECRET@')}/photo.png?token=SECRET-123`;
		const error = await run(
			new NanoBananaEdit(),
			{ binaryPropertyName: secretUrl, prompt: 'Make it blue' },
			store,
		).catch((e: Error & { description?: string }) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/^Could not fetch the image at http:\/\/127\.0\.0\.1:\d+\/photo\.png/,
		);
		expect(
			JSON.stringify([(error as Error).message, (error as { description?: string }).description]),
		).not.toMatch(/SECRET|pw-/);
	});
});

describe('images named by URL', () => {
	it('fetches an image URL, and Verify outputs it as binary "data"', async () => {
		const store = new BinaryStore();
		const { outputs } = await run(
			new NanoBananaVerify(),
			{
				binaryPropertyName: `${filesUrl}/photo.png`,
				aiJudge: false,
				technicalChecks: { minWidth: 100 },
			},
			store,
		);
		const [item] = outputs[0];
		expect(item.binary!.data).toMatchObject({ mimeType: 'image/png', fileName: 'photo.png' });
		expect(store.get(item.binary!.data)).toEqual(png);
	});

	it.each([
		['page.html', /did not return an image \(content type "text\/html"\)/],
		['fake.png', /its bytes are not a PNG, JPEG/],
		['huge.png', /larger than 25 MB/],
		['missing.png', /Could not fetch the image at .*missing\.png/],
	])('refuses %s with a clear error', async (path, message) => {
		const error = await run(
			new NanoBananaEdit(),
			{ binaryPropertyName: `${filesUrl}/${path}?token=secret123`, prompt: 'Add a hat' },
			new BinaryStore(),
		).then(
			() => Promise.reject(new Error('expected a failure')),
			(e: Error & { description?: string }) => e,
		);
		expect(error.message).toMatch(message);
		expect(error.message).toMatch(/\(item 0\)$/);
		expect(error.message).not.toContain('secret123');
		expect(error.description).toBeTruthy();
		expect(sim.generateRequests).toHaveLength(0);
	});
});

describe('what names an image', () => {
	it('tells property names, references, URLs and broken references apart', () => {
		const ref = 'nbimg:filesystem-v2:12:0f0e0d0c-0b0a-4000-8000-000000000000';
		expect(imageSourceOf('data')).toEqual({ kind: 'property', name: 'data' });
		expect(imageSourceOf(` ${ref} `)).toEqual({ kind: 'ref', ref });
		// A tool result pasted whole: its last reference counts.
		const other = ref.replace('12:', '13:');
		expect(
			imageSourceOf(JSON.stringify([{ images: [{ ref }] }, { images: [{ ref: other }] }])),
		).toEqual({
			kind: 'ref',
			ref: other,
		});
		expect(imageSourceOf('https://example.com/a.png')).toEqual({
			kind: 'url',
			url: 'https://example.com/a.png',
		});
		expect(imageSourceOf('nbimg:../../etc/passwd')).toEqual({
			kind: 'invalid',
			text: 'nbimg:../../etc/passwd',
		});
	});
});

/** The store id a reference names (the test store uses n8n's filesystem layout). */
function refToId(ref: string): string {
	const [, mode, execution, file] = ref.split(':');
	return `${mode}:workflows/wf-agent/executions/${execution}/binary_data/${file}`;
}
