/**
 * The node's model table (nodes/shared/catalogue.ts) and the simulator's (test/gemini-sim/models.ts)
 * are kept apart on purpose, so that each says what Google publishes on its own. This test is
 * where they must agree: a ratio or size one of them lacks is a test failure, not a silent 400.
 */
import type { INodeProperties, INodeType } from 'n8n-workflow';

import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';
import {
	DEFAULT_MODEL,
	DEFAULT_TEXT_MODEL,
	EXTRA_ASPECT_RATIOS,
	MODELS,
	RETIRED_MODELS,
	TEXT_MODELS,
	VERSION_1_DEFAULT_MODEL,
	estimateCostUsd,
	estimateTextCostUsd,
	findModel,
	isImageModelId,
	lifecycleAdvice,
	lifecycleLabel,
	modelStatus,
} from '../../nodes/shared/catalogue';
import { findSimModel, SIM_MODELS } from '../gemini-sim/models';

const sorted = (list: readonly string[]) => [...list].sort();

const served = MODELS.filter((m) => m.status !== 'shutdown');

describe('the catalogue and the simulator agree', () => {
	it('on which image models Google serves, and which it has shut down', () => {
		expect(sorted(served.map((m) => m.id))).toEqual(
			sorted(SIM_MODELS.filter((m) => m.image).map((m) => m.id)),
		);
		for (const model of [...MODELS, ...RETIRED_MODELS].filter((m) => m.status === 'shutdown'))
			expect([model.id, findSimModel(model.id)]).toEqual([model.id, undefined]);
	});

	it('on which text models Google serves for the judge', () => {
		const current = TEXT_MODELS.filter((m) => m.status !== 'deprecated' || findSimModel(m.id));
		for (const model of current.filter((m) => !m.note))
			expect([model.id, findSimModel(model.id)?.structuredOutput]).toEqual([model.id, true]);
	});

	it.each(served.map((m) => [m.id, m] as const))(
		'%s: aspect ratios, image sizes, thinking levels and lifecycle',
		(id, model) => {
			const sim = findSimModel(id)!;
			expect(sim).toBeDefined();
			expect(sorted(model.aspectRatios)).toEqual(sorted(sim.aspectRatios));
			expect(sorted(model.vertexAspectRatios ?? [])).toEqual(sorted(sim.vertexAspectRatios ?? []));
			expect(sorted(model.imageSizes)).toEqual(sorted(sim.imageSizes));
			expect(model.imageSizes).toContain(model.defaultImageSize);
			expect(sorted(model.thinkingLevels.map((l) => l.toUpperCase()))).toEqual(
				sorted(sim.thinkingLevels),
			);
			expect(model.status === 'deprecated').toBe(sim.status === 'deprecated');
		},
	);

	it('every model fact names its source and the date it was read', () => {
		for (const model of [...MODELS, ...TEXT_MODELS, ...RETIRED_MODELS])
			expect([model.id, /\b20\d\d-\d\d(-\d\d)?\b/.test(model.source)]).toEqual([model.id, true]);
		for (const model of [
			...MODELS.filter((m) => Object.keys(m.pricePerImage).length),
			...TEXT_MODELS,
		])
			expect([model.id, /\b20\d\d-\d\d/.test(model.priceSource ?? '')]).toEqual([model.id, true]);
	});
});

/** Every default model id in a node's description, at every version of the node. */
function defaultModelIds(node: INodeType): Array<[string, string]> {
	return (node.description.properties as INodeProperties[])
		.filter((p) => p.type === 'resourceLocator' && /model/i.test(p.name))
		.map((p) => {
			const version = JSON.stringify(p.displayOptions?.show?.['@version'] ?? 'any');
			return [
				`${node.description.name} ${p.name} @${version}`,
				(p.default as { value: string }).value,
			];
		});
}

describe('defaults exist', () => {
	const nodes: INodeType[] = [
		new NanoBananaGenerate(),
		new NanoBananaEdit(),
		new NanoBananaFuse(),
		new NanoBananaVerify(),
	];
	const all = nodes.flatMap(defaultModelIds);

	it('every node names a default model', () => {
		expect(all.length).toBeGreaterThanOrEqual(7);
	});

	it.each(all)('%s: %s is served by the simulator and known to the catalogue', (_, id) => {
		expect(findSimModel(id)).toBeDefined();
		expect(['active', 'deprecated']).toContain(modelStatus(id));
	});

	it('new nodes default to current models; version 1 nodes keep theirs', () => {
		for (const [where, id] of all) {
			const current = !where.includes('@[1]');
			if (current) expect([where, findSimModel(id)?.status]).toEqual([where, 'current']);
		}
		expect(DEFAULT_MODEL).toBe('gemini-nano-banana-2.1');
		expect(VERSION_1_DEFAULT_MODEL).toBe('gemini-3.1-flash-image');
		expect(findSimModel(DEFAULT_TEXT_MODEL)?.status).toBe('current');
	});
});

