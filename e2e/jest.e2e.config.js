// End-to-end tests inside a real n8n (see e2e/README.md). Run alone: `npm run test:e2e`.
// Also usable as one entry of the root config's `projects` (require this file); run it in band either way,
// each test file starts several n8n processes on a 2-core machine.
// ts-jest compiles each file on its own because tsconfig.json sets isolatedModules (its own option is deprecated).
const tsJest = ['ts-jest', { diagnostics: false }];

module.exports = {
	displayName: 'e2e',
	rootDir: '..',
	testEnvironment: '<rootDir>/test/setup/environment.ts',
	roots: ['<rootDir>/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: { '^.+\\.ts$': tsJest },
	globalSetup: '<rootDir>/e2e/support/globalSetup.ts',
	globalTeardown: '<rootDir>/e2e/support/globalTeardown.ts',
	setupFilesAfterEnv: ['<rootDir>/e2e/support/afterEnv.ts'],
};
