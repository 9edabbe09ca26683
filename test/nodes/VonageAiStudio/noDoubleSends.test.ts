// Never a second session for the same contact, whatever n8n does: Retry On Fail re-running the node, a
// retried execution, two executions with the same idempotency key, a stopped execution. Also: concurrent
// executions share the credential's tier. Real engine, real HTTP, a real redis-server for the shared store.
import { resetNodeState } from '../../../harness/engine';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';
import { runStudioNode } from '../../../harness/engine';
import { startRedis, type RedisServer } from '../../../harness/redisServer';
import { REAL_TIME_MARGIN_MS } from '../../../harness/fixtures';

const API_KEY = 'sk-ledger-test-91b2';
let simulator: StudioSimulator;

const parameters = (extra: Record<string, unknown> = {}) => ({
	resource: 'whatsapp',
	operation: 'startOutboundSession',
	agentId: 'agent-a',
	to: '={{ $json.phone }}',
	namespace: 'ns',
	template: 'welcome',
	locale: 'en',
	statusUrl: 'https://hooks.example.com/status',
	bodyParameters: { values: [{ text: '={{ $json.name }}' }] },
	...extra,
});

const contacts = (count: number, offset = 0) =>
	Array.from({ length: count }, (_, i) => ({ phone: `+4477009${String(10000 + offset + i)}`, name: `C${offset + i}` }));

const credentials = (tier: number, extra: Record<string, unknown> = {}) => ({
	apiKey: API_KEY,
	region: 'eu',
	sessionsPerSecond: tier,
	baseUrl: simulator.url,
	...extra,
});

/** Sessions Studio accepted per recipient. */
const sessionsPerContact = () => {
	const counts = new Map<string, number>();
	for (const session of simulator.sessions)
		counts.set(String(session.body.to), (counts.get(String(session.body.to)) ?? 0) + 1);
	return counts;
};

const arrivals = () => simulator.sessions.map((session) => session.arrivedAt);

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

describe('Retry On Fail during a 429 storm', () => {
	it('re-runs the node but starts exactly one session per contact', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, throttle: { rejectRatio: 0.3 } });
		const items = contacts(10);
		const { outputs, error } = await runStudioNode({
			parameters: parameters({ options: { rateLimitRetries: 0 } }),
			items,
			credentials: credentials(5),
			retryOnFail: true,
			maxTries: 5,
			waitBetweenTries: 0,
		});
		expect(simulator.tooManyRequests).toBeGreaterThan(0);
		const counts = sessionsPerContact();
		expect([...counts.values()].every((count) => count === 1)).toBe(true);
		if (error) {
			// The last try may still have met a 429: then that item ends in a clear 429 error, never a duplicate.
			expect(error).toMatchObject({ httpCode: '429' });
		} else {
			expect(counts.size).toBe(items.length);
			expect(outputs[0].filter((item) => item.json.replayed === true).length).toBeGreaterThan(0);
			expect(outputs[0].map((item) => item.pairedItem)).toEqual(items.map((_, item) => ({ item })));
		}
		expect(maxInAnyWindow(arrivals())).toBeLessThanOrEqual(5);
	});

	it('a 429 storm (30 % refused, Retry-After: 0) ends with every contact sent exactly once', async () => {
		simulator = await startSimulator({
			apiKey: API_KEY,
			tier: 5,
			callbacks: false,
			throttle: { rejectRatio: 0.3, retryAfterSeconds: 0 },
		});
		const items = contacts(12);
		const { outputs, error } = await runStudioNode({ parameters: parameters(), items, credentials: credentials(5) });
		expect(error).toBeUndefined();
		expect(simulator.tooManyRequests).toBeGreaterThan(0);
		expect(sessionsPerContact().size).toBe(12);
		expect([...sessionsPerContact().values()].every((count) => count === 1)).toBe(true);
		expect(outputs[0].every((item) => item.json.statusCode === 200)).toBe(true);
	});
});

