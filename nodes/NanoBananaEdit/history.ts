/**
 * Earlier turns go back with every next step: the model's images with their thought signatures,
 * byte for byte (a signature belongs to the bytes it was given with, so an image is never
 * re-encoded here). What each API takes:
 * - the Gemini API: the whole request up to the inline limit; past it the largest earlier images
 *   move to the Files API (uploaded once, named by URI from then on);
 * - Vertex AI: each inline image up to 7 MB, and no Files API: a larger one is refused before
 *   sending, with what to do.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

import { itemError } from '../shared/pipeline/errors';
import { VERTEX_MAX_INLINE_IMAGE_BYTES } from '../shared/transport';
import type { CallSettings, GeminiClient, WireContent, WirePart } from '../shared/transport';

/** Room for the JSON around the parts and the generation config. */
const ENVELOPE_BYTES = 64 * 1024;
const MB = 1024 * 1024;

/** Bytes a part adds to the request body: its base64 or text. */
function partBytes(part: WirePart): number {
	return (part.inlineData?.data?.length ?? 0) + (part.text?.length ?? 0);
}

/** Decoded size of a base64 string, without decoding it. */
const decodedBytes = (base64: string) => Math.floor((base64.length * 3) / 4);

export interface HistoryFit {
	ctx: IExecuteFunctions;
	itemIndex: number;
	client: GeminiClient;
	call: CallSettings;
	inlineLimitBytes: number;
}

/**
 * Makes `history` fit next to `next` (the new user turn), changing it in place so that an upload
 * is not repeated at the following step.
 */
export async function fitHistory(
	history: WireContent[],
	next: WireContent,
	fit: HistoryFit,
): Promise<void> {
	const images = history
		.flatMap((content) => content.parts ?? [])
		.filter((part) => part.inlineData?.data);
	if (fit.client.isVertex) return refuseOversized(images, fit);
	const all = [...history, next].flatMap((content) => content.parts ?? []);
	let bytes = all.reduce((sum, part) => sum + partBytes(part), ENVELOPE_BYTES);
	const largestFirst = [...images].sort((a, b) => partBytes(b) - partBytes(a));
	for (const part of largestFirst) {
		if (bytes <= fit.inlineLimitBytes) break;
		bytes -= partBytes(part);
		await moveToFilesApi(part, fit);
	}
}

function refuseOversized(images: WirePart[], fit: HistoryFit): void {
	const oversized = images.find(
		(part) => decodedBytes(part.inlineData!.data!) > VERTEX_MAX_INLINE_IMAGE_BYTES,
	);
	if (!oversized) return;
	const size = (decodedBytes(oversized.inlineData!.data!) / MB).toFixed(1);
	throw itemError(
		fit.ctx,
		fit.itemIndex,
		`This step would send back an earlier image of ${size} MB, over Vertex AI's 7 MB per inline image`,
		'Vertex AI takes earlier images inline only, and they cannot be shrunk: their thought signatures belong to their exact bytes. Ask for a smaller Image Size (2K instead of 4K), give fewer steps, or use a Gemini API key credential, whose Files API takes large images. Nothing of this step was sent.',
	);
}

/** The part becomes a Files API reference to the same bytes; its signature stays. */
async function moveToFilesApi(part: WirePart, fit: HistoryFit): Promise<void> {
	const { mimeType = 'image/png', data = '' } = part.inlineData!;
	const file = await fit.client.uploadFile(
		Buffer.from(data, 'base64'),
		mimeType,
		'nano-banana-edit-history',
		fit.call,
	);
	delete part.inlineData;
	part.fileData = { mimeType: file.mimeType || mimeType, fileUri: file.uri };
}
