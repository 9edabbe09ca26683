// The rate gate: paces the *starts* of Studio sends so that no window of a second plus the learnt margin ever holds
// more starts than the account's tier. One gate is shared by every node, item and execution that uses the same
// account (core/accounts.ts); how wide the margin must be is learnt from what Studio answers (spacing.ts). This is
// the contract and the in-process gate; the queue edition's gate keeps the same rule in Redis.
import type { Clock } from './ports';
import { LinkWatch, SPACING_RULE, afterAccepted, afterRefusal, initialSpacing, type SpacingState } from './spacing';
import { WaitQueue } from './waitQueue';

/** What Studio answered a send the gate admitted: the gate learns the link from it. */
export type SendOutcome =
	| { kind: 'accepted' }
	/** 429: Studio refused it because a second held as many sessions as the tier. */
	| { kind: 'refused'; retryAfterMs?: number }
	/** Anything else (another HTTP error, a failure below HTTP, cancelled): teaches nothing about spacing. */
	| { kind: 'other' };

/** One admitted start. `settle` is called once, when the send's outcome is known. */
export interface Admission {
	settle(outcome: SendOutcome): void;
}

export interface RateGate {
	/** Resolves at the moment one send may start. Rejects with SendCancelledError at once when `signal` aborts. */
	acquire(signal?: AbortSignal): Promise<Admission>;
	/** The credential was edited: apply the new tier and floor from the next start on, keeping what was learnt. */
	configure(settings: RateGateSettings): void;
	close(): Promise<void>;
}

/** Studio's rule: at most `tier` sessions in any second. */
export const WINDOW_MS = 1000;

/** The highest floor a credential may set; the learnt margin itself never exceeds SPACING_RULE.capMs. */
export const MAX_FLOOR_MS = SPACING_RULE.capMs;

/**
 * How late a start may be against the evenly spread schedule and still keep that schedule (timer lateness).
 * The window rule is checked on real start times regardless, so this never lets a window hold more than the tier.
 */
export const SPACING_TOLERANCE_MS = 5;

export interface PenaltyOptions {
	/**
	 * Each 429 that more spacing would not cure (see spacing.ts: another system sending with the same key; 429s
	 * less than a window apart count as one) doubles the window, up to 2^maxLevel times; except a lone one.
	 */
	maxLevel: number;
	/** One level is dropped for every `recoveryMs` without such a 429. */
	recoveryMs: number;
	/** Such a 429 with none in the `graceMs` before it, while the gate is at full speed, does not slow the gate. */
	graceMs: number;
}

export const DEFAULT_PENALTY: PenaltyOptions = { maxLevel: 3, recoveryMs: 10_000, graceMs: 30_000 };

export interface RateGateSettings {
	tier: number;
	/** The learnt margin never goes below this (the credential's Rate Gate Safety Margin). Default 0. */
	floorMs?: number;
	/**
	 * n8n processes sending with this account without a shared gate (the conservative mode, see
	 * splitTier): the in-process gate ignores it, a TurnRateGate takes turns with the others. Default 1.
	 */
	processes?: number;
}

export function validateTier(tier: number): number {
	if (!Number.isInteger(tier) || tier < 1) {
		throw new RangeError(`The sessions-per-second tier must be a whole number of at least 1 (got ${tier})`);
	}
	return tier;
}

export function validateProcesses(processes: number | undefined): number {
	const count = processes ?? 1;
	if (!Number.isInteger(count) || count < 1) {
		throw new RangeError(
			`The number of n8n processes sending with this account must be a whole number of at least 1 (got ${processes})`,
		);
	}
	return count;
}

export function validateFloor(floorMs: number | undefined): number {
	const floor = floorMs ?? 0;
	if (!Number.isFinite(floor) || floor < 0 || floor > MAX_FLOOR_MS) {
		throw new RangeError(`The rate-gate safety margin must be between 0 and ${MAX_FLOOR_MS} ms (got ${floorMs})`);
	}
	return floor;
}

/** The slowdown for 429s that more spacing does not cure: shared by the in-process gate and the Redis gate's tests. */
export class Penalty {
	private level = 0;
	private raisedAt = -Infinity;
	/** When the last 429 that counted (not a companion of an earlier one) came. */
	private lastAt = -Infinity;

	constructor(private readonly options: PenaltyOptions) {}

