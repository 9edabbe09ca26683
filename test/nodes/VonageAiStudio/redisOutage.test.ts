// What an n8n user sees when the queue edition's shared Redis goes away for longer than the credential's Redis
// Outage Tolerance, through n8n's own engine: with Continue On Fail, each item not sent says so (Redis by host and
// port, never the password; the tolerance; what to do) and keeps its pairedItem; the ones sent before stay sent. Once
// Redis is back, n8n's Retry of the execution sends only the items that were not sent.
import { resetNodeState, runStudioNode } from '../../../harness/engine';
import { startRedis, type RedisServer } from '../../../harness/redisServer';
import { until } from '../../../harness/until';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { REAL_TIME_MARGIN_MS } from '../../../harness/fixtures';

jest.setTimeout(60_000);

const API_KEY = 'sk-redis-outage-node-7731';
const PASSWORD = 'node-outage-password-12';
const COUNT = 6;
let simulator: StudioSimulator;
let redis: RedisServer;

beforeAll(async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 1, callbacks: false, latencyMs: { min: 10, max: 40 } });
	redis = await startRedis({ persistent: true, users: [`default on >${PASSWORD} ~* &* +@all`] });
});

afterAll(async () => {
	await resetNodeState();
	await simulator.close();
	await redis.stop();
});

const parameters = {
	resource: 'whatsapp',
	operation: 'startOutboundSession',
	agentId: 'agent-a',
	to: '={{ $json.phone }}',
	namespace: 'ns',
	template: 'welcome',
	locale: 'en',
	statusUrl: 'https://hooks.example.com/status',
	bodyParameters: { values: [{ text: '={{ $json.name }}' }] },
};
const items = Array.from({ length: COUNT }, (_, i) => ({ phone: `+4477009${20000 + i}`, name: `C${i}` }));

it('items not sent say why and what to do; the Retry of the execution sends only those', async () => {
	const credentials = {
		apiKey: API_KEY,
		region: 'eu',
		sessionsPerSecond: 1,
		baseUrl: simulator.url,
		safetyMarginMs: REAL_TIME_MARGIN_MS,
		redisUrl: `redis://:${PASSWORD}@127.0.0.1:${redis.port}/1`,
		redisOutageTolerance: 2,
	};
	const run = (mode?: 'retry') =>
		runStudioNode({
			parameters,
			items,
			credentials,
			edition: 'queue',
			workflowId: 'wf-redis-outage',
			onError: 'continueRegularOutput',
			mode,
		});
	const first = run();
	await until('two sessions', () => simulator.sessions.length >= 2, 20_000, 20);
	await redis.down();
	const { outputs } = await first;
	const sentFirst = simulator.sessions.length;

	const failed = outputs[0].filter((item) => item.json.error !== undefined);
	expect(failed.length).toBeGreaterThan(0);
	expect(failed.length + sentFirst).toBe(COUNT);
	for (const item of failed) {
		expect(item.json.error).toBe(
			`Not sent: the shared rate gate in Redis (127.0.0.1:${redis.port}) could not be reached`,
		);
		// n8n shows the error's description under its message.
		const description = String(item.error?.description);
		expect(description).toMatch(
			/has not answered for \d+(\.\d)? s, longer than the credential's Redis Outage Tolerance \(2 s\)/,
		);
		expect(description).toContain('This item was not sent');
		expect(JSON.stringify(item)).not.toContain(PASSWORD);
		expect(item.pairedItem).toBeDefined();
	}

	await redis.up();
	const retry = await run('retry');
	expect(retry.outputs[0].filter((item) => item.json.error !== undefined)).toEqual([]);
	expect(retry.outputs[0].filter((item) => item.json.replayed === true)).toHaveLength(sentFirst);
	expect(simulator.sessions).toHaveLength(COUNT);
	for (const each of items)
		expect(simulator.sessions.filter((session) => session.body.to === each.phone.slice(1))).toHaveLength(1);
	// The simulator refuses (429) a start over the tier, so its 429 count is what shows the pacing held across the outage.
	expect(simulator.tooManyRequests).toBe(0);
});
