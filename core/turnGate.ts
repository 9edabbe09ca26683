// The rate gate of n8n processes that send with one account but share no store (the main edition's conservative
// mode: queue-mode workers, or several instances, without the queue edition's Redis). They take turns by the
// clock: time is cut into frames of a second plus the margin, counted from the epoch so that every process sees
// the same frames, each frame into `tier` evenly spaced slots; a process starts sends only in the slots of its own
// frames, one frame in `processes`. Any window of a second plus the margin then holds at most `tier` slots, whoever
// owns them: never more than the tier, each process getting tier ÷ processes. Which turn a process has is not known
// beforehand: it picks one at random, and when Studio refuses a send in its own frame (another process has the same
// turn), it moves to another turn (above tier 1 with even odds: both clashing processes may be refused, one should stay),
// so the processes find distinct turns after a few refused sends. (Used where the tier cannot be split into whole
// shares, see splitTier: at tier 1, two processes must take turns.)
import type { AccountRef, AccountState } from './accounts';
import type { Clock } from './ports';
import {
	DEFAULT_PENALTY,
	LocalRateGate,
	Penalty,
	WINDOW_MS,
	validateFloor,
	validateProcesses,
	validateTier,
	type Admission,
	type PenaltyOptions,
	type RateGate,
	type RateGateSettings,
	type SendOutcome,
} from './rateGate';
import { MemorySendLedger } from './sendLedger';
import { WaitQueue } from './waitQueue';

/**
 * The margin of the shared slots unless the credential sets a larger one: the processes cannot share what each
 * learns about the link, so they agree on a fixed, generous one.
 */
export const TURN_MARGIN_MS = 100;

export class TurnRateGate implements RateGate {
	private tier: number;
	private processes: number;
	private marginMs: number;
	private readonly queue = new WaitQueue(() => this.pump());
	private readonly penalty: Penalty;
	private turn: number;
	/** The last slot this process started a send in (never two in one slot). */
	private lastSlot = -Infinity;
	/** The last frame in which a refusal made this process consider moving (one decision per frame). */
	private lastClashFrame = -Infinity;
	private timer: unknown;
	private closed = false;
	/** When refusals in its own frames came, most recent last. */
	private readonly moves: number[] = [];

	constructor(
		settings: RateGateSettings,
		private readonly clock: Clock,
		private readonly random: () => number = Math.random,
		penalty: Partial<PenaltyOptions> = {},
	) {
		this.tier = validateTier(settings.tier);
		this.processes = validateProcesses(settings.processes);
		this.marginMs = Math.max(TURN_MARGIN_MS, validateFloor(settings.floorMs));
		this.penalty = new Penalty({ ...DEFAULT_PENALTY, ...penalty });
		this.turn = Math.floor(this.random() * this.processes);
	}

	configure(settings: RateGateSettings): void {
		this.tier = validateTier(settings.tier);
		this.processes = validateProcesses(settings.processes);
		this.marginMs = Math.max(TURN_MARGIN_MS, validateFloor(settings.floorMs));
		this.turn %= this.processes;
		this.pump();
	}

	/** For logs and tests: this process's turn (0 … processes − 1) and the slot length. */
	get schedule(): { turn: number; slotMs: number; processes: number } {
		return { turn: this.turn, slotMs: this.slotMs(), processes: this.processes };
	}

	get slowdownLevel(): number {
		return this.penalty.levelAt(this.clock.now());
	}

	acquire(signal?: AbortSignal): Promise<Admission> {
		if (this.closed) return Promise.reject(new Error('The rate gate was closed'));
		let slot = -1;
		const started = this.queue.wait(signal, () => {
			slot = this.currentSlot();
			this.lastSlot = slot;
		});
		this.pump();
		return started.then(() => ({ settle: (outcome: SendOutcome) => this.settle(outcome, slot) }));
	}

	async close(): Promise<void> {
		this.closed = true;
		this.cancelTimer();
		this.queue.failAll(new Error('The rate gate was closed'));
	}

	private slotMs(): number {
		return (WINDOW_MS + this.marginMs) / this.tier;
	}

	private currentSlot(): number {
		return Math.floor(this.clock.wallNow() / this.slotMs());
	}

