// The rate gate shared through Redis, for n8n queue mode: every worker process draws from one budget per account.
// One atomic Lua step per start: a sliding-window log in a sorted set, timed by the Redis server's own clock.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
// rateGate.ts imports this module too; its values are only used inside functions here, so the cycle is harmless.
import {
	DEFAULT_PENALTY,
	SPACING_TOLERANCE_MS,
	WINDOW_MS,
	clearPreciseTimer,
	preciseTimer,
	validateMargin,
	validateTier,
	type PenaltyOptions,
	type RateGate,
	type RateGateSettings,
} from './rateGate';
import { processWide } from './processWide';
import { WaitQueue } from './waitQueue';

/** Redis could not be used; the item was not sent, because sending without the shared store could break the tier. */
export class RedisUnavailableError extends Error {
	readonly name = 'RedisUnavailableError';
	constructor(
		readonly location: string,
		readonly purpose: 'rate gate' | 'send ledger',
		readonly cause?: unknown,
	) {
		super(
			`The shared ${purpose} in Redis (${location}) could not be reached` +
				(cause instanceof Error && cause.message ? `: ${cause.message.replace(/[.\s]+$/, '')}` : '') +
				'. This item was not sent, so running it again is safe. Check that Redis is running and the Redis URL ' +
				'in the credential, or clear the URL to use the gate inside this n8n process.',
		);
	}
}

/**
 * The start of both scripts: the Redis clock in µs, and the penalty hash (level, raisedAt, pausedUntil, lastAt: the
 * last 429 that counted) read with its level already lowered by the time passed without a 429.
 */
const PENALTY_STATE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function penaltyState(key, recovery)
  local pen = redis.call('HMGET', key, 'level', 'raisedAt', 'pausedUntil', 'lastAt')
  local level = 0
  if pen[1] then level = math.max(0, tonumber(pen[1]) - math.floor((now - tonumber(pen[2])) / recovery)) end
  return level, tonumber(pen[3]) or 0, tonumber(pen[4])
end
`;

/**
 * KEYS[1] start log (sorted set, score = start in µs of the Redis clock), KEYS[2] penalty hash, KEYS[3] the
 * evenly spread schedule's next start (µs). ARGV: tier, window µs, member, recovery µs, max penalty level,
 * spacing tolerance µs. Admits a start when the spread schedule has come (as in the local gate) and fewer than
 * `tier` starts lie in the last window. Returns {1, start µs} when admitted now, else {0, µs to wait}.
 */
const ADMIT_LUA = `${PENALTY_STATE_LUA}
local tier = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxLevel = tonumber(ARGV[5])
local level, paused = penaltyState(KEYS[2], tonumber(ARGV[4]))
if paused > now then return {0, paused - now} end
local span = window * (2 ^ level)
local keep = window * (2 ^ maxLevel)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - keep))
local spaced = tonumber(redis.call('GET', KEYS[3]) or '0')
if spaced > now then return {0, math.ceil(spaced - now)} end
local inSpan = redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', now - span), '+inf')
if inSpan >= tier then
  local recent = redis.call('ZREVRANGE', KEYS[1], tier - 1, tier - 1, 'WITHSCORES')
  local wait = tonumber(recent[2]) + span - now
  if wait > 0 then return {0, wait} end
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(keep / 1000) + 1000)
local base = now
if now - spaced <= tonumber(ARGV[6]) then base = spaced end
redis.call('SET', KEYS[3], string.format('%.0f', base + span / tier), 'PX', math.ceil(keep / 1000) + 1000)
return {1, now}
`;

/**
 * KEYS[1] penalty hash. ARGV: window µs, retry-after µs (0 when none), recovery µs, max level, grace µs.
 * Counts a 429 unless one was counted less than a window ago, raises the slowdown one level for it unless it is a
 * lone one (level 0 and none within the grace period, as in the local gate), and extends the pause. Returns the level.
 */
const PENALIZE_LUA = `${PENALTY_STATE_LUA}
local window = tonumber(ARGV[1])
local retryAfter = tonumber(ARGV[2])
local recovery = tonumber(ARGV[3])
local maxLevel = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local level, paused, lastAt = penaltyState(KEYS[1], recovery)
if lastAt == nil or now - lastAt >= window then
  if level > 0 or (lastAt ~= nil and now - lastAt < grace) then
    level = math.min(level + 1, maxLevel)
    redis.call('HSET', KEYS[1], 'level', level, 'raisedAt', string.format('%.0f', now))
  end
  redis.call('HSET', KEYS[1], 'lastAt', string.format('%.0f', now))
