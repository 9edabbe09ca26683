// Unit and engine tests live in test/; end-to-end tests in a real n8n live in e2e/ (longer timeouts).
const tsJest = ['ts-jest', { diagnostics: false }];

module.exports = {
	// Sends are paced to the rate tier, so engine tests take seconds; no test asserts a duration.
	testTimeout: 60_000,
	projects: [
		{
			displayName: 'unit',
			// jest's node environment, ending what a failed test left running (see the file).
			testEnvironment: '<rootDir>/test/setup/environment.ts',
			roots: ['<rootDir>/test'],
			testMatch: ['**/*.test.ts'],
			transform: { '^.+\\.ts$': tsJest },
			setupFiles: ['<rootDir>/test/setup/env.ts'],
			setupFilesAfterEnv: ['<rootDir>/test/setup/afterEnv.ts'],
		},
	],
};
