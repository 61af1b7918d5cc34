import { NodeOperationError } from 'n8n-workflow';
import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { estimateCostUsd } from '../shared/catalogue';
import { geminiClientFor } from '../shared/credentials';
import { forItem, toNodeError } from '../shared/errors';
import { compositeWithMask, extensionFor, maskRegion } from '../shared/image';
import type { MaskRegion } from '../shared/image';
import { fitImages, inputReport, readInputImage, readInputSettings } from '../shared/input';
import { defaultFileBase, writeImage } from '../shared/output';
import { runItems, withPartial } from '../shared/runner';
import { readImageSettings, readRequestSettings } from '../shared/settings';
import type { GenerateResult, Usage, WireContent, WirePart } from '../shared/transport';
import { SESSION_FIELD, SESSION_VERSION, SOURCE_PROPERTY, readSession, sessionError, sessionToContents } from './session';
import type { EditSession, SessionPart, SessionTurn } from './session';


function addUsage(total: Usage, more: Usage): Usage {
	return {
		promptTokens: total.promptTokens + more.promptTokens,
		outputTokens: total.outputTokens + more.outputTokens,
		thinkingTokens: total.thinkingTokens + more.thinkingTokens,
		totalTokens: total.totalTokens + more.totalTokens,
	};
}

function maskInstruction(region: MaskRegion): string {
	return `Change only the region from ${region.left}% to ${region.right}% of the width and ${region.top}% to ${region.bottom}% of the height (measured from the top-left corner). Keep everything outside it exactly as it is.`;
}

function readInstructions(ctx: IExecuteFunctions, itemIndex: number): string[] {
	const mode = ctx.getNodeParameter('mode', itemIndex, 'single') as string;
	const instructions =
		mode === 'steps'
			? ((ctx.getNodeParameter('steps.values', itemIndex, []) as Array<{ instruction?: string }>) ?? []).map((s) => String(s.instruction ?? '').trim())
			: [String(ctx.getNodeParameter('prompt', itemIndex, '')).trim()];
	const empty = instructions.findIndex((s) => !s);
	if (mode === 'steps' && instructions.length === 0) {
		throw new NodeOperationError(ctx.getNode(), forItem('Step by Step has no steps', itemIndex), { itemIndex, description: 'Add a step and write what to change in it.' });
	}
	if (empty >= 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			forItem(mode === 'steps' ? `Step ${empty + 1} has no instruction` : 'The instruction is empty', itemIndex),
			{ itemIndex, description: 'Write what to change, or check that the expression returns text for this item.' },
		);
	}
	return instructions;
}

/** What Generate outputs besides the text: the thought summary when asked for, the search sources when there are any. */
function thoughtsAndSources(result: GenerateResult, options: IDataObject): IDataObject {
	return {
		...(options.includeThoughts ? { thoughtText: result.thoughtText } : {}),
		...(result.groundingSources.length ? { groundingSources: result.groundingSources } : {}),
	};
}

