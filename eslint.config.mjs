import tseslint from 'typescript-eslint';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

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
	// The description conventions `n8n-node lint` and n8n's package scanner apply: the plugin's three
	// rulesets, with the same rules switched off as there.
	{ plugins: { 'n8n-nodes-base': n8nNodesBase } },
	{ files: ['package.json'], rules: { ...n8nNodesBase.configs.community.rules } },
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
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
