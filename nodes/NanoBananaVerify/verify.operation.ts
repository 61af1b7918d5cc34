import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { DEFAULT_TEXT_MODEL, estimateTextCostUsd, normaliseModelId } from '../shared/catalogue';
import { checkSimilarity, parseAspectRatio, runTechnicalChecks } from '../shared/checks';
import type { CheckResult, SimilarityMode, TechnicalCheckOptions } from '../shared/checks';
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
import type { GeminiClient } from '../shared/transport';
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

// long: not yet split (issue 21): reads each criterion kind in turn
function readCriteria(ctx: IExecuteFunctions, i: number): Criterion[] {
	const criteria: Criterion[] = [];
	if (ctx.getNodeParameter('promptAdherence', i, true)) {
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
			ctx.getNodeParameter('promptAdherenceThreshold', i, 0.7),
			'prompt adherence',
		);
		criteria.push({ id: 'promptAdherence', kind: 'promptAdherence', threshold, prompt });
	}
	if (ctx.getNodeParameter('sameSubject', i, false)) {
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
			ctx.getNodeParameter('sameSubjectThreshold', i, 0.8),
			'the same subject',
		);
		criteria.push({ id: 'sameSubject', kind: 'sameSubject', threshold, references });
	}
	const texts =
		(ctx.getNodeParameter('expectedText.values', i, []) as Array<{
			text?: string;
			threshold?: number;
		}>) ?? [];
	texts
		.filter((t) => String(t.text ?? '').trim())
		.forEach((t, n) => {
			const threshold = readThreshold(ctx, i, t.threshold ?? 0.8, `expected text ${n + 1}`);
			criteria.push({
				id: `expectedText${n + 1}`,
				kind: 'expectedText',
				threshold,
				text: String(t.text).trim(),
			});
		});
	const rules =
		(ctx.getNodeParameter('customRules.values', i, []) as Array<{
			rule?: string;
			threshold?: number;
		}>) ?? [];
	rules
		.filter((r) => String(r.rule ?? '').trim())
		.forEach((r, n) => {
			const threshold = readThreshold(ctx, i, r.threshold ?? 0.7, `custom rule ${n + 1}`);
			criteria.push({
				id: `customRule${n + 1}`,
				kind: 'customRule',
				threshold,
				rule: String(r.rule).trim(),
			});
		});
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

// long: not yet split (issue 21): reads Verify's parameters in the editor's order
function readSettings(ctx: IExecuteFunctions, i: number): ItemSettings {
	const aiJudge = ctx.getNodeParameter('aiJudge', i, true) as boolean;
	// n8n throws for a missing path when the fallback is undefined, so read the whole collection.
	const similarity = ((ctx.getNodeParameter('similarity', i, {}) as IDataObject) ?? {}).check as
		IDataObject | undefined;
	const provenance = ctx.getNodeParameter('provenance', i, 'off') as ProvenanceMode | 'off';
	const settings: ItemSettings = {
		property: String(ctx.getNodeParameter('binaryPropertyName', i, 'data')).trim() || 'data',
		criteria: aiJudge ? readCriteria(ctx, i) : [],
		judgeModel: aiJudge
			? normaliseModelId(
					String(
						ctx.getNodeParameter('judgeModel', i, DEFAULT_TEXT_MODEL, { extractValue: true }) ?? '',
					),
				)
			: '',
		technical: readTechnical(
			ctx,
			i,
			(ctx.getNodeParameter('technicalChecks', i, {}) as IDataObject) ?? {},
		),
		options: (ctx.getNodeParameter('options', i, {}) as IDataObject) ?? {},
	};
	if (aiJudge && !settings.judgeModel) {
		throw itemError(
			ctx,
			i,
			'No judge model is selected',
			`Pick a model from the list or type a model ID, e.g. ${DEFAULT_TEXT_MODEL}.`,
		);
	}
	if (
		aiJudge &&
		!isJudgeModel({ id: settings.judgeModel, displayName: settings.judgeModel, methods: [] })
	) {
		throw itemError(
			ctx,
			i,
			`"${settings.judgeModel}" is not a text model, so it cannot judge`,
			`The AI judge needs a Gemini text model that reads images. Pick one from the list, e.g. ${DEFAULT_TEXT_MODEL}.`,
		);
	}
	if (similarity) {
		settings.similarity = {
			referenceProperty:
				String(similarity.referenceBinaryProperty ?? 'reference').trim() || 'reference',
			mode: similarity.mode === 'atMost' ? 'atMost' : 'atLeast',
			threshold: readThreshold(ctx, i, similarity.threshold ?? 0.8, 'similarity'),
		};
	}
	if (provenance !== 'off') {
		settings.provenance = {
			mode: provenance,
			trustAnchorsPem:
				String(ctx.getNodeParameter('trustAnchorsPem', i, '') ?? '').trim() || undefined,
		};
	}
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

// long: not yet split (issue 21): one item's checks and judge in order
async function run(
	ctx: IExecuteFunctions,
	{ concurrency, call, failOnlyOnErrors }: Setup,
): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const { judgeClient, spend } = await judgeSetup(ctx, items);

	return await runItems(ctx, { concurrency, spend, ...OUTPUTS }, async (i, { signal, gate }) => {
		const item = items[i];
		const checks: CheckResult[] = [];
		let judging = false;
		try {
			const settings = readSettings(ctx, i);
			// Read once: the local checks see the exact stored bytes, the judge a prepared copy of
			// them.
			const original = await readBinary(ctx, i, settings.property);
			checks.push(...(await runLocalChecks(ctx, i, settings, original)));
			const extra: IDataObject = {};
			const { criteria, options } = settings;
			if (
				criteria.length &&
				options.skipJudgeOnLocalFailure !== false &&
				checks.some((c) => !c.passed)
			) {
				extra.judgeSkipped = 'A local check failed, so the AI judge was not asked';
			} else if (criteria.length) {
				judging = true;
				const gemini = await judgeClient();
				const callSettings = { ...call, signal, gate };
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
					callSettings,
					Buffer.byteLength(criteriaText(criteria)),
				);
				const request = {
					...buildJudgeRequest(settings.judgeModel, criteria, fitted.parts, references),
					store: options.storeRequests === true,
				};
				const result = await gemini.generate(request, callSettings);
				const answer = readVerdicts(result.text, criteria, result.finishReason);
				if ('problem' in answer) {
					throw itemError(
						ctx,
						i,
						answer.problem,
						'The judge model did not answer in the required form, so the image is not counted as passed. Try again, or pick another judge model.',
					);
				}
				checks.push(...criteriaResults(criteria, answer.verdicts));
				extra.judgeModel = settings.judgeModel;
				extra.judgeModelVersion = result.modelVersion ?? null;
				extra.usage = { ...result.usage };
				extra.estimatedCostUsd = estimateTextCostUsd(settings.judgeModel, result.usage) ?? null;
			}
			const verification = reportOf(checks, extra);
			const passed = verification.passed === true;
			return {
				output: passed || failOnlyOnErrors ? 0 : 1,
				items: [
					{
						json: { ...item.json, verification },
						binary: namedImage(item, settings.property, original.binary),
						pairedItem: { item: i },
					},
				],
			};
		} catch (error) {
			// The checks that ran are kept; the judge that failed counts as failed.
			const message = (error as Error).message;
			const ran = judging
				? [...checks, { name: 'aiJudge', passed: false, details: { error: message } }]
				: checks;
			throw withPartial(error, {
				json: { verification: { ...reportOf(ran), passed: false, error: message } },
			});
		}
	});
}
