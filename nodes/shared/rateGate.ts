// Paces the *starts* of Studio sends so that no 1-second window ever holds more starts than the account's tier,
// shared by every node, item and execution that uses the same account (one gate per region + API-key hash).
import { createHash } from 'node:crypto';
import { RedisRateGate, closeSharedRedisClients, getSharedRedisClient } from './redisRateGate';
import { processWide } from './processWide';
import { WaitQueue } from './waitQueue';

export interface RateGate {
	/** Resolves at the moment one send may start. Rejects with SendCancelledError at once when `signal` aborts. */
	acquire(signal?: AbortSignal): Promise<void>;
	/** Studio answered 429: pause for `retryAfterMs` when given and slow down until the 429s stop. */
	penalize(retryAfterMs?: number): void;
	close?(): Promise<void>;
}

/** Studio's rule: at most `tier` sessions in any second. */
export const WINDOW_MS = 1000;

/**
 * Added to the window so that jitter between our start and Studio's arrival (event loop, network) does not push
 * two starts into one of Studio's seconds. The sustained rate is tier × 1000 / (1000 + margin): 25 ms keeps it at
 * 0.976 × tier (the bar is 0.97) while absorbing 25 ms of relative jitter. Raise it for a jittery link.
 */
export const DEFAULT_MARGIN_MS = 25;

/**
 * How late a start may be against the evenly spread schedule and still keep that schedule (timer lateness).
 * The window rule is checked on real start times regardless, so this never lets a window hold more than the tier.
 */
export const SPACING_TOLERANCE_MS = 5;

export interface PenaltyOptions {
	/**
	 * Each 429 (429s less than a window apart count as one: sends in flight get theirs together) doubles the window,
	 * up to 2^maxLevel times; except a lone one, see `graceMs`.
	 */
	maxLevel: number;
	/** One level is dropped for every `recoveryMs` without a 429. */
	recoveryMs: number;
	/**
	 * A 429 with none in the `graceMs` before it, while the gate is at full speed, pauses for its Retry-After but
	 * does not slow the gate: on a jittery link an occasional start lands in Studio's previous second, and halving
	 * the rate for it would cost far more than the one retry. A second 429 within `graceMs` slows the gate as usual.
	 */
	graceMs: number;
}

export const DEFAULT_PENALTY: PenaltyOptions = { maxLevel: 3, recoveryMs: 10_000, graceMs: 30_000 };

export interface RateGateSettings {
	tier: number;
	marginMs?: number;
}

/** Monotonic time and timers; replaceable so the window rule can be checked over many schedules in virtual time. */
export interface GateClock {
	now(): number;
	setTimer(callback: () => void, ms: number): unknown;
	clearTimer(handle: unknown): void;
}

interface PreciseTimer {
	timeout?: NodeJS.Timeout;
	immediate?: NodeJS.Immediate;
}

/**
 * Calls back at `ms` from now, on time to a few tens of microseconds: a plain timeout usually fires about 1 ms
 * late, and under the window rule that lateness carries from one start to the next, costing throughput. So the
 * timeout is set 1 ms short and the last stretch is waited out with setImmediate (at most ~1 ms of polling).
 */
export function preciseTimer(callback: () => void, ms: number): PreciseTimer {
	const target = performance.now() + ms;
	const timer: PreciseTimer = {};
	const check = () => {
		timer.timeout = timer.immediate = undefined;
		const left = target - performance.now();
		if (left <= 0) callback();
		else if (left > 2) timer.timeout = setTimeout(check, Math.floor(left - 1));
		else timer.immediate = setImmediate(check);
	};
	if (ms > 2) timer.timeout = setTimeout(check, Math.floor(ms - 1));
	else timer.immediate = setImmediate(check);
	return timer;
}

export function clearPreciseTimer(timer: PreciseTimer): void {
	if (timer.timeout) clearTimeout(timer.timeout);
	if (timer.immediate) clearImmediate(timer.immediate);
	timer.timeout = timer.immediate = undefined;
}

export const systemClock: GateClock = {
	now: () => performance.now(),
	setTimer: preciseTimer,
	clearTimer: (handle) => clearPreciseTimer(handle as PreciseTimer),
};