describe('lifecycle in what users read', () => {
	it('a shut-down or never-served id says when, and what to use', () => {
		expect(lifecycleAdvice('gemini-2.5-flash-image')).toBe(
			'Google shut it down on 2026-10-02; use gemini-nano-banana-2.1 instead.',
		);
		expect(lifecycleAdvice('models/gemini-3-flash')).toMatch(
			/^Google does not serve it \(never a Gemini API model id.*\); use gemini-3\.8-flash instead\.$/,
		);
		expect(lifecycleAdvice('gemini-3.1-flash-image')).toBe(
			'Google deprecated it on 2026-10-06 (no shutdown date announced); use gemini-nano-banana-2.1 instead.',
		);
		expect(lifecycleAdvice('gemini-nano-banana-2.1')).toBe('');
		expect(lifecycleAdvice('gemini-9-image')).toBe('');
	});

	it('the model list labels a deprecated model with its date and replacement', () => {
		expect(lifecycleLabel(findModel('gemini-3.1-flash-image')!)).toBe(
			' - deprecated 2026-10-06, use gemini-nano-banana-2.1',
		);
		expect(lifecycleLabel(findModel('gemini-nano-banana-2.1')!)).toBe('');
	});

	it('an id the catalogue does not know is "unknown": no checks, no price', () => {
		expect(modelStatus('gemini-4-flash-image')).toBe('unknown');
		expect(estimateCostUsd(findModel('gemini-4-flash-image'), '1K', 1)).toBeUndefined();
		expect(isImageModelId('gemini-4-flash-image')).toBe(true);
		expect(isImageModelId('gemini-nano-banana-3', 'Nano Banana 3')).toBe(true);
		expect(isImageModelId('gemini-nano-banana-2.1')).toBe(true);
		expect(isImageModelId('gemini-3.8-flash')).toBe(false);
		expect(isImageModelId('gemini-4-flash', 'Gemini 4 Flash')).toBe(false);
	});

	it('Nano Banana 2.1 is priced per size, and batch at half', () => {
		const nb21 = findModel('gemini-nano-banana-2.1');
		expect(estimateCostUsd(nb21, '4K', 2)).toBe(0.2268);
		expect(estimateCostUsd(nb21, '1K', 1, true)).toBe(0.0168);
		expect(estimateCostUsd(nb21, '512', 1)).toBeUndefined();
	});

	it('a judge price follows the date it applies from', () => {
		const usage = { promptTokens: 1_000_000, outputTokens: 500_000, thinkingTokens: 500_000 };
		expect(estimateTextCostUsd('gemini-3.8-flash', usage, new Date('2026-12-07'))).toBe(4.5);
		expect(estimateTextCostUsd('gemini-3.8-flash', usage, new Date('2027-01-02'))).toBe(9);
		expect(estimateTextCostUsd('gemini-3-flash', usage)).toBeUndefined();
	});
});

describe('Nano Banana 2 Lite', () => {
	it('takes the 14 ratios of its model page, at 1K only', () => {
		const lite = MODELS.find((m) => m.id === 'gemini-3.1-flash-lite-image')!;
		expect(sorted(lite.aspectRatios)).toEqual(
			sorted([
				'1:1',
				'1:4',
				'4:1',
				'1:8',
				'8:1',
				'2:3',
				'3:2',
				'3:4',
				'4:3',
				'4:5',
				'5:4',
				'9:16',
				'16:9',
				'21:9',
			]),
		);
		expect(lite.imageSizes).toEqual(['1K']);
	});
});

describe('the editor text follows the catalogue', () => {
	const properties = new NanoBananaFuse().description.properties as Array<{
		name: string;
		description?: string;
		options?: Array<{ name: string; value?: unknown; description?: string; options?: unknown[] }>;
	}>;
	const option = (parameter: string, value: string) =>
		properties.find((p) => p.name === parameter)!.options!.find((o) => o.value === value)!.name;
	const inOptions = (name: string) =>
		properties.find((p) => p.name === 'options')!.options!.find((o) => o.name === name)!
			.description!;
	const usable = MODELS.filter((m) => m.status !== 'shutdown');
	/** A model named in a list ("Only A, B and C)"), not a longer name that starts with it. */
	const names = (label: string, model: string) =>
		new RegExp(`(Only |, | and )${model}(,| and |\\))`).test(label);

	it('an extra aspect ratio names exactly the models that make it', () => {
		for (const ratio of EXTRA_ASPECT_RATIOS) {
			const label = option('aspectRatio', ratio);
			for (const model of usable) {
				expect([ratio, model.name, names(label, model.name)]).toEqual([
					ratio,
					model.name,
					model.aspectRatios.includes(ratio),
				]);
			}
		}
	});

	it("512 names the models that make it, Max Images each model's limit", () => {
		for (const model of usable)
			expect([model.name, names(option('imageSize', '512'), model.name)]).toEqual([
				model.name,
				model.imageSizes.includes('512'),
			]);
		const maxImages = inOptions('maxImages');
		for (const limit of new Set(usable.map((m) => m.maxReferenceImages)))
			expect(maxImages).toContain(`${limit} for `);
	});
});
