/**
 * The node's model table (nodes/shared/catalogue.ts) and the simulator's (test/gemini-sim/models.ts)
 * are kept apart on purpose, so that each says what Google publishes on its own. This test is
 * where they must agree: a ratio or size one of them lacks is a test failure, not a silent 400.
 */
import { MODELS } from '../../nodes/shared/catalogue';
import { findSimModel, SIM_MODELS } from '../gemini-sim/models';

const sorted = (list: readonly string[]) => [...list].sort();

describe('the catalogue and the simulator agree', () => {
	it('on which image models there are', () => {
		expect(sorted(MODELS.map((m) => m.id))).toEqual(sorted(SIM_MODELS.filter((m) => m.image).map((m) => m.id)));
	});

	it.each(MODELS.map((m) => [m.id, m] as const))('%s: aspect ratios and image sizes', (id, model) => {
		const sim = findSimModel(id)!;
		expect(sim).toBeDefined();
		expect(sorted(model.aspectRatios)).toEqual(sorted(sim.aspectRatios));
		expect(sorted(model.imageSizes)).toEqual(sorted(sim.imageSizes));
		expect(model.imageSizes).toContain(model.defaultImageSize);
	});

	it('Nano Banana 2 Lite takes the 14 ratios of its model page, at 1K only', () => {
		const lite = MODELS.find((m) => m.id === 'gemini-3.1-flash-lite-image')!;
		expect(sorted(lite.aspectRatios)).toEqual(sorted(['1:1', '1:4', '4:1', '1:8', '8:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9']));
		expect(lite.imageSizes).toEqual(['1K']);
	});
});
