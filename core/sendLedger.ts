// Remembers which sends Studio accepted (or may have accepted), so a re-run never starts a second session.
// Keys come from the caller (execution + node + item, or the user's idempotency key) and are hashed here.
import { createHash, randomBytes } from 'node:crypto';

/** What the ledger keeps about a finished send; stored as JSON, so `response` must be JSON-serialisable. */
export type LedgerResult =
	| { kind: 'accepted'; response: unknown; at: number }
	/** The request reached or may have reached Studio but no answer says it was refused: never resend it. */
	| { kind: 'maybe-sent'; reason: string; at: number };

export type ClaimResult = { state: 'claimed' } | { state: 'done'; result: LedgerResult } | { state: 'in-flight' };

export interface SendLedger {
	/** Takes the key for one send, or says it is finished (`done`) or held by another sender right now. */
	claim(key: string, ttlMs: number): Promise<ClaimResult>;
	/** Records the outcome and keeps it for `ttlMs`. */
	complete(key: string, result: LedgerResult, ttlMs: number): Promise<void>;
	/** The send definitely did not reach Studio: forget the claim so a later run may send it. */
	release(key: string): Promise<void>;
	close?(): Promise<void>;
}

export function hashKey(key: string): string {
	return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Encodes what is stored, one format for memory and Redis, so both behave the same (JSON round trip). */
export type Stored = { state: 'in-flight'; owner: string } | { state: 'done'; result: LedgerResult };

export function decode(raw: string): ClaimResult {
	const stored = JSON.parse(raw) as Stored;
	return stored.state === 'done' ? { state: 'done', result: stored.result } : { state: 'in-flight' };
}

export interface MemorySendLedgerOptions {
	/** Past this many entries the oldest are forgotten first (expired ones before live ones). */
	maxEntries?: number;
	now?: () => number;
}

interface MemoryEntry {
	raw: string;
	owner?: string;
	expiresAt: number;
}

/** The ledger of one n8n process: bounded, entries expire. */
export class MemorySendLedger implements SendLedger {
	private readonly entries = new Map<string, MemoryEntry>();
	private readonly maxEntries: number;
	private readonly now: () => number;
	private readonly owner = randomBytes(6).toString('hex');

	constructor(options: MemorySendLedgerOptions = {}) {
		this.maxEntries = options.maxEntries ?? 100_000;
		this.now = options.now ?? Date.now;
	}

	get size(): number {
		return this.entries.size;
	}

	async claim(key: string, ttlMs: number): Promise<ClaimResult> {
		const hashed = hashKey(key);
		const entry = this.live(hashed);
		if (entry) return decode(entry.raw);
		const raw = JSON.stringify({ state: 'in-flight', owner: this.owner } satisfies Stored);
		this.put(hashed, { raw, owner: this.owner, expiresAt: this.now() + ttlMs });
		return { state: 'claimed' };
	}

	async complete(key: string, result: LedgerResult, ttlMs: number): Promise<void> {
		const raw = JSON.stringify({ state: 'done', result } satisfies Stored);
		this.put(hashKey(key), { raw, expiresAt: this.now() + ttlMs });
	}

	async release(key: string): Promise<void> {
		const hashed = hashKey(key);
		const entry = this.entries.get(hashed);
		if (entry?.owner === this.owner) this.entries.delete(hashed);
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
