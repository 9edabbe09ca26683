// The Lua scripts the queue edition runs on every send travel by their SHA1 (EVALSHA), not their whole text: a
// campaign's ledger steps against a real redis-server, counted by Redis itself (INFO commandstats).
import type { Redis } from 'ioredis';

import { accountId } from '../../../core/accounts';
import { createRedisClient, type RedisClient } from '../../../editions/queue/redisClient';
import { RedisSendLedger } from '../../../editions/queue/redisSendLedger';
import { startRedis, type RedisServer } from '../../../harness/redisServer';

jest.setTimeout(60_000);

let redis: RedisServer;
const clients: RedisClient[] = [];

beforeAll(async () => {
	redis = await startRedis();
});

afterAll(async () => {
	for (const client of clients) client.disconnect();
	await redis.stop();
});

/** How many times Redis ran EVAL and EVALSHA since it started. */
async function scriptCalls(inspector: Redis): Promise<{ eval: number; evalsha: number }> {
	const info = await inspector.info('commandstats');
	const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
	return { eval: calls('eval'), evalsha: calls('evalsha') };
}

it("a campaign's ledger steps send each script's text once, then only its SHA1", async () => {
	const client = createRedisClient(redis.url);
	const inspector = createRedisClient(redis.url) as Redis;
	clients.push(client, inspector);
	const ledger = new RedisSendLedger({ client, account: accountId('eu', 'redis-scripts-test-key') });
	const owner = 'worker-1';
	const items = Array.from({ length: 30 }, (_, index) => `contact-${index}-spring-campaign`);

	const before = await scriptCalls(inspector);
	for (const key of items) {
		expect(await ledger.claim(key, owner, 30_000, 60_000)).toEqual({ state: 'claimed' });
		expect(await ledger.mark(key, owner, 'sending', 30_000)).toBe(true);
		await ledger.complete(key, { kind: 'accepted', response: { ok: true }, at: Date.now() }, 60_000);
	}
	await ledger.claim('one-more', owner, 30_000, 60_000);
	await ledger.renew(['one-more'], owner, 30_000);
	await ledger.release('one-more', owner);
	const after = await scriptCalls(inspector);
	await ledger.close();

	// 30 claims and 30 marks, one more claim, a renewal and a release. The text went at most once per script (the
	// first time, when Redis did not have it yet: claim, mark, renew, release) and once for the account's first
	// recovery (a new Redis has no epoch yet); everything else by SHA1.
	expect(after.evalsha - before.evalsha).toBeGreaterThanOrEqual(2 * (items.length - 1));
	expect(after.eval - before.eval).toBeLessThanOrEqual(5);
	// Each item's record is there, as the in-process ledger would hold it.
	expect(await ledger.claim(items[0], 'worker-2', 30_000, 60_000)).toMatchObject({
		state: 'done',
		result: { kind: 'accepted' },
	});
});
