import { NodeOperationError } from 'n8n-workflow';
import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { estimateCostUsd } from '../shared/catalogue';
import { forItem, itemError, withContext } from '../shared/pipeline/errors';
import { compositeWithMask, extensionFor, maskRegion } from '../shared/image';
import type { MaskRegion } from '../shared/image';
import {
	fitImages,
	inputReport,
	readInputImage,
	readInputSettings,
} from '../shared/pipeline/input';
import type { InputSettings } from '../shared/pipeline/input';
import {
	defaultFileBase,
	imageOutputItem,
	storeThoughtImages,
	writeImage,
} from '../shared/pipeline/output';
import type { PreparedRequest } from '../shared/batch';
import { runImageNode } from '../shared/skeleton/imageNode';
import type { ImageTask } from '../shared/skeleton/imageNode';
import { withPartial } from '../shared/pipeline/runner';
import { readImageSettings } from '../shared/pipeline/settings';
import type { ImageRequest, OutputSettings } from '../shared/pipeline/settings';
import type {
	CallSettings,
	GeminiClient,
	GenerateResult,
	Usage,
	WireContent,
	WirePart,
} from '../shared/transport';
import {
	SESSION_FIELD,
	SESSION_VERSION,
	SOURCE_PROPERTY,
	readSession,
	sessionError,
	sessionToContents,
} from './session';
import type { EditSession, SessionPart, SessionTurn } from './session';
import { fitHistory } from './history';

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
			? (
					(ctx.getNodeParameter('steps.values', itemIndex, []) as Array<{
						instruction?: string;
					}>) ?? []
				).map((s) => String(s.instruction ?? '').trim())
			: [String(ctx.getNodeParameter('prompt', itemIndex, '')).trim()];
	const empty = instructions.findIndex((s) => !s);
	if (mode === 'steps' && instructions.length === 0) {
		throw itemError(
			ctx,
			itemIndex,
			'Step by Step has no steps',
			'Add a step and write what to change in it.',
		);
	}
	if (empty >= 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			forItem(
				mode === 'steps' ? `Step ${empty + 1} has no instruction` : 'The instruction is empty',
				itemIndex,
			),
			{
				itemIndex,
				description:
					'Write what to change, or check that the expression returns text for this item.',
			},
		);
	}
	return instructions;
}

/**
 * What a step outputs besides its text: the thought summary when asked for, the search sources
 * when there are any.
 */
function thoughtsAndSources(result: GenerateResult, options: IDataObject): IDataObject {
	return {
		...(options.includeThoughts ? { thoughtText: result.thoughtText } : {}),
		...(result.groundingSources.length ? { groundingSources: result.groundingSources } : {}),
	};
}

/**
 * The model turn as the next step sends it back: its non-thought parts, signatures verbatim, images
 * (decoded from the answer) as base64 again. Built only when a next step follows.
 */
function wireTurn(result: GenerateResult): WireContent {
	const parts = (result.modelContent.parts ?? [])
		.filter((part) => !part.thought)
		.map((part): WirePart => {
			const data = part.inlineData?.data;
			return Buffer.isBuffer(data)
				? { ...part, inlineData: { ...part.inlineData, data: data.toString('base64') } }
				: (part as WirePart);
		});
	return { role: 'model', parts };
}

/** The model turn as kept in the session: its images by binary property, not their bytes. */
function sessionTurn(result: GenerateResult, imageProperties: string[]): SessionTurn {
	const parts: SessionPart[] = [];
	let image = 0;
	for (const part of result.modelContent.parts ?? []) {
		if (part.thought) continue;
		const kept: SessionPart = {};
		if (part.inlineData?.data)
			kept.image = {
				binaryProperty: imageProperties[image++],
				mimeType: part.inlineData.mimeType ?? 'image/png',
			};
		else if (part.text !== undefined) kept.text = part.text;
		if (part.thoughtSignature) kept.thoughtSignature = part.thoughtSignature;
		parts.push(kept);
	}
	return { role: 'model', parts };
}

