// Remembers which sends Studio accepted (or may have accepted), so a re-run never starts a second session.
// Keys come from the caller (execution + node + item, or the user's idempotency key) and are hashed here.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { accountStore } from './rateGate';
import { RedisUnavailableError, describeRedis, getSharedRedisClient, withDeadline } from './redisRateGate';
import { processWide } from './processWide';

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

/** A re-run found this send recorded as possibly accepted, so it was not sent again. */
export class PossiblySentError extends Error {
	readonly name = 'PossiblySentError';
	constructor(
		readonly reason: string,
		readonly at: number,
	) {
		super(
			`An earlier run may already have started this session (${reason}, at ${new Date(at).toISOString()}). ` +
				'It was not sent again, to avoid a second session for the same contact. Check the contact in Studio; ' +
				'to send anyway, use a new idempotency key or wait until the send history forgets it.',
		);
	}
}

function hashKey(key: string): string {
	return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Encodes what is stored, one format for memory and Redis, so both behave the same (JSON round trip). */
type Stored = { state: 'in-flight'; owner: string } | { state: 'done'; result: LedgerResult };

function decode(raw: string): ClaimResult {
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

export interface RedisSendLedgerOptions {
	client: Redis;
	/** accountId(): region and API-key hash; prefixes every key so accounts never share entries. */
	account: string;
	operationTimeoutMs?: number;
}

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** The ledger shared by all n8n workers through Redis: SET NX PX per send, JSON values, hashed keys. */
export class RedisSendLedger implements SendLedger {
	private readonly client: Redis;
	private readonly prefix: string;
	private readonly operationTimeoutMs: number;
	/** Claims this instance holds, with the exact value written, so release never deletes another's claim. */
	private readonly held = new Map<string, string>();
	private readonly owner = randomBytes(8).toString('hex');

	constructor(options: RedisSendLedgerOptions) {
		this.client = options.client;
		this.prefix = `vgai:ledger:{${options.account}}:`;
		this.operationTimeoutMs = options.operationTimeoutMs ?? 3000;
	}

	async claim(key: string, ttlMs: number): Promise<ClaimResult> {
		const redisKey = this.prefix + hashKey(key);
		const raw = JSON.stringify({ state: 'in-flight', owner: `${this.owner}:${randomBytes(4).toString('hex')}` });
		return this.guard(async () => {
			// A claim may expire between SET NX and GET; a second round settles it.
			for (let round = 0; round < 3; round++) {
				const set = await this.client.set(redisKey, raw, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
				if (set === 'OK') {
					this.held.set(redisKey, raw);
					return { state: 'claimed' } as const;
				}
				const existing = await this.client.get(redisKey);
				if (existing !== null) return decode(existing);
			}
			return { state: 'in-flight' } as const;
		});
	}

	async complete(key: string, result: LedgerResult, ttlMs: number): Promise<void> {
		const redisKey = this.prefix + hashKey(key);
		const raw = JSON.stringify({ state: 'done', result } satisfies Stored);
		await this.guard(() => this.client.set(redisKey, raw, 'PX', Math.max(1, Math.ceil(ttlMs))));
		this.held.delete(redisKey);
	}

	async release(key: string): Promise<void> {
		const redisKey = this.prefix + hashKey(key);
		const raw = this.held.get(redisKey);
		if (raw === undefined) return;
		this.held.delete(redisKey);
		await this.guard(() => this.client.eval(RELEASE_LUA, 1, redisKey, raw));
	}

	private async guard<T>(operation: () => Promise<T>): Promise<T> {
		try {
			return await withDeadline(operation(), this.operationTimeoutMs, 'send ledger');
		} catch (error) {
			throw new RedisUnavailableError(describeRedis(this.client), 'send ledger', error);
		}
	}
}

export interface GetSendLedgerOptions {
	region: string;
	apiKey: string;
	/** Same Redis as the rate gate: the ledger lives wherever the gate's budget lives. */
	redisUrl?: string;
}

function registry(): Map<string, SendLedger> {
	return processWide('sendLedgers.v1', () => new Map<string, SendLedger>());
}

/** The ledger shared by every send for this account in this process (or, with `redisUrl`, across processes). */
export function getSendLedger(options: GetSendLedgerOptions): SendLedger {
	const { account, redisUrl, key } = accountStore(options.region, options.apiKey, options.redisUrl);
	const ledgers = registry();
	let ledger = ledgers.get(key);
	if (!ledger) {
		ledger = redisUrl
			? new RedisSendLedger({ client: getSharedRedisClient(redisUrl), account })
			: new MemorySendLedger();
		ledgers.set(key, ledger);
	}
	return ledger;
}

/** Tests and the benchmark: forget every shared ledger (Redis connections close with closeAllRateGates). */
export function resetSendLedgers(): void {
	registry().clear();
}
