/**
 * Descriptions are data: loading the credential, or the descriptions every node is made of, must not
 * load sharp (a native module n8n would otherwise load to show a credential form). Each load runs
 * in a fresh module registry, with sharp replaced by a factory that records that it was loaded.
 */
let sharpLoaded = false;

function loads(modulePath: string): boolean {
	sharpLoaded = false;
	jest.isolateModules(() => {
		jest.doMock('sharp', () => {
			sharpLoaded = true;
			return {};
		});
		require(modulePath);
	});
	return sharpLoaded;
}

describe('what loading a description loads', () => {
	it('the credential does not load sharp', () => {
		expect(loads('../../credentials/NanoBananaApi.credentials')).toBe(false);
	});

	it.each([
		'../../nodes/shared/descriptions',
		'../../nodes/NanoBananaGenerate/generate.description',
		'../../nodes/NanoBananaEdit/edit.description',
		'../../nodes/NanoBananaFuse/fuse.description',
		'../../nodes/NanoBananaVerify/verify.description',
		'../../nodes/NanoBananaBatchResults/collect.description',
	])('%s does not load sharp', (modulePath) => {
		expect(loads(modulePath)).toBe(false);
	});

	it('the check sees sharp when a module does load it (the image converter)', () => {
		expect(loads('../../nodes/shared/image/convert')).toBe(true);
	});
});
