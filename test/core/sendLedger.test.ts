// The send ledger, in memory and in a real redis-server, on its own and driving the dispatcher against the
// simulator: a re-run replays instead of resending, two executions with the same key start one session, a send
// that may have reached Studio keeps its key, a definite failure frees it, and Retry On Fail in a 429 storm.
import { preciseClock } from '../../editions/queue/clock';
import { dispatch } from '../../harness/dispatch';
import { type DispatchJob, type DispatchResult } from '../../core/dispatcher';
import { accountId } from '../../core/accounts';
import { LocalRateGate } from '../../core/rateGate';
import { createRedisClient, type RedisClient } from '../../editions/queue/redisClient';
import { RedisSendLedger } from '../../editions/queue/redisSendLedger';
import { LOST_SENDER_REASON, MemorySendLedger, type SendLedger } from '../../core/sendLedger';
import { PossiblySentError, RedisUnavailableError, StudioHttpError } from '../../core/errors';
import { queueEdition } from '../../editions/queue';
import { studioAccount } from '../../harness/accounts';
import { STUDIO_PATHS } from '../../core/studioApi';
import { closeAllPools, postToStudio } from '../../editions/queue/transport';
import type { StudioResponse } from '../../core/ports';
import { startSimulator, type StudioSimulator } from '../../simulator/simulator';
import { startRedis, type RedisServer } from '../../harness/redisServer';
import { whatsappSessionBody } from '../../harness/fixtures';

jest.setTimeout(60_000);

const API_KEY = 'ledger-test-key';
const HOUR = 3_600_000;

let redis: RedisServer;
let sim: StudioSimulator;
const clients: RedisClient[] = [];
let accountCounter = 0;

function redisClient(url = redis.url): RedisClient {
	const made = createRedisClient(url);
	clients.push(made);
	return made;
}

beforeAll(async () => {
	redis = await startRedis();
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false, tier: 50 });
});

afterEach(() => {
	for (const made of clients.splice(0)) made.disconnect();
	sim.configure({ latencyMs: undefined, throttle: undefined, dropConnectionRatio: undefined, seed: undefined });
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
	await redis.stop();
});

/** Each kind makes ledgers for one fresh account; `another()` is a second sender (another process for Redis). */
type LedgerKind = { name: string; make(): { first: SendLedger; another(): SendLedger } };

const kinds: LedgerKind[] = [
	{
		name: 'memory',
		make: () => {
			const ledger = new MemorySendLedger();
			return { first: ledger, another: () => ledger }; // one process: every execution shares it
		},
	},
	{
		name: 'redis',
		make: () => {
			const account = `eu:ledger-${++accountCounter}-${Date.now()}`;
			return {
				first: new RedisSendLedger({ client: redisClient(), account }),
				another: () => new RedisSendLedger({ client: redisClient(), account }),
			};
		},
	},
];

function contact(index: number): string {
	return `4477008${String(index).padStart(5, '0')}`;
}

function jobs(count: number, keyPrefix = 'exec-1/Send/'): Array<DispatchJob<StudioResponse>> {
	return Array.from({ length: count }, (_, index) => ({
		index,
		ledgerKey: `${keyPrefix}${index}`,
		send: () => postToStudio(sim.url, STUDIO_PATHS.messagingConversation, whatsappSessionBody(contact(index)), API_KEY),
	}));
}

function sessionsFor(index: number): number {
	return sim.sessions.filter((s) => s.body.to === contact(index)).length;
}

const gate = () => new LocalRateGate({ tier: 50 }, preciseClock);

const LEASE_MS = 60_000;

