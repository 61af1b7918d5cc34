/**
 * Behind an outbound proxy: the nodes' requests go through the proxy n8n was started with
 * (HTTP_PROXY / HTTPS_PROXY, NO_PROXY), as n8n's own HTTP requests do. The client reads them when
 * its first request leaves, so each case loads the node afresh.
 */
import { createServer } from 'http';
import type { IncomingMessage, Server } from 'http';
import { connect } from 'net';
import type { AddressInfo, Socket } from 'net';
import type { INodeType } from 'n8n-workflow';

import { GeminiSim } from '../gemini-sim';
import { runNode } from '../helpers/n8nContext';

let sim: GeminiSim;
let proxy: Server;
let proxyUrl: string;
/** The tunnels the proxy was asked for: `CONNECT host:port`. */
const forwarded: string[] = [];

/** An outbound proxy as companies run them: it opens tunnels (CONNECT), as undici asks for. */
function startProxy(): Promise<Server> {
	const server = createServer((_, outgoing) => outgoing.writeHead(405).end());
	server.on('connect', (incoming: IncomingMessage, client: Socket, head: Buffer) => {
		forwarded.push(`CONNECT ${incoming.url}`);
		const [host, port] = incoming.url!.split(':');
		const upstream = connect(Number(port), host, () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(client).pipe(upstream);
		});
		upstream.on('error', () => client.destroy());
		client.on('error', () => upstream.destroy());
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
	sim = await GeminiSim.start();
	proxy = await startProxy();
	proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
	await sim.stop();
	proxy.closeAllConnections();
	await new Promise((resolve) => proxy.close(resolve));
});
beforeEach(() => {
	sim.reset();
	forwarded.length = 0;
});

const proxyVariables = [
	'HTTP_PROXY',
	'http_proxy',
	'HTTPS_PROXY',
	'https_proxy',
	'NO_PROXY',
	'no_proxy',
];

/** Generate, loaded afresh with these proxy settings in the environment (and only these). */
async function generateWith(env: Record<string, string>) {
	const saved = Object.fromEntries(proxyVariables.map((name) => [name, process.env[name]]));
	for (const name of proxyVariables) delete process.env[name];
	Object.assign(process.env, env);
	try {
		let node: INodeType | undefined;
		jest.isolateModules(() => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			const {
				NanoBananaGenerate,
			} = require('../../nodes/NanoBananaGenerate/NanoBananaGenerate.node');
			node = new NanoBananaGenerate();
		});
		return await runNode(node!, {
			credentials: { apiKey: sim.apiKey, host: sim.url },
			parameters: { prompt: 'a lighthouse at dusk', options: { maxAttempts: 1 } },
		});
	} finally {
		for (const name of proxyVariables) {
			if (saved[name] === undefined) delete process.env[name];
			else process.env[name] = saved[name];
		}
	}
}

it('sends the request through HTTP_PROXY and gets the image back through it', async () => {
	const { outputs } = await generateWith({ HTTP_PROXY: proxyUrl });
	expect(outputs[0]).toHaveLength(1);
	expect(outputs[0][0].binary?.data?.mimeType).toMatch(/^image\//);
	expect(forwarded).toEqual([`CONNECT ${new URL(sim.url).host}`]);
	expect(sim.generateRequests).toHaveLength(1);
});

it('goes direct to a host NO_PROXY names', async () => {
	const { outputs } = await generateWith({ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' });
	expect(outputs[0]).toHaveLength(1);
	expect(forwarded).toEqual([]);
	expect(sim.generateRequests).toHaveLength(1);
});

it('goes direct without proxy settings', async () => {
	const { outputs } = await generateWith({});
	expect(outputs[0]).toHaveLength(1);
	expect(forwarded).toEqual([]);
});
