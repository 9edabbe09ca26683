// The send ledger shared by all n8n workers through Redis (queue edition): one JSON value per hashed key, in the
// same format and by the same rule as the in-process ledger (core/sendLedger.ts), each step one atomic script.
// Every step waits for Redis under the outage rule (redisClient.ts). What this process wrote is also kept in its
// memory, and put back when Redis comes back without it (redisRecovery.ts), so a restart of Redis without
// persistence does not make a later re-run send again what this worker sent.
import { randomBytes } from 'node:crypto';

import { DEFAULT_REDIS_OUTAGE_TOLERANCE_S } from '../../core/account';
import {
	LOST_SENDER_REASON,
	decode,
	hashKey,
	type ClaimPhase,
	type ClaimResult,
	type LedgerResult,
	type SendLedger,
	type Stored,
} from '../../core/sendLedger';
import { luaScripts, type RedisClient } from './redisClient';
import { LOST, recoveryOf, type AccountRecovery } from './redisRecovery';

export interface RedisSendLedgerOptions {
	client: RedisClient;
	/** accountId(): region and API-key hash; prefixes every key so accounts never share entries. */
	account: string;
	/** How long a step waits for an unreachable Redis before the item fails (the credential's; 0: fail at once). */
	outageToleranceMs?: number;
	/** Records this process keeps to put back into an emptied Redis, at most (the oldest are forgotten first). */
	maxRemembered?: number;
}

// The claim rule of core/sendLedger.ts (claimStep), run atomically in Redis with Redis's own clock: every worker
// judges a lease by the same time. KEYS[2] is the account's epoch: without it the state was lost (redisRecovery.ts)
// and nothing is decided on it.
const NOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * ARGV: owner, lease ms, ttl ms, the reason for a lost sender, this claim's id. A claim whose answer was lost on
 * the way (the connection dropped) is asked again with the same id and answered 'claimed' again; another claim
 * of the same owner (the same key twice in one batch) finds it in flight.
 */
const CLAIM_LUA = `${NOW_LUA}
if redis.call('EXISTS', KEYS[2]) == 0 then return 'lost' end
local raw = redis.call('GET', KEYS[1])
if raw then
  local v = cjson.decode(raw)
  if v.state == 'done' then return raw end
  if v.claim == ARGV[5] then return 'claimed' end
  if tonumber(v.leaseUntil) > now then return raw end
  if v.phase == 'sending' then
    local done = cjson.encode({state = 'done', result = {kind = 'maybe-sent', reason = ARGV[4], at = now}})
    redis.call('SET', KEYS[1], done, 'KEEPTTL')
    return done
  end
end
local mine = {state = 'in-flight', owner = ARGV[1], phase = 'waiting', leaseUntil = now + tonumber(ARGV[2]), claim = ARGV[5]}
redis.call('SET', KEYS[1], cjson.encode(mine), 'PX', ARGV[3])
return 'claimed'
`;

/** Returns 1 when marked, 0 when the claim is another's or finished, -1 when the key is missing. */
const MARK_LUA = `${NOW_LUA}
if redis.call('EXISTS', KEYS[2]) == 0 then return 'lost' end
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local v = cjson.decode(raw)
if v.state ~= 'in-flight' or v.owner ~= ARGV[1] then return 0 end
v.phase = ARGV[2]
v.leaseUntil = now + tonumber(ARGV[3])
redis.call('SET', KEYS[1], cjson.encode(v), 'KEEPTTL')
return 1
`;

const RENEW_LUA = `${NOW_LUA}
for _, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if raw then
    local v = cjson.decode(raw)
    if v.state == 'in-flight' and v.owner == ARGV[1] then
      v.leaseUntil = now + tonumber(ARGV[2])
      redis.call('SET', key, cjson.encode(v), 'KEEPTTL')
    end
  end
end
return 1
`;

const RELEASE_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local v = cjson.decode(raw)
if v.state == 'in-flight' and v.owner == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Puts back one remembered value. ARGV: 'done' or 'in-flight', then for 'done' the stored JSON (written as is) and
 * the ms it has left; for 'in-flight' the owner, the ms left, the phase, the lease ms and the claim id. A record
 * beats a claim (the send was made, whoever claims it now); nothing replaces a record, and a claim is put back only
 * where the key is missing.
 */
