import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { DEFAULT_TEXT_MODEL, estimateTextCostUsd, normaliseModelId } from '../shared/catalogue';
import { checkSimilarity, parseAspectRatio, runTechnicalChecks } from '../shared/checks';
import type { CheckResult, SimilarityMode, TechnicalCheckOptions } from '../shared/checks';
import { VERIFY_THRESHOLDS } from '../shared/constants';
import { clientAndBudgetFor } from '../shared/pipeline/credentials';
import { itemError } from '../shared/pipeline/errors';
import { ImageInputError } from '../shared/image';
import { imageSourceOf } from '../shared/pipeline/imageSource';
import {
	fitImages,
	prepareBinary,
	readBinary,
	readInputImage,
	readInputSettings,
} from '../shared/pipeline/input';
import { SYNTH_ID_NOT_CHECKED, checkProvenance } from '../shared/provenance';
import type { ProvenanceMode } from '../shared/provenance';
import { runItems, withPartial, withSetup } from '../shared/pipeline/runner';
import { readRequestSettings } from '../shared/pipeline/settings';
import { SpendGuard } from '../shared/transport';
import type { CallSettings, GeminiClient } from '../shared/transport';
import { buildJudgeRequest, criteriaResults, criteriaText, readVerdicts } from './judge';
import { isJudgeModel } from '../shared/skeleton/methods/listSearch';
import type { Criterion } from './judge';

const MB = 1024 * 1024;
/**
 * The judge's copy is downscaled to this unless set: enough to read small text, cheaper to send.
 */
const JUDGE_MAX_LONG_SIDE = 3072;

interface ItemSettings {
	property: string;
	criteria: Criterion[];
	judgeModel: string;
	technical: TechnicalCheckOptions;
	similarity?: { referenceProperty: string; mode: SimilarityMode; threshold: number };
	provenance?: { mode: ProvenanceMode; trustAnchorsPem?: string };
	options: IDataObject;
}

function readThreshold(
	ctx: IExecuteFunctions,
	itemIndex: number,
	value: unknown,
	what: string,
): number {
	const threshold = Number(value);
	if (!(threshold >= 0 && threshold <= 1)) {
		throw itemError(
			ctx,
			itemIndex,
			`The threshold for ${what} must be between 0 and 1, not ${String(value)}`,
			'Set a score from 0 (not met) to 1 (fully met); for 70 % write 0.7.',
		);
	}
	return threshold;
}

function splitList(value: unknown): string[] {
	return String(value ?? '')
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);
}

function readPromptAdherence(ctx: IExecuteFunctions, i: number): Criterion {
	const prompt = String(ctx.getNodeParameter('prompt', i, '') ?? '').trim();
	if (!prompt) {
		throw itemError(
			ctx,
			i,
			'Prompt adherence needs a prompt, and the prompt is empty',
			'By default the prompt comes from the item ($json.prompt), as a Nano Banana Generate node leaves it. Type the prompt, or switch Check Prompt Adherence off.',
		);
	}
	const threshold = readThreshold(
		ctx,
		i,
		ctx.getNodeParameter('promptAdherenceThreshold', i, VERIFY_THRESHOLDS.promptAdherence),
		'prompt adherence',
	);
	return { id: 'promptAdherence', kind: 'promptAdherence', threshold, prompt };
}

function readSameSubject(ctx: IExecuteFunctions, i: number): Criterion {
	const references = splitList(ctx.getNodeParameter('referenceBinaryProperties', i, 'reference'));
	if (references.length === 0) {
		throw itemError(
			ctx,
			i,
			'Same subject needs at least one reference binary property',
			'Name the binary properties that hold the reference images, separated by commas.',
		);
	}
	const threshold = readThreshold(
		ctx,
		i,
		ctx.getNodeParameter('sameSubjectThreshold', i, VERIFY_THRESHOLDS.sameSubject),
		'the same subject',
	);
	return { id: 'sameSubject', kind: 'sameSubject', threshold, references };
}