/** One item's edit as it goes: what it asks, what is sent, what is kept. */
interface EditJob {
	ctx: IExecuteFunctions;
	i: number;
	options: IDataObject;
	instructions: string[];
	session?: EditSession;
	request: ImageRequest;
	output: OutputSettings;
	inputSettings: InputSettings;
	call: CallSettings;
	/** The item's binaries, plus editSource and the step images as they are made. */
	binary: Record<string, IBinaryData>;
	history: WireContent[];
	turns: SessionTurn[];
}

interface EditInput {
	/** The image the edit started from, for the region lock. */
	original: Buffer;
	/** The image parts of the first user turn (none when continuing). */
	parts: WirePart[];
	report?: IDataObject;
}

interface Mask {
	property: string;
	data: Buffer;
	region: MaskRegion;
}

interface StepsDone {
	steps: IDataObject[];
	usage: Usage;
	last: GenerateResult;
	stepNumber: number;
}

async function startJob(
	ctx: IExecuteFunctions,
	i: number,
	item: INodeExecutionData,
	call: CallSettings,
): Promise<EditJob> {
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	const session = (ctx.getNodeParameter('continueEdit', i, false) as boolean)
		? readSession(ctx, i, item.json)
		: undefined;
	const instructions = readInstructions(ctx, i);
	const { request, output } = readImageSettings(ctx, i, {
		modelId:
			session?.model ?? (ctx.getNodeParameter('model', i, '', { extractValue: true }) as string),
		aspectRatio: ctx.getNodeParameter('aspectRatio', i, 'keep') as string,
		imageSize: ctx.getNodeParameter('imageSize', i, '1K') as string,
		options,
	});
	return {
		ctx,
		i,
		options,
		instructions,
		session,
		request,
		output,
		inputSettings: readInputSettings(options, request.modelInfo),
		call,
		binary: { ...(item.binary ?? {}) },
		history: session ? await sessionToContents(ctx, i, session) : [],
		turns: session ? [...session.turns] : [],
	};
}

/**
 * The image to edit: the item's upload, prepared and fitted, or the source of the conversation
 * being continued.
 */
async function readEditInput(
	job: EditJob,
	client: GeminiClient,
	keepSource = true,
): Promise<EditInput> {
	const { ctx, i, binary } = job;
	if (job.session) {
		if (!binary[SOURCE_PROPERTY])
			throw sessionError(ctx, i, `the "${SOURCE_PROPERTY}" binary is missing`);
		return { original: await ctx.helpers.getBinaryDataBuffer(i, SOURCE_PROPERTY), parts: [] };
	}
	const property = String(ctx.getNodeParameter('binaryPropertyName', i, 'data')).trim();
	const image = await readInputImage(ctx, i, property, job.inputSettings);
	const fitted = await fitImages(ctx, i, [image], job.inputSettings, client, job.call);
	const sent = fitted.images[0].prepared;
	if (!keepSource)
		return { original: image.source, parts: fitted.parts, report: inputReport(fitted.images[0]) };
	// What was sent is what a continued edit must show again; an untouched input is not stored twice.
	binary[SOURCE_PROPERTY] = sent.reencoded
		? await ctx.helpers.prepareBinaryData(
				sent.data,
				`edit-source.${extensionFor(sent.mimeType)}`,
				sent.mimeType,
			)
		: image.binary;
	return { original: image.source, parts: fitted.parts, report: inputReport(fitted.images[0]) };
}

/** The region lock, read and checked before any paid call. */
async function readMask(job: EditJob): Promise<Mask | undefined> {
	const { ctx, i } = job;
	const property = String(job.options.maskBinaryProperty ?? '').trim();
	if (!property) return undefined;
	const image = await readInputImage(ctx, i, property, {
		...job.inputSettings,
		keepMetadata: true,
		maxLongSide: undefined,
	});
	const region = await maskRegion(image.source);
	if (region.coverage === 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			forItem(
				`Binary property "${property}": the mask has no white area, so nothing may change`,
				i,
			),
			{
				itemIndex: i,
				description: 'Paint the region to edit white and the rest black.',
			},
		);
	}
	return { property, data: image.source, region };
}

