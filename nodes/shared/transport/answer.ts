/**
 * Reads a generateContent answer with its images decoded straight from the bytes as they arrive.
 *
 * Why not JSON.parse: an image answer is megabytes of base64. Parsed whole, it becomes two strings
 * of that size in the V8 heap (the text and the `data` value) and then a third copy as bytes. In
 * n8n, whose heap is large, every such megabyte brings a costly full garbage collection closer.
 * Here each chunk's base64 is decoded into the image's buffer; only the small JSON around the
 * images is parsed, with each `inlineData.data` then set to its decoded Buffer.
 *
 * Anything unexpected (a `data` value that is not plain base64, an image not found where it was
 * read) falls back to parsing the whole text, so the result is never worse than JSON.parse.
 */

/** The JSON value an image's place holds until its Buffer is put back (not base64: has ':'). */
const PLACEHOLDER = 'nbs:image:';
const INLINE_DATA = Buffer.from('"inlineData"');
const DATA_KEY = Buffer.from('"data"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const CLOSE_BRACE = 0x7d;
/** Base64 is decoded in pieces of at most this many characters: small strings die young in V8. */
const PIECE = 32 * 1024;

/**
 * Frees a buffer's memory now, where Node can (22 and later: ArrayBuffer.prototype.transfer). Left
 * to the garbage collector, megabytes of dead chunks outside the V8 heap pile up between its minor
 * collections and set off full ones, which cost dearly in n8n's large heap. Only for memory this
 * module alone holds: a chunk fetch gave it (a copy of its own) or a buffer it outgrew.
 */
function release(bytes: Uint8Array): void {
	const buffer = bytes.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
	if (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) buffer.transfer?.(0);
}

function isSpace(byte: number): boolean {
	return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** One image being decoded: into a buffer sized from the bytes still to come, grown if short. */
class ImageWriter {
	private out: Buffer;
	private length = 0;
	/** Base64 characters carried to the next chunk, so pieces stay whole 4-char groups. */
	private carry = '';
	valid = true;

	constructor(expectedBytes: number) {
		// Unknown size (a compressed or chunked answer): start at 256 kB and double.
		this.out = Buffer.allocUnsafeSlow(expectedBytes || 256 * 1024);
	}

	write(base64: Buffer, final: boolean): void {
		for (let start = 0; start < base64.length && this.valid; start += PIECE) {
			const last = start + PIECE >= base64.length;
			this.decode(this.carry + base64.toString('latin1', start, start + PIECE), final && last);
		}
		if (final && base64.length === 0 && this.valid) this.decode(this.carry, true);
	}

	private decode(text: string, final: boolean): void {
		let whole = final ? text.length : text.length - (text.length % 4);
		// A group ending in padding is the last one: decode it once the value is known to end.
		if (!final && whole > 0 && text.charCodeAt(whole - 1) === 0x3d) whole -= 4;
		this.carry = text.slice(whole);
		if (whole === 0) return;
		const chars = final ? text.replace(/=+$/, '').length : whole;
		const expected = Math.floor((chars * 3) / 4);
		if (this.out.length - this.length < expected) {
			const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.length + expected));
			this.out.copy(bigger, 0, 0, this.length);
			release(this.out);
			this.out = bigger;
		}
		const written = this.out.write(text.slice(0, whole), this.length, 'base64');
		// Node skips characters that are not base64 (an escape, a space): then the value is not
		// plain base64 and the whole answer is parsed instead.
		if (written !== expected) this.valid = false;
		this.length += written;
	}

	/** The image; copied to its own buffer only when the estimate left much unused. */
	result(): Buffer {
		const image = this.out.subarray(0, this.length);
		if (this.out.length - this.length <= Math.max(64 * 1024, this.length / 4)) return image;
		const copy = Buffer.from(image);
		release(this.out);
		return copy;
	}
}

/** Where a string value starts after `"data"` (spaces, a colon, an opening quote); -1 if none. */
function valueStart(json: Buffer, from: number): number | 'more' {
	let i = from;
	while (i < json.length && isSpace(json[i])) i++;
	if (i >= json.length) return 'more';
	if (json[i] !== COLON) return -1;
	i++;
	while (i < json.length && isSpace(json[i])) i++;
	if (i >= json.length) return 'more';
	return json[i] === QUOTE ? i + 1 : -1;
}

