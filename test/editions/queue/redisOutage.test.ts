// Redis going away in the middle of a campaign at tier 1 (real redis-server, real time, the Studio simulator): stopped
// for a few seconds and started again with its data, or without it (no persistence), emptied by FLUSHALL, or frozen.
// Within the credential's Redis Outage Tolerance the items wait and the campaign goes on: every contact gets one
// session, no second holds two starts (the simulator's arrivals), nothing fails, and a re-run replays everything,
// also after Redis lost its data (this process puts back what it sent). Past the tolerance, the waiting items fail
// with an error naming Redis (host and port, never the password) and the tolerance, and a re-run sends only those.
import { accountId } from '../../../core/accounts';
import { WINDOW_MS } from '../../../core/rateGate';
import { isError } from '../../../core/errors';
import type { DispatchResult } from '../../../core/dispatcher';
import type { StudioResponse } from '../../../core/ports';
import { STUDIO_PATHS } from '../../../core/studioApi';
import { queueEdition } from '../../../editions/queue';
import { createRedisClient, urlOnly, type RedisClient } from '../../../editions/queue/redisClient';
import { RedisRateGate } from '../../../editions/queue/redisRateGate';
import { RedisSendLedger } from '../../../editions/queue/redisSendLedger';
import { closeAllPools, postToStudio } from '../../../editions/queue/transport';
import { closeShared, studioAccount } from '../../../harness/accounts';
import { dispatch } from '../../../harness/dispatch';
import { REAL_TIME_MARGIN_MS, whatsappSessionBody } from '../../../harness/fixtures';
import { startRedis, type RedisServer, type RedisServerOptions } from '../../../harness/redisServer';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';

jest.setTimeout(120_000);

const API_KEY = 'redis-outage-test-key';
const COUNT = 8;
const contacts = Array.from({ length: COUNT }, (_, index) => `4477009700${String(index).padStart(2, '0')}`);

let sim: StudioSimulator;
let redis: RedisServer | undefined;
const inspectors: RedisClient[] = [];

beforeAll(async () => {
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false, tier: 1, latencyMs: { min: 10, max: 40 } });
});

afterEach(async () => {
	for (const each of inspectors.splice(0)) each.disconnect();
	await closeShared();
	await redis?.stop();
	redis = undefined;
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
});

async function server(options: RedisServerOptions = {}): Promise<RedisServer> {
	redis = await startRedis(options);
	return redis;
}

function inspector(url: string): RedisClient {
	const made = createRedisClient(url);
	inspectors.push(made);
	return made;
}

/** The campaign as the node sends it: one ledger key per contact, the account's shared gate and ledger. */
async function campaign(
	url: string,
	options: { toleranceMs: number; onProgress?: (done: number) => void },
): Promise<Array<DispatchResult<StudioResponse>>> {
	const { gate, ledger } = queueEdition.accountState(
		studioAccount({
			apiKey: API_KEY,
			tier: 1,
			baseUrl: sim.url,
			floorMs: REAL_TIME_MARGIN_MS,
			redis: urlOnly(url),
			redisOutageToleranceMs: options.toleranceMs,
		}),
	);
	const jobs = contacts.map((to, index) => ({
		index,
		ledgerKey: `execution-1/Send WhatsApp/${index}`,
		send: () => postToStudio(sim.url, STUDIO_PATHS.messagingConversation, whatsappSessionBody(to), API_KEY),
	}));
	return await dispatch(jobs, { gate, ledger, onProgress: options.onProgress });
}

/** What a second n8n worker sends meanwhile: on a connection of its own, with a gate and ledger of its own. */
const otherContacts = ['447700970090', '447700970091'];
const ALL_CONTACTS = [...contacts, ...otherContacts];

async function anotherWorker(url: string): Promise<void> {
	const client = inspector(url);
	const account = accountId('eu', API_KEY);
	const gate = new RedisRateGate({ client, account, tier: 1, floorMs: REAL_TIME_MARGIN_MS });
	const ledger = new RedisSendLedger({ client, account });
	const jobs = otherContacts.map((to, index) => ({
		index,
		ledgerKey: `execution-2/Send WhatsApp/${index}`,
		send: () => postToStudio(sim.url, STUDIO_PATHS.messagingConversation, whatsappSessionBody(to), API_KEY),
	}));
	const results = await dispatch(jobs, { gate, ledger });
	expect(outcomes(results)).toEqual(['sent', 'sent']);
	await gate.close();
}

const sessionsOf = (to: string) => sim.sessions.filter((session) => session.body.to === to).length;
const arrivals = () => sim.sessions.map((session) => session.arrivedAt);

/** Every contact got exactly one session, and no second (sliding) held two starts at Studio. */
function expectOnceEachUnderTheTier(everyone = contacts): void {
	for (const to of everyone) expect(sessionsOf(to)).toBe(1);
	expect(maxInAnyWindow(arrivals(), WINDOW_MS)).toBeLessThanOrEqual(1);
	expect(sim.tooManyRequests).toBe(0);
}

/** The fault came in the middle of the campaign: sessions arrived before it, and after Redis was back. */
function expectMidCampaign(faultAt: number, backAt: number): void {
	expect(arrivals().filter((at) => at < faultAt).length).toBeGreaterThanOrEqual(3);
	expect(arrivals().filter((at) => at > backAt).length).toBeGreaterThanOrEqual(1);
}

const outcomes = (results: Array<DispatchResult<StudioResponse>>) => results.map((result) => result.outcome);

/** Runs `fault` once `after` sessions were sent; `fault` returns when Redis is back. Records when it began and ended. */
function faultAfter(after: number, fault: () => Promise<unknown>) {
	let started: Promise<void> | undefined;
	const at = { began: 0, ended: 0 };
	return {
		at,
		onProgress: (done: number) => {
			if (done >= after && !started) {
				at.began = Date.now();
				started = fault().then(() => {
					at.ended = Date.now();
				});
			}
		},
		done: () => started,
	};
}

