/**
 * The nodes as AI Agent tools. n8n runs a tool node with the model's arguments as its one input
 * item and hands the model the JSON of the first output's items; binaries are dropped. So, as a
 * tool, a node returns one compact result the model can act on: image references to pass on (no
 * base64), and failures as `{ ok: false, error, hint }` with the advice that n8n would drop.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { imageRefOf } from '../pipeline/imageSource';

/** n8n gives a node's tool variant the node's type name plus `Tool`. */
export function runsAsTool(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().type.endsWith('Tool');
}

/** A failure for the model: no item numbers, the cure in the result itself. */
export function toolError(error: unknown): IDataObject {
	const e = error as { message?: string; description?: string | null };
	const message = String(e?.message ?? error).replace(
		/ \(item \d+(?: and items? [\d, -]+)?\)/g,
		'',
	);
	return { ok: false, error: message, hint: e?.description || undefined };
}

/**
 * Runs the node; as a tool, returns `summarize(outputs)` as the only item of the first output
 * (the one the model sees), and a failure as a result rather than a thrown error.
 */
export async function asTool(
	ctx: IExecuteFunctions,
	outputCount: number,
	run: () => Promise<INodeExecutionData[][]>,
	summarize: (outputs: INodeExecutionData[][]) => IDataObject,
): Promise<INodeExecutionData[][]> {
	if (!runsAsTool(ctx)) return await run();
	let json: IDataObject;
	try {
		json = summarize(await run());
	} catch (error) {
		json = toolError(error);
	}
	const rest = Array.from({ length: outputCount - 1 }, () => []);
	return [[{ json, pairedItem: { item: 0 } }], ...rest];
}

const TEXT_LIMIT = 200;

/** What an image node made, for the model: each image's ref and shape, the model's text. */
export function imageToolResult(outputs: INodeExecutionData[][]): IDataObject {
	const items = outputs.flat();
	const failed = items.find((item) => item.json.error);
	if (failed) return toolError(failed.json.error);
	const images = items.flatMap((item) => {
		const [binary] = Object.values(item.binary ?? {});
		if (!binary) return [];
		return [
			{
				ref: imageRefOf(binary) ?? null,
				fileName: binary.fileName,
				mimeType: binary.mimeType,
				width: item.json.width,
				height: item.json.height,
				bytes: item.json.fileSize ?? binary.bytes,
			},
		];
	});
	const text = items.map((item) => item.json.text).find((t) => typeof t === 'string' && t.trim());
	const result: IDataObject = { ok: true, images, model: items[0]?.json.model };
	if (text) result.text = String(text).trim().slice(0, TEXT_LIMIT);
	if (images.some((image) => !image.ref))
		result.hint =
			'n8n keeps binary data in memory here, so the images have no reference; set N8N_DEFAULT_BINARY_DATA_MODE=filesystem to chain tools.';
	return result;
}

/** Verify's verdict for the model, whichever output the item went to. */
export function verifyToolResult(outputs: INodeExecutionData[][]): IDataObject {
	const item = outputs.flat()[0];
	const verification = (item?.json.verification ?? {}) as IDataObject;
	const error = item?.json.error ?? verification.error;
	if (error) return toolError(typeof error === 'string' ? { message: error } : error);
	const checks = (verification.checks ?? []) as IDataObject[];
	const scores: IDataObject = {};
	const reasons: string[] = [];
	for (const check of checks) {
		const name = String(check.name);
		scores[name] = check.score ?? check.passed;
		const details = (check.details ?? {}) as IDataObject;
		if (!check.passed) {
			const why = Array.isArray(details.reasons) ? details.reasons.join('; ') : details.message;
			reasons.push(`${name}: ${why ?? 'failed'}`);
		}
	}
	return { pass: verification.passed === true, scores, reasons };
}