	private frameOf(slot: number): number {
		return Math.floor(slot / this.tier);
	}

	/**
	 * Whether `slot` is this process's to use: in a frame of its turn, not used yet, and, while slowed down by 429s
	 * more turns would not cure, only in every 2^level-th of its frames.
	 */
	private owns(slot: number): boolean {
		const frame = this.frameOf(slot);
		if (slot <= this.lastSlot || frame % this.processes !== this.turn) return false;
		return Math.floor(frame / this.processes) % 2 ** this.penalty.levelAt(this.clock.now()) === 0;
	}

	private pump(): void {
		if (this.queue.length === 0) return this.cancelTimer();
		const slotMs = this.slotMs();
		const now = this.clock.wallNow();
		const slot = Math.floor(now / slotMs);
		// A start late in its slot (a busy event loop) could reach Studio in the next process's slot: only the
		// first part of the slot, the margin's half, is used.
		if (this.owns(slot) && now - slot * slotMs <= this.marginMs / 2) {
			this.queue.startNext();
			if (this.queue.length === 0) return this.cancelTimer();
		}
		let next = slot + 1;
		while (!this.owns(next)) next++;
		this.cancelTimer();
		this.timer = this.clock.setTimer(
			() => {
				this.timer = undefined;
				this.pump();
			},
			next * slotMs - now,
		);
	}

	private settle(outcome: SendOutcome, slot: number): void {
		const frame = this.frameOf(slot);
		if (outcome.kind !== 'refused' || frame <= this.lastClashFrame) return;
		// Refused in its own frame: another process has this turn (or another system sends with the key).
		this.lastClashFrame = frame;
		const now = this.clock.now();
		this.moves.push(now);
		while (this.moves.length > 0 && now - this.moves[0] > this.penalty.graceMs) this.moves.shift();
		// At tier 1 only the second of two clashing sends is refused, so that process moves; above, both may be.
		if (this.processes > 1 && (this.tier === 1 || this.random() < 0.5)) {
			const others = this.processes - 1;
			this.turn = (this.turn + 1 + Math.floor(this.random() * others)) % this.processes;
		}
		// Moving turns cures a clash between our processes within a few refusals; more than twice `processes` in
		// the grace period mean something else takes the slots: slow down as the in-process gate does.
		if (this.moves.length > 2 * this.processes) this.penalty.count(now, WINDOW_MS + this.marginMs);
		this.pump();
	}

	private cancelTimer(): void {
		if (this.timer === undefined) return;
		this.clock.clearTimer(this.timer);
		this.timer = undefined;
	}
}

/**
 * How one of `processes` n8n processes, sharing no store, may send with a tier so that together they never exceed
 * it: a whole share of the tier each when there is one (tier 5 over 2 processes: 2 each, any window holding at most
 * 4 starts however the processes fall), else turns by the clock (tier 1 over 2 processes: one start every two
 * seconds, in alternate seconds).
 */
export function splitTier(tier: number, processes: number): { kind: 'share'; tier: number } | { kind: 'turns' } {
	const share = Math.floor(tier / processes);
	return processes <= 1 ? { kind: 'share', tier } : share >= 1 ? { kind: 'share', tier: share } : { kind: 'turns' };
}

/**
 * The arguments of AccountRegistry.get for an account whose state lives in this process: a gate at the whole tier,
 * or at this process's share of it, or taking turns (splitTier); a ledger in memory.
 */
export function localState(
	account: { region: string; apiKey: string; tier: number; floorMs?: number; processes: number },
	clock: Clock,
): [AccountRef, RateGateSettings, () => AccountState] {
	const split = splitTier(account.tier, account.processes);
	const settings: RateGateSettings = {
		tier: split.kind === 'share' ? split.tier : account.tier,
		floorMs: account.floorMs,
		processes: account.processes,
	};
	// Another split gets state of its own (an edited process count changes the kind of gate).
	const location = account.processes > 1 ? `processes-${account.processes}` : undefined;
	return [
		{ region: account.region, apiKey: account.apiKey, location },
		settings,
		() => ({
			gate: split.kind === 'share' ? new LocalRateGate(settings, clock) : new TurnRateGate(settings, clock),
			ledger: new MemorySendLedger(),
		}),
	];
}