	get maxLevel(): number {
		return this.options.maxLevel;
	}

	get graceMs(): number {
		return this.options.graceMs;
	}

	/** The current level (0 = full tier): raised levels drop one per `recoveryMs`. */
	levelAt(now: number): number {
		if (this.level === 0) return 0;
		const recovered = Math.floor((now - this.raisedAt) / this.options.recoveryMs);
		return Math.max(0, this.level - recovered);
	}

	/** Counts one such 429 unless one was counted less than `windowMs` ago (replies of one burst count once). */
	count(now: number, windowMs: number): void {
		if (now - this.lastAt < windowMs) return;
		const level = this.levelAt(now);
		const lone = level === 0 && now - this.lastAt >= this.options.graceMs;
		this.lastAt = now;
		if (!lone) {
			this.level = Math.min(level + 1, this.options.maxLevel);
			this.raisedAt = now;
		}
	}
}

/** The widest window the gate can ever use: the margin at its cap, the penalty at its top level. */
function longestWindowMs(maxLevel: number): number {
	return (WINDOW_MS + SPACING_RULE.capMs) * 2 ** maxLevel;
}

/**
 * Start times the window rule looks at, in ascending order of when each send counts at Studio: its start, or
 * later for a send known to have arrived late. Only the latest `tier` entries within the longest window can ever
 * hold a start back, so no more are kept.
 */
class StartLog {
	private entries: Array<{ id: number; at: number }> = [];

	constructor(
		private tier: number,
		private readonly longestWindowMs: number,
	) {}

	setTier(tier: number): void {
		this.tier = tier;
	}

	add(id: number, at: number): void {
		this.entries.push({ id, at });
		for (let i = this.entries.length - 1; i > 0 && this.entries[i].at < this.entries[i - 1].at; i--) {
			[this.entries[i], this.entries[i - 1]] = [this.entries[i - 1], this.entries[i]];
		}
		// Entries only ever move later, so one below the latest `tier`, or older than any window, never matters again.
		let drop = Math.max(0, this.entries.length - this.tier);
		while (drop < this.entries.length && this.entries[drop].at <= at - this.longestWindowMs) drop++;
		if (drop > 0) this.entries.splice(0, drop);
	}

	/** The send arrived `byMs` later than its start suggested: it counts that much later. */
	delay(id: number, byMs: number): void {
		if (!(byMs > 0)) return;
		const entry = this.entries.find((each) => each.id === id);
		if (!entry) return;
		entry.at += byMs;
		this.entries.sort((a, b) => a.at - b.at);
	}

	/** When the `tier`-th latest entry counts, or undefined when fewer than `tier` are kept. */
	tierthLatest(): number | undefined {
		return this.entries.length >= this.tier ? this.entries[this.entries.length - this.tier].at : undefined;
	}
}

/**
 * The in-process gate: a FIFO of waiting sends; a start is allowed when the latest `tier` starts leave room in
 * the window (a second plus the learnt margin) and the evenly spread schedule (one start per window / tier) has
 * come. What Studio answers each send teaches the margin (spacing.ts).
 */
export class LocalRateGate implements RateGate {
	private tier: number;
	private floorMs: number;
	private readonly log: StartLog;
	private readonly queue = new WaitQueue(() => this.pump());
	private readonly link = new LinkWatch();
	private spacing: SpacingState;
	private readonly penalty: Penalty;
	private timer: unknown;
	private timerAt = Infinity;
	private pausedUntil = -Infinity;
	/**
	 * When the last start was due on the evenly spread schedule. The next is due one window ÷ tier later, with the
	 * window in force when it comes: a margin learnt from an answer applies to the very next start.
	 */
	private dueAt = -Infinity;
	private closed = false;

	constructor(
		settings: RateGateSettings,
		private readonly clock: Clock,
		penalty: Partial<PenaltyOptions> = {},
	) {
		this.tier = validateTier(settings.tier);
		this.floorMs = validateFloor(settings.floorMs);
		this.penalty = new Penalty({ ...DEFAULT_PENALTY, ...penalty });
		this.log = new StartLog(this.tier, longestWindowMs(this.penalty.maxLevel));
		this.spacing = initialSpacing(this.floorMs);
	}

