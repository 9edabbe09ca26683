// Connections to the Redis that n8n's processes share (queue edition): one per connection settings per process,
// shared by every account's gate, ledger and repeat memory; TLS, ACL users, database numbers and Redis Cluster from
// the credential; and the outage rule every shared store follows (RedisConnection.call): which failures are worth
// waiting for, how long to wait, and what the item is told. Messages name host and port, never the URL.
import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

import { REDIS_FIELDS, type RedisConnectionSettings } from '../../core/account';
import { RedisUnavailableError, isError, type RedisFailure } from '../../core/errors';
import { processWide } from './processWide';

export type RedisClient = Redis | Cluster;

/** Runs one of a module's Lua scripts with its KEYS then ARGV (see `luaScripts`). */
export type ScriptCaller = (...args: Array<string | number>) => Promise<unknown>;

/**
 * The Lua scripts a module runs on every send, sent by their SHA1 (EVALSHA) instead of their whole text: ioredis's
 * `defineCommand` sends the text only when Redis does not have the script cached (once per connection, and again
 * after Redis restarted). `keys` is each script's number of KEYS; undefined when the caller passes it first (a
 * script over any number of keys). Each command is named after the script's text, so two copies of this package
 * sharing one client never run each other's script.
 */
export function luaScripts<Name extends string>(
	prefix: string,
	scripts: Record<Name, { lua: string; keys?: number }>,
): (client: RedisClient, name: Name) => ScriptCaller {
	const names = Object.keys(scripts) as Name[];
	const commands = Object.fromEntries(
		names.map((name) => [
			name,
			`${prefix}_${name}_${createHash('sha1').update(scripts[name].lua).digest('hex').slice(0, 8)}`,
		]),
	) as Record<Name, string>;
	return (client, name) => {
		const commandsOf = client as unknown as Record<string, ScriptCaller | undefined>;
		if (!commandsOf[commands[name]]) {
			for (const each of names) {
				client.defineCommand(commands[each], { numberOfKeys: scripts[each].keys, lua: scripts[each].lua });
			}
		}
		return (commandsOf[commands[name]] as ScriptCaller).bind(client);
	};
}

/** One attempt of a Redis call at most: a Redis that hangs without closing the connection is given up on. */
export const ATTEMPT_TIMEOUT_MS = 3000;
/** While Redis is away, a waiting call tries again this often, and at once when the connection is ready again. */
const RETRY_EVERY_MS = 250;
/** Reconnection attempts come quickly (100 ms, 200 ms, … at most 500 ms apart) so a short outage costs little. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 500);

/** Bounds a Redis round trip even when the server hangs without closing the connection. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${what})`)), ms);
	});
	return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The URL read for a Cluster's seed node (a single Redis's URL is read by ioredis itself). */
function seedNode(url: string) {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new Error('it is not a URL (expected redis://host:port or rediss://host:port)');
	}
	if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
		throw new Error(`it starts with ${parsed.protocol}// (expected redis:// or rediss://)`);
	const db = parsed.pathname.replace(/^\//, '');
	if (db !== '' && db !== '0') throw new Error('a Redis Cluster has only database 0: remove /' + db + ' from the URL');
	return {
		host: parsed.hostname.replace(/^\[|\]$/g, ''),
		port: Number(parsed.port || 6379),
		username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
		password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
		tls: parsed.protocol === 'rediss:',
	};
}

export interface RedisConnectionOptions {
	connectTimeoutMs?: number;
}

/** A settings object for a bare URL (tests, the trigger's memory when it only has a URL). */
export const urlOnly = (url: string): RedisConnectionSettings => ({
	url,
	allowUnauthorizedCerts: false,
	cluster: false,
});

/** A Redis (or Redis Cluster) client that connects on first use and never emits an unhandled error. */
export function createRedisClient(
	settings: RedisConnectionSettings | string,
	options: RedisConnectionOptions = {},
): RedisClient {
	const { url, caCertificate, allowUnauthorizedCerts, cluster } =
		typeof settings === 'string' ? urlOnly(settings) : settings;
	const tls = { ca: caCertificate, rejectUnauthorized: !allowUnauthorizedCerts };
	const common: RedisOptions = {
		lazyConnect: true,
		connectTimeout: options.connectTimeoutMs ?? 2000,
		// A command waits through at most one failed reconnection; the outage rule (RedisConnection.call) does the
		// waiting, and is the only one to send a command again (ioredis resending too would run a script twice).
		maxRetriesPerRequest: 1,
		autoResendUnfulfilledCommands: false,
		enableOfflineQueue: true,
		// The ready check sends INFO, which a narrow ACL user may not run; a Redis still loading its data answers
		// LOADING, which the outage rule waits out.
		enableReadyCheck: false,
		retryStrategy: reconnectDelay,
		// A failover can leave the connection on a replica that became read-only: reconnect, to the new primary.
		reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 1 : false),
		// On disconnect, ioredis waits this long for a socket that may never report 'close' (one that failed
		// to connect); its default of 2 s keeps a finished process alive for that long.
		disconnectTimeout: 100,
	};
	let client: RedisClient;
	if (cluster) {
		const seed = seedNode(url);
		const clusterOptions: ClusterOptions = {
			lazyConnect: true,
			clusterRetryStrategy: reconnectDelay,
			enableOfflineQueue: true,
			retryDelayOnFailover: 100,
			retryDelayOnClusterDown: 100,
			retryDelayOnTryAgain: 100,
			slotsRefreshTimeout: 2000,
			redisOptions: {
				...common,
				lazyConnect: false,
				username: seed.username,
				password: seed.password,
				...(seed.tls ? { tls } : {}),
			},
		};
		client = new Cluster([{ host: seed.host, port: seed.port }], clusterOptions);
		clusterSeeds.set(client, `${seed.host}:${seed.port} (cluster)`);
	} else {
		client = new Redis(url, { ...common, ...(/^rediss:/i.test(url) ? { tls } : {}) });
	}
	// Failures reach the caller through the rejected command; the event itself must not crash the process.
	client.on('error', () => undefined);
	return client;
}

