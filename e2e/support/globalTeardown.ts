// Removes the packed and installed packages of this run.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PREPARED_PACKAGE_ENV, type PreparedPackage } from '../../harness/n8n/communityPackage';

export default async function globalTeardown(): Promise<void> {
	const file = process.env[PREPARED_PACKAGE_ENV];
	if (file && existsSync(file)) {
		const prepared = JSON.parse(readFileSync(file, 'utf8')) as Record<string, PreparedPackage>;
		for (const { nodesDir } of Object.values(prepared)) rmSync(join(nodesDir, '..'), { recursive: true, force: true });
		rmSync(dirname(file), { recursive: true, force: true });
	}
	delete process.env[PREPARED_PACKAGE_ENV];
}
