/**
 * Turning images from the API into n8n output: optional conversion with sharp, then the binary
 * helpers (which work in every binary-data mode), the json that describes the file, and the output
 * item of every image node (`imageOutputItem`).
 */
import type {
	IBinaryData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';

import { modelStatus } from '../catalogue';
import { convertImage } from '../image/convert';
import { extensionFor, readImageSize } from '../image/info';
import type { ImageRequest, OutputSettings } from './settings';
import type { GenerateResult, ResultImage } from '../transport';

export const CONVERSION_NOTE =
	'Converted with sharp: the C2PA and XMP provenance from the API was not carried over. An IPTC DigitalSourceType "trainedAlgorithmicMedia" marker was written where the format allows.';
export const ORIGINAL_NOTE =
	'The exact bytes from the API, with any provenance metadata they carry (C2PA, IPTC).';

/** `banner` → `banner-2.png`; an extension the user typed is replaced by the real one. */
export function outputFileName(base: string, mimeType: string, suffix?: string): string {
	const stem = base.replace(/\.(png|jpe?g|webp|avif|gif|heic|heif)$/i, '');
	return `${stem}${suffix ? `-${suffix}` : ''}.${extensionFor(mimeType)}`;
}

export function defaultFileBase(model: string, itemIndex: number, now = new Date()): string {
	const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..+$/, '').replace('T', '-');
	return `${model.replace(/[^A-Za-z0-9.-]+/g, '-')}-${stamp}-item${itemIndex}`;
}

export interface WrittenImage {
	binary: IBinaryData;
	json: IDataObject;
}

/**
 * Converts (if asked) and stores one image through prepareBinaryData. Never stores an empty file.
 */
export async function writeImage(
	ctx: IExecuteFunctions,
	image: ResultImage,
	output: OutputSettings,
	fileBase: string,
	suffix?: string,
): Promise<WrittenImage> {
	const wantsConversion = output.format !== 'original' || !!output.resize;
	const converted = wantsConversion
		? await convertImage(image.data, {
				format: output.format,
				quality: output.quality,
				resize: output.resize,
			})
		: undefined;
	const data = converted?.data ?? image.data;
	const info = converted ?? (await readImageSize(image.data));
	const binary = await ctx.helpers.prepareBinaryData(
		data,
		outputFileName(fileBase, info.mimeType, suffix),
		info.mimeType,
	);
	return {
		binary,
		json: {
			width: info.width,
			height: info.height,
			mimeType: info.mimeType,
			fileName: binary.fileName,
			fileSize: data.length,
			provenance: {
				keptOriginalBytes: !converted?.converted,
				note: converted?.converted ? CONVERSION_NOTE : ORIGINAL_NOTE,
			},
		},
	};
}

/**
 * The interim images the model drew while thinking, as binary properties `<prefix>thought1`, …;
 * `fileName` names each file from its property.
 */
export async function storeThoughtImages(
	ctx: IExecuteFunctions,
	result: GenerateResult,
	prefix: string,
	fileName: (property: string) => string,
): Promise<Record<string, IBinaryData>> {
	const binary: Record<string, IBinaryData> = {};
	for (const [t, thought] of result.thoughtImages.entries()) {
		const property = `${prefix}thought${t + 1}`;
		binary[property] = await ctx.helpers.prepareBinaryData(
			thought.data,
			`${fileName(property)}.${extensionFor(thought.mimeType)}`,
			thought.mimeType,
		);
	}
	return binary;
}

export interface ImageOutputParts {
	request: ImageRequest;
	/** The answer the image came from (the last step's, for Edit). */
	result: GenerateResult;
	/** What the node asked for (prompt, aspect ratio, inputs, …), after the model. */
	asked: IDataObject;
	written: WrittenImage;
	/** What the answer says, after the file: text, usage, cost, … */
	answer: IDataObject;
	/** The item's binaries, the written image first. */
	binary: Record<string, IBinaryData>;
	pairedItem: IPairedItemData | IPairedItemData[];
}

/**
 * One output item of an image node: the model, what was asked, the image size, the file, what the
 * answer says, in that order.
 */
export function imageOutputItem(parts: ImageOutputParts): INodeExecutionData {
	const { request, result, written } = parts;
	return {
		json: {
			model: request.model,
			modelStatus: modelStatus(request.model),
			modelVersion: result.modelVersion,
			...parts.asked,
			imageSize: request.imageSize,
			...written.json,
			...parts.answer,
		} as IDataObject,
		binary: parts.binary,
		pairedItem: parts.pairedItem,
	};
}