/** The filled rows of a fixed collection (expected text, custom rules), in the editor's order. */
function filledRows(
	ctx: IExecuteFunctions,
	i: number,
	parameter: string,
	key: 'text' | 'rule',
): Array<{ value: string; threshold?: number }> {
	const rows =
		(ctx.getNodeParameter(parameter, i, []) as Array<{
			text?: string;
			rule?: string;
			threshold?: number;
		}>) ?? [];
	return rows
		.filter((row) => String(row[key] ?? '').trim())
		.map((row) => ({ value: String(row[key]).trim(), threshold: row.threshold }));
}

function readExpectedTexts(ctx: IExecuteFunctions, i: number): Criterion[] {
	return filledRows(ctx, i, 'expectedText.values', 'text').map((row, n) => ({
		id: `expectedText${n + 1}`,
		kind: 'expectedText',
		threshold: readThreshold(
			ctx,
			i,
			row.threshold ?? VERIFY_THRESHOLDS.expectedText,
			`expected text ${n + 1}`,
		),
		text: row.value,
	}));
}

function readCustomRules(ctx: IExecuteFunctions, i: number): Criterion[] {
	return filledRows(ctx, i, 'customRules.values', 'rule').map((row, n) => ({
		id: `customRule${n + 1}`,
		kind: 'customRule',
		threshold: readThreshold(
			ctx,
			i,
			row.threshold ?? VERIFY_THRESHOLDS.customRule,
			`custom rule ${n + 1}`,
		),
		rule: row.value,
	}));
}

/** Each criterion kind in turn, as the editor shows them; the judge needs at least one. */
function readCriteria(ctx: IExecuteFunctions, i: number): Criterion[] {
	const criteria: Criterion[] = [];
	if (ctx.getNodeParameter('promptAdherence', i, true)) criteria.push(readPromptAdherence(ctx, i));
	if (ctx.getNodeParameter('sameSubject', i, false)) criteria.push(readSameSubject(ctx, i));
	criteria.push(...readExpectedTexts(ctx, i), ...readCustomRules(ctx, i));
	if (criteria.length === 0) {
		throw itemError(
			ctx,
			i,
			'The AI judge is on but has nothing to judge',
			'Switch on Check Prompt Adherence or Check Same Subject, add expected text or a custom rule, or switch the AI judge off.',
		);
	}
	return criteria;
}

function readTechnical(ctx: IExecuteFunctions, i: number, raw: IDataObject): TechnicalCheckOptions {
	const technical: TechnicalCheckOptions = {};
	const dimensions: NonNullable<TechnicalCheckOptions['dimensions']> = {};
	for (const key of ['minWidth', 'maxWidth', 'minHeight', 'maxHeight'] as const) {
		if (raw[key] !== undefined && raw[key] !== null && raw[key] !== '')
			dimensions[key] = Number(raw[key]);
	}
	if (Object.keys(dimensions).length) technical.dimensions = dimensions;
	const ratio = String(raw.aspectRatio ?? '').trim();
	if (ratio) {
		try {
			parseAspectRatio(ratio);
		} catch (error) {
			throw itemError(
				ctx,
				i,
				(error as Error).message,
				'Write the aspect ratio as width:height, e.g. 16:9, or as a number such as 1.78.',
			);
		}
		technical.aspectRatio = { ratio, tolerance: Number(raw.aspectRatioTolerance ?? 3.5) / 100 };
	}
	const formats = (raw.allowedFormats as string[] | undefined) ?? [];
	if (raw.allowedFormats !== undefined) technical.format = { allowed: formats };
	if (raw.maxFileSizeMb !== undefined)
		technical.fileSize = { maxBytes: Math.round(Number(raw.maxFileSizeMb) * MB) };
	if (raw.transparency === 'transparent' || raw.transparency === 'opaque')
		technical.transparency = { expect: raw.transparency };
	if (raw.notBlank === true) technical.notBlank = {};
	return technical;
}

function readJudgeModel(ctx: IExecuteFunctions, i: number): string {
	return normaliseModelId(
		String(ctx.getNodeParameter('judgeModel', i, DEFAULT_TEXT_MODEL, { extractValue: true }) ?? ''),
	);
}

