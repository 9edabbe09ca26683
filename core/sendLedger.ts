// Remembers which sends Studio accepted (or may have accepted), so a re-run never starts a second session.
// Keys come from the caller (execution + node + item, the duplicate guard's content, or the user's idempotency key)
// and are hashed here.
//
// A send holds its key from before it waits at the gate until its outcome is recorded: a claim. Claims are leases
// that their owner (one dispatch run) renews while it works, so that a claim outlives its owner only briefly:
// - a claim still *waiting* (at the gate, or between 429 retries) whose owner is gone is free again: nothing left;
// - a claim whose request was *sending* (marked the moment before it left) whose owner is gone becomes "possibly
//   sent": the request may have reached Studio, so it is never sent again.
// The one rule, written once for memory and Redis (editions/queue/redisSendLedger.ts implements it in a script).
import { createHash } from 'node:crypto';

/** What the ledger keeps about a finished send; stored as JSON, so `response` must be JSON-serialisable. */
export type LedgerResult =
	| { kind: 'accepted'; response: unknown; at: number }
	/** The request reached or may have reached Studio but no answer says it was refused: never resend it. */
	| { kind: 'maybe-sent'; reason: string; at: number };

export type ClaimPhase = 'waiting' | 'sending';

export type ClaimResult = { state: 'claimed' } | { state: 'done'; result: LedgerResult } | { state: 'in-flight' };

export interface SendLedger {
	/**
	 * Takes the key for one send, held by `owner` for `leaseMs` unless renewed, remembered at most `ttlMs`; or says
	 * it is finished (`done`) or held by a live owner right now (`in-flight`). A claim whose owner let its lease run
	 * out is taken over when it was waiting, and becomes `done` ("possibly sent") when it was sending.
	 */
	claim(key: string, owner: string, leaseMs: number, ttlMs: number): Promise<ClaimResult>;
	/**
	 * `sending`: the request is about to leave; from now on, losing the owner means "possibly sent". `waiting`: it
	 * certainly did not start a session (429) and waits to try again. False when the key is no longer this owner's
	 * (its lease ran out and another took it): then the request must not be sent.
	 */
	mark(key: string, owner: string, phase: ClaimPhase, leaseMs: number): Promise<boolean>;
	/** Keeps this owner's claims alive for another `leaseMs`. */
	renew(keys: readonly string[], owner: string, leaseMs: number): Promise<void>;
	/** Records the outcome and keeps it for `ttlMs`. */
	complete(key: string, result: LedgerResult, ttlMs: number): Promise<void>;
	/** The send definitely did not reach Studio: forget this owner's claim so a later run may send it. */
	release(key: string, owner: string): Promise<void>;
	close?(): Promise<void>;
}

/** How long a claim outlives an owner that stopped renewing it, and how often a live owner renews. */
export const LEASE = { leaseMs: 20_000, renewEveryMs: 5_000 } as const;

/** Why a claim became "possibly sent" without an outcome: shown to the user when a re-run finds it. */
export const LOST_SENDER_REASON =
	'the n8n process sending it stopped while its request may have been on the way to Studio';

