/**
 * The end-to-end suite: real n8n, real package tarball, simulated Gemini. Run with `npm run test:e2e`.
 * A cold run installs n8n first (about 3 minutes, cached afterwards), so the setup timeout is long but bounded.
 */
/** @type {import('jest').Config} */
module.exports = {
	rootDir: '../..',
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.test.ts'],
	transform: { '^.+\\.ts$': 'ts-jest' },
	maxWorkers: 1,
	testTimeout: 60_000,
};
