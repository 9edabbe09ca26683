// Builds and packs one of this repository's two packages (the main edition at the root, the queue-mode edition in
// queue/), then installs the tarball the way n8n's community-package installer does (n8n 2.x
// CommunityPackagesService.downloadPackage): unpack into <n8n folder>/nodes/node_modules/<name>, drop dev, peer
// and optional dependencies from its package.json, `npm install` its runtime dependencies there with install
// scripts off, and record it in nodes/package.json. n8n-workflow is a peer dependency, so it is not installed:
// the nodes resolve n8n's own copy through the NODE_PATH n8n sets when it loads packages. The main edition has no
// runtime dependencies at all; zod resolves to n8n's own copy the same way.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../processes';
import { REPO_ROOT } from './runtime';

export type Edition = 'main' | 'queue';

/** Where each package's package.json is. */
export const PACKAGE_DIRS: Record<Edition, string> = { main: REPO_ROOT, queue: join(REPO_ROOT, 'queue') };

export interface PreparedPackage {
	edition: Edition;
	name: string;
	version: string;
	tarball: string;
	/** A ready `nodes` folder (package.json + node_modules) to copy into a fresh n8n user folder. */
	nodesDir: string;
}

/** Set by the e2e global setup so every test file reuses one build. */
export const PREPARED_PACKAGE_ENV = 'VGAI_E2E_PREPARED_PACKAGE';

const NPM_INSTALL_ARGS = [
	'install',
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
	'--loglevel=error',
];

export async function buildPackage(): Promise<void> {
	await run('npm', ['run', 'build'], { cwd: REPO_ROOT, timeoutMs: 5 * 60_000 });
}

export async function packPackage(destination: string, edition: Edition = 'main'): Promise<string> {
	mkdirSync(destination, { recursive: true });
	const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination, '--loglevel=error'], {
		cwd: PACKAGE_DIRS[edition],
		timeoutMs: 2 * 60_000,
	});
	const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
	return join(destination, filename);
}

/** Installs a packed tarball into `<nodesDir>/node_modules/<name>` as n8n would. */
export async function installTarball(tarball: string, nodesDir: string): Promise<{ name: string; version: string }> {
	const staging = mkdtempSync(join(tmpdir(), 'vgai-unpack-'));
	await run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1']);
	const manifest = JSON.parse(readFileSync(join(staging, 'package.json'), 'utf8')) as Record<string, unknown> & {
		name: string;
		version: string;
	};
	const packageDir = join(nodesDir, 'node_modules', manifest.name);
	mkdirSync(packageDir, { recursive: true });
	cpSync(staging, packageDir, { recursive: true });
	rmSync(staging, { recursive: true, force: true });
	const kept: Record<string, unknown> = { ...manifest };
	for (const field of ['devDependencies', 'peerDependencies', 'optionalDependencies']) delete kept[field];
	writeFileSync(join(packageDir, 'package.json'), JSON.stringify(kept, null, 2));
	await run('npm', NPM_INSTALL_ARGS, { cwd: packageDir, timeoutMs: 5 * 60_000 });

	// What n8n will load: a file missing here would only show up as an unknown node type in n8n's log.
	const declared = (manifest.n8n ?? {}) as { nodes?: string[]; credentials?: string[] };
	const missing = [...(declared.nodes ?? []), ...(declared.credentials ?? [])].filter(
		(path) => !existsSync(join(packageDir, path)),
	);
	if (missing.length > 0)
		throw new Error(`The packed package lacks files its package.json "n8n" lists: ${missing.join(', ')}`);

	const nodesManifest = join(nodesDir, 'package.json');
	const current: Record<string, unknown> & { dependencies?: Record<string, string> } = existsSync(nodesManifest)
		? (JSON.parse(readFileSync(nodesManifest, 'utf8')) as Record<string, unknown>)
		: { name: 'installed-nodes', private: true };
	const dependencies = { ...(current.dependencies ?? {}), [manifest.name]: manifest.version };
	writeFileSync(nodesManifest, JSON.stringify({ ...current, dependencies }, null, 2));

	// A second n8n-workflow next to our nodes would make n8n's instanceof checks on errors fail.
	const stray = ['node_modules/n8n-workflow', `node_modules/${manifest.name}/node_modules/n8n-workflow`]
		.map((path) => join(nodesDir, path))
		.filter((path) => existsSync(path));
	if (stray.length > 0) throw new Error(`n8n-workflow was installed beside the package: ${stray.join(', ')}`);
	// A package without runtime dependencies (the verification-ready main edition) gets nothing installed beside
	// it: whatever it imports must come from n8n itself (zod included).
	if (Object.keys((manifest.dependencies ?? {}) as object).length === 0) {
		const beside = ['node_modules/zod', `node_modules/${manifest.name}/node_modules`]
			.map((path) => join(nodesDir, path))
			.filter((path) => existsSync(path));
		if (beside.length > 0)
			throw new Error(`Something was installed beside a package without dependencies: ${beside.join(', ')}`);
	}
	return { name: manifest.name, version: manifest.version };
}

/** Both packages as the global setup prepared them, when it did. */
function sharedPackages(): Partial<Record<Edition, PreparedPackage>> | undefined {
	const shared = process.env[PREPARED_PACKAGE_ENV];
	return shared && existsSync(shared)
		? (JSON.parse(readFileSync(shared, 'utf8')) as Partial<Record<Edition, PreparedPackage>>)
		: undefined;
}

/** Build, pack and install into a fresh folder; reuses the global setup's result when there is one. */
export async function preparePackage(options: { build?: boolean; edition?: Edition } = {}): Promise<PreparedPackage> {
	const edition = options.edition ?? 'main';
	const shared = sharedPackages()?.[edition];
	if (shared) return shared;
	if (options.build !== false) await buildPackage();
	const workDir = mkdtempSync(join(tmpdir(), `vgai-package-${edition}-`));
	const tarball = await packPackage(workDir, edition);
	const nodesDir = join(workDir, 'nodes');
	const { name, version } = await installTarball(tarball, nodesDir);
	return { edition, name, version, tarball, nodesDir };
}

/** Deletes what preparePackage made (tarball and installed copy), unless it is the global setup's shared one. */
export function removePreparedPackage(prepared: PreparedPackage): void {
	if (sharedPackages()?.[prepared.edition]?.nodesDir === prepared.nodesDir) return;
	rmSync(join(prepared.nodesDir, '..'), { recursive: true, force: true });
}
