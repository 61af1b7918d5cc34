import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function fixture(path: string): Buffer {
	return readFileSync(join(__dirname, '..', 'fixtures', path));
}

/** The c2pa-rs test roots, split into single PEM certificates. */
export function testRootCertificates(): string[] {
	const bundle = fixture('c2pa/trust/test_cert_root_bundle.pem').toString('utf8');
	return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/**
 * @contentauth/c2pa-wasm as Node's own loader gives it to the compiled package (require() of an ES
 * module). Jest's loader cannot do that before Node 24.9, so test files replace the package with
 * this: `jest.mock('@contentauth/c2pa-wasm', () => jest.requireActual('./provenance-helpers').c2paWasmFromNode())`.
 *
 * Jest also runs tests in a realm of their own, and the glue only accepts an init options object
 * whose prototype is its own realm's Object.prototype, so init options are copied into that realm.
 */
export function c2paWasmFromNode(): Record<string, unknown> {
	// node:module inside Jest is a subclass of Node's real Module class, whose createRequire is real.
	const jestModule = jest.requireActual<typeof import('node:module')>('node:module');
	const nodeModule = Object.getPrototypeOf(jestModule.Module) as typeof import('node:module');
	const glue = nodeModule.createRequire(__filename)('@contentauth/c2pa-wasm') as {
		default: (options: object) => Promise<unknown>;
		WasmReader: { prototype: object };
	};
	const GlueObject = (Object.getPrototypeOf(glue.WasmReader.prototype) as object)
		.constructor as ObjectConstructor;
	return {
		...glue,
		default: async (options: object) =>
			await glue.default(GlueObject.assign(new GlueObject(), options)),
	};
}
