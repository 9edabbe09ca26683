// Starts a real redis-server (Debian package `redis-server`) on 127.0.0.1 on a free port, for tests, the e2e tests
// and the benchmark: by default with no persistence; on request keeping its data across a restart (an append-only
// file), serving TLS only, with ACL users, or as a Redis Cluster of several servers. A test can take it down and
// bring it back on the same port, or freeze it. Nothing is mocked: this is the same server n8n queue mode uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, ManagedProcess, run } from './processes';
import { until } from './until';

export interface RedisServerOptions {
	/** Keep the data across down() and up(): an append-only file, written on every change, in a folder of its own. */
	persistent?: boolean;
	/** Serve TLS only (rediss://), with these PEM files (see tlsCertificates.ts). */
	tls?: { certFile: string; keyFile: string; caFile: string };
	/** ACL users as redis.conf writes them ('vgai on >secret ~vgai:* +@all'); the default user is off unless listed. */
	users?: string[];
	/** More redis-server arguments. */
	args?: string[];
}

export interface RedisServer {
	/** redis://127.0.0.1:port (rediss:// with TLS), without user or password. */
	url: string;
	port: number;
	/** Stops redis-server (SIGTERM: a persistent one writes its data first); the port stays this server's. */
	down(): Promise<void>;
	/** Starts it again on the same port (with its data, when persistent); resolves once it accepts connections. */
	up(): Promise<void>;
	/** Stops it answering without closing a connection (SIGSTOP), as a hung server or a lost network would. */
	freeze(): void;
	thaw(): void;
	/** Stops it for good and removes its folder. */
	stop(): Promise<void>;
}

const REDIS_BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const READY = /Ready to accept connections/;

function argsFor(port: number, folder: string, options: RedisServerOptions): string[] {
	const args = ['--bind', '127.0.0.1', '--dir', folder, '--save', '', '--loglevel', 'notice'];
	if (options.tls) {
		args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no');
		args.push('--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile);
		args.push('--tls-ca-cert-file', options.tls.caFile);
	} else args.push('--port', String(port));
	args.push(...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
	if (options.users?.length) {
		if (!options.users.some((user) => user.startsWith('default '))) args.push('--user', 'default', 'off');
		for (const user of options.users) args.push('--user', ...user.split(/\s+/));
	}
	return [...args, ...(options.args ?? [])];
}

/** Starts redis-server on `port`; undefined when the port was taken meanwhile. */
async function launch(port: number, folder: string, options: RedisServerOptions): Promise<ManagedProcess | undefined> {
	// Not detached: in our process group, a Ctrl-C in the terminal stops it along with the tests or the benchmark.
	const redis = new ManagedProcess('redis-server', REDIS_BINARY, argsFor(port, folder, options), { detached: false });
	if (redis.child.pid === undefined) {
		await redis.exited; // the spawn error is then in the output
		await redis.stop();
		throw new Error(
			`Could not start ${REDIS_BINARY} (${redis.output.trim()}). Install it: apt-get install -y redis-server`,
		);
	}
	try {
		await redis.waitForOutput(READY, 10_000);
		return redis;
	} catch (error) {
		await redis.stop(0);
		if (/Address already in use/.test(redis.output)) return undefined;
		throw error;
	}
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
	const folder = mkdtempSync(join(tmpdir(), 'vgai-redis-'));
	for (let attempt = 0; attempt < 5; attempt++) {
		const port = await freePort();
		let server = await launch(port, folder, options);
		if (!server) continue;
		return {
			url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
			port,
			down: async () => {
				await server?.stop(5000);
				server = undefined;
			},
			up: async () => {
				if (server) return;
				server = await launch(port, folder, options);
				if (!server) throw new Error(`redis-server could not listen on port ${port} again: it was taken`);
			},
			freeze: () => server?.signal('SIGSTOP'),
			thaw: () => server?.signal('SIGCONT'),
			stop: async () => {
				server?.signal('SIGCONT');
				await server?.stop(3000);
				server = undefined;
				rmSync(folder, { recursive: true, force: true });
			},
		};
	}
	rmSync(folder, { recursive: true, force: true });
	throw new Error('redis-server could not start on a free port after 5 attempts');
}

export interface RedisCluster {
	/** redis://127.0.0.1:port of the first node: the URL a cluster client starts from. */
	url: string;
	nodes: RedisServer[];
	stop(): Promise<void>;
}

/** A Redis Cluster of `count` primaries (no replicas) on 127.0.0.1, the hash slots split between them. */
export async function startRedisCluster(count = 3): Promise<RedisCluster> {
	const nodes: RedisServer[] = [];
	const stop = async () => {
		for (const node of nodes.reverse()) await node.stop();
	};
	try {
		for (let i = 0; i < count; i++) {
			nodes.push(
				await startRedis({
					args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
				}),
			);
		}
		const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
		await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'], { timeoutMs: 30_000 });
		// Every node must know every slot before a client can rely on any of them (20 s in all).
		const deadline = Date.now() + 20_000;
		for (const node of nodes) {
			await until(
				`node 127.0.0.1:${node.port} of the Redis Cluster to report cluster_state:ok`,
				async () =>
					/cluster_state:ok/.test((await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])).stdout),
				Math.max(0, deadline - Date.now()),
			);
		}
		return { url: nodes[0].url, nodes, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}
