/**
 * Another web app at the credential's Host: a tiny local HTTP server that answers every request,
 * GET or POST, with the same HTML page and status (a site's 200, a web server's 404).
 */
import { createServer } from 'http';
import type { AddressInfo } from 'net';

export interface WebApp {
	url: string;
	/** The paths asked, in order. */
	paths: string[];
	stop(): Promise<void>;
}

export const WEB_APP_PAGE =
	'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>Our team wiki</h1></body></html>';

export async function startWebApp(status: number): Promise<WebApp> {
	const paths: string[] = [];
	const server = createServer((req, res) => {
		paths.push(req.url ?? '');
		req.resume();
		res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
		res.end(WEB_APP_PAGE);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		paths,
		stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
