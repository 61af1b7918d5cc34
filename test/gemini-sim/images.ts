import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

import { unreadableImage } from './errors';
import type { ImageFormat, ImageTexture } from './types';

/**
 * Real image files whose look depends on the request: the fill colour comes from the prompt,
 * thumbnails of the input images sit along the top edge, and the prompt is stored in the file.
 * Pixels are written into a raw buffer and encoded once, which keeps 4K images fast.
 */

export interface Rgb {
	r: number;
	g: number;
	b: number;
}

export interface RenderInput {
	width: number;
	height: number;
	prompt: string;
	model: string;
	format: ImageFormat;
	/** Decoded input images; up to four are drawn as thumbnails. */
	inputs?: Buffer[];
	/** Thought images are drawn in grey, so they are never mistaken for the final image. */
	thought?: boolean;
	/** 'noise' draws a grainy gradient instead of the flat fill (thought images stay flat); default 'flat'. */
	texture?: ImageTexture;
	/** Where 'noise' keeps the files it encoded, one per size and format (it is slow to draw at 4K). */
	textures?: TextureCache;
	/** The words written in the image when they differ from the prompt's quoted text; stored as `writtenText`. */
	writtenText?: string[];
}

/** Encoded noise images of one simulator instance, by size and format. */
export class TextureCache {
	private readonly files = new Map<string, Promise<Buffer>>();

	get(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
		let file = this.files.get(key);
		if (!file) {
			file = make();
			this.files.set(key, file);
			file.catch(() => this.files.delete(key));
		}
		return file;
	}
}

export function colourForPrompt(prompt: string): Rgb {
	const hash = createHash('sha256').update(prompt, 'utf8').digest();
	return { r: hash[0], g: hash[1], b: hash[2] };
}

const THUMBNAILS = 4;

export async function renderImage(input: RenderInput): Promise<Buffer> {
	const noise = input.texture === 'noise' && !input.thought;
	const text: Record<string, string> = {
		prompt: input.prompt,
		model: input.model,
		Software: 'gemini-sim',
	};
	if (input.writtenText) text.writtenText = JSON.stringify(input.writtenText);
	if (noise && !input.inputs?.length) {
		// Same pixels for every prompt of this size: only the text differs, added to the cached file.
		const key = `${input.width}x${input.height}.${input.format}`;
		const make = () =>
			encode(noiseCanvas(input.width, input.height), input.width, input.height, input.format, true);
		const file = await (input.textures ? input.textures.get(key, make) : make());
		return withText(file, input.format, text);
	}
	const canvas = noise ? noiseCanvas(input.width, input.height) : flatCanvas(input);
	await drawThumbnails(canvas, input);
	return withText(
		await encode(canvas, input.width, input.height, input.format, noise),
		input.format,
		text,
	);
}

/** The prompt's colour, with a strip in the complementary colour, so no answer is a single flat colour. */
function flatCanvas(input: RenderInput): Buffer {
	const { width, height } = input;
	const base = colourForPrompt(input.prompt);
	const fill = input.thought ? grey(base) : base;
	const canvas = Buffer.alloc(width * height * 3, Buffer.from([fill.r, fill.g, fill.b]));
	const stripTop = height - Math.max(1, Math.floor(height / 8));
	canvas.fill(Buffer.from([255 - fill.r, 255 - fill.g, 255 - fill.b]), stripTop * width * 3);
	return canvas;
}

/**
 * A diagonal colour gradient with grain: every pixel gets 0..2 added to all three channels, from a
 * fixed xorshift sequence. Encoded the way the simulator encodes (zlib 6 for PNG here, as real PNG
 * writers use) it makes files of real-image size: about 1 MB at 1K and 10 MB at 4K (square).
 */
function noiseCanvas(width: number, height: number): Buffer {
	const canvas = Buffer.allocUnsafe(width * height * 3);
	let seed = 0x9e3779b9;
	let at = 0;
	for (let y = 0; y < height; y++) {
		const green = 60 + Math.floor((120 * y) / height);
		for (let x = 0; x < width; x++) {
			seed ^= seed << 13;
			seed ^= seed >>> 17;
			seed ^= seed << 5;
			const grain = (seed >>> 0) % 3;
			canvas[at++] = 40 + Math.floor((150 * x) / width) + grain;
			canvas[at++] = green + grain;
			canvas[at++] = 90 + Math.floor((100 * (x + y)) / (width + height)) + grain;
		}
	}
	return canvas;
}

/** Flat images are encoded fast (zlib level 1); noise ones at zlib's usual level 6, for realistic sizes. */
async function encode(
	canvas: Buffer,
	width: number,
	height: number,
	format: ImageFormat,
	noise: boolean,
): Promise<Buffer> {
	const image = sharp(canvas, { raw: { width, height, channels: 3 } });
	if (format === 'jpeg') return await image.jpeg({ quality: 85 }).toBuffer();
	return await image.png({ compressionLevel: noise ? 6 : 1, adaptiveFiltering: false }).toBuffer();
}

function withText(file: Buffer, format: ImageFormat, text: Record<string, string>): Buffer {
	return format === 'jpeg' ? addJpegSegments(file, text) : addPngText(file, text);
}