describe('a retried execution', () => {
	it('re-runs a half-finished batch without sending the finished half again', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 1, callbacks: false });
		const items = contacts(6);
		// First run: stopped part-way (a crash or the Stop button leaves the same picture).
		const firstRun = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials(1),
			workflowId: 'wf-retry',
			cancelAfterMs: 2200,
		});
		expect(firstRun.error?.message).toBe('The execution was stopped before this item was sent');
		const firstSent = simulator.sessions.length;
		expect(firstSent).toBeGreaterThanOrEqual(1);
		expect(firstSent).toBeLessThan(6);

		// n8n's "Retry" from the executions list: a new execution ID, mode "retry", the same items.
		const retry = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials(1),
			workflowId: 'wf-retry',
			mode: 'retry',
		});
		expect(retry.error).toBeUndefined();
		expect(simulator.sessions).toHaveLength(6);
		expect([...sessionsPerContact().values()].every((count) => count === 1)).toBe(true);
		const replayed = retry.outputs[0].filter((item) => item.json.replayed === true).length;
		expect(replayed).toBe(firstSent);
	});

	it('does not resend, in a retried execution, an item whose first send may have reached Studio', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, dropConnectionRatio: 1 });
		const items = contacts(1);
		const first = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials(5),
			workflowId: 'wf-maybe',
		});
		expect(first.error?.message).toMatch(/^No complete answer from Vonage AI Studio/);
		expect(simulator.sessions).toHaveLength(1);

		simulator.configure({ dropConnectionRatio: 0 });
		const retry = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials(5),
			workflowId: 'wf-maybe',
			mode: 'retry',
		});
		expect(retry.error).toMatchObject({
			message: 'Not sent again: an earlier run may already have started this session',
			description: expect.stringContaining('use a new idempotency key'),
		});
		expect(simulator.sessions).toHaveLength(1);
	});

	it('with Duplicate Guard off, a new execution of the same items does send again (only retries are recognised)', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
		const items = contacts(2);
		const guardOff = parameters({ options: { duplicateGuard: false } });
		await runStudioNode({ parameters: guardOff, items, credentials: credentials(5), workflowId: 'wf-again' });
		await runStudioNode({ parameters: guardOff, items, credentials: credentials(5), workflowId: 'wf-again' });
		expect(simulator.sessions).toHaveLength(4);
	});
});

describe('idempotency key', () => {
	let redis: RedisServer;
	beforeAll(async () => {
		redis = await startRedis();
	});
	afterAll(async () => {
		await redis.stop();
	});

	it.each([
		['in one n8n process (main edition)', 'main' as const, () => ({})],
		['with the shared Redis store (queue edition)', 'queue' as const, () => ({ redisUrl: redis.url })],
	])('two executions with the same key at once start exactly one session (%s)', async (_label, edition, extra) => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, latencyMs: 150 });
		const run = () =>
			runStudioNode({
				parameters: parameters({ idempotencyKey: '={{ "crm-" + $json.name }}' }),
				items: contacts(1),
				credentials: credentials(5, extra()),
				edition,
			});
		const [a, b] = await Promise.all([run(), run()]);
		expect(simulator.sessions).toHaveLength(1);
		const outcomes = [a.outputs[0][0].json, b.outputs[0][0].json];
		expect(outcomes.map((json) => json.replayed).sort()).toEqual([false, true]);
		expect(outcomes[0].response).toEqual(outcomes[1].response);
	});
});

describe('concurrent executions and cancellation', () => {
	it('8 executions at once share the tier: no second holds more than the tier', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 3, callbacks: false, latencyMs: { min: 50, max: 400 } });
		const runs = await Promise.all(
			Array.from({ length: 8 }, (_, execution) =>
				runStudioNode({
					parameters: parameters(),
					items: contacts(3, execution * 10),
					credentials: credentials(3, { safetyMarginMs: REAL_TIME_MARGIN_MS }),
				}),
			),
		);
		expect(runs.every((run) => run.error === undefined)).toBe(true);
		// A 429 is retried safely and starts nothing; eight executions each pacing alone would send at eight times the tier.
		expect(simulator.tooManyRequests).toBeLessThanOrEqual(1);
		expect(simulator.sessions).toHaveLength(24);
		expect(maxInAnyWindow(arrivals())).toBeLessThanOrEqual(3);
	});

	it('stopping the execution ends the wait at once and sends nothing more', async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 1, callbacks: false });
		const started = Date.now();
		const { error } = await runStudioNode({
			parameters: parameters(),
			items: contacts(30),
			credentials: credentials(1),
			cancelAfterMs: 1500,
		});
		const sentAtStop = simulator.sessions.length;
		// 30 items at 1 per second would take about 30 s; a stopped execution must not wait for them.
		expect(Date.now() - started).toBeLessThan(15_000);
		expect(error?.message).toBe('The execution was stopped before this item was sent');
		expect(sentAtStop).toBeGreaterThanOrEqual(1);
		expect(sentAtStop).toBeLessThanOrEqual(3);
		await new Promise((resolve) => setTimeout(resolve, 2500));
		expect(simulator.sessions.length).toBe(sentAtStop);
	});
});
