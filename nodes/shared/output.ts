/**
 * Turning images from the API into n8n output: optional conversion with sharp, then the binary
 * helpers (which work in every binary-data mode), plus the json that describes the file.
 */
import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { convertImage } from './image/convert';
import { extensionFor, readImageSize } from './image/info';
import type { OutputSettings } from './settings';
import type { ResultImage } from './transport';

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
