/**
 * Keeps docs/architecture.md honest: its import table and package table are read from the page and
 * checked against every import in nodes/ and credentials/, and the folders it names are the folders
 * under nodes/shared. Each rule is also shown to refuse a wrong import (the "catches" cases).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';
import * as ts from 'typescript';

const root = resolve(__dirname, '../..');
const shared = join(root, 'nodes/shared');
const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

/** The folder (or data file) a file belongs to, spelled as the page spells it. */
function unitOf(file: string): string {
	const rel = relative(root, file).replace(/\\/g, '/');
	if (rel.startsWith('credentials/')) return 'credentials/';
	const inShared = rel.match(/^nodes\/shared\/([^/]+)(\/)?/);
	if (inShared) return inShared[2] ? `${inShared[1]}/` : inShared[1];
	const node = rel.match(/^nodes\/([^/]+)\//);
	if (node) return `nodes/${node[1]}/`;
	throw new Error(`${rel} is in no layer`);
}

/** Where a file sits below nodes/shared (or nodes/, credentials/), for the package table. */
const placeOf = (file: string) =>
	relative(root, file)
		.replace(/\\/g, '/')
		.replace(/^nodes\/shared\//, '');

interface Import {
	spec: string;
	typeOnly: boolean;
}

/** Every import, export-from, require() and import() in a file's text. */
function importsOf(text: string): Import[] {
	const found: Import[] = [];
	for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm))
		found.push({ spec: m[2], typeOnly: Boolean(m[1]) });
	for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm))
		found.push({ spec: m[1], typeOnly: false });
	for (const m of text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g))
		found.push({ spec: m[1], typeOnly: false });
	return found;
}

/** The rows of the first table after a heading, as lists of the `code` names in each cell. */
function tableAfter(heading: string): string[][][] {
	const start = page.indexOf(heading);
	if (start < 0) throw new Error(`docs/architecture.md has no "${heading}"`);
	const lines = page.slice(start).split('\n');
	const first = lines.findIndex((l) => l.startsWith('|'));
	const rows: string[][][] = [];
	for (const line of lines.slice(first + 2)) {
		if (!line.startsWith('|')) break;
		const cells = line.split('|').slice(1, -1);
		rows.push(cells.map((c) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1])));
	}
	return rows;
}

const NODE_KEY = 'nodes/<Node>/';
const mayImport = new Map<string, Set<string>>();
for (const [units, allowed] of tableAfter('## What may import what'))
	for (const unit of units) mayImport.set(unit, new Set(allowed));
const packagePlaces = new Map<string, string[]>();
for (const [packages, places] of tableAfter('Packages:'))
	for (const p of packages) packagePlaces.set(p, places);
const TYPE_ONLY = ['descriptions/', 'catalogue.ts', 'constants.ts', 'credentials/'];

const ruleKey = (unit: string) => (unit.startsWith('nodes/') ? NODE_KEY : unit);
const inPlace = (place: string, where: string) =>
	where.endsWith('/') ? place.startsWith(where) : place === where;

/** What is wrong with one file's imports, by the page's rules. */
function violations(file: string, text: string): string[] {
	const unit = unitOf(file);
	const allowed = mayImport.get(ruleKey(unit));
	if (!allowed) return [`${unit} is not in the page's import table`];
	const wrong: string[] = [];
	for (const { spec, typeOnly } of importsOf(text)) {
		if (spec.startsWith('.')) {
			const target = unitOf(modulePath(join(dirname(file), spec)));
			if (target !== unit && !allowed.has(target))
				wrong.push(`${unit} imports ${target} (${spec})`);
			continue;
		}
		const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
		const places = packagePlaces.get(pkg);
		if (places && !places.some((where) => inPlace(placeOf(file), where)))
			wrong.push(`${placeOf(file)} imports ${pkg}, which belongs in ${places.join(', ')} only`);
		if (TYPE_ONLY.includes(unit) && !typeOnly)
			wrong.push(`${placeOf(file)} loads ${pkg} at run time; it may only import types`);
	}
	return wrong;
}

/** A relative import's file: a folder means its index.ts, a bare name its .ts. */
function modulePath(path: string): string {
	if (existsSync(path) && statSync(path).isDirectory()) return join(path, 'index.ts');
	return /\.(ts|js)$/.test(path) ? path : `${path}.ts`;
}

function filesUnder(dir: string, match: (name: string) => boolean): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return filesUnder(path, match);
		return match(name) ? [path] : [];
	});
}

const foldersUnder = (dir: string): string[] =>
	readdirSync(dir)
		.filter((name) => statSync(join(dir, name)).isDirectory())
		.flatMap((name) => [name, ...foldersUnder(join(dir, name)).map((sub) => `${name}/${sub}`)]);

const sources = [
	...filesUnder(join(root, 'nodes'), (n) => n.endsWith('.ts')),
	...filesUnder(join(root, 'credentials'), (n) => n.endsWith('.ts')),
];

describe('docs/architecture.md', () => {
	it('has both tables, with every layer in the import table', () => {
		for (const unit of [NODE_KEY, 'skeleton/', 'pipeline/', 'transport/', 'image/', 'catalogue.ts'])
			expect(mayImport.has(unit)).toBe(true);
		expect(packagePlaces.get('@google/genai')).toEqual(['transport/']);
		expect(packagePlaces.get('ioredis')).toEqual(['transport/redisQuota.ts']);
	});

	it('every import in nodes/ and credentials/ goes where the page allows', () => {
		expect(sources.length).toBeGreaterThan(50);
		const wrong = sources.flatMap((file) => violations(file, readFileSync(file, 'utf8')));
		expect(wrong).toEqual([]);
	});

	it('every folder under nodes/shared is named on the page, and each one named exists', () => {
		const named = new Set(
			[...page.matchAll(/`((?:[a-z][A-Za-z]*\/)+)(?:[A-Za-z.]+\.ts)?`/g)]
				.map((m) => m[1].replace(/\/$/, ''))
				.filter((folder) => !/^(nodes|docs|test|scripts|dist|credentials)(\/|$)/.test(folder)),
		);
		for (const folder of foldersUnder(shared))
			expect([folder, named.has(folder)]).toEqual([folder, true]);
		for (const folder of named)
			expect([folder, existsSync(join(shared, folder))]).toEqual([folder, true]);
	});
});

