/**
 * Images named by text instead of a binary property, which is what an AI Agent's tool call can
 * pass: a reference one of these nodes returned earlier in the same execution (`nbimg:…`), or an
 * http(s) URL, fetched through n8n's HTTP helper so that n8n's SSRF protection applies.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

import { forItem } from './errors';

export const IMAGE_REF_PREFIX = 'nbimg:';
/** The most an image URL may send. */
export const MAX_URL_IMAGE_BYTES = 25 * 1024 * 1024;
const URL_TIMEOUT_MS = 60_000;

// n8n's stored-binary id: `<mode>:workflows/<workflow>/executions/<execution>/binary_data/<uuid>`.
const BINARY_ID =
	/^([a-z0-9-]+):workflows\/([^/]+)\/executions\/([A-Za-z0-9_-]+)\/binary_data\/([0-9a-f-]{36})$/i;
// A ref names the storage mode, the execution and the file: never a path, so it cannot point
// outside the current execution's folder.
const REF = /nbimg:([a-z0-9-]+):([A-Za-z0-9_-]+):([0-9a-f-]{36})/gi;

/** Why a named image cannot be read, naming the item, with the cure. */
function sourceError(ctx: IExecuteFunctions, itemIndex: number, message: string, hint: string) {
	return new NodeOperationError(ctx.getNode(), forItem(message, itemIndex), {
		itemIndex,
		description: hint,
	});
}

export type ImageSource =
	| { kind: 'property'; name: string }
	| { kind: 'ref'; ref: string }
	| { kind: 'url'; url: string }
	| { kind: 'invalid'; text: string };

/**
 * What a binary-property field names: an http(s) URL, an image reference (in any text, e.g. a tool
 * result: the last one counts), or else a binary property.
 */
export function imageSourceOf(text: string): ImageSource {
	const value = text.trim();
	if (/^https?:\/\//i.test(value)) return { kind: 'url', url: value };
	const refs = value.match(REF);
	if (refs) return { kind: 'ref', ref: refs[refs.length - 1] };
	if (value.toLowerCase().startsWith(IMAGE_REF_PREFIX)) return { kind: 'invalid', text: value };
	return { kind: 'property', name: value };
}

/** How messages and uploads name an image source: a URL without user info or query. */
export function sourceLabel(text: string): string {
	const source = imageSourceOf(text);
	if (source.kind === 'url') return shown(source.url);
	if (source.kind === 'ref') return source.ref;
	if (source.kind === 'invalid') return `${source.text.slice(0, 60)}…`;
	return source.name;
}

/** The reference of a stored image, or undefined when n8n keeps binaries in memory. */
export function imageRefOf(binary: IBinaryData): string | undefined {
	const match = binary.id ? BINARY_ID.exec(binary.id) : null;
	return match ? `${IMAGE_REF_PREFIX}${match[1]}:${match[3]}:${match[4]}` : undefined;
}

export interface NamedImage {
	data: Buffer;
	binary: IBinaryData;
}

/** The image a reference names, if it was made in this execution of this workflow. */
export async function readImageRef(
	ctx: IExecuteFunctions,
	itemIndex: number,
	ref: string,
): Promise<NamedImage> {
	const [, mode, executionId, fileId] = new RegExp(REF.source, 'i').exec(ref) ?? [];
	const current = ctx.getExecutionId();
	if (!mode || executionId !== current) {
		throw sourceError(
			ctx,
			itemIndex,
			`The image reference ${ref} comes from another execution (${executionId}); a reference works only in the execution that made it`,
			'Use a ref returned earlier in this same run, or pass the image as an http(s) URL or as binary data.',
		);
	}
	// Built from this workflow and execution: a ref cannot reach any other run's files.
	const binaryId = `${mode}:workflows/${ctx.getWorkflow().id}/executions/${current}/binary_data/${fileId}`;
	try {
		const metadata = await ctx.helpers.getBinaryMetadata(binaryId);
		const data = await ctx.helpers.binaryToBuffer(await ctx.helpers.getBinaryStream(binaryId));
		const mimeType = metadata.mimeType ?? sniffImageType(data) ?? 'application/octet-stream';
		return {
			data,
			binary: {
				id: binaryId,
				data: mode,
				mimeType,
				fileName: metadata.fileName,
				fileSize: `${data.length} B`,
				bytes: data.length,
			} as IBinaryData,
		};
	} catch {
		throw sourceError(
			ctx,
			itemIndex,
			`No image is stored under the reference ${ref} in this execution`,
			'Use a ref exactly as an earlier Nano Banana tool call of this run returned it.',
		);
	}
}

/** The magic bytes of the image formats the nodes read. */
export function sniffImageType(data: Buffer): string | undefined {
	if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
		return 'image/png';
	if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
	if (
		data.subarray(0, 4).toString('latin1') === 'RIFF' &&
		data.subarray(8, 12).toString('latin1') === 'WEBP'
	)
		return 'image/webp';
	if (/^GIF8[79]a$/.test(data.subarray(0, 6).toString('latin1'))) return 'image/gif';
	const brand = data.subarray(4, 12).toString('latin1');
	if (/^ftyp(avif|avis)$/.test(brand)) return 'image/avif';
	if (/^ftyp(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(brand)) return 'image/heic';
	return undefined;
}

/**
 * The body n8n's HTTP helper returns for `encoding: 'stream'` (a Node.js Readable), as far as it is
 * used here: typed by shape, since n8n's package scanner refuses an import of 'stream'.
 */
type ByteStream = AsyncIterable<Uint8Array> & { destroy(): void };

/** Reads a stream, giving up (and closing it) past `limit` bytes. */
async function readLimited(stream: ByteStream, limit: number): Promise<Buffer | undefined> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream) {
		size += chunk.length;
		if (size > limit) {
			stream.destroy();
			return undefined;
		}
		chunks.push(Buffer.from(chunk));
	}
	return Buffer.concat(chunks);
}

