// One Redis connection per URL per process (queue edition), shared by the rate gates, send ledgers and trigger
// repeat memories of every account; bounded round trips; messages that name host and port, never the URL.
import { Redis } from 'ioredis';

import { processWide } from './processWide';

/** Where a client points, for messages: host and port only (a URL may carry a password). */
export function describeRedis(client: Redis): string {
	const { host, port, path } = client.options;
	return path ? `socket ${path}` : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/** Bounds a Redis round trip even when the server hangs without closing the connection. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${what})`)), ms);
	});
	return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// One connection per Redis URL per process, shared by the gates and ledgers of all accounts.
function clients(): Map<string, Redis> {
	return processWide('redisClients.v1', () => {
		const registry = new Map<string, Redis>();
		process.once('exit', () => {
			for (const client of registry.values()) client.disconnect();
		});
		return registry;
	});
}

export interface RedisConnectionOptions {
	connectTimeoutMs?: number;
}

/** A Redis client that connects on first use, gives up quickly when Redis is away, and never emits an unhandled error. */
export function createRedisClient(url: string, options: RedisConnectionOptions = {}): Redis {
	const client = new Redis(url, {
		lazyConnect: true,
		connectTimeout: options.connectTimeoutMs ?? 2000,
		// Each call is bounded by withDeadline() instead of ioredis' commandTimeout, whose timer outlives a
		// command rejected while offline and keeps a finished script or test alive for two more seconds.
		maxRetriesPerRequest: 1,
		enableOfflineQueue: true,
		retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
		// On disconnect, ioredis waits this long for a socket that may never report 'close' (one that failed
		// to connect); its default of 2 s keeps a finished process alive for that long.
		disconnectTimeout: 100,
	});
	// Failures reach the caller through the rejected command; the event itself must not crash the process.
	client.on('error', () => undefined);
	return client;
}

/**
 * For the credential tests: undefined when a Redis at `url` answers PING within `timeoutMs`, else what went wrong,
 * naming host and port only (the URL may carry a password). Uses a connection of its own, closed afterwards.
 */
export async function redisProblem(url: string, timeoutMs = 3000): Promise<string | undefined> {
	let client: Redis;
	try {
		client = createRedisClient(url, { connectTimeoutMs: timeoutMs });
	} catch (error) {
		return `the URL could not be read (${(error as Error).message})`;
	}
	try {
		await withDeadline(client.ping(), timeoutMs, 'PING');
		return undefined;
	} catch (error) {
		return `${describeRedis(client)} did not answer: ${(error as Error).message}`;
	} finally {
		client.disconnect();
	}
}

export function getSharedRedisClient(url: string): Redis {
	const registry = clients();
	let client = registry.get(url);
	if (!client) {
		client = createRedisClient(url);
		registry.set(url, client);
	}
	return client;
}

export async function closeSharedRedisClients(): Promise<void> {
	const registry = clients();
	const all = [...registry.values()];
	registry.clear();
	for (const client of all) client.disconnect();
}