const RESTORE_LUA = `${NOW_LUA}
local raw = redis.call('GET', KEYS[1])
if raw then
  if ARGV[1] ~= 'done' then return 0 end
  if cjson.decode(raw).state == 'done' then return 0 end
end
if ARGV[1] == 'done' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  local mine = {state = 'in-flight', owner = ARGV[2], phase = ARGV[4], leaseUntil = now + tonumber(ARGV[5]), claim = ARGV[6]}
  redis.call('SET', KEYS[1], cjson.encode(mine), 'PX', ARGV[3])
end
return 1
`;

// Sent by their SHA1 (EVALSHA): a claim and its marks run on every send.
const script = luaScripts('vgaiLedger', {
	claim: { lua: CLAIM_LUA, keys: 2 },
	mark: { lua: MARK_LUA, keys: 2 },
	renew: { lua: RENEW_LUA },
	release: { lua: RELEASE_LUA, keys: 1 },
	restore: { lua: RESTORE_LUA, keys: 1 },
});

/**
 * What this process wrote under one key, to put back into an emptied Redis; or a claim it gave up while Redis was
 * away ('released'), to give up there once Redis is back, so that a re-run need not wait for the claim's lease.
 */
type Remembered =
	| { state: 'done'; json: string; expiresAt: number }
	| { state: 'in-flight'; owner: string; phase: ClaimPhase; leaseMs: number; claim: string; expiresAt: number }
	| { state: 'released'; owner: string; expiresAt: number };

/** How long a claim given up while Redis was away is remembered (a claim's lease is far shorter). */
const RELEASED_MEMORY_MS = 10 * 60_000;

/** The ledger shared by all n8n workers through Redis: one JSON value per hashed key, leases judged by Redis. */
export class RedisSendLedger implements SendLedger {
	private readonly client: RedisClient;
	private readonly prefix: string;
	private readonly toleranceMs: number;
	private readonly recovery: AccountRecovery;
	private readonly remembered = new Map<string, Remembered>();
	private readonly maxRemembered: number;
	private readonly stopRestoring: () => void;

	constructor(options: RedisSendLedgerOptions) {
		this.client = options.client;
		this.prefix = `vgai:ledger:{${options.account}}:`;
		this.toleranceMs = options.outageToleranceMs ?? DEFAULT_REDIS_OUTAGE_TOLERANCE_S * 1000;
		this.maxRemembered = options.maxRemembered ?? 100_000;
		this.recovery = recoveryOf(options.client, options.account);
		this.stopRestoring = this.recovery.addRestorer((client) => this.restore(client));
	}

	async claim(key: string, owner: string, leaseMs: number, ttlMs: number): Promise<ClaimResult> {
		const redisKey = this.redisKey(key);
		const claim = randomBytes(6).toString('hex');
		const lease = String(Math.max(1, Math.ceil(leaseMs)));
		const ttl = Math.max(1, Math.ceil(ttlMs));
		for (let round = 0; ; round++) {
			const answer = await this.step(
				() =>
					script(this.client, 'claim')(
						redisKey,
						this.recovery.epochKey,
						owner,
						lease,
						String(ttl),
						LOST_SENDER_REASON,
						claim,
					) as Promise<string>,
			);
			if (answer !== 'claimed') {
				const result = decode(answer);
				if (result.state === 'done')
					this.remember(redisKey, { state: 'done', json: answer, expiresAt: Date.now() + ttl });
				return result;
			}
			// This process recorded the send, and Redis no longer has it: Redis lost it without this process
			// noticing yet (no reconnection). Put back what is remembered, which turns this claim into the record.
			if (this.remembered.get(redisKey)?.state === 'done' && round === 0) {
				this.recovery.lost();
				continue;
			}
			this.remember(redisKey, {
				state: 'in-flight',
				owner,
				phase: 'waiting',
				leaseMs,
				claim,
				expiresAt: Date.now() + ttl,
			});
			return { state: 'claimed' };
		}
	}