async function drawThumbnails(canvas: Buffer, input: RenderInput): Promise<void> {
	const { width, height } = input;
	const boxWidth = Math.floor(width / THUMBNAILS);
	const boxHeight = Math.floor(height / THUMBNAILS);
	const inputs = (input.inputs ?? []).slice(0, THUMBNAILS);
	for (const [index, source] of inputs.entries()) {
		if (boxWidth < 1 || boxHeight < 1) break;
		// sharp's default pixel limit also turns away decompression bombs.
		const thumb = await sharp(source)
			.rotate()
			.resize(boxWidth, boxHeight, { fit: 'inside' })
			.flatten({ background: '#ffffff' })
			.removeAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true })
			.catch(() => {
				throw unreadableImage();
			});
		blit(canvas, width, thumb.data, thumb.info.width, thumb.info.height, index * boxWidth, 0);
	}
}

export function mimeTypeOf(format: ImageFormat): string {
	return format === 'jpeg' ? 'image/jpeg' : 'image/png';
}

function grey({ r, g, b }: Rgb): Rgb {
	const y = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
	return { r: y, g: y, b: y };
}

function blit(
	target: Buffer,
	targetWidth: number,
	source: Buffer,
	width: number,
	height: number,
	left: number,
	top: number,
) {
	for (let row = 0; row < height; row++) {
		const from = row * width * 3;
		source.copy(target, ((top + row) * targetWidth + left) * 3, from, from + width * 3);
	}
}

/* PNG text chunks, written by hand because sharp cannot write tEXt. */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The XMP Google's PNGs carry (IPTC digital source type and credit). */
const XMP = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" \
xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" \
Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" \
photoshop:Credit="Made with Google AI"/></rdf:RDF></x:xmpmeta>`;

function pngChunk(type: string, data: Buffer): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
	return Buffer.concat([head, data, crc]);
}

function textChunk(keyword: string, value: string): Buffer {
	// tEXt is Latin-1 only; anything else goes into an uncompressed iTXt chunk.
	if (/^[\x20-\x7e\xa0-\xff\n]*$/.test(value)) {
		return pngChunk(
			'tEXt',
			Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(value, 'latin1')]),
		);
	}
	return pngChunk(
		'iTXt',
		Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(value, 'utf8')]),
	);
}

function addPngText(png: Buffer, entries: Record<string, string>): Buffer {
	const ihdrEnd = PNG_SIGNATURE.length + 8 + png.readUInt32BE(PNG_SIGNATURE.length) + 4;
	const chunks = Object.entries(entries).map(([key, value]) => textChunk(key, value));
	chunks.push(
		pngChunk(
			'iTXt',
			Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), Buffer.from(XMP)]),
		),
	);
	return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/* JPEG: the same entries as JSON in a COM segment, the XMP in APP1. */

const COM_PREFIX = 'gemini-sim:';

function jpegSegment(marker: number, data: Buffer): Buffer {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(data.length + 2, 2);
	return Buffer.concat([head, data]);
}

function addJpegSegments(jpeg: Buffer, entries: Record<string, string>): Buffer {
	// After SOI and, if present, the JFIF APP0 segment, which must come first.
	let at = 2;
	if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + jpeg.readUInt16BE(4);
	const xmp = jpegSegment(
		0xe1,
		Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(XMP)]),
	);
	const comment = jpegSegment(0xfe, Buffer.from(COM_PREFIX + JSON.stringify(entries), 'utf8'));
	return Buffer.concat([jpeg.subarray(0, at), xmp, comment, jpeg.subarray(at)]);
}

/** The text entries a generated image carries ({prompt, model, Software[, writtenText]}); empty for other files. */
export function readImageText(image: Buffer): Record<string, string> {
	const found: Record<string, string> = {};
	if (image.subarray(0, 8).equals(PNG_SIGNATURE)) {
		let at = 8;
		while (at + 8 <= image.length) {
			const length = image.readUInt32BE(at);
			const type = image.toString('latin1', at + 4, at + 8);
			const data = image.subarray(at + 8, at + 8 + length);
			const nul = data.indexOf(0);
			if (type === 'tEXt' && nul > 0) {
				found[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
			} else if (type === 'iTXt' && nul > 0) {
				const keyword = data.toString('latin1', 0, nul);
				// compression flag, method, then NUL-terminated language tag and translated keyword
				let rest = nul + 3;
				rest = data.indexOf(0, rest) + 1;
				rest = data.indexOf(0, rest) + 1;
				if (keyword !== 'XML:com.adobe.xmp') found[keyword] = data.toString('utf8', rest);
			}
			if (type === 'IEND') break;
			at += 12 + length;
		}
	} else if (image[0] === 0xff && image[1] === 0xd8) {
		let at = 2;
		while (at + 4 <= image.length && image[at] === 0xff && image[at + 1] !== 0xda) {
			const length = image.readUInt16BE(at + 2);
			if (image[at + 1] === 0xfe) {
				const text = image.toString('utf8', at + 4, at + 2 + length);
				if (text.startsWith(COM_PREFIX))
					Object.assign(found, JSON.parse(text.slice(COM_PREFIX.length)));
			}
			at += 2 + length;
		}
	}
	return found;
}