/** A step's user turn: as sent (the first also carries the image) and as kept in the session. */
function userTurn(job: EditJob, input: EditInput, text: string, isFirstTurn: boolean) {
	const wire: WireContent = {
		role: 'user',
		parts: [{ text }, ...(isFirstTurn ? input.parts : [])],
	};
	const source = (): SessionPart => ({
		image: { binaryProperty: SOURCE_PROPERTY, mimeType: job.binary[SOURCE_PROPERTY].mimeType },
	});
	const kept: SessionTurn = { role: 'user', parts: [{ text }, ...(isFirstTurn ? [source()] : [])] };
	return { wire, kept };
}

/**
 * One step's request, the history fitted before it. A failure names the step when there are
 * several (or a continued conversation), and keeps the images of the steps before it.
 */
async function sendStep(
	job: EditJob,
	client: GeminiClient,
	userWire: WireContent,
	step: { number: number; instruction: string },
): Promise<GenerateResult> {
	const { ctx, i, binary } = job;
	try {
		await fitHistory(job.history, userWire, {
			ctx,
			itemIndex: i,
			client,
			call: job.call,
			inlineLimitBytes: job.inputSettings.inlineLimitBytes,
		});
		return await client.generate(
			{ ...job.request, contents: [...job.history, userWire] },
			job.call,
		);
	} catch (error) {
		const named =
			job.instructions.length > 1 || job.session
				? withContext(error, {
						prefix: `Step ${step.number} ("${step.instruction.slice(0, 60)}") failed: `,
						context: { failedStep: step.number },
					})
				: error;
		// The images of the steps that succeeded stay on the item under Continue On Fail.
		throw withPartial(named, {
			binary: Object.fromEntries(
				Object.entries(binary).filter(([name]) => name.startsWith('step')),
			),
		});
	}
}

/** Stores a step's images as stepN (the last) and stepN_k, and its thought images; their names. */
async function storeStepImages(
	job: EditJob,
	result: GenerateResult,
	stepNumber: number,
): Promise<string[]> {
	const { ctx, binary } = job;
	const names = result.images.map((_, n) =>
		n === result.images.length - 1 ? `step${stepNumber}` : `step${stepNumber}_${n + 1}`,
	);
	for (const [n, image] of result.images.entries()) {
		binary[names[n]] = await ctx.helpers.prepareBinaryData(
			image.data,
			`${names[n]}.${extensionFor(image.mimeType)}`,
			image.mimeType,
		);
	}
	if (job.options.outputThoughtImages) {
		// Named apart from stepN, so the session and a later Edit node never take them for step
		// images.
		const prefix = job.instructions.length > 1 || job.session ? `step${stepNumber}_` : '';
		Object.assign(binary, await storeThoughtImages(ctx, result, prefix, (name) => name));
	}
	return names;
}

/**
 * Each instruction is one turn of the conversation; a failed step keeps the images of those before
 * it.
 */