export function hashKey(key: string): string {
	return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What is stored, one JSON format for memory and Redis, so both behave the same. */
export type Stored =
	| { state: 'in-flight'; owner: string; phase: ClaimPhase; leaseUntil: number }
	| { state: 'done'; result: LedgerResult };

export function decode(raw: string): ClaimResult {
	const stored = JSON.parse(raw) as Stored;
	return stored.state === 'done' ? { state: 'done', result: stored.result } : { state: 'in-flight' };
}

/**
 * The claim rule on a stored value at `now`: what the caller gets, and what to store instead (undefined: keep).
 * Memory applies it directly; the Redis script is the same rule in Lua.
 */
export function claimStep(
	existing: Stored | undefined,
	owner: string,
	leaseMs: number,
	now: number,
): { answer: ClaimResult; store?: Stored } {
	if (existing?.state === 'done') return { answer: { state: 'done', result: existing.result } };
	if (existing && existing.leaseUntil > now) return { answer: { state: 'in-flight' } };
	if (existing?.phase === 'sending') {
		const result: LedgerResult = { kind: 'maybe-sent', reason: LOST_SENDER_REASON, at: now };
		return { answer: { state: 'done', result }, store: { state: 'done', result } };
	}
	return {
		answer: { state: 'claimed' },
		store: { state: 'in-flight', owner, phase: 'waiting', leaseUntil: now + leaseMs },
	};
}

export interface MemorySendLedgerOptions {
	/** Past this many entries the oldest are forgotten first (expired ones before live ones). */
	maxEntries?: number;
	/** Wall-clock milliseconds (virtual time in tests). */
	now?: () => number;
}

interface MemoryEntry {
	stored: Stored;
	expiresAt: number;
}

/** The ledger of one n8n process: bounded, entries expire. Values are copied as JSON, as Redis would. */
export class MemorySendLedger implements SendLedger {
	private readonly entries = new Map<string, MemoryEntry>();
	private readonly maxEntries: number;
	private readonly now: () => number;

	constructor(options: MemorySendLedgerOptions = {}) {
		this.maxEntries = options.maxEntries ?? 100_000;
		this.now = options.now ?? Date.now;
	}

	get size(): number {
		return this.entries.size;
	}

	async claim(key: string, owner: string, leaseMs: number, ttlMs: number): Promise<ClaimResult> {
		const hashed = hashKey(key);
		const entry = this.live(hashed);
		const { answer, store } = claimStep(entry?.stored, owner, leaseMs, this.now());
		if (store) {
			// A claim taken over keeps the first claim's expiry; a new one gets the full time.
			const expiresAt = entry && store.state === 'done' ? entry.expiresAt : this.now() + ttlMs;
			this.put(hashed, { stored: copy(store), expiresAt });
		}
		return copy(answer);
	}

	async mark(key: string, owner: string, phase: ClaimPhase, leaseMs: number): Promise<boolean> {
		const entry = this.live(hashKey(key));
		if (entry?.stored.state !== 'in-flight' || entry.stored.owner !== owner) return false;
		entry.stored = { ...entry.stored, phase, leaseUntil: this.now() + leaseMs };
		return true;
	}

	async renew(keys: readonly string[], owner: string, leaseMs: number): Promise<void> {
		for (const key of keys) {
			const entry = this.live(hashKey(key));
			if (entry?.stored.state === 'in-flight' && entry.stored.owner === owner) {
				entry.stored = { ...entry.stored, leaseUntil: this.now() + leaseMs };
			}
		}
	}

	async complete(key: string, result: LedgerResult, ttlMs: number): Promise<void> {
		this.put(hashKey(key), { stored: copy({ state: 'done', result }), expiresAt: this.now() + ttlMs });
	}

	async release(key: string, owner: string): Promise<void> {
		const hashed = hashKey(key);
		const entry = this.entries.get(hashed);
		if (entry?.stored.state === 'in-flight' && entry.stored.owner === owner) this.entries.delete(hashed);
	}

	private live(hashed: string): MemoryEntry | undefined {
		const entry = this.entries.get(hashed);
		if (entry && entry.expiresAt <= this.now()) {
			this.entries.delete(hashed);
			return undefined;
		}
		return entry;
	}

	private put(hashed: string, entry: MemoryEntry): void {
		this.entries.delete(hashed); // re-insert: Map order is the eviction order
		this.entries.set(hashed, entry);
		if (this.entries.size > this.maxEntries) this.evict();
	}

	private evict(): void {
		const target = Math.floor(this.maxEntries * 0.9);
		const now = this.now();
		for (const [key, entry] of this.entries) {
			if (entry.expiresAt <= now) this.entries.delete(key);
		}
		for (const key of this.entries.keys()) {
			if (this.entries.size <= target) break;
			this.entries.delete(key);
		}
	}
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
