// Unit and engine tests live in test/; end-to-end tests in a real n8n live in e2e/ (longer timeouts).
const tsJest = ['ts-jest', { isolatedModules: true, diagnostics: false }];

module.exports = {
	projects: [
		{
			displayName: 'unit',
			testEnvironment: 'node',
			roots: ['<rootDir>/test'],
			testMatch: ['**/*.test.ts'],
			transform: { '^.+\\.ts$': tsJest },
			setupFiles: ['<rootDir>/test/setup/env.ts'],
			setupFilesAfterEnv: ['<rootDir>/test/setup/afterEnv.ts'],
		},
	],
};
