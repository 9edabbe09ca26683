// The packed packages on a machine that has never seen them, on both Node versions the package claims (20, and 24,
// which current n8n needs): the README's `npx -p n8n-nodes-vonage-ai-studio-queue switch-edition` rewrites a workflow
// without pulling anything of n8n, and a manual install (`cd ~/.n8n/nodes && npm install <package>`) brings nothing
// native to build, so it also works where there is no compiler (n8n's own Docker image). Each run uses an empty npm
// cache of its own, as a new machine has.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { preparePackage, type PreparedPackage } from '../harness/n8n/communityPackage';
import { DEFAULT_N8N_VERSION, ensureRuntime } from '../harness/n8n/runtime';
import { run } from '../harness/processes';

const NODES: Array<{ label: string; binDir: () => Promise<string> }> = [
	{ label: 'Node 20', binDir: async () => dirname(process.execPath) },
	{ label: 'Node 24', binDir: async () => (await ensureRuntime(DEFAULT_N8N_VERSION)).nodeBinDir },
];

const scratch = mkdtempSync(join(tmpdir(), 'vgai-new-machine-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** npm and npx as a new machine runs them: this Node first on PATH, an empty cache, none of this repository's settings. */
async function npmOn(binDir: string, tool: 'npm' | 'npx', args: string[], cwd: string) {
	const cache = mkdtempSync(join(scratch, 'npm-cache-'));
	const env: Record<string, string> = {};
	for (const [name, value] of Object.entries(process.env))
		if (value !== undefined && !name.toLowerCase().startsWith('npm_')) env[name] = value;
	env.PATH = `${binDir}:${process.env.PATH ?? ''}`;
	env.npm_config_cache = cache;
	env.npm_config_update_notifier = 'false';
	const result = await run(tool, ['--no-audit', '--no-fund', ...args], { cwd, env, timeoutMs: 5 * 60_000 });
	return { ...result, cache };
}

/** Every package installed under `root` (at any depth of node_modules): its name and folder. */
function packagesUnder(root: string): Array<{ name: string; dir: string }> {
	const found: Array<{ name: string; dir: string }> = [];
	const walk = (dir: string) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			if (!entry.isDirectory()) continue;
			const path = join(dir, entry.name);
			if (entry.name !== 'node_modules') {
				if (dir === root) walk(path);
				continue;
			}
			for (const child of readdirSync(path, { withFileTypes: true })) {
				if (!child.isDirectory() || child.name.startsWith('.')) continue;
				const names = child.name.startsWith('@')
					? readdirSync(join(path, child.name)).map((name) => join(child.name, name))
					: [child.name];
				for (const name of names) {
					found.push({ name, dir: join(path, name) });
					walk(join(path, name));
				}
			}
		}
	};
	walk(root);
	return found;
}

const installedPackages = (root: string) => packagesUnder(root).map((each) => each.name);

/** Packages that would be compiled at install time (a binding.gyp): they need a C++ compiler. */
const nativeBuilds = (root: string) =>
	packagesUnder(root)
		.filter((each) => existsSync(join(each.dir, 'binding.gyp')))
		.map((each) => each.name);

const exportedWorkflow = {
	name: 'CRM contact → WhatsApp session',
	nodes: [
		{ name: 'Webhook', type: 'n8n-nodes-base.webhook' },
		{ name: 'Vonage AI Studio', type: 'n8n-nodes-vonage-ai-studio.vonageAiStudio' },
	],
};

let queue: PreparedPackage;
let main: PreparedPackage;
beforeAll(async () => {
	queue = await preparePackage({ edition: 'queue' });
	main = await preparePackage({ edition: 'main' });
});

describe.each(NODES)('on $label', ({ label, binDir }) => {
	test('npx -p <queue package> switch-edition rewrites a workflow and pulls nothing of n8n', async () => {
		const bin = await binDir();
		const { stdout: version } = await run(join(bin, 'node'), ['--version']);
		expect(version.trim()).toMatch(label === 'Node 20' ? /^v20\./ : /^v24\./);
		const dir = mkdtempSync(join(scratch, 'switch-'));
		const file = join(dir, 'workflows.json');
		writeFileSync(file, JSON.stringify([exportedWorkflow]));

		const { stdout, cache } = await npmOn(
			bin,
			'npx',
			['--yes', '-p', queue.tarball, 'switch-edition', '--to', 'queue', 'workflows.json'],
			dir,
		);

		expect(stdout).toContain('workflows.json: 1 node now uses the queue edition');
		const [moved] = JSON.parse(readFileSync(file, 'utf8')) as Array<typeof exportedWorkflow>;
		expect(moved.nodes.map((node) => node.type)).toEqual([
			'n8n-nodes-base.webhook',
			'n8n-nodes-vonage-ai-studio-queue.vonageAiStudio',
		]);
		// What npx installed to run it: the package and its own small dependencies, not n8n-workflow's tree.
		const npxDir = join(cache, '_npx');
		const installed = readdirSync(npxDir).flatMap((hash) => installedPackages(join(npxDir, hash)));
		expect(installed).toContain('n8n-nodes-vonage-ai-studio-queue');
		expect(installed).not.toContain('n8n-workflow');
		expect(installed).not.toContain('isolated-vm');
		expect(readdirSync(npxDir).flatMap((hash) => nativeBuilds(join(npxDir, hash)))).toEqual([]);
	});

	test.each(['main', 'queue'] as const)(
		'a manual install of the %s edition in ~/.n8n/nodes brings nothing to compile',
		async (edition) => {
			const bin = await binDir();
			const prepared = edition === 'main' ? main : queue;
			const nodesDir = join(mkdtempSync(join(scratch, 'home-')), '.n8n', 'nodes');
			mkdirSync(nodesDir, { recursive: true });

			await npmOn(bin, 'npm', ['install', prepared.tarball], nodesDir);

			const installed = installedPackages(nodesDir);
			expect(installed).toContain(prepared.name);
			// n8n supplies n8n-workflow itself; a second copy beside the package would break its instanceof checks.
			expect(installed).not.toContain('n8n-workflow');
			expect(nativeBuilds(nodesDir)).toEqual([]);
			const dependencies = Object.keys(
				(JSON.parse(readFileSync(join(prepared.nodesDir, 'node_modules', prepared.name, 'package.json'), 'utf8'))
					.dependencies ?? {}) as Record<string, string>,
			);
			if (edition === 'main') expect(installed).toEqual([prepared.name]);
			else expect(dependencies.every((name) => installed.includes(name))).toBe(true);
		},
	);
});