/** A Cluster client's seed node, for messages. */
const clusterSeeds = new WeakMap<Cluster, string>();

/** Where a client points, for messages: host and port only (a URL may carry a password). */
export function describeRedis(client: RedisClient): string {
	if (client instanceof Cluster) return clusterSeeds.get(client) ?? 'a Redis Cluster';
	const { host, port, path } = client.options;
	return path ? `socket ${path}` : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/** Answers that say Redis is busy with itself (loading, failing over, full): worth waiting for, like an outage. */
const PASSING_STATES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MISCONF|OOM)\b/;
/** TLS failures that are the certificate's, not the network's: waiting would not help. */
const CERTIFICATE_CODES = new Set([
	'SELF_SIGNED_CERT_IN_CHAIN',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_UNTRUSTED',
	'CERT_SIGNATURE_FAILURE',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * What a failed call means: undefined when Redis is away (or busy) and waiting may help; else why Redis refused,
 * with what to change. `lastError` is the connection's own latest error (a TLS failure never reaches the command).
 */
export function refusalOf(error: unknown, lastError?: Error): { cause: Error; advice: string } | undefined {
	const reply = error instanceof Error && error.name === 'ReplyError' ? error : undefined;
	if (reply) {
		if (PASSING_STATES.test(reply.message)) return undefined;
		if (/^(WRONGPASS|NOAUTH)\b/.test(reply.message) || /invalid password/i.test(reply.message))
			return {
				cause: reply,
				advice: `Check the user name and password in the Redis URL (rediss://user:password@host:port/db, in the credential's ${REDIS_FIELDS.url}).`,
			};
		if (/^NOPERM\b/.test(reply.message))
			return {
				cause: reply,
				advice:
					'The Redis user lacks a permission the shared stores need: allow it the keys vgai:* and the commands listed under "Redis" in docs/production.md (ACL).',
			};
		return {
			cause: reply,
			advice:
				'Check the database number in the Redis URL, and that this Redis runs Lua scripts (EVAL, EVALSHA): see "Redis" in docs/production.md.',
		};
	}
	const code = (lastError as { code?: unknown } | undefined)?.code;
	if (lastError && typeof code === 'string' && CERTIFICATE_CODES.has(code))
		return {
			cause: lastError,
			advice: `Redis's TLS certificate could not be verified (${code}). Put the PEM text of the certificate authority that signed it in the credential's ${REDIS_FIELDS.caCertificate}, or, for a self-signed certificate you trust, switch on ${REDIS_FIELDS.allowUnauthorizedCerts}.`,
		};
	if (lastError?.name === 'ReplyError') return refusalOf(lastError);
	return undefined;
}

export type RedisPurpose = 'rate gate' | 'send ledger';

/**
 * One connection to Redis and what this process knows of it: whether (and since when) Redis is away, its latest
 * error, and reconnections (after which what this process kept is put back: see redisRecovery.ts).
 */
export class RedisConnection {
	readonly where: string;
	private downSince?: number;
	/** The connection's own latest error (a refused TLS handshake never reaches a command). */
	latestError?: Error;
	private everReady = false;
	private readonly readyWaiters = new Set<() => void>();
	private readonly reconnectListeners = new Set<() => void>();

	constructor(readonly client: RedisClient) {
		this.where = describeRedis(client);
		client.on('error', (error: Error) => {
			this.latestError = error;
		});
		client.on('close', () => {
			this.downSince ??= Date.now();
		});
		client.on('ready', () => {
			this.downSince = undefined;
			this.latestError = undefined;
			for (const wake of this.readyWaiters) wake();
			this.readyWaiters.clear();
			if (this.everReady) for (const listener of this.reconnectListeners) listener();
			this.everReady = true;
		});
	}

	/** Calls `listener` each time the connection is ready again after it was lost. Returns the unsubscribe. */
	onReconnect(listener: () => void): () => void {
		this.reconnectListeners.add(listener);
		return () => this.reconnectListeners.delete(listener);
	}

	/**
	 * The outage rule: runs `attempt` until it succeeds. While Redis is away (refused or dropped connections, no
	 * answer within ATTEMPT_TIMEOUT_MS, or Redis saying it is loading or failing over), it tries again until
	 * Redis has been away for `toleranceMs`, counted from when this process first found it away, so that once an
	 * outage has outlasted the tolerance every later call fails at once instead of waiting again. A refusal
	 * (password, permission, certificate) fails at once. Failures are RedisUnavailableError: the item was not sent.
	 * `attempt` may run more than once: each must be safe to repeat.
	 */
	async call<T>(
		purpose: RedisPurpose,
		toleranceMs: number,
		attempt: () => Promise<T>,
		attemptTimeoutMs = ATTEMPT_TIMEOUT_MS,
	): Promise<T> {
		for (;;) {
			const startedAt = Date.now();
			try {
				const result = await withDeadline(attempt(), attemptTimeoutMs, purpose);
				this.downSince = undefined;
				return result;
			} catch (error) {
				if (isError(error, 'RedisUnavailableError')) throw error;
				const refusal = refusalOf(error, this.latestError);
				if (refusal) throw this.failure(purpose, refusal.cause, { kind: 'refused', advice: refusal.advice });
				this.downSince ??= startedAt;
				const waitedMs = Date.now() - this.downSince;
				// A client closed on purpose (shutdown, tests) never comes back: nothing to wait for.
				if (waitedMs >= toleranceMs || this.client.status === 'end')
					throw this.failure(purpose, this.latestError ?? error, { kind: 'unreachable', waitedMs, toleranceMs });
				await this.readyOrAfter(Math.min(RETRY_EVERY_MS, toleranceMs - waitedMs));
			}
		}
	}

	private failure(purpose: RedisPurpose, cause: unknown, failure: RedisFailure): RedisUnavailableError {
		return new RedisUnavailableError(this.where, purpose, cause, failure);
	}

	private readyOrAfter(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const wake = () => {
				clearTimeout(timer);
				this.readyWaiters.delete(wake);
				resolve();
			};
			const timer = setTimeout(wake, ms);
			this.readyWaiters.add(wake);
		});
	}
}

