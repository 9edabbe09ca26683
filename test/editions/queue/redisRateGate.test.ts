// The Redis-backed gate with a real redis-server: the rules every gate promises (test/contracts/rateGate.contract.ts,
// each gate of an account on its own connection, as another process has it), then what only Redis does: one budget
// across 3 real processes (checked at the simulator's arrival times), failing items clearly when Redis goes away
// mid-run, an admission that came back late left unused, lazy connection, and no API key in Redis.
import { join } from 'node:path';
import { dispatch } from '../../../harness/dispatch';
import { accountId } from '../../../core/accounts';
import { RedisUnavailableError } from '../../../core/errors';
import { WINDOW_MS } from '../../../core/rateGate';
import { createRedisClient, type RedisClient } from '../../../editions/queue/redisClient';
import { RedisRateGate } from '../../../editions/queue/redisRateGate';
import { closeShared, sharedGate } from '../../../harness/accounts';
import { STUDIO_PATHS } from '../../../core/studioApi';
import { closeAllPools, postToStudio } from '../../../editions/queue/transport';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';
import { startRedis, type RedisServer } from '../../../harness/redisServer';
import type { GateWorkerResult } from './gateWorker';
import { REAL_TIME_MARGIN_MS, whatsappSessionBody } from '../../../harness/fixtures';
import { tsxWorker } from '../../../harness/processes';
import { rateGateContract } from '../../contracts/rateGate.contract';

jest.setTimeout(60_000);

const API_KEY = 'redis-gate-test-key';

let redis: RedisServer;
let sim: StudioSimulator;
const clients: RedisClient[] = [];

function client(url = redis.url): RedisClient {
	const made = createRedisClient(url);
	clients.push(made);
	return made;
}

function send(index: number) {
	return () =>
		postToStudio(
			sim.url,
			STUDIO_PATHS.messagingConversation,
			whatsappSessionBody(`4477009${String(index).padStart(5, '0')}`),
			API_KEY,
		);
}

beforeAll(async () => {
	redis = await startRedis();
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false });
});

afterEach(async () => {
	for (const made of clients.splice(0)) made.disconnect();
	await closeShared();
	sim.configure({ tier: undefined });
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
	await redis.stop();
});

let accountCounter = 0;

rateGateContract(() => ({
	name: 'Redis',
	account(settings, penalty) {
		const account = `eu:contract-${++accountCounter}-${Date.now()}`;
		const made: RedisRateGate[] = [];
		const another = () => {
			const gate = new RedisRateGate({ client: client(), account, ...settings, penalty });
			made.push(gate);
			return gate;
		};
		const first = another();
		return {
			first,
			another,
			view: () => first.inspect(),
			written: async () => {
				await Promise.all(made.map((gate) => gate.flushed()));
			},
			// The start log the window rule reads (scores: when each start counts, µs of the Redis clock).
			startedAt: async () => {
				const log = await client().zrange(`vgai:gate:{${account}}:starts`, 0, -1, 'WITHSCORES');
				return log.filter((_, index) => index % 2 === 1).map((score) => Number(score) / 1000);
			},
		};
	},
}));

