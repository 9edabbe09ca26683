// The send ledger shared by all n8n workers through Redis (queue edition): one JSON value per hashed key, in the
// same format and by the same rule as the in-process ledger (core/sendLedger.ts), each step one atomic script.
import type { Redis } from 'ioredis';

import { RedisUnavailableError } from '../../core/errors';
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
import { describeRedis, withDeadline } from './redisClient';

export interface RedisSendLedgerOptions {
	client: Redis;
	/** accountId(): region and API-key hash; prefixes every key so accounts never share entries. */
	account: string;
	operationTimeoutMs?: number;
}

// The claim rule of core/sendLedger.ts (claimStep), run atomically in Redis with Redis's own clock: every worker
// judges a lease by the same time.
const NOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const CLAIM_LUA = `${NOW_LUA}
local raw = redis.call('GET', KEYS[1])
if raw then
  local v = cjson.decode(raw)
  if v.state == 'done' then return raw end
  if tonumber(v.leaseUntil) > now then return raw end
  if v.phase == 'sending' then
    local done = cjson.encode({state = 'done', result = {kind = 'maybe-sent', reason = ARGV[4], at = now}})
    redis.call('SET', KEYS[1], done, 'KEEPTTL')
    return done
  end
end
local mine = {state = 'in-flight', owner = ARGV[1], phase = 'waiting', leaseUntil = now + tonumber(ARGV[2])}
redis.call('SET', KEYS[1], cjson.encode(mine), 'PX', ARGV[3])
return 'claimed'
`;

const MARK_LUA = `${NOW_LUA}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
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

/** The ledger shared by all n8n workers through Redis: one JSON value per hashed key, leases judged by Redis. */
export class RedisSendLedger implements SendLedger {
	private readonly client: Redis;
	private readonly prefix: string;
	private readonly operationTimeoutMs: number;

	constructor(options: RedisSendLedgerOptions) {
		this.client = options.client;
		this.prefix = `vgai:ledger:{${options.account}}:`;
		this.operationTimeoutMs = options.operationTimeoutMs ?? 3000;
	}

	async claim(key: string, owner: string, leaseMs: number, ttlMs: number): Promise<ClaimResult> {
		const answer = await this.guard(
			() =>
				this.client.eval(
					CLAIM_LUA,
					1,
					this.redisKey(key),
					owner,
					String(Math.max(1, Math.ceil(leaseMs))),
					String(Math.max(1, Math.ceil(ttlMs))),
					LOST_SENDER_REASON,
				) as Promise<string>,
		);
		return answer === 'claimed' ? { state: 'claimed' } : decode(answer);
	}

	async mark(key: string, owner: string, phase: ClaimPhase, leaseMs: number): Promise<boolean> {
		const marked = await this.guard(
			() =>
				this.client.eval(MARK_LUA, 1, this.redisKey(key), owner, phase, String(Math.ceil(leaseMs))) as Promise<number>,
		);
		return marked === 1;
	}

	async renew(keys: readonly string[], owner: string, leaseMs: number): Promise<void> {
		if (keys.length === 0) return;
		await this.guard(() =>
			this.client.eval(RENEW_LUA, keys.length, ...keys.map((key) => this.redisKey(key)), owner, String(leaseMs)),
		);
	}

	async complete(key: string, result: LedgerResult, ttlMs: number): Promise<void> {
		const raw = JSON.stringify({ state: 'done', result } satisfies Stored);
		await this.guard(() => this.client.set(this.redisKey(key), raw, 'PX', Math.max(1, Math.ceil(ttlMs))));
	}

	async release(key: string, owner: string): Promise<void> {
		await this.guard(() => this.client.eval(RELEASE_LUA, 1, this.redisKey(key), owner));
	}

	private redisKey(key: string): string {
		return this.prefix + hashKey(key);
	}

	private async guard<T>(operation: () => Promise<T>): Promise<T> {
		try {
			return await withDeadline(operation(), this.operationTimeoutMs, 'send ledger');
		} catch (error) {
			throw new RedisUnavailableError(describeRedis(this.client), 'send ledger', error);
		}
	}
}
