// The rate gate shared through Redis, for n8n queue mode: every worker process draws from one budget per account.
// One atomic Lua step per start: a sliding-window log in a sorted set, timed by the Redis server's own clock.
import { randomBytes } from 'node:crypto';

import { DEFAULT_REDIS_OUTAGE_TOLERANCE_S } from '../../core/account';
import { RedisUnavailableError, isError } from '../../core/errors';
import {
	DEFAULT_PENALTY,
	SPACING_TOLERANCE_MS,
	WINDOW_MS,
	validateFloor,
	validateTier,
	type Admission,
	type PenaltyOptions,
	type RateGate,
	type RateGateSettings,
	type SendOutcome,
} from '../../core/rateGate';
import {
	LinkWatch,
	SPACING_RULE,
	afterAccepted,
	afterRefusal,
	initialSpacing,
	widensMargin,
	type SpacingState,
} from '../../core/spacing';
import { WaitQueue } from '../../core/waitQueue';
import { clearPreciseTimer, preciseTimer } from './clock';
import { describeRedis, luaScripts, withDeadline, type RedisClient } from './redisClient';
import { LOST, recoveryOf, type AccountRecovery } from './redisRecovery';

/**
 * The start of the scripts: the Redis clock in µs, and the penalty hash (level, raisedAt, pausedUntil, lastAt: the
 * last 429 that counted) read with its level already lowered by the time passed without such a 429.
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
 * KEYS[1] start log (sorted set, score = when the start counts at Studio, in µs of the Redis clock: its start, or
 * later for a send known to have arrived late), KEYS[2] penalty hash, KEYS[3] when the last start was due on the
 * evenly spread schedule (µs; the next is due a window ÷ tier later, with the window in force when it is asked
 * for, as in the local gate), KEYS[4] the learnt spacing (hash; marginMs), KEYS[5] the account's epoch
 * (redisRecovery.ts: {-1} when it is missing; no start before its quietUntil). ARGV: tier, floor µs, member,
 * recovery µs, max penalty level, spacing tolerance µs, margin µs before anything is learnt, longest window µs.
 * Admits a start when the spread schedule has come and fewer than `tier` starts count in the last window.
 * Returns {1, start µs, µs since the tier-th latest start (-1: fewer)} when admitted now, else {0, µs to wait}.
 */
const ADMIT_LUA = `${PENALTY_STATE_LUA}
local quiet = redis.call('HGET', KEYS[5], 'quietUntil')
if not quiet then return {-1} end
if tonumber(quiet) > now then return {0, tonumber(quiet) - now} end
local tier = tonumber(ARGV[1])
local margin = tonumber(redis.call('HGET', KEYS[4], 'marginMs') or '')
if margin then margin = margin * 1000 else margin = tonumber(ARGV[7]) end
local window = 1000000 + math.max(tonumber(ARGV[2]), margin)
local maxLevel = tonumber(ARGV[5])
local level, paused = penaltyState(KEYS[2], tonumber(ARGV[4]))
if paused > now then return {0, paused - now} end
local span = window * (2 ^ level)
local keep = tonumber(ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - keep))
local due = tonumber(redis.call('GET', KEYS[3]) or '')
local nextDue = nil
if due then nextDue = due + span / tier end
if nextDue and nextDue > now then return {0, math.ceil(nextDue - now)} end
local gap = -1
local recent = redis.call('ZREVRANGE', KEYS[1], tier - 1, tier - 1, 'WITHSCORES')
if recent[2] then
  local wait = tonumber(recent[2]) + span - now
  if wait > 0 then return {0, wait} end
  gap = now - tonumber(recent[2])
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(keep / 1000) + 1000)
local base = now
if nextDue and now - nextDue <= tonumber(ARGV[6]) then base = nextDue end
redis.call('SET', KEYS[3], string.format('%.0f', base), 'PX', math.ceil(keep / 1000) + 1000)
return {1, now, gap}
`;