end
if retryAfter > 0 and now + retryAfter > paused then paused = now + retryAfter end
redis.call('HSET', KEYS[1], 'pausedUntil', string.format('%.0f', paused))
local ttl = math.max(recovery * (maxLevel + 1), grace)
if paused - now > ttl then ttl = paused - now end
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1000)
return level
`;

// Named after their text: two copies of this package sharing one client never run each other's script.
const ADMIT_COMMAND = `vgaiRateGateAdmit_${createHash('sha1').update(ADMIT_LUA).digest('hex').slice(0, 8)}`;
const PENALIZE_COMMAND = `vgaiRateGatePenalize_${createHash('sha1').update(PENALIZE_LUA).digest('hex').slice(0, 8)}`;

type ScriptCaller = (...args: Array<string | number>) => Promise<unknown>;

function defineScripts(client: Redis): void {
	// defineCommand sends EVALSHA and falls back to EVAL once per connection when the script is not cached.
	client.defineCommand(ADMIT_COMMAND, { numberOfKeys: 3, lua: ADMIT_LUA });
	client.defineCommand(PENALIZE_COMMAND, { numberOfKeys: 1, lua: PENALIZE_LUA });
}

function script(client: Redis, name: string): ScriptCaller {
	const fn = (client as unknown as Record<string, ScriptCaller | undefined>)[name];
	if (!fn) defineScripts(client);
	return (client as unknown as Record<string, ScriptCaller>)[name].bind(client);
}

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

export interface RedisRateGateOptions extends RateGateSettings {
	client: Redis;
	/** Account id from accountId(): region and a hash of the API key, never the key. */
	account: string;
	penalty?: Partial<PenaltyOptions>;
	/** Longest wait for one Redis round trip before the item fails (default 3000 ms). */
	operationTimeoutMs?: number;
}

export class RedisRateGate implements RateGate {
	private tier: number;
	private windowUs: number;
	private readonly client: Redis;
	private readonly logKey: string;
	private readonly penaltyKey: string;
	private readonly scheduleKey: string;
	private readonly penalty: PenaltyOptions;
	private readonly operationTimeoutMs: number;
	private readonly memberPrefix = randomBytes(6).toString('hex');
	private memberCount = 0;
	private readonly queue = new WaitQueue(() => {
		if (this.queue.length === 0) this.wake?.();
	});
	private running = false;
	private closed = false;
	private wake?: () => void;
	private readonly roundTrips = new Array<number>(32).fill(Infinity);
	private roundTripCount = 0;
	/** Half the safety margin (at least 2 ms): how much later than usual an admission may arrive and still be used. */
	private staleAfterMs: number;

	constructor(options: RedisRateGateOptions) {
		this.client = options.client;
		this.tier = validateTier(options.tier);
		this.windowUs = (WINDOW_MS + validateMargin(options.marginMs)) * 1000;
		this.staleAfterMs = Math.max(2, validateMargin(options.marginMs) / 2);
		this.logKey = `vgai:gate:{${options.account}}:starts`;
		this.penaltyKey = `vgai:gate:{${options.account}}:penalty`;
		this.scheduleKey = `vgai:gate:{${options.account}}:next`;
		this.penalty = { ...DEFAULT_PENALTY, ...options.penalty };
		this.operationTimeoutMs = options.operationTimeoutMs ?? 3000;
	}

	configure(settings: RateGateSettings): void {
		this.tier = validateTier(settings.tier);
		this.windowUs = (WINDOW_MS + validateMargin(settings.marginMs)) * 1000;
		this.staleAfterMs = Math.max(2, validateMargin(settings.marginMs) / 2);
	}

	acquire(signal?: AbortSignal): Promise<void> {
		if (this.closed) return Promise.reject(new Error('The rate gate was closed'));
		const started = this.queue.wait(signal);
		if (!this.running) void this.run();
		return started;
	}

	penalize(retryAfterMs?: number): void {
		const retryAfterUs = retryAfterMs && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs * 1000 : 0;
		const call = script(this.client, PENALIZE_COMMAND)(
			this.penaltyKey,
			this.windowUs,
			Math.round(retryAfterUs),
			this.penalty.recoveryMs * 1000,
			this.penalty.maxLevel,
			this.penalty.graceMs * 1000,
		);
		// Best effort: if Redis is down the next acquire fails the item anyway.
		withDeadline(call, this.operationTimeoutMs, 'penalize').catch(() => undefined);
	}

	async close(): Promise<void> {
		this.closed = true;
		this.queue.failAll(new Error('The rate gate was closed'));
		this.wake?.();
	}

	/** One loop per gate: the head of the local queue asks Redis; the others wait their turn (item order). */
	private async run(): Promise<void> {
		this.running = true;
		try {
			while (this.queue.length > 0 && !this.closed) {
				let verdict: [number, number, number];
				try {
					verdict = await this.admit();
				} catch (error) {
					// Every queued send would hit the same wall: fail them all now, not one timeout at a time.
					const failure = new RedisUnavailableError(describeRedis(this.client), 'rate gate', error);
					this.queue.failAll(failure);
					break;
				}
				if (verdict[0] === 1) {
					// Redis counted the start at its own time; if the answer reached us much later than usual (this
					// process paused, the link hiccuped), sending now could crowd Studio's next second. The slot is
					// left unused (still counted, so never over the tier) and the next one is asked for.
					if (verdict[2] > this.fastestRoundTripMs() + this.staleAfterMs) continue;
					// If the waiter that asked was cancelled meanwhile, the admitted start goes to the next one.
					this.queue.startNext();
					continue;
				}
				await this.sleep(verdict[1] / 1000);
			}
		} finally {
			this.running = false;
		}
		if (this.queue.length > 0 && !this.closed) void this.run();
	}

	/** The fastest of the recent round trips: what an admission's answer normally takes. */
	private fastestRoundTripMs(): number {
		return Math.min(...this.roundTrips);
	}

	/** Returns [admitted, µs to wait, round trip in ms]. */
	private async admit(): Promise<[number, number, number]> {
		const member = `${this.memberPrefix}:${++this.memberCount}`;
		const askedAt = performance.now();
		const call = script(this.client, ADMIT_COMMAND)(
			this.logKey,
			this.penaltyKey,
			this.scheduleKey,
			this.tier,
			this.windowUs,
			member,
			this.penalty.recoveryMs * 1000,
			this.penalty.maxLevel,
			SPACING_TOLERANCE_MS * 1000,
		);
		const reply = await withDeadline(call, this.operationTimeoutMs, 'rate gate');
		const roundTripMs = performance.now() - askedAt;
		if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected reply from the rate-gate script');
		// The baseline follows the last 32 round trips, so a link that becomes slower for good is learned.
		this.roundTrips[this.roundTripCount++ % this.roundTrips.length] = roundTripMs;
		return [Number(reply[0]), Number(reply[1]), roundTripMs];
	}

	private sleep(ms: number): Promise<void> {
		return new Promise<void>((resolve) => {
			const timer = preciseTimer(done, ms);
			function done() {
				clearPreciseTimer(timer);
				resolve();
			}
			this.wake = () => {
				this.wake = undefined;
				done();
			};
		});
	}
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
	defineScripts(client);
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
