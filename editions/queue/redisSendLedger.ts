// The send ledger shared by all n8n workers through Redis (queue edition): SET NX PX per send, JSON values,
// hashed keys, in the same format as the in-process ledger (core/sendLedger.ts).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

import { RedisUnavailableError } from '../../core/errors';
import {
	decode,
	hashKey,
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
