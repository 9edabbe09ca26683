// `npm run lint`: n8n's verification rules, taken from n8n's own scanner (@n8n/scan-community-package) so that the
// lint and the scan cannot drift apart, on everything the main package ships (nodes/, credentials/, core/,
// editions/main/, package.json). What is not shipped to n8n Cloud (the queue edition, tests, benchmark, scripts, the
// simulator) keeps the same node and description rules but may use timers, process and its own dependencies.
// `npm run scan` is the scan itself, over the source and the packed tarball.
import { buildScanConfig } from '@n8n/scan-community-package/scanner/scanner.mjs';
import tseslint from 'typescript-eslint';

import { layersPlugin } from './lint/layers.mjs';

const scan = await buildScanConfig();

export default [
	{
		ignores: [
			'**/dist/**',
			'**/node_modules/**',
			'coverage/**',
			'.tmp/**',
			'e2e/runtime/**',
			'**/*.js',
			'**/*.mjs',
			'**/package-lock.json',
			'**/tsconfig*.json',
			'examples/**',
			'e2e/**/*.json',
		],
	},
	...tseslint.configs.recommended.map((config) => ({ ...config, files: ['**/*.ts'] })),
	...scan,
	{
		files: ['**/*.ts'],
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
		},
	},
	{
		// The layers (core ← editions ← nodes; lint/layers.mjs, CONTRIBUTING.md): an import the wrong way fails lint.
		files: ['**/*.ts'],
		plugins: { layers: layersPlugin },
		rules: { 'layers/allowed-imports': 'error' },
	},
	{
		// The core and the editions are free of n8n's node classes (tested and benchmarked without n8n) and throw
		// the typed errors of core/errors.ts; the node turns each of them into a NodeApiError or NodeOperationError
		// (nodes/VonageAiStudio/apiErrors.ts). The scanner applies this rule to nodes/ and credentials/ only.
		files: ['core/**/*.ts', 'editions/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// Not shipped in the main package: the queue edition (self-hosted, with ioredis and undici, precise timers),
		// tests, benchmark, scripts, e2e and the simulator may spawn processes, print and use any global.
		files: [
			'editions/queue/**/*.ts',
			'queue/**/*.ts',
			'test/**/*.ts',
			'harness/**/*.ts',
			'bench/**/*.ts',
			'scripts/**/*.ts',
			'e2e/**/*.ts',
			'simulator/**/*.ts',
		],
		rules: {
			'no-console': 'off',
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			'@n8n/community-nodes/missing-paired-item': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	{
		// Tests load fresh copies of modules (jest.isolateModules) and workers by require().
		files: ['test/**/*.ts', 'harness/**/*.ts', 'e2e/**/*.ts'],
		rules: { '@typescript-eslint/no-require-imports': 'off' },
	},
	{
		// The queue package's entry files: their icons are copied beside them by the build (gulpfile.js), and the
		// queue edition has runtime dependencies by design (ioredis, undici, zod); n8n installs them with it.
		files: ['queue/**'],
		rules: {
			'@n8n/community-nodes/icon-validation': 'off',
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			'@n8n/community-nodes/node-registration-complete': 'off',
		},
	},
];