	/** The credential was edited: keep what was learnt, apply the new tier and floor from the next start on. */
	configure(settings: RateGateSettings): void {
		this.tier = validateTier(settings.tier);
		this.floorMs = validateFloor(settings.floorMs);
		this.spacing = { ...this.spacing, marginMs: Math.max(this.floorMs, this.spacing.marginMs) };
		this.log.setTier(this.tier);
		this.pump();
	}

	acquire(signal?: AbortSignal): Promise<Admission> {
		if (this.closed) return Promise.reject(new Error('The rate gate was closed'));
		let id = -1;
		let gapMs = Infinity;
		const started = this.queue.wait(signal, () => {
			const now = this.clock.now();
			id = this.link.started(now);
			gapMs = this.recordStart(id, now);
		});
		this.pump();
		return started.then(() => ({ settle: (outcome: SendOutcome) => this.settle(id, gapMs, outcome) }));
	}

	/** For logs and tests: how much the gate is currently slowed by the penalty (0 = full tier). */
	get slowdownLevel(): number {
		return this.penalty.levelAt(this.clock.now());
	}

	/** For logs and tests: the learnt margin in force. */
	get marginMs(): number {
		return this.spacing.marginMs;
	}

	async close(): Promise<void> {
		this.closed = true;
		this.cancelTimer();
		this.queue.failAll(new Error('The rate gate was closed'));
	}

	private windowMs(now: number): number {
		return (WINDOW_MS + this.spacing.marginMs) * 2 ** this.penalty.levelAt(now);
	}

	private settle(id: number, gapMs: number, outcome: SendOutcome): void {
		const now = this.clock.now();
		if (outcome.kind === 'other') {
			this.link.forget(id);
			return;
		}
		if (outcome.kind === 'accepted') {
			const { link, lateMs } = this.link.accepted(id, now);
			this.log.delay(id, lateMs);
			this.spacing = afterAccepted(this.spacing, link, this.floorMs);
		} else {
			const kind = this.link.refused(id, now, gapMs);
			this.spacing = afterRefusal(this.spacing, kind, now, this.floorMs, this.link.responses.estimate());
			if (kind === 'foreign') this.penalty.count(now, this.windowMs(now));
			const retryAfterMs = outcome.retryAfterMs;
			if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
				this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
			}
		}
		this.pump();
	}

	/** Earliest time the next start may happen. */
	private nextStartAt(now: number): number {
		let at = Math.max(this.pausedUntil, this.dueAt + this.windowMs(now) / this.tier);
		// The rule itself: never more than `tier` starts (as they count at Studio) in one window.
		const tierth = this.log.tierthLatest();
		if (tierth !== undefined) at = Math.max(at, tierth + this.windowMs(now));
		return at;
	}

	/** Records a start; returns how long after the `tier`-th latest start (as it counts at Studio) it came. */
	private recordStart(id: number, now: number): number {
		const tierth = this.log.tierthLatest();
		const gapMs = tierth === undefined ? Infinity : now - tierth;
		this.log.add(id, now);
		// Starts are spread evenly, window / tier apart, instead of in bursts of `tier`: the same sustained rate,
		// still inside Studio's limit if it counted with a bucket that allows no burst, and fewer sends leaving
		// at one instant (less jitter between our start and Studio's arrival). The spacing follows an ideal
		// schedule, so timer lateness (about 1 ms per start) is not added up start after start.
		const due = this.dueAt + this.windowMs(now) / this.tier;
		this.dueAt = now - due <= SPACING_TOLERANCE_MS ? due : now;
		return gapMs;
	}

	private pump(): void {
		while (this.queue.length > 0) {
			const now = this.clock.now();
			const readyAt = this.nextStartAt(now);
			if (readyAt > now) {
				this.armTimer(readyAt, now);
				return;
			}
			this.queue.startNext();
		}
		this.cancelTimer();
	}

	private armTimer(readyAt: number, now: number): void {
		if (this.timer !== undefined && this.timerAt <= readyAt) return;
		this.cancelTimer();
		this.timerAt = readyAt;
		// pump() re-checks the time when the timer fires, so a timer that fires early only costs a re-arm.
		this.timer = this.clock.setTimer(() => {
			this.timer = undefined;
			this.timerAt = Infinity;
			this.pump();
		}, readyAt - now);
	}

	private cancelTimer(): void {
		if (this.timer === undefined) return;
		this.clock.clearTimer(this.timer);
		this.timer = undefined;
		this.timerAt = Infinity;
	}
}
