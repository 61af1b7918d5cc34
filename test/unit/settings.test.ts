import { estimateCostUsd, findModel, normaliseImageSize } from '../../nodes/shared/catalogue';
import { outputOptions } from '../../nodes/shared/descriptions';
import {
	buildImageRequest,
	readOutputSettings,
	readRequestSettings,
} from '../../nodes/shared/pipeline/settings';

const request = (modelId: string, aspectRatio = 'auto', imageSize = '1K', options = {}) =>
	buildImageRequest({ modelId, aspectRatio, imageSize, options });

describe('the model catalogue', () => {
	it('knows the current image models and their limits', () => {
		expect(findModel('gemini-3.1-flash-image')?.maxReferenceImages).toBe(14);
		expect(findModel('models/gemini-3-pro-image')?.imageSizes).toEqual(['1K', '2K', '4K']);
		expect(findModel('gemini-2.5-flash-image')?.maxReferenceImages).toBe(3);
		expect(findModel('gemini-9-imaginary')).toBeUndefined();
	});

	it('normalises size strings, which the API treats case-sensitively', () => {
		expect(normaliseImageSize('1k')).toBe('1K');
		expect(normaliseImageSize(' 4 k')).toBe('4K');
		expect(normaliseImageSize('512')).toBe('512');
	});

	it('estimates the price of images by size, normal and batch', () => {
		const flash = findModel('gemini-3.1-flash-image');
		expect(estimateCostUsd(flash, '2K', 3)).toBeCloseTo(0.303, 6);
		expect(estimateCostUsd(flash, '4K', 1, true)).toBe(0.076);
		expect(estimateCostUsd(findModel('gemini-3-pro-image'), '4K', 1)).toBe(0.24);
		expect(estimateCostUsd(undefined, '1K', 1)).toBeUndefined();
	});
});

describe('checks before any paid call', () => {
	it('refuses a ratio the model lacks and lists the supported ones', () => {
		expect(() => request('gemini-3-pro-image', '8:1')).toThrow(
			/does not support aspect ratio "8:1". Supported: 1:1, 2:3/,
		);
		expect(request('gemini-3.1-flash-image', '8:1').generationConfig.imageConfig).toEqual({
			aspectRatio: '8:1',
			imageSize: '1K',
		});
	});

	it('refuses a size the model lacks, after fixing its case', () => {
		expect(() => request('gemini-3-pro-image', 'auto', '512')).toThrow(
			/image size "512". Supported: 1K, 2K, 4K/,
		);
		expect(request('gemini-3-pro-image', 'auto', '2k').generationConfig.imageConfig).toEqual({
			imageSize: '2K',
		});
	});

	it('sends no size to a model that has only one', () => {
		expect(request('gemini-2.5-flash-image', '16:9').generationConfig.imageConfig).toEqual({
			aspectRatio: '16:9',
		});
	});

	it('refuses thinking level on Nano Banana Pro and search on Nano Banana', () => {
		expect(() => request('gemini-3-pro-image', 'auto', '1K', { thinkingLevel: 'minimal' })).toThrow(
			/always thinks/,
		);
		expect(() => request('gemini-2.5-flash-image', 'auto', '1K', { googleSearch: true })).toThrow(
			/Google Search/,
		);
	});

	it('lets an unknown model id through with no client-side limits', () => {
		const built = request('gemini-4-image-preview', '7:3', '8K');
		expect(built.modelInfo).toBeUndefined();
		expect(built.generationConfig.imageConfig).toEqual({ aspectRatio: '7:3', imageSize: '8K' });
	});

	it('builds the wire config from the options', () => {
		const built = request('gemini-3.1-flash-image', '16:9', '2K', {
			responseFormat: 'image',
			temperature: 0.4,
			topP: 0.8,
			seed: 42,
			thinkingLevel: 'high',
			includeThoughts: true,
			googleSearch: true,
			systemInstruction: '  Brand style: pastel.  ',
			safetySettings: {
				values: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
			},
		});
		expect(built.generationConfig).toEqual({
			responseModalities: ['IMAGE'],
			temperature: 0.4,
			topP: 0.8,
			seed: 42,
			imageConfig: { aspectRatio: '16:9', imageSize: '2K' },
			thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true },
		});
		expect(built.tools).toEqual([{ googleSearch: {} }]);
		expect(built.systemInstruction).toBe('Brand style: pastel.');
		expect(built.safetySettings).toEqual([
			{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' },
		]);
	});

	it('sends a whole-number seed, as the API takes', () => {
		expect(
			request('gemini-3.1-flash-image', 'auto', '1K', { seed: 41.6 }).generationConfig.seed,
		).toBe(42);
	});

	it('refuses an empty model', () => {
		expect(() => request('  ')).toThrow(/No model is selected/);
	});
});