/** The judge must be a text model that reads images; an image model cannot answer in words. */
function checkJudgeModel(ctx: IExecuteFunctions, i: number, judgeModel: string): void {
	if (!judgeModel) {
		throw itemError(
			ctx,
			i,
			'No judge model is selected',
			`Pick a model from the list or type a model ID, e.g. ${DEFAULT_TEXT_MODEL}.`,
		);
	}
	if (!isJudgeModel({ id: judgeModel, displayName: judgeModel, methods: [] })) {
		throw itemError(
			ctx,
			i,
			`"${judgeModel}" is not a text model, so it cannot judge`,
			`The AI judge needs a Gemini text model that reads images. Pick one from the list, e.g. ${DEFAULT_TEXT_MODEL}.`,
		);
	}
}

function readSimilarity(
	ctx: IExecuteFunctions,
	i: number,
	similarity: IDataObject,
): NonNullable<ItemSettings['similarity']> {
	return {
		referenceProperty:
			String(similarity.referenceBinaryProperty ?? 'reference').trim() || 'reference',
		mode: similarity.mode === 'atMost' ? 'atMost' : 'atLeast',
		threshold: readThreshold(
			ctx,
			i,
			similarity.threshold ?? VERIFY_THRESHOLDS.similarity,
			'similarity',
		),
	};
}

function readProvenance(
	ctx: IExecuteFunctions,
	i: number,
	mode: ProvenanceMode,
): NonNullable<ItemSettings['provenance']> {
	return {
		mode,
		trustAnchorsPem:
			String(ctx.getNodeParameter('trustAnchorsPem', i, '') ?? '').trim() || undefined,
	};
}

/** An item with no check enabled would always pass, so it is an error instead. */
function requireSomeCheck(ctx: IExecuteFunctions, i: number, settings: ItemSettings): void {
	const anyCheck =
		settings.criteria.length ||
		Object.keys(settings.technical).length ||
		settings.similarity ||
		settings.provenance;
	if (!anyCheck) {
		throw itemError(
			ctx,
			i,
			'No check is enabled, so nothing can pass or fail',
			'Switch the AI judge on, add a technical check, a similarity check, or choose a provenance mode.',
		);
	}
}

/** Verify's parameters in the editor's order; each part checks its own values. */
function readSettings(ctx: IExecuteFunctions, i: number): ItemSettings {
	const aiJudge = ctx.getNodeParameter('aiJudge', i, true) as boolean;
	// n8n throws for a missing path when the fallback is undefined, so read the whole collection.
	const similarity = ((ctx.getNodeParameter('similarity', i, {}) as IDataObject) ?? {}).check as
		IDataObject | undefined;
	const provenance = ctx.getNodeParameter('provenance', i, 'off') as ProvenanceMode | 'off';
	const settings: ItemSettings = {
		property: String(ctx.getNodeParameter('binaryPropertyName', i, 'data')).trim() || 'data',
		criteria: aiJudge ? readCriteria(ctx, i) : [],
		judgeModel: aiJudge ? readJudgeModel(ctx, i) : '',
		technical: readTechnical(
			ctx,
			i,
			(ctx.getNodeParameter('technicalChecks', i, {}) as IDataObject) ?? {},
		),
		options: (ctx.getNodeParameter('options', i, {}) as IDataObject) ?? {},
	};
	if (aiJudge) checkJudgeModel(ctx, i, settings.judgeModel);
	if (similarity) settings.similarity = readSimilarity(ctx, i, similarity);
	if (provenance !== 'off') settings.provenance = readProvenance(ctx, i, provenance);
	requireSomeCheck(ctx, i, settings);
	return settings;
}

/** A local check that cannot read the file at all is an item error, saying which file. */
async function local<T>(
	ctx: IExecuteFunctions,
	i: number,
	what: string,
	check: () => Promise<T>,
): Promise<T> {
	try {
		return await check();
	} catch (error) {
		const hint =
			error instanceof ImageInputError
				? error.hint
				: 'Make sure the binary property holds an image file.';
		throw itemError(ctx, i, `${what}: ${(error as Error).message}`, hint);
	}
}

