// Redis restarts in the middle of a campaign, in real n8n 2.41.1 queue mode with the queue edition: main + 2 workers,
// PostgreSQL, and one Redis for n8n's queue and our shared gate and ledger, keeping its data across the restart (an
// append-only file). Redis is stopped 8 s into a 20-contact campaign at tier 1 and started again 10 s later. n8n's
// queue rides it out (n8n's own limit, QUEUE_BULL_REDIS_TIMEOUT_THRESHOLD, raised as docs/production.md says), and
// so does the campaign: within the credential's Redis Outage Tolerance (30 s by default) the items wait for Redis
// and go on when it is back: all 20 contacts get one session each, none over the tier, no item fails.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { maxInAnyWindow } from '../simulator/windows';
import { switchEdition } from '../core/switchEdition';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nRest, type N8nHome } from '../harness/n8n/n8n';
import { prepareQueueMode } from '../harness/n8n/queueMode';
import { Stack, type ManagedProcess } from '../harness/processes';
import type { RedisServer } from '../harness/redisServer';
import { until } from '../harness/until';
import { chain, contactsFromWebhookNode, studioCredential, webhookNode, whatsAppNode } from '../harness/n8n/workflows';

const STATUS_URL = 'https://crm.example.com/vonage/status';
const WORKFLOW = 'vgaiE2eRedisDown';
const COUNT = 20;
const contacts = Array.from({ length: COUNT }, (_, index) => ({
	to: `4477009610${String(index).padStart(2, '0')}`,
	name: `Contact ${index}`,
	order: `R-${index}`,
	ref: `rr-${index}`,
}));

/**
 * n8n exits a process whose Redis connection has been failing for longer than this (10 s by default), which would
 * end the campaign with the process; production setups that want to ride out longer outages raise it to at least
 * the credential's Redis Outage Tolerance (docs/production.md).
 */
const N8N_REDIS_TIMEOUT_MS = '60000';

const stack = new Stack();
let simulator: StudioSimulator;
let main: N8nHome;
let redis: RedisServer;
let rest: N8nRest;
const processes: ManagedProcess[] = [];

beforeAll(async () => {
	simulator = await startSimulator({ tier: 1, apiKey: 'e2e-key', callbacks: false, latencyMs: { min: 20, max: 150 } });
	stack.defer('simulator', () => simulator.close());
	const prepared = await preparePackage({ edition: 'queue' });
	const queue = await prepareQueueMode(stack, prepared, {
		workers: 2,
		redis: { persistent: true },
		env: { QUEUE_BULL_REDIS_TIMEOUT_THRESHOLD: N8N_REDIS_TIMEOUT_MS },
	});
	redis = queue.redis;
	main = queue.main;

	await main.importCredentials([
		studioCredential({
			baseUrl: simulator.url,
			apiKey: 'e2e-key',
			sessionsPerSecond: 1,
			redisUrl: redis.url,
			safetyMarginMs: 150,
		}),
	]);
	const workflows = [
		chain(WORKFLOW, 'Campaign from the CRM', [
			webhookNode('campaign', 'Webhook', 'allEntries'),
			contactsFromWebhookNode(),
			whatsAppNode({ statusUrl: STATUS_URL, continueOnFail: true }),
		]),
	];
	switchEdition(workflows, 'queue');
	await main.importWorkflows(workflows);
	await main.publishWorkflow(WORKFLOW);
	const mainProcess = stack.add(await main.start({ name: 'n8n main' }));
	processes.push(mainProcess);
	await main.waitForWebhooks([main.webhookUrl('campaign')], 60_000, mainProcess);
	rest = await N8nRest.setupOwner(main.baseUrl);
	for (const [index, home] of queue.workerHomes.entries())
		processes.push(stack.add(await home.startWorker({ name: `n8n worker ${index + 1}` })));
}, 10 * 60_000);

afterAll(() => stack.stopAll());

test(
	'Redis stopped 8 s into a 20-contact campaign at tier 1, back 10 s later: all 20 sent once, none over the tier',
	async () => {
		const answer = fetch(main.webhookUrl('campaign'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ contacts }),
		}).then(async (response) => ({ status: response.status, text: await response.text() }));

		await until('the first session', () => simulator.sessions.length >= 1, 60_000, 20);
		await new Promise((resolve) => setTimeout(resolve, 8000));
		const downAt = Date.now();
		await redis.down();
		const beforeOutage = simulator.sessions.length;
		await new Promise((resolve) => setTimeout(resolve, 10_000));
		const duringOutage = simulator.sessions.length - beforeOutage;
		await redis.up();
		const backAt = Date.now();

		await until('20 sessions', () => simulator.sessions.length >= COUNT, 120_000, 100);
		const { status, text } = await answer;
		console.log(
			`redis restart: ${beforeOutage} sessions before the stop, ${duringOutage} while Redis was down, ` +
				`${simulator.sessions.length - beforeOutage - duringOutage} after it was back; webhook answered ${status}; ` +
				`n8n processes still running: ${processes.filter((each) => each.running).length} of ${processes.length}`,
		);

		// n8n's queue survived: every process still runs, and the execution finished with every item.
		expect(processes.every((each) => each.running)).toBe(true);
		expect(status).toBe(200);
		const items = JSON.parse(text) as Array<{ to?: string; error?: string }>;
		expect(items).toHaveLength(COUNT);
		expect(items.filter((item) => item.error !== undefined)).toEqual([]);
		const executions = await rest.executions(WORKFLOW);
		expect(executions.results.map((each) => each.status)).toEqual(['success']);

		// The campaign waited for Redis, then went on: sessions before the stop and after it was back, none while
		// it was down (every start needs Redis; one already on its way at the stop arrives within a moment), one
		// per contact, never two in a second.
		expect(beforeOutage).toBeGreaterThanOrEqual(5);
		expect(simulator.sessions.filter((session) => session.arrivedAt > backAt).length).toBeGreaterThanOrEqual(5);
		expect(
			simulator.sessions.filter((session) => session.arrivedAt > downAt + 1000 && session.arrivedAt < backAt),
		).toEqual([]);
		for (const each of contacts)
			expect(simulator.sessions.filter((session) => session.body.to === each.to)).toHaveLength(1);
		expect(simulator.sessions).toHaveLength(COUNT);
		expect(
			maxInAnyWindow(
				simulator.sessions.map((session) => session.arrivedAt),
				1000,
			),
		).toBe(1);
		expect(simulator.tooManyRequests).toBe(0);
	},
	5 * 60_000,
);
