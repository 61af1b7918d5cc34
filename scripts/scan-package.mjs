#!/usr/bin/env node
// n8n's own static gate for community packages (@n8n/scan-community-package), run offline: its CLI downloads
// a published package, so this lints the source and the packed tarball with the scanner's own rule set and
// file patterns, as its two legs do. Fails on any finding except those below, which come with the
// package's runtime dependencies and what they need; each is printed with its reason.
//
//   node scripts/scan-package.mjs      # after npm run build
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import glob from 'fast-glob';
import {
	buildScanConfig,
	SOURCE_FILE_PATTERNS,
} from '@n8n/scan-community-package/scanner/scanner.mjs';

const repo = resolve(import.meta.dirname, '..');

const runtimeModules = [
	'sharp', // image conversion and checks
	'@google/genai', // the official SDK, the one client of the wire format
	'google-auth-library', // Vertex AI service-account tokens
	'@contentauth/c2pa-wasm', // the C2PA reader
	'ssim.js', // Verify's similarity
	'ioredis', // queue mode: the quota shared through n8n's Redis
	'undici', // the client's own connection pool: no 300 s header timeout, proxy settings honoured
];
const expected = [
	{
		rule: '@n8n/community-nodes/no-runtime-dependencies',
		why: 'the package has runtime dependencies; n8n Cloud does not take such packages',
	},
	...runtimeModules.map((module) => ({
		rule: '@n8n/community-nodes/no-restricted-imports',
		message: `'${module}`,
		why: 'a runtime dependency',
	})),
	...[
		'fs',
		'fs/promises',
		'node:fs/promises',
		'os',
		'path',
		'stream',
		'stream/promises',
		'stream/web',
	].map((module) => ({
		rule: '@n8n/community-nodes/no-restricted-imports',
		message: `'${module}'`,
		file: /(batch[\/](builder|sources)|client|c2paWasm)\.(ts|js)$/,
		why: 'a batch job spills to a temporary file and its results download to one; the C2PA reader reads its .wasm file',
	})),
	{
		rule: '@n8n/community-nodes/no-restricted-imports',
		message: "'fs'",
		file: /redisQuota\.(ts|js)$/,
		why: "queue mode's Redis password may be in a file (QUEUE_BULL_REDIS_PASSWORD_FILE), read as n8n reads it",
	},
	{
		rule: '@n8n/community-nodes/no-restricted-globals',
		message: "'process'",
		file: /quota\.(ts|js)$/,
		why: "queue mode's Redis settings are n8n's own environment (QUEUE_BULL_REDIS_*), which only process.env holds",
	},
	{
		rule: '@n8n/community-nodes/node-usable-as-tool',
		file: /NanoBananaBatchResults\.node\.ts$/,
		why: 'Batch Results is not offered to AI agents: it collects a job a workflow submitted',
	},
];

const isExpected = (file, m) =>
	expected.find(
		(e) =>
			e.rule === m.ruleId &&
			(!e.message || m.message.includes(e.message)) &&
			(!e.file || e.file.test(file)),
	);

async function scan(dir, patterns) {
	const eslint = new ESLint({
		cwd: dir,
		allowInlineConfig: false,
		overrideConfigFile: true,
		overrideConfig: await buildScanConfig(),
	});
	const files = glob.sync(patterns, {
		cwd: dir,
		absolute: true,
		ignore: ['node_modules/**', '**/package-lock.json'],
	});
	const findings = [];
	for (const result of await eslint.lintFiles(files))
		for (const m of result.messages.filter((m) => m.severity === 2))
			findings.push({ file: relative(dir, result.filePath), ...m });
	return findings;
}

const work = mkdtempSync(join(tmpdir(), 'nano-banana-scan-'));
try {
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
		cwd: repo,
		encoding: 'utf8',
	})
		.trim()
		.split('\n')
		.pop();
	const unpacked = join(work, 'package');
	execFileSync('tar', ['-xzf', join(work, tarball), '-C', work]);

	let unexpected = 0;
	for (const [leg, dir, patterns] of [
		['source', repo, SOURCE_FILE_PATTERNS],
		['tarball', unpacked, ['**/*.js', 'package.json']],
	]) {
		const findings = await scan(dir, patterns);
		const known = new Map();
		for (const f of findings) {
			const e = isExpected(f.file, f);
			if (e) {
				known.set(e.why, (known.get(e.why) ?? 0) + 1);
				continue;
			}
			unexpected++;
			console.log(`${leg}: ${f.file}:${f.line}:${f.column} ${f.message} (${f.ruleId})`);
		}
		console.log(
			`${leg}: ${findings.length} findings, ${findings.length - [...known.values()].reduce((a, b) => a + b, 0)} unexpected`,
		);
		for (const [why, count] of known) console.log(`  expected ${count}x: ${why}`);
	}
	if (unexpected) {
		console.log(`n8n's package scanner: ${unexpected} unexpected findings`);
		process.exitCode = 1;
	}
} finally {
	rmSync(work, { recursive: true, force: true });
}