async function runLocalChecks(
	ctx: IExecuteFunctions,
	i: number,
	settings: ItemSettings,
	original: Awaited<ReturnType<typeof readBinary>>,
): Promise<CheckResult[]> {
	const { property } = settings;
	const what = `Binary property "${property}"`;
	const checks: CheckResult[] = [];
	if (Object.keys(settings.technical).length) {
		checks.push(
			...(await local(
				ctx,
				i,
				what,
				async () => await runTechnicalChecks(original.data, settings.technical),
			)),
		);
	}
	if (settings.similarity) {
		const { referenceProperty, mode, threshold } = settings.similarity;
		const reference = await readBinary(ctx, i, referenceProperty);
		const result = await local(
			ctx,
			i,
			`Similarity of "${property}" to "${referenceProperty}"`,
			async () => await checkSimilarity(original.data, reference.data, { mode, threshold }),
		);
		checks.push({
			...result,
			details: { ...(result.details as IDataObject), referenceBinaryProperty: referenceProperty },
		});
	}
	if (settings.provenance) {
		const { mode, trustAnchorsPem } = settings.provenance;
		checks.push(
			await local(
				ctx,
				i,
				what,
				async () =>
					await checkProvenance(original.data, original.binary.mimeType, { mode, trustAnchorsPem }),
			),
		);
	}
	return checks;
}

/**
 * The item's binaries; an image named by reference or URL is added as `data`, so a node after
 * Verify (e.g. after an AI Agent) gets the file itself.
 */
function namedImage(
	item: INodeExecutionData,
	property: string,
	image: IBinaryData,
): INodeExecutionData['binary'] {
	if (imageSourceOf(property).kind === 'property') return item.binary;
	return { ...item.binary, data: image };
}

function reportOf(checks: CheckResult[], extra: IDataObject = {}): IDataObject {
	return {
		passed: checks.length > 0 && checks.every((c) => c.passed),
		checks: checks.map((c) => ({
			name: c.name,
			passed: c.passed,
			score: c.score ?? null,
			details: c.details,
		})),
		...extra,
		synthId: SYNTH_ID_NOT_CHECKED,
	};
}

/** What every item shares, read before the item loop: a failure here is every item's. */
async function setup(ctx: IExecuteFunctions) {
	const firstOptions = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(firstOptions);
	return { concurrency, call, failOnlyOnErrors: firstOptions.failOutputOnlyOnErrors === true };
}
type Setup = Awaited<ReturnType<typeof setup>>;

/** Pass and Fail outputs; an item that errors goes to Fail (an error is never a pass). */
const OUTPUTS = { outputs: 2, failedOutput: 1 };

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withSetup(this, OUTPUTS, setup, run);
}

/**
 * One client per execution, made only if an item needs the judge: a credential that cannot make
 * one fails the items that need it. The judge's calls are counted in the credential's Daily Budget,
 * like the image nodes' requests.
 */
async function judgeSetup(ctx: IExecuteFunctions, items: INodeExecutionData[]) {
	const judged = items.some((_, i) => ctx.getNodeParameter('aiJudge', i, true) === true);
	const made = judged
		? await clientAndBudgetFor(ctx).catch((error: unknown) => ({ error }))
		: { error: undefined };
	const judgeClient = async (): Promise<GeminiClient> => {
		if ('client' in made) return made.client;
		throw made.error;
	};
	const spend = new SpendGuard({ budget: 'client' in made ? made.budget : undefined });
	return { judgeClient, spend };
}

/** What an item has done so far: a failure's report keeps the checks that ran. */
interface Progress {
	checks: CheckResult[];
	judging: boolean;
}

/** What an item needs to ask the judge, and where a failed report goes. */
interface ItemRun {
	judgeClient: () => Promise<GeminiClient>;
	call: CallSettings;
	failOnlyOnErrors: boolean;
}

