// Child processes the tests, the demo and the benchmark start (n8n, workers, Postgres, redis-server): captured
// output, waiting for a log line, and stopping newest first, each waited for, even when a test failed half-way.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MAX_OUTPUT_CHARS = 4_000_000;

/** A child process still running, and how to end it at once. */
export interface RunningChild {
	name: string;
	pid?: number;
	kill(): void;
	ended: Promise<unknown>;
}

/**
 * Where every child process started here is listed until it ends: on the global object, which is the test file's
 * own in jest, so its test environment (test/setup/environment.ts) can end what a failed test left running once the
 * file's afterAll hooks are done. Left running, their open pipes would keep jest from exiting.
 */
const RUNNING_CHILDREN = '__vgaiRunningChildren';

export function runningChildren(global: object = globalThis): Set<RunningChild> {
	const holder = global as Record<string, Set<RunningChild> | undefined>;
	return (holder[RUNNING_CHILDREN] ??= new Set());
}

function keepTrack(name: string, pid: number | undefined, ended: Promise<unknown>, kill: () => void): void {
	const entry: RunningChild = { name, pid, kill, ended };
	const running = runningChildren();
	running.add(entry);
	void ended.then(() => running.delete(entry));
}

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

export interface Stoppable {
	name: string;
	stop(): Promise<void>;
}

export class ManagedProcess implements Stoppable {
	readonly child: ChildProcess;
	private text = '';
	private listeners: Array<() => void> = [];
	private stopping?: Promise<void>;
	private readonly ownGroup: boolean;
	/** The process has exited and its output streams are drained. */
	private closed = false;
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

	constructor(
		readonly name: string,
		command: string,
		args: string[],
		options: SpawnOptions & { echo?: boolean; stopSignal?: NodeJS.Signals } = {},
	) {
		// Its own process group unless detached is false, so stop() also reaches the children it starts (n8n's task
		// runners). A process left in ours is also stopped by a Ctrl-C in the terminal.
		this.ownGroup = options.detached ?? true;
		this.child = spawn(command, args, { ...options, detached: this.ownGroup, stdio: ['ignore', 'pipe', 'pipe'] });
		this.stopSignal = options.stopSignal ?? 'SIGTERM';
		const take = (chunk: Buffer) => {
			const piece = chunk.toString();
			if (options.echo) process.stdout.write(piece.replace(/^(?=.)/gm, `[${name}] `));
			this.text += piece;
			if (this.text.length > MAX_OUTPUT_CHARS) this.text = this.text.slice(-MAX_OUTPUT_CHARS / 2);
			for (const listener of this.listeners) listener();
		};
		this.child.stdout?.on('data', take);
		this.child.stderr?.on('data', take);
		this.exited = new Promise((resolve) => {
			this.child.once('close', (code, signal) => {
				this.closed = true;
				for (const listener of this.listeners) listener();
				resolve({ code, signal });
			});
			this.child.once('error', (error) => {
				this.text += `\n[spawn error] ${error.message}\n`;
				resolve({ code: -1, signal: null });
			});
		});
		// Never outlive the process that started us, whatever happens to it.
		process.once('exit', this.killOnExit);
		keepTrack(name, this.child.pid, this.exited, () => this.signal('SIGKILL'));
	}

	private readonly stopSignal: NodeJS.Signals;

	private readonly killOnExit = () => {
		if (this.running) this.signal('SIGKILL');
	};

	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
	}

	get output(): string {
		return this.text;
	}

	/** Resolves with the match once the output matches; rejects when the process exits first or time runs out. */
	waitForOutput(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
		return new Promise((resolve, reject) => {
			const check = () => {
				const match = this.text.slice(from).match(pattern);
				if (match) return finish(() => resolve(match));
				if (this.closed) {
					return finish(() =>
						reject(
							new Error(
								`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.tail()}`,
							),
						),
					);
				}
			};
			const timer = setTimeout(
				() =>
					finish(() =>
						reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`)),
					),
				timeoutMs,
			);
			const finish = (settle: () => void) => {
				clearTimeout(timer);
				this.listeners = this.listeners.filter((listener) => listener !== check);
				settle();
			};
			this.listeners.push(check);
			check();
		});
	}

	tail(lines = 40): string {
		return this.text.split('\n').slice(-lines).join('\n');
	}

	/** Sends a signal to the process (group), if it is still there (SIGSTOP/SIGCONT freeze and thaw it). */
	signal(signal: NodeJS.Signals): void {
		if (this.child.pid === undefined) return;
		try {
			if (this.ownGroup) process.kill(-this.child.pid, signal);
			else this.child.kill(signal);
		} catch {
			// already gone
		}
	}

	/** Kills the process (group) at once, as the kernel's OOM killer or a lost machine would, and waits for it. */
	async kill(): Promise<void> {
		this.signal('SIGKILL');
		await this.exited;
	}

	/** Asks the process (group) to stop, waits, and kills it after graceMs. */
	stop(graceMs = 20_000): Promise<void> {
		return (this.stopping ??= (async () => {
			if (this.running) {
				this.signal(this.stopSignal);
				const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
				await this.exited;
				clearTimeout(timer);
			}
			// The group may still hold children that outlived their parent (a no-op for a process in ours).
			this.signal('SIGKILL');
			process.removeListener('exit', this.killOnExit);
		})());
	}
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function run(
	command: string,
	args: string[],
	options: SpawnOptions & { timeoutMs?: number; echo?: boolean } = {},
): Promise<{ stdout: string; stderr: string }> {
	return await new Promise((resolve, reject) => {
		const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout?.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (options.echo) process.stdout.write(chunk);
		});
		child.stderr?.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
			if (options.echo) process.stderr.write(chunk);
		});
		const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
		child.once('error', (error) => {
			if (timer) clearTimeout(timer);
			reject(error);
		});
		child.once('close', (code, signal) => {
			if (timer) clearTimeout(timer);
			if (code === 0) resolve({ stdout, stderr });
			else
				reject(
					new Error(
						`${command} ${args.join(' ')} failed (${code ?? signal}):\n${(stdout + '\n' + stderr).trim().split('\n').slice(-40).join('\n')}`,
					),
				);
		});
	});
}

/** What a test or the demo started, stopped newest first, each waited for. */
export class Stack {
	private items: Stoppable[] = [];

	add<T extends Stoppable>(item: T): T {
		this.items.push(item);
		return item;
	}

	defer(name: string, stop: () => Promise<void> | void): void {
		this.items.push({ name, stop: async () => await stop() });
	}

	async stopAll(): Promise<void> {
		const errors: unknown[] = [];
		while (this.items.length > 0) {
			const item = this.items.pop()!;
			try {
				await item.stop();
			} catch (error) {
				errors.push(error);
			}
		}
		if (errors.length > 0) throw errors[0];
	}
}

export interface TsxWorker {
	child: ChildProcess;
	/** Its stdout, a line at a time. */
	lines: AsyncIterator<string>;
	/** Its exit code. */
	exited: Promise<number | null>;
}

const REPO_ROOT = join(__dirname, '..');

/** A TypeScript script run by the project's tsx as a process of its own (the cross-process tests' workers). */
export function tsxWorker(script: string, env: Record<string, string>): TsxWorker {
	const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [script], {
		cwd: REPO_ROOT,
		env: { ...process.env, ...env },
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	keepTrack(`tsx ${script}`, child.pid, exited, () => child.kill('SIGKILL'));
	return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator](), exited };
}
