import { readFile } from 'node:fs/promises';
import type * as C2paWasm from '@contentauth/c2pa-wasm';

export type C2paWasmModule = typeof C2paWasm;

// The instantiated WebAssembly module, shared by every execution in the process. It is loaded
// once, never changes afterwards and holds no request or execution state.
let loading: Promise<C2paWasmModule> | undefined;

/**
 * c2pa-rs (the C2PA reference implementation) compiled to WebAssembly. The package ships ES
 * modules only; this file compiles to CommonJS, where TypeScript turns `import()` into
 * `require()`, so it is required directly: Node 20.19+ and 22.12+ load ES modules through
 * `require()`. The .wasm file is read from the package and instantiated on first use.
 */
export async function loadC2paWasm(): Promise<C2paWasmModule> {
	loading ??= instantiate().catch((error: unknown) => {
		loading = undefined;
		throw error;
	});
	return await loading;
}

async function instantiate(): Promise<C2paWasmModule> {
	let glue: C2paWasmModule;
	try {
		glue = require('@contentauth/c2pa-wasm') as C2paWasmModule;
	} catch (error) {
		throw explainRequireFailure(error);
	}
	const wasm = await readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm'));
	await glue.default({ module_or_path: wasm });
	return glue;
}

/**
 * require() of ES modules is on by default from Node.js 20.19 and 22.12, and in 23 and later; an
 * older Node.js refuses with ERR_REQUIRE_ESM, which is turned into what to do.
 */
export function explainRequireFailure(error: unknown): unknown {
	if ((error as { code?: unknown } | undefined)?.code !== 'ERR_REQUIRE_ESM') return error;
	return new Error(
		'Reading C2PA needs Node.js 20.19 or later (22.12 or later on Node.js 22): this Node.js cannot load ES modules through require()',
	);
}
