import sharp from 'sharp';

import { colourForPrompt, readImageText, type Rgb } from './images';
import type { ImageFacts } from './types';

/**
 * The simulator's eyes, for the judge. It cannot read pixels as words, so it knows an image by
 * what it can measure: the flat fill colour of the images it draws (a hash of their prompt, see
 * images.ts), the prompt stored in the file when the metadata survived, and a small fingerprint of
 * images a test told it about (`sim.teach`). Everything works on decoded pixels, so re-encoding,
 * stripped metadata and downscaling do not change what it sees.
 */

/** Largest per-channel difference for two colours to count as the same (JPEG shifts flat colours a little). */
const COLOUR_TOLERANCE = 6;
/** Most prompts remembered; the oldest are forgotten first. */
const MAX_REMEMBERED = 10_000;
const PRINT_SIZE = 16;
/** Mean absolute difference (0..255) below which two fingerprints are the same picture. */
const SAME_PICTURE = 10;

type Print = Buffer;

export class ImageMemory {
	/** By fill colour: the prompt, and the words drawn when they differ from its quoted text. */
	private readonly prompts = new Map<string, { prompt: string; written?: string[] }>();
	private readonly taught: Array<{ print: Print; facts: Partial<ImageFacts> }> = [];

	/** Called for every final image the simulator draws; `written` when its text came out wrong. */
	rememberPrompt(prompt: string, written?: string[]) {
		const key = colourKey(colourForPrompt(prompt));
		this.prompts.delete(key);
		this.prompts.set(key, { prompt, written });
		if (this.prompts.size > MAX_REMEMBERED)
			this.prompts.delete(this.prompts.keys().next().value as string);
	}

	/** Tells the simulator what an image it did not draw shows, e.g. the words written in it. */
	async teach(image: Buffer, facts: Partial<ImageFacts>) {
		this.taught.push({ print: await fingerprint(image), facts });
	}

	async describe(image: Buffer): Promise<ImageFacts> {
		const [fill, print] = await Promise.all([flatFill(image), fingerprint(image)]);
		const stored = readImageText(image);
		let prompt: string | undefined = stored.prompt;
		let written =
			stored.writtenText === undefined ? undefined : (JSON.parse(stored.writtenText) as string[]);
		if (prompt === undefined && fill) {
			const remembered = this.drawnFor(fill);
			prompt = remembered?.prompt;
			written = remembered?.written;
		}
		const text: string[] = [];
		for (const entry of this.taught) {
			if (meanDifference(entry.print, print) >= SAME_PICTURE) continue;
			prompt ??= entry.facts.prompt;
			text.push(...(entry.facts.text ?? []));
		}
		if (prompt) text.push(...(written ?? quotedText(prompt)));
		return { prompt, fill, text: [...new Set(text)] };
	}

	private drawnFor(fill: Rgb): { prompt: string; written?: string[] } | undefined {
		const exact = this.prompts.get(colourKey(fill));
		if (exact !== undefined) return exact;
		for (const [key, drawn] of this.prompts) {
			const [r, g, b] = key.split(',').map(Number);
			if (sameColour({ r, g, b }, fill)) return drawn;
		}
		return undefined;
	}
}

export function sameColour(a: Rgb, b: Rgb): boolean {
	return (
		Math.max(Math.abs(a.r - b.r), Math.abs(a.g - b.g), Math.abs(a.b - b.b)) <= COLOUR_TOLERANCE
	);
}

/** Text a prompt puts in quotes, which an image model writes into the picture. */
export function quotedText(prompt: string): string[] {
	return [...prompt.matchAll(/"([^"]+)"|“([^”]+)”/g)]
		.map((m) => (m[1] ?? m[2]).trim())
		.filter(Boolean);
}

/**
 * The text as an image model gets it wrong: two neighbouring letters swapped ("GOOD MORNIGN"), so
 * it differs even ignoring case. `next` is a seeded generator (0..1) that picks which pair.
 */
