// The test environment (environment.ts) as CI meets it: a test fails before stopping a redis-server and a worker
// process it started. jest must still end, saying what it ended, and leave nothing running; without the environment
// it waited for them forever and a CI run hung until its time limit.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const unitProject = (require(join(REPO, 'jest.config.js')) as { projects: Array<Record<string, unknown>> }).projects[0];

function isRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

it('ends the processes a failed test left running, names them, and lets jest exit', async () => {
	const pidsFile = join(mkdtempSync(join(tmpdir(), 'vgai-leftovers-')), 'pids');
	// The unit tests' own project (environment, transform, setup files), pointed at the fixture alone.
	const config = {
		...unitProject,
		rootDir: REPO,
		roots: ['<rootDir>/test/setup/fixtures'],
		testMatch: ['**/leavesProcesses.fixture.ts'],
	};
	const jest = spawn(join(REPO, 'node_modules', '.bin', 'jest'), ['--config', JSON.stringify(config), '--ci'], {
		cwd: REPO,
		env: { ...process.env, LEFTOVER_PIDS_FILE: pidsFile },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	jest.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
	jest.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
	// Not a timing assertion: a jest that has not ended in 50 s is the hang this guards against.
	const hang = setTimeout(() => jest.kill('SIGKILL'), 50_000);
	const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
		jest.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
	);
	clearTimeout(hang);

	const pids = readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number);
	const stillRunning = pids.filter(isRunning);
	for (const pid of stillRunning) process.kill(pid, 'SIGKILL'); // when this fails, leave nothing behind either
	expect(pids).toHaveLength(2);
	expect(stillRunning).toEqual([]);
	expect({ code, signal }).toEqual({ code: 1, signal: null }); // the fixture's test failed, and jest ended
	expect(output).toContain('stopped what it started');
	expect(output).toMatch(/ended 2 process\(es\) left running: redis-server, tsx .*triggerWorker\.ts/);
}, 60_000);
