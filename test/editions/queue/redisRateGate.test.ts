// The Redis-backed gate with a real redis-server: one budget across gate instances and across 3 real processes
// (checked at the simulator's arrival times), failing items clearly when Redis goes away mid-run, cancellation,
// the shared 429 slowdown, the learnt margin shared across connections, lazy connection, and no API key in Redis.
import { join } from 'node:path';
import { dispatch } from '../../../harness/dispatch';
import { accountId } from '../../../core/accounts';
import { RedisUnavailableError, SendCancelledError } from '../../../core/errors';
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
import { until } from '../../../harness/until';

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

function gate(tier: number, account = 'eu:test', url = redis.url): RedisRateGate {
	return new RedisRateGate({ client: client(url), account, tier, floorMs: REAL_TIME_MARGIN_MS });
}

/** Sustained starts per second: tier over the mean time between starts `tier` places apart (bursts or not). */
function sustainedRate(times: number[], tier: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let total = 0;
	for (let i = 0; i + tier < sorted.length; i++) total += sorted[i + tier] - sorted[i];
	return (tier * 1000) / (total / (sorted.length - tier));
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

describe('RedisRateGate', () => {
	it('two gate instances (two connections) share one budget: no 1 s window over the tier', async () => {
		const tier = 4;
		const a = gate(tier, 'eu:shared-1');
		const b = gate(tier, 'eu:shared-1');
		const starts: number[] = [];
		const take = async (g: RedisRateGate, count: number) => {
			await Promise.all(
				Array.from({ length: count }, () =>
					g.acquire().then(() => starts.push(performance.timeOrigin + performance.now())),
				),
			);
		};
		await Promise.all([take(a, 8), take(b, 8)]);
		expect(starts).toHaveLength(16);
		expect(maxInAnyWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(tier);
		expect(sustainedRate(starts, tier)).toBeGreaterThanOrEqual(0.7 * tier); // loose: at most 0.91 with this margin
	});

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

	it('cancelling a wait rejects at once and takes no start', async () => {
		const g = gate(1, 'eu:cancel');
		const inspect = client();
		await g.acquire();
		const controller = new AbortController();
		const began = performance.now();
		const waiting = g.acquire(controller.signal);
		setTimeout(() => controller.abort(), 50);
		await expect(waiting).rejects.toBeInstanceOf(SendCancelledError);
		expect(performance.now() - began).toBeLessThan(900);
		const startsAtCancel = await inspect.zcard('vgai:gate:{eu:cancel}:starts');
		await new Promise((resolve) => setTimeout(resolve, 1200));
		// Nothing was admitted after the cancellation, although its slot opened meanwhile.
		expect(await inspect.zcard('vgai:gate:{eu:cancel}:starts')).toBe(startsAtCancel);
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

	/** Four sends answered at once: the gate knows its link (trips barely vary), so it can tell 429s apart. */
	async function warmedUp(g: RedisRateGate): Promise<void> {
		for (let i = 0; i < 4; i++) (await g.acquire()).settle({ kind: 'accepted' });
	}

	/** A field of a Redis hash once it is there and `done` says so (checked every 20 ms, for up to 3 s). */
	async function fieldOnce(
		inspect: RedisClient,
		key: string,
		field: string,
		done: (value: string) => boolean = () => true,
	): Promise<string> {
		return await until(
			`${field} of ${key}`,
			async () => {
				const value = await inspect.hget(key, field);
				return value !== null && done(value) ? value : undefined;
			},
			3_000,
			20,
		);
	}

	it('a 429 seen by one process pauses every process sharing the account; a second one more spacing would not cure, from another process, slows them all', async () => {
		const a = gate(5, 'eu:penalty');
		const b = gate(5, 'eu:penalty');
		const inspect = client();
		const penaltyKey = 'vgai:gate:{eu:penalty}:penalty';
		await warmedUp(a);
		await warmedUp(b);
		// Their starts were a fifth of a window apart, well beyond how much trips varied: not a jitter 429.
		(await a.acquire()).settle({ kind: 'refused', retryAfterMs: 600 });
		const pausedUntil = await fieldOnce(inspect, penaltyKey, 'pausedUntil');
		// A lone 429 pauses but does not slow the gate.
		expect(await inspect.hget(penaltyKey, 'level')).toBeNull();
		const admission = await b.acquire();
		// Judged on the Redis clock: the start admitted for b comes no sooner than the pause allows.
		const [, admittedAt] = await inspect.zrevrange('vgai:gate:{eu:penalty}:starts', 0, 0, 'WITHSCORES');
		expect(Number(admittedAt)).toBeGreaterThanOrEqual(Number(pausedUntil));
		admission.settle({ kind: 'accepted' });

		// A window later, within the grace period, b meets such a 429 too (answered as fast as usual, so not a late
		// trip of its own): the shared level rises for both.
		await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + a.marginMs + 50));
		(await b.acquire()).settle({ kind: 'refused' });
		expect(await fieldOnce(inspect, penaltyKey, 'level', (value) => value === '1')).toBe('1');
	});

	it('what one process learns about the link paces every process sharing the account', async () => {
		const a = gate(1, 'eu:learnt');
		const b = gate(1, 'eu:learnt');
		const inspect = client();
		const spacingKey = 'vgai:gate:{eu:learnt}:spacing';
		// a sees answers after 50, 150, 250 and 350 ms (trips may vary by ~300 ms), then a 429 within that
		// variation: the margin widens, in Redis.
		for (let i = 0; i < 4; i++) {
			const admission = await a.acquire();
			setTimeout(() => admission.settle({ kind: 'accepted' }), 50 + 100 * i);
		}
		await new Promise((resolve) => setTimeout(resolve, 400));
		const before = Number(await inspect.hget(spacingKey, 'marginMs'));
		const refused = await a.acquire();
		setTimeout(() => refused.settle({ kind: 'refused' }), 100);
		const widened = Number(await fieldOnce(inspect, spacingKey, 'marginMs', (value) => Number(value) > before));
		expect(widened).toBeCloseTo(before * 1.5 + 20, 3);

		// b, on its own connection, never saw any of it, and starts a window of a second plus that margin apart.
		await b.acquire();
		await b.acquire();
		const scores = (await inspect.zrange('vgai:gate:{eu:learnt}:starts', -2, -1, 'WITHSCORES')).filter(
			(_, at) => at % 2 === 1,
		);
		expect((Number(scores[1]) - Number(scores[0])) / 1000).toBeGreaterThanOrEqual(WINDOW_MS + widened - 1);
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
			`vgai:gate:{${id}}:next`,
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