// Connections by client, so stores built on a client of their own (tests) and shared ones are alike.
const connections = new WeakMap<RedisClient, RedisConnection>();

/** The connection record of `client` (created on first use: it listens to the client's events). */
export function connectionOf(client: RedisClient): RedisConnection {
	let connection = connections.get(client);
	if (!connection) {
		connection = new RedisConnection(client);
		connections.set(client, connection);
	}
	return connection;
}

/** A stable name for connection settings (the URL may carry a password: only its hash is kept). */
export function settingsId(settings: RedisConnectionSettings): string {
	const text = JSON.stringify([
		settings.url,
		settings.caCertificate ?? '',
		settings.allowUnauthorizedCerts,
		settings.cluster,
	]);
	return createHash('sha256').update(text, 'utf8').digest('hex');
}

// One connection per connection settings per process, shared by the gates and ledgers of all accounts.
function clients(): Map<string, RedisClient> {
	return processWide('redisClients.v2', () => {
		const registry = new Map<string, RedisClient>();
		process.once('exit', () => {
			for (const client of registry.values()) client.disconnect();
		});
		return registry;
	});
}

export function getSharedRedisClient(settings: RedisConnectionSettings): RedisClient {
	const registry = clients();
	const id = settingsId(settings);
	let client = registry.get(id);
	if (!client) {
		client = createRedisClient(settings);
		registry.set(id, client);
	}
	return client;
}

export async function closeSharedRedisClients(): Promise<void> {
	const registry = clients();
	const all = [...registry.values()];
	registry.clear();
	for (const client of all) client.disconnect();
}

/** The script the credential test runs: what every shared store does (Redis's clock, a vgai:* key that expires). */
const PROBE_LUA = `redis.call('TIME')
return redis.call('SET', KEYS[1], '1', 'PX', 1000)`;

/**
 * For the credential tests: undefined when the Redis of `settings` answers and lets this user do what the shared
 * stores do (a Lua script reading Redis's clock and writing a vgai:* key), else what went wrong and what to change,
 * naming host and port only. Uses a connection of its own, closed afterwards.
 */
export async function redisProblem(
	settings: RedisConnectionSettings | string,
	timeoutMs = 3000,
): Promise<string | undefined> {
	let client: RedisClient;
	try {
		client = createRedisClient(settings, { connectTimeoutMs: timeoutMs });
	} catch (error) {
		return `the URL could not be read (${(error as Error).message})`;
	}
	const connection = connectionOf(client);
	try {
		await withDeadline(client.eval(PROBE_LUA, 1, 'vgai:credential-test'), timeoutMs, 'a test script');
		return undefined;
	} catch (error) {
		const refusal = refusalOf(error, connection.latestError);
		if (refusal)
			return `${connection.where} refused: ${refusal.cause.message.replace(/[.\s]+$/, '')}. ${refusal.advice}`;
		return `${connection.where} did not answer: ${(connection.latestError ?? (error as Error)).message}`;
	} finally {
		client.disconnect();
	}
}
