// Removes the packed and installed package of this run.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { PREPARED_PACKAGE_ENV } from './communityPackage';

export default async function globalTeardown(): Promise<void> {
	const file = process.env[PREPARED_PACKAGE_ENV];
	if (file) rmSync(dirname(file), { recursive: true, force: true });
	delete process.env[PREPARED_PACKAGE_ENV];
}
