// Starts a real redis-server (Debian package `redis-server`) on 127.0.0.1 on a free port, with no persistence,
// for tests and the benchmark; stop() ends it. Nothing is mocked: this is the same server n8n queue mode uses.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface RedisServer {
	url: string;
	port: number;
	stop(): Promise<void>;
}

const REDIS_BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

function freePort(): Promise<number> {
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

/** One PING over a raw socket: true when the server answers +PONG. */
function ping(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(500, () => done(false));
		socket.once('error', () => done(false));
		socket.once('connect', () => socket.write('PING\r\n'));
		socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
	});
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

async function startOnce(): Promise<RedisServer | undefined> {
	const port = await freePort();
	const child = spawn(
		REDIS_BINARY,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let output = '';
	child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
	child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
	let spawnError: Error | undefined;
	child.once('error', (error) => (spawnError = error));
	// A redis-server left behind by a crashed test run would hold the port; never outlive this process.
	const killOnExit = () => child.kill('SIGKILL');
	process.once('exit', killOnExit);

	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		if (spawnError) {
			process.removeListener('exit', killOnExit);
			throw new Error(
				`Could not start ${REDIS_BINARY} (${spawnError.message}). Install it: apt-get install -y redis-server`,
			);
		}
		if (child.exitCode !== null) break; // port taken between freePort() and listen: try another
		if (await ping(port)) {
			let stopped: Promise<void> | undefined;
			return {
				url: `redis://127.0.0.1:${port}`,
				port,
				stop: () =>
					(stopped ??= (async () => {
						child.kill('SIGTERM');
						if (!(await waitForExit(child, 3000))) {
							child.kill('SIGKILL');
							await waitForExit(child, 3000);
						}
						process.removeListener('exit', killOnExit);
					})()),
			};
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	child.kill('SIGKILL');
	await waitForExit(child, 3000);
	process.removeListener('exit', killOnExit);
	if (Date.now() >= deadline) throw new Error(`redis-server did not answer PING within 10 s: ${output.trim()}`);
	return undefined;
}

export async function startRedis(): Promise<RedisServer> {
	for (let attempt = 0; attempt < 5; attempt++) {
		const server = await startOnce();
		if (server) return server;
	}
	throw new Error('redis-server could not start on a free port after 5 attempts');
}