/** A URL as errors show it: no user info or query, which may hold a token. */
function shown(url: string): string {
	try {
		const { origin, pathname } = new URL(url);
		return `${origin}${pathname}`;
	} catch {
		return 'the given URL';
	}
}

/** An error's text with the URL's user info and query taken out (an HTTP client may quote them). */
function withoutSecrets(text: string, url: string): string {
	let out = text.split(url).join(shown(url));
	try {
		const { username, password, search } = new URL(url);
		const secrets = [password, username, search.slice(1)].flatMap((s) => [s, safeDecode(s)]);
		for (const secret of secrets.filter((s) => s.length > 0)) out = out.split(secret).join('…');
	} catch {
		// not a URL: nothing more to take out
	}
	return out;
}

function safeDecode(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

const tooLarge = (ctx: IExecuteFunctions, itemIndex: number, url: string) =>
	sourceError(
		ctx,
		itemIndex,
		`The image at ${shown(url)} is larger than ${MAX_URL_IMAGE_BYTES / 1024 / 1024} MB`,
		'Use a smaller image, or download it with an HTTP Request node and pass it as binary data.',
	);

/**
 * Fetches an image URL with n8n's HTTP helper (its proxy and SSRF settings apply) and stores it
 * as a binary of this execution. Anything but an image of a known format is refused.
 */
export async function fetchImageUrl(
	ctx: IExecuteFunctions,
	itemIndex: number,
	url: string,
	signal?: AbortSignal,
): Promise<NamedImage> {
	let response: { body: ByteStream; headers: Record<string, string | string[] | undefined> };
	try {
		response = (await ctx.helpers.httpRequest({
			url,
			method: 'GET',
			encoding: 'stream',
			returnFullResponse: true,
			timeout: URL_TIMEOUT_MS,
			abortSignal: signal,
		})) as typeof response;
	} catch (error) {
		const status = (error as { httpCode?: string; response?: { status?: number } }).httpCode;
		throw sourceError(
			ctx,
			itemIndex,
			`Could not fetch the image at ${shown(url)}${status ? ` (HTTP ${status})` : ''}: ${withoutSecrets((error as Error).message, url)}`,
			'Check that the URL is public and points to the image file itself. n8n may block private addresses (N8N_SSRF_PROTECTION_ENABLED).',
		);
	}
	const contentType = String(response.headers['content-type'] ?? '')
		.split(';')[0]
		.trim()
		.toLowerCase();
	if (!contentType.startsWith('image/')) {
		response.body.destroy();
		throw sourceError(
			ctx,
			itemIndex,
			`The URL ${shown(url)} did not return an image (content type "${contentType || 'none'}")`,
			'Use the address of the image file itself, not of a web page about it.',
		);
	}
	if (Number(response.headers['content-length'] ?? 0) > MAX_URL_IMAGE_BYTES) {
		response.body.destroy();
		throw tooLarge(ctx, itemIndex, url);
	}
	const data = await readLimited(response.body, MAX_URL_IMAGE_BYTES);
	if (!data) throw tooLarge(ctx, itemIndex, url);
	const sniffed = sniffImageType(data);
	if (!sniffed) {
		throw sourceError(
			ctx,
			itemIndex,
			`The URL ${shown(url)} says "${contentType}" but its bytes are not a PNG, JPEG, WebP, GIF, AVIF or HEIC image`,
			'Use the address of the image file itself.',
		);
	}
	const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'image');
	return { data, binary: await ctx.helpers.prepareBinaryData(data, name, sniffed) };
}
