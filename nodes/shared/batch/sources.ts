/**
 * Where a finished job's results are read from, by key: its inline answer, or its JSONL results
 * file streamed to disk and indexed by line, so the images stay on disk until their item is
 * written.
 */
import { createReadStream } from 'fs';
import { mkdtemp, open, rm } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';

import type { BatchResultLine, CallSettings, GeminiClient } from '../transport';

/** A job's results by key. */
export interface BatchResults {
	keys(): string[];
	get(key: string): Promise<BatchResultLine | undefined>;
	close(): Promise<void>;
}

export function inlineResults(lines: BatchResultLine[]): BatchResults {
	const byKey = new Map(lines.map((line, n) => [line.key ?? `#${n}`, line]));
	const keys = [...byKey.keys()];
	return {
		keys: () => keys,
		// Each answer is read once: dropping it lets its image go as soon as its item is written.
		get: async (key) => {
			const line = byKey.get(key);
			byKey.delete(key);
			return line;
		},
		close: async () => byKey.clear(),
	};
}

/** A file job's results, streamed to a temporary file (removed on close) and indexed. */
export async function fileResults(
	client: GeminiClient,
	fileName: string,
	call: CallSettings,
): Promise<BatchResults> {
	const dir = await mkdtemp(join(tmpdir(), 'nano-banana-results-'));
	let results: BatchResults | undefined;
	try {
		const path = join(dir, 'results.jsonl');
		await client.downloadFile(fileName, path, call);
		results = await indexJsonlResults(path);
		const { keys, get, close } = results;
		return {
			keys,
			get,
			close: async () => {
				await close();
				await rm(dir, { recursive: true, force: true });
			},
		};
	} finally {
		if (!results) await rm(dir, { recursive: true, force: true });
	}
}

const KEY_AT_START = /^\{\s*"key"\s*:\s*("(?:[^"\\]|\\.)*")/;
/** Google writes the key last: `{"response":{…},"key":"item3"}`. */
const KEY_AT_END = /"key"\s*:\s*("(?:[^"\\]|\\.)*")\s*\}\s*$/;
const HEAD_BYTES = 512;
const TAIL_BYTES = 512;

/**
 * A local JSONL results file, indexed in one pass that keeps only each line's offsets: the images
 * stay on disk until their item is written, so memory stays flat however many come back. A line
 * is found by the `key` it starts or ends with (Google writes it last), read from the line's ends
 * only; a line with its key elsewhere is parsed once.
 */
export async function indexJsonlResults(path: string): Promise<BatchResults> {
	const file = await open(path, 'r');
	let indexed = false;
	try {
		const readLine = async (start: number, end: number) => {
			const buffer = Buffer.alloc(end - start);
			await file.read(buffer, 0, buffer.length, start);
			return buffer.toString('utf8');
		};
		const index = new Map<string, { start: number; end: number }>();
		for (const line of await scanLines(path)) {
			if (!line.head.trim()) continue;
			const match = KEY_AT_START.exec(line.head) ?? KEY_AT_END.exec(line.tail);
			const key = match
				? (JSON.parse(match[1]) as string)
				: (JSON.parse(await readLine(line.start, line.end)) as { key?: string }).key;
			if (key !== undefined) index.set(key, { start: line.start, end: line.end });
		}
		indexed = true;
		return {
			keys: () => [...index.keys()],
			get: async (key) => {
				const at = index.get(key);
				return at ? (JSON.parse(await readLine(at.start, at.end)) as BatchResultLine) : undefined;
			},
			close: async () => await file.close(),
		};
	} finally {
		if (!indexed) await file.close();
	}
}

/** Where a line of the file is, with its first and last bytes, which hold its key. */
interface LineEnds {
	start: number;
	end: number;
	head: string;
	tail: string;
}

/** Every line of the file, its ends kept and the rest only passed over. */
async function scanLines(path: string): Promise<LineEnds[]> {
	const lines: LineEnds[] = [];
	let offset = 0;
	let start = 0;
	let head: Buffer[] = [];
	let headBytes = 0;
	let tail: Buffer = Buffer.alloc(0);
	const endLine = (end: number) => {
		lines.push({
			start,
			end,
			head: Buffer.concat(head).toString('utf8'),
			tail: tail.toString('utf8'),
		});
		head = [];
		headBytes = 0;
		tail = Buffer.alloc(0);
	};
	for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
		let pos = 0;
		for (;;) {
			const newline = chunk.indexOf(10, pos);
			const end = newline === -1 ? chunk.length : newline;
			if (headBytes < HEAD_BYTES) {
				const piece = chunk.subarray(pos, Math.min(end, pos + HEAD_BYTES - headBytes));
				head.push(piece);
				headBytes += piece.length;
			}
			tail = keepTail(tail, chunk.subarray(pos, end));
			if (newline === -1) break;
			endLine(offset + newline);
			start = offset + newline + 1;
			pos = newline + 1;
		}
		offset += chunk.length;
	}
	if (offset > start) endLine(offset);
	return lines;
}

/** The last `TAIL_BYTES` of `tail` followed by `piece`, copied out of the read chunk. */
function keepTail(tail: Buffer, piece: Buffer): Buffer {
	if (piece.length >= TAIL_BYTES) return Buffer.from(piece.subarray(piece.length - TAIL_BYTES));
	const joined = Buffer.concat([tail, piece]);
	return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}