describe('RedisRateGate', () => {
	it('3 real processes sharing one redis-server: 0 windows over the tier at the simulator', async () => {
		const tier = 3;
		const perProcess = 8;
		sim.configure({ tier });
		const workers = ['1', '2', '3'].map((id) =>
			tsxWorker(join(__dirname, 'gateWorker.ts'), {
				GATE_WORKER_ID: id,
				GATE_WORKER_COUNT: String(perProcess),
				GATE_WORKER_TIER: String(tier),
				GATE_WORKER_FLOOR_MS: String(REAL_TIME_MARGIN_MS),
				GATE_WORKER_STUDIO_URL: sim.url,
				GATE_WORKER_API_KEY: API_KEY,
				GATE_WORKER_REDIS_URL: redis.url,
			}),
		);
		// Everyone ready first, so tsx start-up CPU does not overlap the sends.
		for (const { lines } of workers) expect((await lines.next()).value).toBe('ready');
		for (const { child } of workers) child.stdin!.end('go\n');
		const results: GateWorkerResult[] = [];
		for (const { lines } of workers) results.push(JSON.parse((await lines.next()).value as string) as GateWorkerResult);
		expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0, 0]);

		expect(results.map((r) => [r.sent, r.failed])).toEqual([
			[perProcess, 0],
			[perProcess, 0],
			[perProcess, 0],
		]);
		expect(sim.tooManyRequests).toBe(0);
		const arrivals = sim.sessions.map((s) => s.arrivedAt);
		expect(arrivals).toHaveLength(3 * perProcess);
		expect(maxInAnyWindow(arrivals, WINDOW_MS)).toBeLessThanOrEqual(tier);
	});

	it('with a Redis Outage Tolerance of 0, fails the waiting items at once with a clear error when redis-server stops mid-run, and sends nothing more', async () => {
		const own = await startRedis();
		const tier = 2;
		sim.configure({ tier });
		const gateOfAccount = sharedGate({
			region: 'eu',
			apiKey: API_KEY,
			tier,
			redisUrl: own.url,
			floorMs: REAL_TIME_MARGIN_MS,
			redisOutageToleranceMs: 0,
		});
		let stoppedAt = Infinity;
		let stopped: Promise<void> | undefined;
		const jobs = Array.from({ length: 10 }, (_, index) => ({ index, send: send(index) }));
		const results = await dispatch(jobs, {
			gate: gateOfAccount,
			onProgress: (done) => {
				if (done === 3 && !stopped) {
					stoppedAt = performance.timeOrigin + performance.now();
					stopped = own.stop();
				}
			},
		});
		await stopped;

		const sent = results.filter((r) => r.outcome === 'sent');
		const failed = results.filter((r) => r.outcome === 'failed');
		expect(sent.length).toBeGreaterThanOrEqual(3);
		expect(failed.length).toBeGreaterThan(0);
		expect(sent.length + failed.length).toBe(10);
		for (const result of failed) {
			const error = (result as { error: unknown }).error;
			expect(error).toBeInstanceOf(RedisUnavailableError);
			expect((error as Error).message).toMatch(/shared rate gate in Redis \(127\.0\.0\.1:\d+\) could not be reached/);
			expect((error as Error).message).toContain('was not sent');
		}
		// Every session that arrived was admitted before the stop (plus in-flight time), never after.
		const arrivals = sim.sessions.map((s) => s.arrivedAt);
		expect(arrivals).toHaveLength(sent.length);
		for (const arrival of arrivals) expect(arrival).toBeLessThan(stoppedAt + 200);
		expect(maxInAnyWindow(arrivals, WINDOW_MS)).toBeLessThanOrEqual(tier);
		expect(sim.tooManyRequests).toBe(0);
	});

	it('does not use an admission whose answer came back late (a paused process could crowd the next second)', async () => {
		const g = new RedisRateGate({ client: client(), account: 'eu:stale', tier: 5 });
		const inspect = client();
		await g.acquire(); // learns the usual round trip
		await new Promise((resolve) => setTimeout(resolve, 300)); // so the next ask is admitted at once
		await inspect.call('CLIENT', 'PAUSE', '200', 'ALL'); // and its answer comes ~200 ms late (more than half the margin)
		await g.acquire();
		// The late admission stays counted (never over the tier) but unused; a second one carried the send.
		expect(await inspect.zcard('vgai:gate:{eu:stale}:starts')).toBeGreaterThanOrEqual(3);
	});

	it('connects lazily and fails fast with a clear error when Redis is not there', async () => {
		const closed = await startRedis();
		const url = closed.url;
		await closed.stop();
		const unreachable = sharedGate({
			region: 'eu',
			apiKey: 'k-lazy',
			tier: 1,
			redisUrl: url,
			redisOutageToleranceMs: 0,
		});
		const began = performance.now();
		await expect(unreachable.acquire()).rejects.toBeInstanceOf(RedisUnavailableError);
		expect(performance.now() - began).toBeLessThan(5000);
	});

	it('keeps only the hash of the API key in Redis', async () => {
		const apiKey = 'very-secret-studio-key-123';
		const shared = sharedGate({ region: 'us', apiKey, tier: 2, redisUrl: redis.url });
		(await shared.acquire()).settle({ kind: 'accepted' });
		(await shared.acquire()).settle({ kind: 'refused', retryAfterMs: 100 });
		await new Promise((resolve) => setTimeout(resolve, 200));
		const inspect = client();
		const keys = await inspect.keys('*');
		const id = accountId('us', apiKey);
		expect(keys.filter((key) => key.includes(id)).sort()).toEqual([
			`vgai:epoch:{${id}}`,
			`vgai:gate:{${id}}:due`,
			`vgai:gate:{${id}}:penalty`,
			`vgai:gate:{${id}}:spacing`,
			`vgai:gate:{${id}}:starts`,
		]);
		for (const key of keys) {
			expect(key).not.toContain(apiKey);
			const type = await inspect.type(key);
			const values =
				type === 'zset'
					? await inspect.zrange(key, 0, -1)
					: type === 'hash'
						? Object.values(await inspect.hgetall(key))
						: [await inspect.get(key)];
			for (const value of values) expect(value).not.toContain(apiKey);
		}
	});
});
