// Once per e2e run: the cached n8n runtimes (installed on first use), one build, both packages packed and installed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREPARED_PACKAGE_ENV, buildPackage, preparePackage } from '../../harness/n8n/communityPackage';
import { DEFAULT_N8N_VERSION, ensureRuntime, NODE20_N8N_VERSION } from '../../harness/n8n/runtime';

export default async function globalSetup(): Promise<void> {
	delete process.env[PREPARED_PACKAGE_ENV];
	await ensureRuntime(DEFAULT_N8N_VERSION, true);
	await ensureRuntime(NODE20_N8N_VERSION, true);
	await buildPackage();
	const main = await preparePackage({ build: false, edition: 'main' });
	const queue = await preparePackage({ build: false, edition: 'queue' });
	const file = join(mkdtempSync(join(tmpdir(), 'vgai-prepared-')), 'prepared.json');
	writeFileSync(file, JSON.stringify({ main, queue }));
	process.env[PREPARED_PACKAGE_ENV] = file;
}