export function validateTier(tier: number): number {
	if (!Number.isInteger(tier) || tier < 1) {
		throw new RangeError(`The sessions-per-second tier must be a whole number of at least 1 (got ${tier})`);
	}
	return tier;
}

export function validateMargin(marginMs: number | undefined): number {
	const margin = marginMs ?? DEFAULT_MARGIN_MS;
	if (!Number.isFinite(margin) || margin < 0 || margin > 1000) {
		throw new RangeError(`The rate-gate safety margin must be between 0 and 1000 ms (got ${marginMs})`);
	}
	return margin;
}

/**
 * The in-process gate: a FIFO of waiting sends; a start is allowed when the last `tier` starts (a sliding-window
 * log) leave room in the window and the evenly spread schedule (one start per window / tier) has come.
 */
export class LocalRateGate implements RateGate {
	private tier: number;
	private windowMs: number;
	/** Ring of the last `tier` start times; `count` starts recorded so far. */
	private starts: Float64Array;
	private count = 0;
	private readonly queue = new WaitQueue(() => this.pump());
	private timer: unknown;
	private timerAt = Infinity;
	private pausedUntil = -Infinity;
	/** Earliest next start on the evenly spread schedule. */
	private spacedUntil = -Infinity;
	private penaltyLevel = 0;
	private penaltyRaisedAt = -Infinity;
	/** When the last 429 that counted (not a companion of an earlier one) came. */
	private lastPenaltyAt = -Infinity;
	private closed = false;
	private readonly penalty: PenaltyOptions;

	constructor(
		settings: RateGateSettings,
		private readonly clock: GateClock = systemClock,
		penalty: Partial<PenaltyOptions> = {},
	) {
		this.tier = validateTier(settings.tier);
		this.windowMs = WINDOW_MS + validateMargin(settings.marginMs);
		this.starts = new Float64Array(this.tier);
		this.penalty = { ...DEFAULT_PENALTY, ...penalty };
	}

	/** The credential was edited: keep the recorded starts, apply the new tier and margin from the next start on. */
	configure(settings: RateGateSettings): void {
		const tier = validateTier(settings.tier);
		this.windowMs = WINDOW_MS + validateMargin(settings.marginMs);
		if (tier !== this.tier) {
			const kept = Math.min(tier, this.count, this.tier);
			const recent = new Float64Array(tier);
			for (let i = 0; i < kept; i++) recent[i] = this.starts[(this.count - kept + i) % this.tier];
			this.starts = recent;
			this.count = kept;
			this.tier = tier;
		}
		this.pump();
	}

	acquire(signal?: AbortSignal): Promise<void> {
		if (this.closed) return Promise.reject(new Error('The rate gate was closed'));
		const started = this.queue.wait(signal);
		this.pump();
		return started;
	}