export function misspell(text: string, next: () => number): string {
	const isLetter = (c: string) => /\p{L}/u.test(c);
	const pairs: number[] = [];
	for (let i = 0; i + 1 < text.length; i++) {
		if (
			isLetter(text[i]) &&
			isLetter(text[i + 1]) &&
			text[i].toLowerCase() !== text[i + 1].toLowerCase()
		)
			pairs.push(i);
	}
	if (pairs.length === 0) return text.length > 1 ? text.slice(0, -1) : `${text}${text}`;
	const i = pairs[Math.floor(next() * pairs.length)];
	return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
}

/**
 * The colour of the band between the input thumbnails (top quarter) and the strip (bottom
 * eighth) of a simulator image; undefined when that band is not one flat colour.
 */
async function flatFill(image: Buffer): Promise<Rgb | undefined> {
	const { width, height } = await displayedSize(image);
	const top = Math.floor(height * 0.3);
	const band = Math.max(1, Math.min(Math.floor(height * 0.4), height - top));
	// A copy of the band at most 256 px wide is plenty to tell a flat colour, and fast at 4K.
	const pixels = await sharp(image)
		.rotate()
		.extract({ left: 0, top, width, height: band })
		.resize({
			width: Math.min(width, 256),
			fit: 'fill',
			height: Math.max(1, Math.round(band * Math.min(1, 256 / width))),
		})
		.flatten({ background: '#ffffff' })
		.removeAlpha()
		.raw()
		.toBuffer();
	const colour: number[] = [];
	for (let channel = 0; channel < 3; channel++) {
		let sum = 0;
		let squares = 0;
		const count = pixels.length / 3;
		for (let i = channel; i < pixels.length; i += 3) {
			sum += pixels[i];
			squares += pixels[i] * pixels[i];
		}
		const mean = sum / count;
		if (Math.sqrt(Math.max(0, squares / count - mean * mean)) > 4) return undefined;
		colour.push(Math.round(mean));
	}
	const [r, g, b] = colour;
	return { r, g, b };
}

async function fingerprint(
	image: Buffer,
	region?: { left: number; top: number; width: number; height: number },
): Promise<Print> {
	let pipeline = sharp(image).rotate();
	if (region) pipeline = pipeline.extract(region);
	return pipeline
		.flatten({ background: '#ffffff' })
		.resize(PRINT_SIZE, PRINT_SIZE, { fit: 'fill' })
		.removeAlpha()
		.raw()
		.toBuffer();
}

function meanDifference(a: Print, b: Print): number {
	let sum = 0;
	for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
	return sum / a.length;
}

/**
 * How alike the subject of `image` is to `reference`, 0..1: the same picture, or the reference
 * drawn as one of the input thumbnails along the top edge, as the simulator draws edits.
 */
export async function subjectSimilarity(image: Buffer, reference: Buffer): Promise<number> {
	const [print, referencePrint] = await Promise.all([fingerprint(image), fingerprint(reference)]);
	let best = meanDifference(print, referencePrint);

	const size = await displayedSize(image);
	const ref = await displayedSize(reference);
	const box = { width: size.width / 4, height: size.height / 4 };
	const scale = Math.min(box.width / ref.width, box.height / ref.height);
	const thumb = {
		width: Math.max(1, Math.round(ref.width * scale)),
		height: Math.max(1, Math.round(ref.height * scale)),
	};
	for (let slot = 0; slot < 4; slot++) {
		const left = Math.round(slot * box.width);
		if (left + thumb.width > size.width || thumb.height > size.height) break;
		const region = await fingerprint(image, { left, top: 0, ...thumb });
		best = Math.min(best, meanDifference(region, referencePrint));
	}
	return Math.round(Math.max(0, 1 - best / 60) * 100) / 100;
}

async function displayedSize(image: Buffer): Promise<{ width: number; height: number }> {
	const meta = await sharp(image).metadata();
	return {
		width: meta.autoOrient?.width ?? meta.width,
		height: meta.autoOrient?.height ?? meta.height,
	};
}

function colourKey({ r, g, b }: Rgb): string {
	return `${r},${g},${b}`;
}
