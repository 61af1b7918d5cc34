import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, gzipSync } from 'node:zlib';

/** Headers Google's front end puts on every answer. */
const GOOGLE_HEADERS = {
	server: 'scaffolding on HTTPServer2',
	vary: 'Origin, X-Origin, Referer',
	'x-content-type-options': 'nosniff',
	'x-frame-options': 'SAMEORIGIN',
	'x-xss-protection': '0',
};

export interface Body {
	buffer: Buffer;
	/** Bytes received, also when the body was over the limit and dropped. */
	bytes: number;
	tooLarge: boolean;
}

/** Reads the whole body; past `limit` bytes it keeps draining but stops storing. */
export function readBody(req: IncomingMessage, limit = Infinity): Promise<Body> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let bytes = 0;
		req.on('data', (chunk: Buffer) => {
			bytes += chunk.length;
			if (bytes <= limit) chunks.push(chunk);
		});
		req.on('end', () => {
			const tooLarge = bytes > limit;
			resolve({ buffer: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), bytes, tooLarge });
		});
		req.on('error', reject);
	});
}

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
) {
	send(res, status, 'application/json; charset=UTF-8', encodeJson(res, body), headers);
}

/**
 * A body as it goes on the wire to this client: made ahead when making it is not to count as
 * waiting.
 */
export interface Encoded {
	bytes: string | Buffer;
	gzip: boolean;
}

export function encodeJson(res: ServerResponse, body: unknown, always = false): Encoded {
	return encode(res, JSON.stringify(body, null, 2), always);
}

function encode(res: ServerResponse, body: string | Buffer, always = false): Encoded {
	// Google's front end gzips answers for clients that accept it (fetch does), and then its
	// Content-Length is the compressed size (see the recorded Vertex AI answer in test/fixtures).
	// Huffman-only: base64 shrinks as much (to ~75%) at a fifth of the simulator's CPU.
	const accepted = /\bgzip\b/.test(String(res.req?.headers['accept-encoding'] ?? ''));
	const gzip = body.length > 1024 && (accepted || always);
	return {
		bytes: gzip ? gzipSync(body, { level: 1, strategy: constants.Z_HUFFMAN_ONLY }) : body,
		gzip,
	};
}

export function send(
	res: ServerResponse,
	status: number,
	contentType: string,
	body: string | Buffer | Encoded,
	headers: Record<string, string> = {},
) {
	if (res.headersSent || res.destroyed) return;
	const { bytes, gzip } =
		typeof body === 'string' || Buffer.isBuffer(body) ? encode(res, body) : body;
	res.writeHead(status, {
		...GOOGLE_HEADERS,
		'content-type': contentType,
		...(gzip ? { 'content-encoding': 'gzip' } : {}),
		'content-length': String(Buffer.byteLength(bytes)),
		...headers,
	});
	res.end(bytes);
}

/** Server-sent events, one JSON object per event, the way streamGenerateContent?alt=sse answers. */
export function sendSse(
	res: ServerResponse,
	chunks: unknown[],
	headers: Record<string, string> = {},
) {
	if (res.headersSent || res.destroyed) return;
	res.writeHead(200, {
		...GOOGLE_HEADERS,
		'content-type': 'text/event-stream',
		'content-disposition': 'attachment',
		...headers,
	});
	for (const chunk of chunks)
		res.write(`data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\r\n\r\n`);
	res.end();
}