describe('reading options', () => {
	it('has sensible request defaults', () => {
		expect(readRequestSettings({})).toEqual({
			concurrency: 4,
			call: { retry: { maxAttempts: 4, maxTotalWaitMs: 300_000 }, timeoutMs: 900_000 },
		});
	});

	it('reads Max Concurrent Requests: 0 is Auto; not set, Auto only where the node version says', () => {
		expect(readRequestSettings({}, { autoWhenUnset: true }).concurrency).toBe('auto');
		expect(readRequestSettings({ maxConcurrency: 0 }).concurrency).toBe('auto');
		expect(readRequestSettings({ maxConcurrency: 0 }, { autoWhenUnset: true }).concurrency).toBe(
			'auto',
		);
		expect(readRequestSettings({ maxConcurrency: 6 }, { autoWhenUnset: true }).concurrency).toBe(6);
		expect(readRequestSettings({ maxConcurrency: 2.7 }).concurrency).toBe(2);
	});

	it('wants both resize sides or neither', () => {
		expect(() => readOutputSettings({ resizeWidth: 1200 })).toThrow(
			/both Resize Width and Resize Height/,
		);
		expect(
			readOutputSettings({ resizeWidth: 1200, resizeHeight: 628, outputFormat: 'jpeg' }).resize,
		).toEqual({ width: 1200, height: 628, fit: 'cover' });
	});

	it('refuses a resize past the pixel guard, saying the limit and what to do', () => {
		// 400 MP took 31 s of CPU before this check.
		expect(() => readOutputSettings({ resizeWidth: 20000, resizeHeight: 20000 })).toThrow(
			'A resize to 20000×20000 is too large: the limit is 16383 px a side and 100 megapixels in all. Set a smaller Resize Width and Resize Height.',
		);
		// Each side is allowed, the area is not.
		expect(() => readOutputSettings({ resizeWidth: 16000, resizeHeight: 7000 })).toThrow(
			/16000×7000 is too large/,
		);
		// The area is allowed, one side is not (WebP can hold no more).
		expect(() => readOutputSettings({ resizeWidth: 16384, resizeHeight: 100 })).toThrow(
			/16384×100 is too large/,
		);
	});

	it('takes a resize right at the limits', () => {
		expect(readOutputSettings({ resizeWidth: 10000, resizeHeight: 10000 }).resize).toEqual({
			width: 10000,
			height: 10000,
			fit: 'cover',
		});
		expect(
			readOutputSettings({ resizeWidth: 16383, resizeHeight: 6000, resizeFit: 'inside' }).resize,
		).toEqual({ width: 16383, height: 6000, fit: 'inside' });
	});

	it('caps the resize fields in the editor at the side limit and says so', () => {
		for (const name of ['resizeWidth', 'resizeHeight']) {
			const field = outputOptions.find((option) => option.name === name)!;
			expect(field.typeOptions?.maxValue).toBe(16383);
			expect(field.description).toContain('At most 16383 px, and 100 megapixels');
		}
	});
});