describe.each(kinds)('$name ledger on its own', ({ make }) => {
	it('claims once, reports in-flight to others, replays the stored result, and releases only its own claim', async () => {
		const { first, another } = make();
		const second = another();
		expect(await first.claim('k', 'run-a', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
		expect(await second.claim('k', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'in-flight' });
		await second.release('k', 'run-b'); // not its claim: must not free it
		expect(await second.claim('k', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'in-flight' });
		const result = { kind: 'accepted' as const, response: { statusCode: 200, body: { session_id: 's1' } }, at: 1 };
		await first.complete('k', result, HOUR);
		expect(await second.claim('k', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'done', result });

		expect(await first.claim('other', 'run-a', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
		await first.release('other', 'run-a');
		expect(await second.claim('other', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
	});

	it('forgets entries after their time to live', async () => {
		const { first } = make();
		await first.claim('short', 'run-a', LEASE_MS, 80);
		await first.complete('done-short', { kind: 'accepted', response: 1, at: 1 }, 80);
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(await first.claim('short', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
		expect(await first.claim('done-short', 'run-b', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
	});

	it('a claim whose owner stops renewing it: free again when it was waiting, possibly sent when it was sending', async () => {
		const { first, another } = make();
		const second = another();
		const lease = 150;
		await first.claim('waiting', 'dead-run', lease, HOUR);
		await first.claim('sending', 'dead-run', lease, HOUR);
		expect(await first.mark('sending', 'dead-run', 'sending', lease)).toBe(true);
		// Within the lease both are still held.
		expect(await second.claim('waiting', 'rerun', lease, HOUR)).toEqual({ state: 'in-flight' });
		expect(await second.claim('sending', 'rerun', lease, HOUR)).toEqual({ state: 'in-flight' });
		await new Promise((resolve) => setTimeout(resolve, lease + 100));
		expect(await second.claim('waiting', 'rerun', lease, HOUR)).toEqual({ state: 'claimed' });
		expect(await second.claim('sending', 'rerun', lease, HOUR)).toEqual({
			state: 'done',
			result: { kind: 'maybe-sent', reason: LOST_SENDER_REASON, at: expect.any(Number) },
		});
		// The dead owner cannot take either back, and what it would write no longer frees anything.
		expect(await first.mark('waiting', 'dead-run', 'sending', lease)).toBe(false);
		await first.release('waiting', 'dead-run');
		expect(await first.claim('waiting', 'third', lease, HOUR)).toEqual({ state: 'in-flight' });
	});

	it('a live owner keeps its claims by renewing them, and a 429 puts a sending claim back to waiting', async () => {
		const { first, another } = make();
		const second = another();
		const lease = 150;
		await first.claim('kept', 'live-run', lease, HOUR);
		await first.claim('refused', 'live-run', lease, HOUR);
		await first.mark('refused', 'live-run', 'sending', lease);
		await first.mark('refused', 'live-run', 'waiting', lease);
		for (let i = 0; i < 4; i++) {
			await new Promise((resolve) => setTimeout(resolve, lease / 2));
			await first.renew(['kept', 'refused'], 'live-run', lease);
		}
		expect(await second.claim('kept', 'rerun', lease, HOUR)).toEqual({ state: 'in-flight' });
		// Someone else's renewal does nothing for it.
		await second.renew(['kept'], 'rerun', lease);
		await new Promise((resolve) => setTimeout(resolve, lease + 100));
		expect(await second.claim('kept', 'rerun', lease, HOUR)).toEqual({ state: 'claimed' });
		// The 429 started nothing: when its owner is gone, the item is free, not "possibly sent".
		expect(await second.claim('refused', 'rerun', lease, HOUR)).toEqual({ state: 'claimed' });
	});
});

describe('memory ledger bounds', () => {
	it('keeps at most maxEntries, forgetting the oldest first', async () => {
		let now = 0;
		const ledger = new MemorySendLedger({ maxEntries: 100, now: () => now });
		for (let i = 0; i < 250; i++) {
			now++;
			await ledger.complete(`key-${i}`, { kind: 'accepted', response: i, at: now }, HOUR);
		}
		expect(ledger.size).toBeLessThanOrEqual(100);
		expect(await ledger.claim('key-249', 'run', LEASE_MS, HOUR)).toMatchObject({ state: 'done' });
		expect(await ledger.claim('key-0', 'run', LEASE_MS, HOUR)).toEqual({ state: 'claimed' });
	});
});

describe('redis ledger storage', () => {
	it('stores hashed keys under the account prefix, never the caller key or the API key', async () => {
		const apiKey = 'secret-api-key-for-ledger';
		try {
			const { ledger } = queueEdition.accountState(studioAccount({ apiKey, redisUrl: redis.url }));
			await ledger.claim('execution-77/Send WhatsApp/3', 'run', LEASE_MS, HOUR);
			const keys = await redisClient().keys(`vgai:ledger:{${accountId('eu', apiKey)}}:*`);
			expect(keys).toHaveLength(1);
			expect(keys[0]).toMatch(/^vgai:ledger:\{eu:[0-9a-f]{32}\}:[0-9a-f]{64}$/);
			expect(keys[0]).not.toContain('execution-77');
			expect(keys[0]).not.toContain(apiKey);
			expect(await redisClient().get(keys[0])).not.toContain(apiKey);
		} finally {
			await queueEdition.closeAll();
		}
	});

	it('with a Redis Outage Tolerance of 0, fails the item at once without sending when Redis is unreachable', async () => {
		const gone = await startRedis();
		const ledger = new RedisSendLedger({ client: redisClient(gone.url), account: 'eu:gone', outageToleranceMs: 0 });
		await gone.stop();
		const [result] = await dispatch(jobs(1), { gate: gate(), ledger });
		expect(result.outcome).toBe('failed');
		const error = (result as { error: Error }).error;
		expect(error).toBeInstanceOf(RedisUnavailableError);
		expect(error.message).toContain('shared send ledger in Redis');
		expect(sim.requests).toHaveLength(0);
	});
});

describe.each(kinds)('dispatcher with the $name ledger', ({ make }) => {
	it('a re-run replays the earlier results and sends nothing', async () => {
		const { first } = make();
		const sent = await dispatch(jobs(4), { gate: gate(), ledger: first });
		expect(sent.map((r) => r.outcome)).toEqual(['sent', 'sent', 'sent', 'sent']);
		const again = await dispatch(jobs(4), { gate: gate(), ledger: first });
		expect(again.map((r) => r.outcome)).toEqual(['replayed', 'replayed', 'replayed', 'replayed']);
		expect(again.map((r) => (r as { result: unknown }).result)).toEqual(
			sent.map((r) => (r as { result: unknown }).result),
		);
		expect(sim.sessions).toHaveLength(4);
	});

	it('a re-run of a half-finished (stopped) batch sends only the rest: one session per contact', async () => {
		const { first } = make();
		sim.configure({ latencyMs: 50 });
		const controller = new AbortController();
		const stopped = await dispatch(jobs(8), {
			gate: new LocalRateGate({ tier: 2 }, preciseClock),
			ledger: first,
			signal: controller.signal,
			onProgress: (done) => done === 3 && controller.abort(),
		});
		const sentFirst = stopped.filter((r) => r.outcome === 'sent').length;
		expect(sentFirst).toBeGreaterThanOrEqual(3);
		expect(sentFirst).toBeLessThan(8);

		const rerun = await dispatch(jobs(8), { gate: gate(), ledger: first });
		expect(rerun.filter((r) => r.outcome === 'replayed')).toHaveLength(sentFirst);
		expect(rerun.filter((r) => r.outcome === 'sent')).toHaveLength(8 - sentFirst);
		for (let i = 0; i < 8; i++) expect(sessionsFor(i)).toBe(1);
	});

	it('two executions with the same keys at once start exactly one session per key', async () => {
		const { first, another } = make();
		sim.configure({ latencyMs: 300 });
		const [a, b] = await Promise.all([
			dispatch(jobs(3, 'crm-contact-'), { gate: gate(), ledger: first }),
			dispatch(jobs(3, 'crm-contact-'), { gate: gate(), ledger: another() }),
		]);
		for (let i = 0; i < 3; i++) {
			expect([a[i].outcome, b[i].outcome].sort()).toEqual(['replayed', 'sent']);
			expect(sessionsFor(i)).toBe(1);
		}
		expect(sim.requests).toHaveLength(3);
	});

	it('a send that may have reached Studio keeps its key: the re-run does not send it again', async () => {
		const { first } = make();
		sim.configure({ dropConnectionRatio: 1 });
		const [dropped] = await dispatch(jobs(1), { gate: gate(), ledger: first });
		expect(dropped.outcome).toBe('failed');
		sim.configure({ dropConnectionRatio: undefined });

		const [rerun] = await dispatch(jobs(1), { gate: gate(), ledger: first });
		expect(rerun.outcome).toBe('failed');
		expect((rerun as { error: unknown }).error).toBeInstanceOf(PossiblySentError);
		expect(sim.requests).toHaveLength(1);
		expect(sessionsFor(0)).toBe(1);
	});

	it('a definite failure (429 after the last try) frees the key: the re-run sends it', async () => {
		const { first } = make();
		sim.configure({ throttle: { rejectRatio: 1 } });
		const [refused] = await dispatch(jobs(1), {
			gate: gate(),
			ledger: first,
			policy: { rateLimitRetries: 1 - 1, rateLimitMaxWaitMs: 0 },
		});
		expect((refused as { error: StudioHttpError }).error.statusCode).toBe(429);
		sim.configure({ throttle: undefined });

		const [rerun] = await dispatch(jobs(1), { gate: gate(), ledger: first });
		expect(rerun.outcome).toBe('sent');
		expect(sessionsFor(0)).toBe(1);
	});

	it('Retry On Fail in a 429 storm: whole-batch re-runs never give a contact a second session', async () => {
		const { first } = make();
		sim.configure({ seed: 11, throttle: { rejectRatio: 0.3 } });
		const count = 15;
		let last: Array<DispatchResult<StudioResponse>> = [];
		// n8n's Retry On Fail re-runs the node for every item, with the same execution and item keys.
		for (let run = 0; run < 8; run++) {
			last = await dispatch(jobs(count), {
				gate: gate(),
				ledger: first,
				policy: { rateLimitRetries: 1 - 1, rateLimitMaxWaitMs: 0 },
			});
			if (last.every((r) => r.outcome !== 'failed')) break;
		}
		expect(sim.tooManyRequests).toBeGreaterThan(0);
		expect(last.every((r) => r.outcome !== 'failed')).toBe(true);
		for (let i = 0; i < count; i++) expect(sessionsFor(i)).toBe(1);
	});
});
