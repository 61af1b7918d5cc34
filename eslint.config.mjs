import tseslint from 'typescript-eslint';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', 'scripts/**', '*.js', '*.mjs'] },
	{
		files: ['**/*.ts'],
		languageOptions: { parser: tseslint.parser },
	},
	{
		files: ['package.json'],
		// The package.json rules walk a JS object AST, as n8n's own lint setup parses it.
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
	},
	// n8n's rule set for community packages. The Cloud preset adds only no-restricted-imports and
	// no-restricted-globals, which exist to forbid any dependency on n8n Cloud; this package is for
	// self-hosted n8n, so it uses the preset without them.
	n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport,
	{
		rules: {
			// We ship @google/genai (the official SDK, the only correct client for the Gemini wire
			// format) and sharp (pixel work). Community packages that are not verified for n8n Cloud
			// may have runtime dependencies; this rule exists only for Cloud verification.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		// Prettier keeps code within 100 columns but does not break strings or comments: this keeps
		// comments within it too (long user-facing strings stay whole, so they can be searched for).
		files: ['**/*.ts'],
		rules: {
			'max-len': [
				'error',
				{
					code: 100,
					tabWidth: 2,
					ignoreStrings: true,
					ignoreTemplateLiterals: true,
					ignoreUrls: true,
					ignoreRegExpLiterals: true,
				},
			],
		},
	},
];