async function runSteps(
	job: EditJob,
	client: GeminiClient,
	input: EditInput,
	mask: Mask | undefined,
): Promise<StepsDone> {
	const { options, instructions, session } = job;
	const steps: IDataObject[] = [];
	let usage: Usage = { promptTokens: 0, outputTokens: 0, thinkingTokens: 0, totalTokens: 0 };
	let last: GenerateResult | undefined;
	let stepNumber = session?.steps ?? 0;
	for (const [k, instruction] of instructions.entries()) {
		stepNumber++;
		const text = mask ? `${instruction}\n\n${maskInstruction(mask.region)}` : instruction;
		const user = userTurn(job, input, text, !session && k === 0);
		const result = await sendStep(job, client, user.wire, { number: stepNumber, instruction });
		const names = await storeStepImages(job, result, stepNumber);
		if (k < instructions.length - 1) job.history.push(user.wire, wireTurn(result));
		job.turns.push(user.kept, sessionTurn(result, names));
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
	return { steps, usage, last: last!, stepNumber };
}

/**
 * The result image (through the region lock), the report and the session a later Edit node
 * continues.
 */
async function editOutput(
	job: EditJob,
	input: EditInput,
	mask: Mask | undefined,
	done: StepsDone,
): Promise<INodeExecutionData> {
	const { ctx, i, options, request, output, instructions, binary } = job;
	const { last } = done;
	const final = last.images[last.images.length - 1];
	const featherPx = Number(options.maskFeatherPx ?? 0);
	const finalImage = mask
		? {
				data: await compositeWithMask(input.original, final.data, mask.data, { featherPx }),
				mimeType: 'image/png',
			}
		: final;
	const written = await writeImage(
		ctx,
		finalImage,
		output,
		output.fileName || defaultFileBase(request.model, i),
	);
	binary[output.binaryPropertyName] = written.binary;
	if (options.outputStepImages === false) {
		// No session goes out, so nothing needs the source or the step images again.
		for (const name of Object.keys(binary))
			if (/^step\d+(_\d+)?$/.test(name) || name === SOURCE_PROPERTY) delete binary[name];
	}
	const editSession: EditSession = {
		version: SESSION_VERSION,
		model: request.model,
		steps: done.stepNumber,
		turns: job.turns,
	};
	return imageOutputItem({
		request,
		result: last,
		asked: {
			mode: instructions.length > 1 ? 'steps' : 'single',
			prompt: instructions[instructions.length - 1],
			...(input.report ? { input: input.report } : {}),
			aspectRatio: request.aspectRatio ?? 'keep',
		},
		written,
		answer: {
			...(mask ? { mask: { binaryProperty: mask.property, region: mask.region, featherPx } } : {}),
			text: last.text,
			...thoughtsAndSources(last, options),
			finishReason: last.finishReason,
			usage: done.usage,
			estimatedCostUsd:
				estimateCostUsd(request.modelInfo, request.imageSize, instructions.length) ?? null,
			steps: done.steps,
			...(options.outputStepImages === false ? {} : { [SESSION_FIELD]: editSession }),
		},
		// The result first: it is what a Form completion, an email or a preview picks.
		binary: { [output.binaryPropertyName]: written.binary, ...binary },
		pairedItem: { item: i },
	});
}

/**
 * What Batch mode cannot do: each needs an answer, or the source image, that a batch result does
 * not bring back.
 */
function batchRefusal(job: EditJob): string | undefined {
	if (job.session)
		return 'Continue Edit is not available in Batch mode: the conversation is kept with its images, which a batch result does not bring back';
	if (job.ctx.getNodeParameter('mode', job.i, 'single') === 'steps')
		return 'Step by Step is not available in Batch mode: each step needs the answer to the step before';
	if (String(job.options.maskBinaryProperty ?? '').trim())
		return 'The region lock (Mask Binary Property) is not available in Batch mode: it needs the source image when the result comes back';
	return undefined;
}

/**
 * An item's edit as one batch request: read, stripped, fitted and checked exactly as in realtime.
 */
async function prepare({ ctx, ready, task: i, call }: ImageTask): Promise<PreparedRequest> {
	const job = await startJob(ctx, i, ctx.getInputData()[i], call);
	const refusal = batchRefusal(job);
	if (refusal)
		throw itemError(
			ctx,
			i,
			refusal,
			'Nothing was sent for this item. Use Realtime mode for it, or a single instruction without these options.',
		);
	const input = await readEditInput(job, ready.client, false);
	const prompt = job.instructions[0];
	return {
		request: {
			...job.request,
			contents: [{ role: 'user', parts: [{ text: prompt }, ...input.parts] }],
		},
		count: 1,
		asked: {
			mode: 'single',
			prompt,
			...(input.report ? { input: input.report } : {}),
			aspectRatio: job.request.aspectRatio ?? 'keep',
		},
		output: job.output,
		options: job.options,
		fileBase: job.output.fileName || defaultFileBase(job.request.model, i),
	};
}

/** An item's edit up to its last request: the input, the region lock, then each step. */
async function request({ ctx, ready, task: i, call }: ImageTask) {
	const job = await startJob(ctx, i, ctx.getInputData()[i], call);
	const input = await readEditInput(job, ready.client);
	const mask = await readMask(job);
	const done = await runSteps(job, ready.client, input, mask);
	return { job, input, mask, done };
}

export const execute = runImageNode({
	node: 'Edit',
	prepare,
	request,
	output: async (_task, { job, input, mask, done }) => [await editOutput(job, input, mask, done)],
});