	async mark(key: string, owner: string, phase: ClaimPhase, leaseMs: number): Promise<boolean> {
		const redisKey = this.redisKey(key);
		for (let round = 0; ; round++) {
			const marked = Number(
				await this.step(() =>
					script(this.client, 'mark')(redisKey, this.recovery.epochKey, owner, phase, String(Math.ceil(leaseMs))),
				),
			);
			const mine = this.remembered.get(redisKey);
			// The claim is gone although nobody else took it: Redis lost it. Put it back, then mark it.
			if (marked === -1 && mine?.state === 'in-flight' && mine.owner === owner && round === 0) {
				this.recovery.lost();
				continue;
			}
			if (marked === 1) {
				if (mine?.state === 'in-flight') mine.phase = phase;
				return true;
			}
			if (mine?.state === 'in-flight') this.remembered.delete(redisKey);
			return false;
		}
	}

	async renew(keys: readonly string[], owner: string, leaseMs: number): Promise<void> {
		if (keys.length === 0) return;
		// Best effort and never waited for: the next renewal comes soon, and a lost claim is put back on recovery.
		await this.recovery.call('send ledger', 0, () =>
			script(this.client, 'renew')(keys.length, ...keys.map((key) => this.redisKey(key)), owner, String(leaseMs)),
		);
	}

	async complete(key: string, result: LedgerResult, ttlMs: number): Promise<void> {
		const raw = JSON.stringify({ state: 'done', result } satisfies Stored);
		const redisKey = this.redisKey(key);
		const ttl = Math.max(1, Math.ceil(ttlMs));
		// Remembered first: if Redis stays away, the record is put back when it returns (while this process runs).
		this.remember(redisKey, { state: 'done', json: raw, expiresAt: Date.now() + ttl });
		await this.step(() => this.client.set(redisKey, raw, 'PX', ttl));
	}

	async release(key: string, owner: string): Promise<void> {
		const redisKey = this.redisKey(key);
		const mine = this.remembered.get(redisKey);
		if (mine?.state === 'in-flight' && mine.owner === owner) this.remembered.delete(redisKey);
		try {
			await this.step(() => script(this.client, 'release')(redisKey, owner));
		} catch (error) {
			this.remember(redisKey, { state: 'released', owner, expiresAt: Date.now() + RELEASED_MEMORY_MS });
			throw error;
		}
	}

	async close(): Promise<void> {
		this.stopRestoring();
	}

	/** How many records and claims this process would put back (tests). */
	get rememberedCount(): number {
		return this.remembered.size;
	}

	private redisKey(key: string): string {
		return this.prefix + hashKey(key);
	}

	/** One step under the outage rule; a script answering 'lost' makes the account recover first. */
	private step<T>(operation: () => Promise<T>): Promise<T> {
		return this.recovery.call('send ledger', this.toleranceMs, async () => {
			const answer = await operation();
			return answer === 'lost' ? LOST : answer;
		});
	}

	private remember(redisKey: string, value: Remembered): void {
		this.remembered.delete(redisKey); // re-insert: Map order is the forgetting order
		this.remembered.set(redisKey, value);
		if (this.remembered.size <= this.maxRemembered) return;
		const now = Date.now();
		for (const [key, each] of this.remembered) if (each.expiresAt <= now) this.remembered.delete(key);
		for (const key of this.remembered.keys()) {
			if (this.remembered.size <= this.maxRemembered * 0.9) break;
			this.remembered.delete(key);
		}
	}

	/**
	 * Puts back every record and live claim this process remembers, and gives up the claims it could not give up
	 * while Redis was away (redisRecovery.ts decides when).
	 */
	private async restore(client: RedisClient): Promise<void> {
		const now = Date.now();
		const writes: Array<Promise<unknown>> = [];
		for (const [redisKey, each] of this.remembered) {
			const leftMs = Math.ceil(each.expiresAt - now);
			if (leftMs <= 0) {
				this.remembered.delete(redisKey);
				continue;
			}
			if (each.state === 'released') {
				writes.push(script(client, 'release')(redisKey, each.owner).then(() => this.remembered.delete(redisKey)));
				continue;
			}
			writes.push(
				each.state === 'done'
					? script(client, 'restore')(redisKey, 'done', each.json, leftMs)
					: script(client, 'restore')(
							redisKey,
							'in-flight',
							each.owner,
							leftMs,
							each.phase,
							Math.ceil(each.leaseMs),
							each.claim,
						),
			);
		}
		await Promise.all(writes);
	}
}