/** The judge's verdicts on the image, and what the report says about the judge's call. */
async function askJudge(
	ctx: IExecuteFunctions,
	i: number,
	settings: ItemSettings,
	original: Awaited<ReturnType<typeof readBinary>>,
	gemini: GeminiClient,
	call: CallSettings,
): Promise<{ checks: CheckResult[]; extra: IDataObject }> {
	const { criteria, options } = settings;
	const inputSettings = readInputSettings(options, undefined);
	inputSettings.maxLongSide ??= JUDGE_MAX_LONG_SIDE;
	const references = criteria.find((c) => c.kind === 'sameSubject')?.references ?? [];
	const images = [await prepareBinary(ctx, i, settings.property, original, inputSettings)];
	for (const property of references)
		images.push(await readInputImage(ctx, i, property, inputSettings));
	const fitted = await fitImages(
		ctx,
		i,
		images,
		inputSettings,
		gemini,
		call,
		Buffer.byteLength(criteriaText(criteria)),
	);
	const request = {
		...buildJudgeRequest(settings.judgeModel, criteria, fitted.parts, references),
		store: options.storeRequests === true,
	};
	const result = await gemini.generate(request, call);
	const answer = readVerdicts(result.text, criteria, result.finishReason);
	if ('problem' in answer) {
		throw itemError(
			ctx,
			i,
			answer.problem,
			'The judge model did not answer in the required form, so the image is not counted as passed. Try again, or pick another judge model.',
		);
	}
	return {
		checks: criteriaResults(criteria, answer.verdicts),
		extra: {
			judgeModel: settings.judgeModel,
			judgeModelVersion: result.modelVersion ?? null,
			usage: { ...result.usage },
			estimatedCostUsd: estimateTextCostUsd(settings.judgeModel, result.usage) ?? null,
		},
	};
}

/** One item: its local checks, then the judge unless a local check has already failed. */
async function verifyItem(
	ctx: IExecuteFunctions,
	i: number,
	item: INodeExecutionData,
	progress: Progress,
	run: ItemRun,
): Promise<{ output: number; items: INodeExecutionData[] }> {
	const settings = readSettings(ctx, i);
	// Read once: the local checks see the exact stored bytes, the judge a prepared copy of them.
	const original = await readBinary(ctx, i, settings.property);
	progress.checks.push(...(await runLocalChecks(ctx, i, settings, original)));
	const extra: IDataObject = {};
	const { criteria, options } = settings;
	if (
		criteria.length &&
		options.skipJudgeOnLocalFailure !== false &&
		progress.checks.some((c) => !c.passed)
	) {
		extra.judgeSkipped = 'A local check failed, so the AI judge was not asked';
	} else if (criteria.length) {
		progress.judging = true;
		const judged = await askJudge(ctx, i, settings, original, await run.judgeClient(), run.call);
		progress.checks.push(...judged.checks);
		Object.assign(extra, judged.extra);
	}
	const verification = reportOf(progress.checks, extra);
	const passed = verification.passed === true;
	return {
		output: passed || run.failOnlyOnErrors ? 0 : 1,
		items: [
			{
				json: { ...item.json, verification },
				binary: namedImage(item, settings.property, original.binary),
				pairedItem: { item: i },
			},
		],
	};
}

/** The checks that ran are kept; the judge that failed counts as failed. */
function withPartialReport(error: unknown, { checks, judging }: Progress): unknown {
	const message = (error as Error).message;
	const ran = judging
		? [...checks, { name: 'aiJudge', passed: false, details: { error: message } }]
		: checks;
	return withPartial(error, {
		json: { verification: { ...reportOf(ran), passed: false, error: message } },
	});
}

async function run(
	ctx: IExecuteFunctions,
	{ concurrency, call, failOnlyOnErrors }: Setup,
): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const { judgeClient, spend } = await judgeSetup(ctx, items);

	return await runItems(ctx, { concurrency, spend, ...OUTPUTS }, async (i, { signal, gate }) => {
		const progress: Progress = { checks: [], judging: false };
		const itemRun = { judgeClient, call: { ...call, signal, gate }, failOnlyOnErrors };
		try {
			return await verifyItem(ctx, i, items[i], progress, itemRun);
		} catch (error) {
			throw withPartialReport(error, progress);
		}
	});
}
