/**
 * The node's model table (nodes/shared/catalogue.ts) and the simulator's (test/gemini-sim/models.ts)
 * are kept apart on purpose, so that each says what Google publishes on its own. This test is
 * where they must agree: a ratio or size one of them lacks is a test failure, not a silent 400.
 */
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { EXTRA_ASPECT_RATIOS, MODELS } from '../../nodes/shared/catalogue';
import { findSimModel, SIM_MODELS } from '../gemini-sim/models';

const sorted = (list: readonly string[]) => [...list].sort();

describe('the catalogue and the simulator agree', () => {
	it('on which image models there are', () => {
		expect(sorted(MODELS.map((m) => m.id))).toEqual(
			sorted(SIM_MODELS.filter((m) => m.image).map((m) => m.id)),
		);
	});

	it.each(MODELS.map((m) => [m.id, m] as const))(
		'%s: aspect ratios and image sizes',
		(id, model) => {
			const sim = findSimModel(id)!;
			expect(sim).toBeDefined();
			expect(sorted(model.aspectRatios)).toEqual(sorted(sim.aspectRatios));
			expect(sorted(model.imageSizes)).toEqual(sorted(sim.imageSizes));
			expect(model.imageSizes).toContain(model.defaultImageSize);
		},
	);

	it('Nano Banana 2 Lite takes the 14 ratios of its model page, at 1K only', () => {
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
