/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	transform: { '^.+\\.ts$': 'ts-jest' },
	// Generous: a test must pass on a busy machine (load 8 on 2 cores); a hang still fails.
	testTimeout: 120000,
	setupFilesAfterEnv: ['<rootDir>/test/helpers/fresh-gates.ts'],
};
