// Once per e2e run: the cached n8n runtimes (installed on first use), one build, one packed and installed package.
import { writeFileSync } from 'node:fs';
import { PREPARED_PACKAGE_ENV, preparePackage, preparedPackageFile } from './communityPackage';
import { DEFAULT_N8N_VERSION, ensureRuntime, NODE20_N8N_VERSION } from './runtime';

export default async function globalSetup(): Promise<void> {
	delete process.env[PREPARED_PACKAGE_ENV];
	await ensureRuntime(DEFAULT_N8N_VERSION, true);
	await ensureRuntime(NODE20_N8N_VERSION, true);
	const prepared = await preparePackage();
	const file = preparedPackageFile(prepared);
	writeFileSync(file, JSON.stringify(prepared));
	process.env[PREPARED_PACKAGE_ENV] = file;
}