/**
 * KEYS[1] penalty hash. ARGV: window µs, retry-after µs (0 when none), recovery µs, max level, grace µs, counts
 * (1: a 429 more spacing would not cure, 0: only the pause). A counting 429 raises the slowdown one level unless one
 * was counted less than a window ago or it is a lone one (level 0 and none within the grace period, as in the local
 * gate); any Retry-After extends the pause. Returns the level.
 */
const PENALIZE_LUA = `${PENALTY_STATE_LUA}
local window = tonumber(ARGV[1])
local retryAfter = tonumber(ARGV[2])
local recovery = tonumber(ARGV[3])
local maxLevel = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local level, paused, lastAt = penaltyState(KEYS[1], recovery)
if ARGV[6] == '1' and (lastAt == nil or now - lastAt >= window) then
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

/**
 * KEYS[1] the learnt spacing (hash). ARGV: the version the caller read ('' when there was none), then the new
 * marginMs, failedAtMs, quietSends, widenedAt (ms since the epoch, '' for never), and the expiry in ms. Writes only
 * if nobody changed it meanwhile; returns 1, or the current hash (field, value, …) for the caller to retry.
 */
const SPACING_CAS_LUA = `
local v = redis.call('HGET', KEYS[1], 'v') or ''
if v ~= ARGV[1] then return redis.call('HGETALL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'marginMs', ARGV[2], 'failedAtMs', ARGV[3], 'quietSends', ARGV[4], 'widenedAt', ARGV[5],
  'v', tostring((tonumber(v) or 0) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

/**
 * KEYS[1] penalty hash, KEYS[2] the learnt spacing. ARGV: recovery µs. Returns {level, µs the pause still lasts,
 * marginMs ('' when nothing was learnt yet)}: what the gate is doing now, read with the scripts' own rules.
 */
const INSPECT_LUA = `${PENALTY_STATE_LUA}
local level, paused = penaltyState(KEYS[1], tonumber(ARGV[1]))
return {level, string.format('%.0f', math.max(0, paused - now)), redis.call('HGET', KEYS[2], 'marginMs') or ''}
`;

const script = luaScripts('vgaiRateGate', {
	admit: { lua: ADMIT_LUA, keys: 5 },
	penalize: { lua: PENALIZE_LUA, keys: 1 },
	spacing: { lua: SPACING_CAS_LUA, keys: 1 },
	inspect: { lua: INSPECT_LUA, keys: 2 },
});

export interface RedisRateGateOptions extends RateGateSettings {
	client: RedisClient;
	/** Account id from accountId(): region and a hash of the API key, never the key. */
	account: string;
	penalty?: Partial<PenaltyOptions>;
	/** Longest wait for one best-effort Redis round trip (what a send taught the gate; default 3000 ms). */
	operationTimeoutMs?: number;
	/** How long a start waits for an unreachable Redis before its item fails (the credential's; 0: fail at once). */
	outageToleranceMs?: number;
}

/** How long the learnt spacing is kept in Redis without any send: a day. */
const SPACING_TTL_MS = 24 * 60 * 60 * 1000;

interface SharedSpacing {
	state: SpacingState;
	version: string;
}

function decodeSpacing(reply: unknown, floorMs: number): SharedSpacing {
	const fields = new Map<string, string>();
	if (Array.isArray(reply))
		for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
	const number = (name: string, fallback: number) => {
		const value = Number(fields.get(name) ?? '');
		return fields.get(name) !== undefined && fields.get(name) !== '' && Number.isFinite(value) ? value : fallback;
	};
	const initial = initialSpacing(floorMs);
	return {
		state: {
			marginMs: number('marginMs', initial.marginMs),
			failedAtMs: number('failedAtMs', 0),
			quietSends: number('quietSends', 0),
			widenedAt: number('widenedAt', -Infinity),
		},
		version: fields.get('v') ?? '',
	};
}

const sameSpacing = (a: SpacingState, b: SpacingState) =>
	a.marginMs === b.marginMs &&
	a.failedAtMs === b.failedAtMs &&
	a.quietSends === b.quietSends &&
	a.widenedAt === b.widenedAt;

interface RedisAdmission {
	member: string;
	/** The start as Redis recorded it (µs of its clock). */
	startUs: number;
	gapMs: number;
	/** This process's id for the send in its LinkWatch. */
	watchId: number;
}

export class RedisRateGate implements RateGate {
	private tier: number;
	private floorMs: number;
	private readonly client: RedisClient;
	private readonly logKey: string;
	private readonly penaltyKey: string;
	private readonly scheduleKey: string;
	private readonly spacingKey: string;
	private readonly penalty: PenaltyOptions;
	private readonly operationTimeoutMs: number;
	private readonly outageToleranceMs: number;
	private readonly recovery: AccountRecovery;
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
	private readonly link = new LinkWatch();
	/** The shared spacing as this process last saw it; updates are compare-and-set, one at a time. */
	private shared?: SharedSpacing;
	private spacingUpdates: Promise<void> = Promise.resolve();
	/** Other writes an outcome started (the penalty, a late arrival), best effort, not awaited by the sender. */
	private readonly writes = new Set<Promise<unknown>>();

	constructor(options: RedisRateGateOptions) {
		this.client = options.client;
		this.tier = validateTier(options.tier);
		this.floorMs = validateFloor(options.floorMs);
		this.logKey = `vgai:gate:{${options.account}}:starts`;
		this.penaltyKey = `vgai:gate:{${options.account}}:penalty`;
		// `due`, not the `next` (the next start) of earlier versions: during an upgrade, a worker still on an older
		// version keeps its own schedule instead of misreading this one; the start log keeps every window within the
		// tier either way.
		this.scheduleKey = `vgai:gate:{${options.account}}:due`;
		this.spacingKey = `vgai:gate:{${options.account}}:spacing`;
		this.penalty = { ...DEFAULT_PENALTY, ...options.penalty };
		this.operationTimeoutMs = options.operationTimeoutMs ?? 3000;
		this.outageToleranceMs = options.outageToleranceMs ?? DEFAULT_REDIS_OUTAGE_TOLERANCE_S * 1000;
		this.recovery = recoveryOf(options.client, options.account);
	}

	configure(settings: RateGateSettings): void {
		this.tier = validateTier(settings.tier);
		this.floorMs = validateFloor(settings.floorMs);
	}

	acquire(signal?: AbortSignal): Promise<Admission> {
		if (this.closed) return Promise.reject(new Error('The rate gate was closed'));
		let admitted: RedisAdmission | undefined;
		const started = this.queue.wait(signal, () => {
			admitted = this.pending;
			this.pending = undefined;
		});
		if (!this.running) void this.run();
		return started.then(() => {
			const admission = admitted!;
			return { settle: (outcome: SendOutcome) => this.settle(admission, outcome) };
		});
	}

	/** For logs and tests: the learnt margin as this process last saw it. */
	get marginMs(): number {
		return this.shared?.state.marginMs ?? initialSpacing(this.floorMs).marginMs;
	}

	/**
	 * For logs and tests: what every process sharing the account goes by now, read from Redis: the slowdown level
	 * (0 = full tier), how long the pause of a Retry-After still lasts, and the learnt margin.
	 */
	async inspect(): Promise<{ slowdownLevel: number; pausedForMs: number; marginMs: number }> {
		const reply = (await withDeadline(
			script(this.client, 'inspect')(this.penaltyKey, this.spacingKey, this.penalty.recoveryMs * 1000),
			this.operationTimeoutMs,
			'rate gate',
		)) as [number, string, string];
		const margin = Number(reply[2]);
		return {
			slowdownLevel: Number(reply[0]),
			pausedForMs: Number(reply[1]) / 1000,
			marginMs: reply[2] !== '' && Number.isFinite(margin) ? margin : initialSpacing(this.floorMs).marginMs,
		};
	}

	/** Resolves once every write to Redis that the outcomes so far started has ended (or failed). */
	async flushed(): Promise<void> {
		await Promise.all([this.spacingUpdates, ...this.writes]);
	}

	async close(): Promise<void> {
		this.closed = true;
		this.queue.failAll(new Error('The rate gate was closed'));
		this.wake?.();
		await this.flushed();
	}

	/** Runs a best-effort write: if Redis is down the next acquire fails the item anyway. */
	private write(promise: Promise<unknown>, what: string): void {
		const written = withDeadline(promise, this.operationTimeoutMs, what)
			.catch(() => undefined)
			.finally(() => this.writes.delete(written));
		this.writes.add(written);
	}

	/** The admission the run loop got for the waiter it is about to let through. */
	private pending?: RedisAdmission;

	private settle(admission: RedisAdmission, outcome: SendOutcome): void {
		if (outcome.kind === 'other') {
			this.link.forget(admission.watchId);
			return;
		}
		const now = performance.now();
		if (outcome.kind === 'accepted') {
			const { link, lateMs } = this.link.accepted(admission.watchId, now);
			// The send counts at Studio that much later: so it does in the shared log (best effort).
			if (lateMs > 0) {
				const score = string(admission.startUs + lateMs * 1000);
				this.write(this.client.zadd(this.logKey, 'XX', score, admission.member), 'rate gate');
			}
			this.updateSpacing((state) => afterAccepted(state, link, this.floorMs));
			return;
		}
		const kind = this.link.refused(admission.watchId, now, admission.gapMs);
		// Only then is there anything to write (each update is a round trip to Redis).
		if (widensMargin(kind)) {
			const link = this.link.responses.estimate();
			this.updateSpacing((state) => afterRefusal(state, kind, Date.now(), this.floorMs, link));
		}
		const retryAfterMs = outcome.retryAfterMs;
		const retryAfterUs = retryAfterMs && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs * 1000 : 0;
		if (kind !== 'foreign' && retryAfterUs === 0) return;
		const call = script(this.client, 'penalize')(
			this.penaltyKey,
			(WINDOW_MS + this.marginMs) * 1000,
			Math.round(retryAfterUs),
			this.penalty.recoveryMs * 1000,
			this.penalty.maxLevel,
			this.penalty.graceMs * 1000,
			kind === 'foreign' ? 1 : 0,
		);
		this.write(call, 'penalize');
	}

	/** Applies `change` to the shared spacing: compare-and-set, re-read and retried when another process won. */
	private updateSpacing(change: (state: SpacingState) => SpacingState): void {
		this.spacingUpdates = this.spacingUpdates
			.then(async () => {
				for (let round = 0; round < 5; round++) {
					if (!this.shared) {
						const reply = await withDeadline(
							this.client.hgetall(this.spacingKey),
							this.operationTimeoutMs,
							'rate gate',
						);
						this.shared = decodeSpacing(Object.entries(reply).flat(), this.floorMs);
					}
					const next = change(this.shared.state);
					if (sameSpacing(next, this.shared.state)) return;
					const reply = await withDeadline(
						script(this.client, 'spacing')(
							this.spacingKey,
							this.shared.version,
							string(next.marginMs),
							string(next.failedAtMs),
							String(next.quietSends),
							Number.isFinite(next.widenedAt) ? string(next.widenedAt) : '',
							SPACING_TTL_MS,
						),
						this.operationTimeoutMs,
						'rate gate',
					);
					if (reply === 1) {
						this.shared = { state: next, version: String((Number(this.shared.version) || 0) + 1) };
						return;
					}
					this.shared = decodeSpacing(reply, this.floorMs);
				}
			})
			.catch(() => {
				// Learning is best effort: a lost update only slows learning; Redis problems fail the next acquire.
				this.shared = undefined;
			});
	}

	/** One loop per gate: the head of the local queue asks Redis; the others wait their turn (item order). */
	private async run(): Promise<void> {
		this.running = true;
		try {
			while (this.queue.length > 0 && !this.closed) {
				let verdict: {
					admitted: boolean;
					waitUs: number;
					startUs: number;
					gapMs: number;
					askedAt: number;
					roundTripMs: number;
					member: string;
				};
				try {
					verdict = await this.admit();
				} catch (error) {
					// Redis was away for longer than the tolerance (or refused): every queued send would hit the same
					// wall, so they all fail now, not one after another.
					const failure = isError(error, 'RedisUnavailableError')
						? error
						: new RedisUnavailableError(describeRedis(this.client), 'rate gate', error);
					this.queue.failAll(failure);
					break;
				}
				if (verdict.admitted) {
					// Redis counted the start at its own time; if the answer reached us much later than usual (this
					// process paused, the link hiccuped), sending now could crowd Studio's next second. The slot is
					// left unused (still counted, so never over the tier) and the next one is asked for.
					if (verdict.roundTripMs > this.fastestRoundTripMs() + this.staleAfterMs()) continue;
					// The send is timed from when Redis was asked: the start Redis recorded lies between then and now,
					// so the round trip to Redis is part of what the learnt margin covers.
					this.pending = {
						member: verdict.member,
						startUs: verdict.startUs,
						gapMs: verdict.gapMs,
						watchId: this.link.started(verdict.askedAt),
					};
					// If the waiter that asked was cancelled meanwhile, the admitted start goes to the next one.
					if (!this.queue.startNext()) this.link.forget(this.pending.watchId);
					this.pending = undefined;
					continue;
				}
				await this.sleep(verdict.waitUs / 1000);
			}
		} finally {
			this.running = false;
		}
		if (this.queue.length > 0 && !this.closed) void this.run();
	}

	/** How much later than the fastest recent round trip an admission may arrive and still be used. */
	private staleAfterMs(): number {
		return Math.max(5, this.marginMs / 2);
	}

	/** The fastest of the recent round trips: what an admission's answer normally takes. */
	private fastestRoundTripMs(): number {
		return Math.min(...this.roundTrips);
	}

	private async admit() {
		const member = `${this.memberPrefix}:${++this.memberCount}`;
		let askedAt = performance.now();
		const longestWindowUs = (WINDOW_MS + SPACING_RULE.capMs) * 1000 * 2 ** this.penalty.maxLevel;
		// While Redis is away this waits (the outage rule, redisClient.ts); each try is timed on its own.
		const reply = await this.recovery.call('rate gate', this.outageToleranceMs, async () => {
			askedAt = performance.now();
			const answer = await script(this.client, 'admit')(
				this.logKey,
				this.penaltyKey,
				this.scheduleKey,
				this.spacingKey,
				this.recovery.epochKey,
				this.tier,
				this.floorMs * 1000,
				member,
				this.penalty.recoveryMs * 1000,
				this.penalty.maxLevel,
				SPACING_TOLERANCE_MS * 1000,
				initialSpacing(this.floorMs).marginMs * 1000,
				longestWindowUs,
			);
			return Array.isArray(answer) && Number(answer[0]) === -1 ? LOST : answer;
		});
		const roundTripMs = performance.now() - askedAt;
		if (!Array.isArray(reply) || reply.length < 2) throw new Error('unexpected reply from the rate-gate script');
		// The baseline follows the last 32 round trips, so a link that becomes slower for good is learned.
		this.roundTrips[this.roundTripCount++ % this.roundTrips.length] = roundTripMs;
		const admitted = Number(reply[0]) === 1;
		const gapUs = admitted ? Number(reply[2]) : -1;
		return {
			admitted,
			waitUs: admitted ? 0 : Number(reply[1]),
			startUs: admitted ? Number(reply[1]) : 0,
			gapMs: gapUs >= 0 ? gapUs / 1000 : Infinity,
			askedAt,
			roundTripMs,
			member,
		};
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

/** A number as Redis and the scripts read it: plain decimal, no exponent. */
function string(value: number): string {
	return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