/** Where the base64 of the next inlineData value starts in `json`, or what to do instead. */
function findImage(json: Buffer): { start: number } | { keepFrom: number } {
	let from = 0;
	for (;;) {
		const at = json.indexOf(INLINE_DATA, from);
		if (at < 0) return { keepFrom: Math.max(from, json.length - INLINE_DATA.length) };
		const end = json.indexOf(CLOSE_BRACE, at);
		let key = json.indexOf(DATA_KEY, at + INLINE_DATA.length);
		// A key that follows a backslash is inside a string, not the JSON's own.
		while (key > 0 && json[key - 1] === BACKSLASH) key = json.indexOf(DATA_KEY, key + 1);
		if (key < 0 || (end >= 0 && end < key)) {
			// No data key in this object yet: wait for more, or skip an object that has closed.
			if (end < 0) return { keepFrom: at };
			from = end + 1;
			continue;
		}
		const start = valueStart(json, key + DATA_KEY.length);
		if (start === 'more') return { keepFrom: at };
		if (start < 0) {
			from = key + DATA_KEY.length;
			continue;
		}
		return { start };
	}
}

type AnswerWithImages = {
	candidates?: Array<{ content?: { parts?: Array<{ inlineData?: { data?: unknown } }> } }>;
};

/**
 * One streaming pass: the JSON around the images, with a placeholder in each image's place, and
 * the images decoded so far. `fastPath` turns false when an image's value is not plain base64.
 */
class ImageAnswerPass {
	fastPath = true;
	private readonly json: Buffer[] = [];
	private readonly images: Buffer[] = [];
	/** JSON text not yet known to hold no start of an image (a key may be split across chunks). */
	private pending: Buffer = Buffer.alloc(0);
	private image: ImageWriter | undefined;
	private seen = 0;

	constructor(private readonly expectedBytes: number) {}

	take(chunk: Buffer): void {
		this.seen += chunk.length;
		let rest: Buffer | undefined = chunk;
		while (this.fastPath && rest && rest.length > 0)
			rest = this.image ? this.continueImage(this.image, rest) : this.openImage(rest);
	}

	/** Base64 up to the image's closing quote; the bytes after it, or undefined if none yet. */
	private continueImage(image: ImageWriter, rest: Buffer): Buffer | undefined {
		const quote = rest.indexOf(QUOTE);
		image.write(quote < 0 ? rest : rest.subarray(0, quote), quote >= 0);
		if (!image.valid) this.fastPath = false;
		if (quote < 0) return undefined;
		this.images.push(image.result());
		this.image = undefined;
		this.json.push(Buffer.from(`${PLACEHOLDER}${this.images.length - 1}"`));
		return rest.subarray(quote + 1);
	}

	/** JSON up to the next image's base64; the bytes from there, or undefined if none yet. */
	private openImage(rest: Buffer): Buffer | undefined {
		const pending = this.pending.length ? Buffer.concat([this.pending, rest]) : rest;
		const found = findImage(pending);
		if ('keepFrom' in found) {
			this.json.push(Buffer.from(pending.subarray(0, found.keepFrom)));
			this.pending = Buffer.from(pending.subarray(found.keepFrom));
			return undefined;
		}
		this.json.push(Buffer.from(pending.subarray(0, found.start)));
		const still = Math.max(0, this.expectedBytes - (this.seen - (pending.length - found.start)));
		this.image = new ImageWriter(Math.ceil((still * 3) / 4));
		this.pending = Buffer.alloc(0);
		return pending.subarray(found.start);
	}

	/** The parsed answer with its images put back; undefined: parse the whole text instead. */
	answer(): unknown {
		if (!this.fastPath || this.image) return undefined;
		this.json.push(this.pending);
		const answer = JSON.parse(Buffer.concat(this.json).toString('utf8')) as AnswerWithImages;
		let placed = 0;
		for (const candidate of answer?.candidates ?? [])
			for (const part of candidate?.content?.parts ?? []) {
				const data = part?.inlineData?.data;
				if (typeof data !== 'string' || !data.startsWith(PLACEHOLDER)) continue;
				part.inlineData!.data = this.images[Number(data.slice(PLACEHOLDER.length))];
				placed++;
			}
		return placed === this.images.length ? answer : undefined;
	}
}

/**
 * The parsed answer, with each `candidates[].content.parts[].inlineData.data` a Buffer of the
 * decoded image. `expectedBytes` is the answer's Content-Length when known (sizes the buffers).
 */
export async function readImageAnswer(
	body: AsyncIterable<Uint8Array>,
	expectedBytes = 0,
): Promise<unknown> {
	const received: Buffer[] = [];
	const pass = new ImageAnswerPass(expectedBytes);
	for await (const chunk of body) {
		const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		received.push(bytes);
		pass.take(bytes);
	}
	const answer = pass.answer();
	if (answer !== undefined) {
		received.forEach(release);
		return answer;
	}
	const text = Buffer.concat(received).toString('utf8');
	received.forEach(release);
	return JSON.parse(text) as unknown;
}