/** The non-thought parts of a model turn, as sent back next turn and as kept in the session. */
function modelTurn(result: GenerateResult, imageProperties: string[]): { wire: WireContent; session: SessionTurn } {
	const wireParts: WirePart[] = [];
	const sessionParts: SessionPart[] = [];
	let image = 0;
	for (const part of result.modelContent.parts ?? []) {
		if (part.thought) continue;
		wireParts.push(part);
		const kept: SessionPart = {};
		if (part.inlineData?.data) kept.image = { binaryProperty: imageProperties[image++], mimeType: part.inlineData.mimeType ?? 'image/png' };
		else if (part.text !== undefined) kept.text = part.text;
		if (part.thoughtSignature) kept.thoughtSignature = part.thoughtSignature;
		sessionParts.push(kept);
	}
	return { wire: { role: 'model', parts: wireParts }, session: { role: 'model', parts: sessionParts } };
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const client = await geminiClientFor(this);
	const { concurrency, call } = readRequestSettings(this.getNodeParameter('options', 0, {}) as IDataObject);

	return await runItems(this, { concurrency }, async (i, { signal, gate }): Promise<INodeExecutionData[]> => {
		const item = items[i];
		const options = this.getNodeParameter('options', i, {}) as IDataObject;
		const continuing = this.getNodeParameter('continueEdit', i, false) as boolean;
		const session: EditSession | undefined = continuing ? readSession(this, i, item.json) : undefined;
		const instructions = readInstructions(this, i);
		const { request, output } = readImageSettings(this, i, {
			modelId: session?.model ?? (this.getNodeParameter('model', i, '', { extractValue: true }) as string),
			aspectRatio: this.getNodeParameter('aspectRatio', i, 'keep') as string,
			imageSize: this.getNodeParameter('imageSize', i, '1K') as string,
			options,
		});
		const inputSettings = readInputSettings(options, request.modelInfo);
		const callSettings = { ...call, signal, gate };
		const binary: Record<string, IBinaryData> = { ...(item.binary ?? {}) };
		const turns: SessionTurn[] = session ? [...session.turns] : [];
		const history: WireContent[] = session ? await sessionToContents(this, i, session) : [];
		let firstUserParts: WirePart[] = [];
		let inputJson: IDataObject | undefined;
		let original: Buffer;

		if (session) {
			if (!binary[SOURCE_PROPERTY]) throw sessionError(this, i, `the "${SOURCE_PROPERTY}" binary is missing`);
			original = await this.helpers.getBinaryDataBuffer(i, SOURCE_PROPERTY);
		} else {
			const property = String(this.getNodeParameter('binaryPropertyName', i, 'data')).trim();
			const image = await readInputImage(this, i, property, inputSettings);
			original = image.source;
			const fitted = await fitImages(this, i, [image], inputSettings, client, callSettings);
			firstUserParts = fitted.parts;
			inputJson = inputReport(fitted.images[0]);
			const sent = fitted.images[0].prepared;
			// What was sent is what a continued edit must show again; an untouched input is not stored twice.
			binary[SOURCE_PROPERTY] = sent.reencoded
				? await this.helpers.prepareBinaryData(sent.data, `edit-source.${extensionFor(sent.mimeType)}`, sent.mimeType)
				: binary[property];
		}

		// The mask is read and checked before any paid call.
		const maskProperty = String(options.maskBinaryProperty ?? '').trim();
		let mask: { data: Buffer; region: MaskRegion } | undefined;
		if (maskProperty) {
			const maskImage = await readInputImage(this, i, maskProperty, { ...inputSettings, keepMetadata: true, maxLongSide: undefined });
			const region = await maskRegion(maskImage.source);
			if (region.coverage === 0) {
				throw new NodeOperationError(this.getNode(), forItem(`Binary property "${maskProperty}": the mask has no white area, so nothing may change`, i), {
					itemIndex: i,
					description: 'Paint the region to edit white and the rest black.',
				});
			}
			mask = { data: maskImage.source, region };
		}

		const steps: IDataObject[] = [];
		let usage: Usage = { promptTokens: 0, outputTokens: 0, thinkingTokens: 0, totalTokens: 0 };
		let last: GenerateResult | undefined;
		let stepNumber = session?.steps ?? 0;
		for (const [k, instruction] of instructions.entries()) {
			stepNumber++;
			const text = mask ? `${instruction}\n\n${maskInstruction(mask.region)}` : instruction;
			const isFirstTurn = !session && k === 0;
			const userWire: WireContent = { role: 'user', parts: [{ text }, ...(isFirstTurn ? firstUserParts : [])] };
			const userSession: SessionTurn = {
				role: 'user',
				parts: [{ text }, ...(isFirstTurn ? [{ image: { binaryProperty: SOURCE_PROPERTY, mimeType: binary[SOURCE_PROPERTY].mimeType } }] : [])],
			};
			let result: GenerateResult;
			try {
				result = await client.generate({ ...request, contents: [...history, userWire] }, callSettings);
			} catch (error) {
				const nodeError = toNodeError(this, error, i);
				if (instructions.length > 1 || session) {
					nodeError.message = `Step ${stepNumber} ("${instruction.slice(0, 60)}") failed: ${nodeError.message}`;
					nodeError.context.failedStep = stepNumber;
				}
				// The images of the steps that succeeded stay on the item under Continue On Fail.
				throw withPartial(nodeError, { binary: Object.fromEntries(Object.entries(binary).filter(([name]) => name.startsWith('step'))) });
			}
			const names = result.images.map((_, n) => (n === result.images.length - 1 ? `step${stepNumber}` : `step${stepNumber}_${n + 1}`));
			for (const [n, image] of result.images.entries()) {
				binary[names[n]] = await this.helpers.prepareBinaryData(image.data, `${names[n]}.${extensionFor(image.mimeType)}`, image.mimeType);
			}
			if (options.outputThoughtImages) {
				// Named apart from stepN, so the session and a later Edit node never take them for step images.
				const prefix = instructions.length > 1 || session ? `step${stepNumber}_` : '';
				for (const [t, thought] of result.thoughtImages.entries()) {
					const name = `${prefix}thought${t + 1}`;
					binary[name] = await this.helpers.prepareBinaryData(thought.data, `${name}.${extensionFor(thought.mimeType)}`, thought.mimeType);
				}
			}
			const turn = modelTurn(result, names);
			history.push(userWire, turn.wire);
			turns.push(userSession, turn.session);
			usage = addUsage(usage, result.usage);
			steps.push({
				step: stepNumber,
				instruction,
				text: result.text,
				...thoughtsAndSources(result, options),
				finishReason: result.finishReason,
				usage: result.usage,
				binaryProperty: `step${stepNumber}`,
			});
			last = result;
		}

		const final = last!.images[last!.images.length - 1];
		const finalImage = mask ? { data: await compositeWithMask(original, final.data, mask.data, { featherPx: Number(options.maskFeatherPx ?? 0) }), mimeType: 'image/png' } : final;
		const written = await writeImage(this, finalImage, output, output.fileName || defaultFileBase(request.model, i));
		binary[output.binaryPropertyName] = written.binary;
		if (options.outputStepImages === false) {
			// No session goes out, so nothing needs the source or the step images again.
			for (const name of Object.keys(binary)) if (/^step\d+(_\d+)?$/.test(name) || name === SOURCE_PROPERTY) delete binary[name];
		}
		const editSession: EditSession = { version: SESSION_VERSION, model: request.model, steps: stepNumber, turns };
		return [
			{
				json: {
					model: request.model,
					modelVersion: last!.modelVersion,
					mode: instructions.length > 1 ? 'steps' : 'single',
					prompt: instructions[instructions.length - 1],
					...(inputJson ? { input: inputJson } : {}),
					aspectRatio: request.aspectRatio ?? 'keep',
					imageSize: request.imageSize,
					...written.json,
					...(mask ? { mask: { binaryProperty: maskProperty, region: mask.region, featherPx: Number(options.maskFeatherPx ?? 0) } } : {}),
					text: last!.text,
					...thoughtsAndSources(last!, options),
					finishReason: last!.finishReason,
					usage,
					estimatedCostUsd: estimateCostUsd(request.modelInfo, request.imageSize, instructions.length) ?? null,
					steps,
					...(options.outputStepImages === false ? {} : { [SESSION_FIELD]: editSession }),
				} as IDataObject,
				// The result first: it is what a Form completion, an email or a preview picks.
				binary: { [output.binaryPropertyName]: written.binary, ...binary },
				pairedItem: { item: i },
			},
		];
	});
}