const MAX_LINES = 60;

/** Functions over MAX_LINES whose line above (or an enclosing function's) has no `// long:` why. */
function unexcusedLongFunctions(file: string, text: string): string[] {
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
	const lines = text.split('\n');
	const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
	const marked = (node: ts.Node) => /^\s*\/\/ long:/.test(lines[lineOf(node.getStart()) - 1] ?? '');
	const found: string[] = [];
	const visit = (node: ts.Node, excused: boolean) => {
		let inside = excused;
		if (ts.isFunctionLike(node) && 'body' in node && node.body) {
			const length = lineOf(node.end) - lineOf(node.getStart()) + 1;
			inside = excused || marked(node);
			if (length > MAX_LINES && !inside)
				found.push(`${placeOf(file)}:${lineOf(node.getStart()) + 1} is ${length} lines`);
		}
		ts.forEachChild(node, (child) => visit(child, inside));
	};
	visit(source, false);
	return found;
}

describe('function length', () => {
	it(`no function in nodes/ is over ${MAX_LINES} lines unless a "// long:" comment says why`, () => {
		const long = sources.flatMap((file) =>
			unexcusedLongFunctions(file, readFileSync(file, 'utf8')),
		);
		expect(long).toEqual([]);
	});

	it('catches a long one without the comment, and lets it pass with one', () => {
		const body = Array.from({ length: MAX_LINES }, (_, n) => `\tconst a${n} = ${n};`).join('\n');
		const long = `function big() {\n${body}\n}\n`;
		expect(unexcusedLongFunctions(join(shared, 'x.ts'), long)).toEqual(['x.ts:1 is 62 lines']);
		expect(unexcusedLongFunctions(join(shared, 'x.ts'), `// long: a table\n${long}`)).toEqual([]);
	});
});

/** Only the runner converts a failure (docs/architecture.md, "One error path"). */
const CONVERTS_FAILURES = ['pipeline/runner.ts', 'pipeline/errors.ts'];
const convertsFailures = (file: string, text: string) =>
	/\btoNodeError\(/.test(text) && !CONVERTS_FAILURES.includes(placeOf(file));

describe('one error path', () => {
	it('no file in nodes/ but the runner (and errors.ts, which defines it) calls toNodeError', () => {
		expect(page).toContain('**One error path.**');
		const converting = sources.filter((file) => convertsFailures(file, readFileSync(file, 'utf8')));
		expect(converting.map(placeOf)).toEqual([]);
	});

	it('catches an operation that converts an error itself', () => {
		const text = 'catch (error) { throw toNodeError(ctx, error, i); }';
		expect(convertsFailures(join(root, 'nodes/NanoBananaEdit/edit.operation.ts'), text)).toBe(true);
		expect(convertsFailures(join(shared, 'pipeline/runner.ts'), text)).toBe(false);
	});
});

describe('the import check catches', () => {
	const at = (path: string) => join(root, path);
	it.each([
		[
			'nodes/shared/transport/client.ts',
			"import { runItems } from '../pipeline/runner';",
			'transport/ imports pipeline/',
		],
		[
			'nodes/shared/pipeline/fanout.ts',
			"import { asTool } from '../skeleton/tool';",
			'pipeline/ imports skeleton/',
		],
		[
			'nodes/shared/pipeline/input.ts',
			"import { runBatch } from '../batch';",
			'pipeline/ imports batch/',
		],
		[
			'nodes/shared/image/prepare.ts',
			"import type { GeminiClient } from '../transport';",
			'image/ imports transport/',
		],
		[
			'nodes/shared/checks/technical.ts',
			"import { itemError } from '../pipeline/errors';",
			'checks/ imports pipeline/',
		],
		[
			'nodes/NanoBananaEdit/edit.operation.ts',
			"import { x } from '../NanoBananaFuse/fuse.operation';",
			'imports nodes/NanoBananaFuse/',
		],
		[
			'nodes/shared/descriptions/index.ts',
			"import { GeminiClient } from '../transport';",
			'descriptions/ imports transport/',
		],
		[
			'credentials/NanoBananaApi.credentials.ts',
			"import { NodeOperationError } from 'n8n-workflow';",
			'may only import types',
		],
		[
			'nodes/shared/pipeline/runner.ts',
			"import { GoogleGenAI } from '@google/genai';",
			'belongs in transport/ only',
		],
		[
			'nodes/shared/transport/quota.ts',
			"const Redis = require('ioredis');",
			'belongs in transport/redisQuota.ts only',
		],
		[
			'nodes/shared/pipeline/output.ts',
			"import sharp from 'sharp';",
			'belongs in image/, checks/, provenance/ only',
		],
	])('%s: %s', (file, line, message) => {
		expect(violations(at(file), line).join('\n')).toContain(message);
	});

	it('and lets the allowed ones through', () => {
		const allowed = [
			"import { GeminiFailure } from '../transport';",
			"import type { ModelInfo } from '../catalogue';",
			"import { prepareInputImage } from '../image';",
			"import { NodeOperationError } from 'n8n-workflow';",
		].join('\n');
		expect(violations(at('nodes/shared/pipeline/input.ts'), allowed)).toEqual([]);
	});
});
