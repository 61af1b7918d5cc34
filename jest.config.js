/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	transform: { '^.+\\.ts$': 'ts-jest' },
	testTimeout: 30000,
	setupFilesAfterEnv: ['<rootDir>/test/helpers/fresh-gates.ts'],
};
