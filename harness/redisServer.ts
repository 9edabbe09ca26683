// Starts a real redis-server (Debian package `redis-server`) on 127.0.0.1 on a free port, with no persistence,
// for tests and the benchmark; stop() ends it. Nothing is mocked: this is the same server n8n queue mode uses.
import { connect } from 'node:net';

import { freePort, ManagedProcess } from './processes';

export interface RedisServer {
	url: string;
	port: number;
	stop(): Promise<void>;
}

const REDIS_BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

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

async function startOnce(): Promise<RedisServer | undefined> {
	const port = await freePort();
	// Not detached: in our process group, a Ctrl-C in the terminal stops it along with the tests or the benchmark.
	const redis = new ManagedProcess(
		'redis-server',
		REDIS_BINARY,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
		{ detached: false },
	);
	if (redis.child.pid === undefined) {
		await redis.exited; // the spawn error is then in the output
		await redis.stop();
		throw new Error(
			`Could not start ${REDIS_BINARY} (${redis.output.trim()}). Install it: apt-get install -y redis-server`,
		);
	}

	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		if (!redis.running) break; // port taken between freePort() and listen: try another
		if (await ping(port)) {
			return { url: `redis://127.0.0.1:${port}`, port, stop: () => redis.stop(3000) };
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	await redis.stop(0);
	if (Date.now() >= deadline) throw new Error(`redis-server did not answer PING within 10 s: ${redis.output.trim()}`);
	return undefined;
}

export async function startRedis(): Promise<RedisServer> {
	for (let attempt = 0; attempt < 5; attempt++) {
		const server = await startOnce();
		if (server) return server;
	}
	throw new Error('redis-server could not start on a free port after 5 attempts');
}
