// Starting safe after Redis came back (queue edition). A Redis restarted without persistence comes back empty; one
// restored from a snapshot, or a replica promoted in a failover, may miss its last writes; a dropped connection says
// nothing about which. What the shared stores keep there is then missing or stale: the rate gate's log of the last
// second's starts, the learnt margin, the send ledger's claims and records. So, per account and Redis connection:
// - an epoch key marks that the account's state exists in this Redis. The gate's and the ledger's scripts answer
//   LOST when it is missing (Redis lost its data, or this is its first use), and nothing is decided on such state;
// - recovering (after LOST, or when this process's connection came back after a drop) sets the epoch again with a
//   quiet period in it: no start for the longest window the gate uses (1 s + the largest margin), counted from now,
//   so that no start can share a second with one made before the outage, whichever process asks first; and puts
//   back what this process remembers (the send ledger's claims and records: redisSendLedger.ts) so that a re-run,
//   on any worker, still finds what this worker sent. What the gate learnt about the link is simply relearnt from
//   the safe start (the spacing's initial margin), never assumed.
import type { RedisClient, RedisConnection, RedisPurpose } from './redisClient';
import { connectionOf } from './redisClient';
import { WINDOW_MS } from '../../core/rateGate';
import { SPACING_RULE } from '../../core/spacing';

/** What a script's answer becomes when the account's epoch key is missing: recover, then ask again. */
export const LOST = Symbol('redis lost the account state');

/** After a recovery, no start for this long: the widest window the gate uses without a 429 slowdown. */
export const QUIET_AFTER_RECOVERY_MS = WINDOW_MS + SPACING_RULE.capMs;

/** Recovering puts back many records in one go: one attempt may take this long. */
const RECOVERY_TIMEOUT_MS = 30_000;

/** The epoch key of an account: in the account's hash slot, so a script can read it with the account's keys. */
export const epochKey = (account: string) => `vgai:epoch:{${account}}`;

/**
 * KEYS[1] the epoch hash (since, quietUntil: µs of the Redis clock). ARGV[1] quiet µs, ARGV[2] 'reconnected' or
 * 'lost'. Sets the epoch when it is missing; sets the quiet period then, and after a reconnection (the data may be
 * partly stale). Returns 1 when the epoch was missing.
 */
const RECOVER_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local existed = redis.call('EXISTS', KEYS[1]) == 1
if not existed then redis.call('HSET', KEYS[1], 'since', string.format('%.0f', now)) end
if (not existed) or ARGV[2] == 'reconnected' then
  local quietUntil = now + tonumber(ARGV[1])
  if quietUntil > tonumber(redis.call('HGET', KEYS[1], 'quietUntil') or '0') then
    redis.call('HSET', KEYS[1], 'quietUntil', string.format('%.0f', quietUntil))
  end
end
if existed then return 0 end
return 1
`;

/** Puts back what one store of this process remembers; run during a recovery, before its calls go on. */
export type Restorer = (client: RedisClient) => Promise<void>;

/** The recovery of one account's state on one Redis connection, shared by the account's gate and ledger. */
export class AccountRecovery {
	readonly epochKey: string;
	private pending?: 'reconnected' | 'lost';
	private running?: Promise<void>;
	/** Whether this process has state of the account in this Redis (nothing to recover before the first call). */
	private active = false;
	private readonly restorers = new Set<Restorer>();
	/** How many times this process found the account's state lost (tests, logs). */
	lostCount = 0;

	constructor(
		readonly connection: RedisConnection,
		account: string,
	) {
		this.epochKey = epochKey(account);
		// At once, not at the next call: what this process remembers (a record, a claim to give up) may be what
		// another worker's re-run is about to look for.
		connection.onReconnect(() => {
			if (!this.active) return;
			this.pending ??= 'reconnected';
			connection.call('send ledger', 0, () => this.recover(), RECOVERY_TIMEOUT_MS).catch(() => undefined);
		});
	}

	addRestorer(restorer: Restorer): () => void {
		this.restorers.add(restorer);
		return () => this.restorers.delete(restorer);
	}

	/** Something showed this process that Redis lost the account's state: recover before the next call. */
	lost(): void {
		this.pending = 'lost';
	}

	/**
	 * Runs `attempt` under the connection's outage rule (RedisConnection.call), after any recovery due; when it
	 * answers LOST, recovers and asks again.
	 */
	async call<T>(purpose: RedisPurpose, toleranceMs: number, attempt: () => Promise<T | typeof LOST>): Promise<T> {
		for (let round = 0; ; round++) {
			if (this.pending || this.running)
				await this.connection.call(purpose, toleranceMs, () => this.recover(), RECOVERY_TIMEOUT_MS);
			const result = await this.connection.call(purpose, toleranceMs, attempt);
			this.active = true;
			if (result !== LOST) return result;
			// Another process may have emptied it again meanwhile; a handful of rounds is plenty.
			if (round >= 4) throw new Error('Redis lost the shared state again while it was being restored');
			this.lost();
		}
	}

	private recover(): Promise<void> {
		return (this.running ??= (async () => {
			const mode = this.pending ?? 'reconnected';
			this.pending = undefined;
			try {
				const client = this.connection.client;
				const missing = await client.eval(RECOVER_LUA, 1, this.epochKey, QUIET_AFTER_RECOVERY_MS * 1000, mode);
				if (missing === 1 && this.active) this.lostCount++;
				for (const restore of this.restorers) await restore(client);
			} catch (error) {
				this.pending ??= mode;
				throw error;
			} finally {
				this.running = undefined;
			}
		})());
	}
}

const recoveries = new WeakMap<RedisClient, Map<string, AccountRecovery>>();

/** The recovery of `account` on `client`'s connection, one per process (the gate and the ledger share it). */
export function recoveryOf(client: RedisClient, account: string): AccountRecovery {
	let byAccount = recoveries.get(client);
	if (!byAccount) recoveries.set(client, (byAccount = new Map()));
	let recovery = byAccount.get(account);
	if (!recovery) byAccount.set(account, (recovery = new AccountRecovery(connectionOf(client), account)));
	return recovery;
}