	penalize(retryAfterMs?: number): void {
		const now = this.clock.now();
		const level = this.currentLevel(now);
		// Several sends in flight often get their 429 together: count one per window, not one per reply.
		if (now - this.lastPenaltyAt >= this.windowMs) {
			const lone = level === 0 && now - this.lastPenaltyAt >= this.penalty.graceMs;
			this.lastPenaltyAt = now;
			if (!lone) {
				this.penaltyLevel = Math.min(level + 1, this.penalty.maxLevel);
				this.penaltyRaisedAt = now;
			}
		}
		if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
			this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
		}
		this.pump();
	}

	async close(): Promise<void> {
		this.closed = true;
		this.cancelTimer();
		this.queue.failAll(new Error('The rate gate was closed'));
	}

	/** For logs and tests: how much the gate is currently slowed (0 = full tier). */
	get slowdownLevel(): number {
		return this.currentLevel(this.clock.now());
	}

	private currentLevel(now: number): number {
		if (this.penaltyLevel === 0) return 0;
		const recovered = Math.floor((now - this.penaltyRaisedAt) / this.penalty.recoveryMs);
		return Math.max(0, this.penaltyLevel - recovered);
	}

	/** Earliest time the next start may happen. */
	private nextStartAt(now: number): number {
		let at = Math.max(this.pausedUntil, this.spacedUntil);
		if (this.count >= this.tier) {
			// The rule itself, on the real start times: never more than `tier` starts in one window.
			const oldestOfLastTier = this.starts[this.count % this.tier];
			at = Math.max(at, oldestOfLastTier + this.windowMs * 2 ** this.currentLevel(now));
		}
		return at;
	}

	private recordStart(now: number): void {
		this.starts[this.count % this.tier] = now;
		this.count++;
		// Starts are spread evenly, window / tier apart, instead of in bursts of `tier`: the same sustained rate,
		// still inside Studio's limit if it counted with a bucket that allows no burst, and fewer sends leaving
		// at one instant (less jitter between our start and Studio's arrival). The spacing follows an ideal
		// schedule, so timer lateness (about 1 ms per start) is not added up start after start.
		const interval = (this.windowMs * 2 ** this.currentLevel(now)) / this.tier;
		const onSchedule = now - this.spacedUntil <= SPACING_TOLERANCE_MS;
		this.spacedUntil = (onSchedule ? this.spacedUntil : now) + interval;
	}

	private pump(): void {
		while (this.queue.length > 0) {
			const now = this.clock.now();
			const readyAt = this.nextStartAt(now);
			if (readyAt > now) {
				this.armTimer(readyAt, now);
				return;
			}
			this.recordStart(now);
			this.queue.startNext();
		}
		this.cancelTimer();
	}

	private armTimer(readyAt: number, now: number): void {
		if (this.timer !== undefined && this.timerAt <= readyAt) return;
		this.cancelTimer();
		this.timerAt = readyAt;
		// pump() re-checks the time when the timer fires, so a timer that fires early only costs a re-arm.
		this.timer = this.clock.setTimer(
			() => {
				this.timer = undefined;
				this.timerAt = Infinity;
				this.pump();
			},
			readyAt - now,
		);
	}

	private cancelTimer(): void {
		if (this.timer === undefined) return;
		this.clock.clearTimer(this.timer);
		this.timer = undefined;
		this.timerAt = Infinity;
	}
}

/** SHA-256 of the API key: the only form of the key the gate and the ledger keep or send to Redis. */
export function accountId(region: string, apiKey: string): string {
	const keyHash = createHash('sha256').update(apiKey, 'utf8').digest('hex');
	return `${region}:${keyHash.slice(0, 32)}`;
}

/**
 * Where one account's shared state (gate, ledger) lives: its id, the Redis URL (undefined: in this process), and
 * the registry key naming both, so an edited URL gets a gate and a ledger of its own.
 */
export function accountStore(
	region: string,
	apiKey: string,
	redisUrl: string | undefined,
): { account: string; redisUrl?: string; key: string } {
	const account = accountId(region, apiKey);
	const url = redisUrl?.trim() || undefined;
	if (!url) return { account, key: `local:${account}` };
	return { account, redisUrl: url, key: `redis:${createHash('sha256').update(url, 'utf8').digest('hex')}:${account}` };
}

export interface GetRateGateOptions {
	region: string;
	apiKey: string;
	tier: number;
	/** When set, the budget is shared through this Redis (n8n queue mode: all workers); else in this process. */
	redisUrl?: string;
	marginMs?: number;
}

interface ConfigurableGate extends RateGate {
	configure(settings: RateGateSettings): void;
}

// n8n may load this package's files more than once; one registry per process keeps one budget per account.
function registry(): Map<string, ConfigurableGate> {
	return processWide('rateGates.v1', () => new Map<string, ConfigurableGate>());
}

/** The gate shared by every send for this account in this process (or, with `redisUrl`, across processes). */
export function getRateGate(options: GetRateGateOptions): RateGate {
	const { account, redisUrl, key } = accountStore(options.region, options.apiKey, options.redisUrl);
	const settings: RateGateSettings = { tier: options.tier, marginMs: options.marginMs };
	const gates = registry();
	const existing = gates.get(key);
	if (existing) {
		existing.configure(settings);
		return existing;
	}
	const gate: ConfigurableGate = redisUrl
		? new RedisRateGate({ client: getSharedRedisClient(redisUrl), account, ...settings })
		: new LocalRateGate(settings);
	gates.set(key, gate);
	return gate;
}

/** Tests, the benchmark and shutdown: close every shared gate and the Redis connections behind them. */
export async function closeAllRateGates(): Promise<void> {
	const gates = registry();
	const all = [...gates.values()];
	gates.clear();
	await Promise.all(all.map((gate) => gate.close?.()));
	await closeSharedRedisClients();
}
