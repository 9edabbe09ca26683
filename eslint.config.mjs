// n8n's own lint rules for community packages, without the rules that only n8n Cloud's verification needs.
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import tseslint from 'typescript-eslint';

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'e2e/runtime/**', '**/*.js', '**/*.mjs'] },
	...tseslint.configs.recommended,
	n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport,
	{
		files: ['**/*.ts'],
		rules: {
			// Verified (Cloud) packages may not have runtime dependencies; self-hosted community packages may,
			// and n8n's installer runs npm install for them. We rely on undici, zod, ioredis and jsonwebtoken.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
		},
	},
	{
		// The shared modules are deliberately free of n8n (tested and benchmarked without it) and throw their own
		// typed errors; the node turns every one of them into a NodeApiError or NodeOperationError (apiErrors.ts).
		files: ['nodes/shared/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// Tests, benchmark and scripts are not shipped: they may spawn processes and use any global.
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'e2e/**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			'@n8n/community-nodes/missing-paired-item': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
];