/**
 * A campaign through a fault that begins after 3 sessions and ends within the tolerance: every contact sent, once,
 * under the tier, with sessions before the fault and after it. `others` are what the fault started beside it.
 */
async function campaignThrough(
	url: string,
	fault: () => Promise<unknown>,
	{ everyone = contacts, others = () => [] as Array<Promise<unknown> | undefined> } = {},
): Promise<void> {
	const during = faultAfter(3, fault);
	const results = await campaign(url, { toleranceMs: 20_000, onProgress: during.onProgress });
	await during.done();
	await Promise.all(others());
	expect(outcomes(results)).toEqual(contacts.map(() => 'sent'));
	expectOnceEachUnderTheTier(everyone);
	expectMidCampaign(during.at.began, during.at.ended);
}

async function expectRerunReplaysEveryone(url: string, sessions: number): Promise<void> {
	const rerun = await campaign(url, { toleranceMs: 20_000 });
	expect(outcomes(rerun)).toEqual(contacts.map(() => 'replayed'));
	expect(sim.sessions).toHaveLength(sessions);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('within the Redis Outage Tolerance, a campaign waits for Redis and goes on', () => {
	it('Redis stopped for 3 s and started again with its data: every contact once, under the tier, nothing failed', async () => {
		const own = await server({ persistent: true });
		await campaignThrough(own.url, async () => {
			await own.down();
			await pause(3000);
			await own.up();
		});
		// The ledger kept every record: a re-run sends nothing.
		await expectRerunReplaysEveryone(own.url, COUNT);
	});

	it('Redis stopped for 3 s and started again empty: the same, and a re-run still replays every contact (this process put back what it sent)', async () => {
		const own = await server();
		await campaignThrough(own.url, async () => {
			await own.down();
			await pause(3000);
			await own.up();
		});
		await expectRerunReplaysEveryone(own.url, COUNT);
	});

	it('Redis restarted empty right after a send, and another worker sends at once: a full second still parts the two starts (the gate starts safe)', async () => {
		const own = await server();
		let other: Promise<unknown> | undefined;
		await campaignThrough(
			own.url,
			async () => {
				await own.down();
				await own.up();
				other = anotherWorker(own.url);
			},
			{ everyone: ALL_CONTACTS, others: () => [other] },
		);
	});

	it('FLUSHALL right after a send (emptied without a dropped connection), another worker sending at once: the same, and a re-run replays every contact', async () => {
		const own = await server();
		const admin = inspector(own.url);
		let other: Promise<unknown> | undefined;
		await campaignThrough(
			own.url,
			async () => {
				await admin.flushall();
				other = anotherWorker(own.url);
			},
			{ everyone: ALL_CONTACTS, others: () => [other] },
		);
		await expectRerunReplaysEveryone(own.url, ALL_CONTACTS.length);
	});

	it('Redis frozen for 5 s (it hangs instead of refusing, as a lost network does; each try gives up after 3 s): the same', async () => {
		const own = await server();
		await campaignThrough(own.url, async () => {
			own.freeze();
			await pause(5000);
			own.thaw();
		});
	});
});

describe('past the Redis Outage Tolerance', () => {
	it('the waiting items fail with an error naming Redis and the tolerance (not the password), and a re-run once Redis is back sends only those', async () => {
		const password = 'outage-test-password-55';
		const own = await server({ persistent: true, users: [`default on >${password} ~* &* +@all`] });
		const url = `redis://:${password}@127.0.0.1:${own.port}`;
		const fault = faultAfter(3, () => own.down());
		const results = await campaign(url, { toleranceMs: 2000, onProgress: fault.onProgress });
		await fault.done();
		const failedAt = Date.now();

		const sent = results.filter((result) => result.outcome === 'sent');
		const failed = results.filter((result) => result.outcome === 'failed');
		expect(sent.length).toBeGreaterThanOrEqual(3);
		expect(failed.length).toBeGreaterThan(0);
		expect(sent.length + failed.length).toBe(COUNT);
		// They waited out the tolerance before failing.
		expect(failedAt - fault.at.began).toBeGreaterThanOrEqual(2000);
		for (const result of failed) {
			const error = (result as { error: Error }).error;
			expect(isError(error, 'RedisUnavailableError')).toBe(true);
			expect(error.message).toContain(`in Redis (127.0.0.1:${own.port})`);
			expect(error.message).toMatch(
				/has not answered for \d+(\.\d)? s, longer than the credential's Redis Outage Tolerance/,
			);
			expect(error.message).toContain('This item was not sent');
			expect(error.message).toContain('send these contacts again');
			expect(error.message).not.toContain(password);
		}
		expect(sim.sessions).toHaveLength(sent.length);

		await own.up();
		const rerun = await campaign(url, { toleranceMs: 2000 });
		expect(outcomes(rerun)).toEqual(results.map((result) => (result.outcome === 'sent' ? 'replayed' : 'sent')));
		expectOnceEachUnderTheTier();
	});

	it('with a tolerance of 0, the first failed call fails the item at once', async () => {
		const own = await server();
		const fault = faultAfter(2, () => own.down());
		const results = await campaign(own.url, { toleranceMs: 0, onProgress: fault.onProgress });
		await fault.done();
		const failed = results.filter((result) => result.outcome === 'failed');
		expect(failed.length).toBeGreaterThan(0);
		for (const result of failed)
			expect((result as { error: Error }).error.message).toMatch(/could not be reached.*This item was not sent/);
		expect(sim.sessions).toHaveLength(COUNT - failed.length);
	});
});
