// `npm run demo` never leaves n8n behind: a SIGTERM sent to the npm process alone (what a process manager or an
// IDE's stop button does, unlike Ctrl+C, which signals the whole terminal group) stops n8n and the simulator.
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/n8n/runtime';
import { freePort } from '../harness/processes';
import { until } from '../harness/until';

/** Whether anything listens on the port. */
function listening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

/** Processes whose working directory is inside `folder` (n8n runs in its user folder). */
function processesIn(folder: string): number[] {
	return readdirSync('/proc')
		.filter((entry) => /^\d+$/.test(entry))
		.filter((pid) => {
			try {
				return readlinkSync(join('/proc', pid, 'cwd')).startsWith(folder);
			} catch {
				return false;
			}
		})
		.map(Number);
}

test('a SIGTERM to `npm run demo` stops n8n and the simulator', async () => {
	const port = await freePort();
	const npm = spawn('npm', ['run', 'demo', '--', '--port', String(port), '--keep'], {
		cwd: REPO_ROOT,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
	npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<void>((resolve) => npm.once('close', () => resolve()));
	let userFolder: string | undefined;
	try {
		await until('the demo to be ready', () => output.includes('Press Ctrl+C'), 240_000, 500);
		userFolder = /n8n user folder \(kept\): (\S+)/.exec(output)?.[1];
		expect(userFolder).toBeDefined();
		expect(await listening(port)).toBe(true);
		expect(processesIn(userFolder!).length).toBeGreaterThan(0);

		npm.kill('SIGTERM');
		await until(
			'n8n and the simulator to stop',
			async () => !(await listening(port)) && processesIn(userFolder!).length === 0,
			60_000,
			500,
		);
		await exited;
		expect(output).toContain('SIGTERM: stopping n8n and the simulator...');
		expect(output).not.toContain('demo failed');
	} finally {
		if (npm.exitCode === null) npm.kill('SIGKILL');
		for (const pid of userFolder ? processesIn(userFolder) : []) process.kill(pid, 'SIGKILL');
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	}
}, 360_000);
