// A queue-mode worker dies mid-campaign (SIGKILL: out of memory, a deploy, a lost machine), in real n8n 2.41.1 with
// the queue edition: main + 2 workers, Redis, PostgreSQL. The same 20 contacts posted again then run on the other
// worker: every contact gets exactly one session, except at most the one or two whose request was on the wire at the
// kill, which fail at once as "may already have started" (never a second session); the re-run is not held up by
// the dead worker's claims beyond their lease, and finishes within a minute and a half of the kill.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { maxInAnyWindow } from '../simulator/windows';
import { switchEdition } from '../core/switchEdition';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome } from '../harness/n8n/n8n';
import { prepareQueueMode } from '../harness/n8n/queueMode';
import { Stack, type ManagedProcess } from '../harness/processes';
import { until } from '../harness/until';
import { chain, contactsFromWebhookNode, studioCredential, webhookNode, whatsAppNode } from '../harness/n8n/workflows';

const STATUS_URL = 'https://crm.example.com/vonage/status';
const COUNT = 20;
const contacts = Array.from({ length: COUNT }, (_, index) => ({
	to: `4477009600${String(index).padStart(2, '0')}`,
	name: `Contact ${index}`,
	order: `W-${index}`,
	ref: `wd-${index}`,
}));

const stack = new Stack();
let simulator: StudioSimulator;
let main: N8nHome;
let workerHomes: N8nHome[];
let firstWorker: ManagedProcess;

beforeAll(async () => {
	simulator = await startSimulator({ tier: 1, apiKey: 'e2e-key', callbacks: false, latencyMs: { min: 20, max: 150 } });
	stack.defer('simulator', () => simulator.close());
	const prepared = await preparePackage({ edition: 'queue' });
	const queue = await prepareQueueMode(stack, prepared, { workers: 2 });
	const { redis } = queue;
	main = queue.main;
	workerHomes = queue.workerHomes;

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
		chain('vgaiE2eWorkerDie', 'Campaign from the CRM', [
			webhookNode('campaign', 'Webhook', 'allEntries'),
			contactsFromWebhookNode(),
			whatsAppNode({ statusUrl: STATUS_URL, continueOnFail: true }),
		]),
	];
	switchEdition(workflows, 'queue');
	await main.importWorkflows(workflows);
	await main.publishWorkflow('vgaiE2eWorkerDie');
	const mainProcess = stack.add(await main.start({ name: 'n8n main' }));
	await main.waitForWebhooks([main.webhookUrl('campaign')], 60_000, mainProcess);
	firstWorker = stack.add(await workerHomes[0].startWorker({ name: 'n8n worker 1' }));
}, 10 * 60_000);

afterAll(() => stack.stopAll());

const postCampaign = (signal?: AbortSignal) =>
	fetch(main.webhookUrl('campaign'), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ contacts }),
		signal,
	});

test(
	'a worker SIGKILLed mid-campaign, the same contacts posted again: one session each, none twice',
	async () => {
		const abandoned = new AbortController();
		const firstPost = postCampaign(abandoned.signal).catch(() => undefined);
		await until('six sessions', () => simulator.sessions.length >= 6, 120_000, 50);
		await firstWorker.kill();
		const killedAt = Date.now();
		const sentBeforeKill = simulator.sessions.length;

		stack.add(await workerHomes[1].startWorker({ name: 'n8n worker 2' }));
		const answer = await postCampaign();
		const finishedAfterKillS = (Date.now() - killedAt) / 1000;
		abandoned.abort();
		await firstPost;

		expect(answer.status).toBe(200);
		const items = (await answer.json()) as Array<{ to?: string; replayed?: boolean; error?: string }>;
		expect(items).toHaveLength(COUNT);

		console.log(
			`worker death: ${sentBeforeKill} sessions before the kill; re-run: ${items.filter((item) => item.replayed === true).length} replayed, ` +
				`${items.filter((item) => item.replayed === false).length} sent, ${items.filter((item) => item.error).length} possibly sent; ` +
				`finished ${finishedAfterKillS.toFixed(1)} s after the kill`,
		);
		const sessions = (to: string) => simulator.sessions.filter((session) => session.body.to === to).length;
		// Never a second session.
		for (const each of contacts) expect(sessions(each.to)).toBeLessThanOrEqual(1);
		// The ones that may have gone (their request was on the wire at the kill) fail at once, and say so.
		const maybe = items.filter((item) => item.error !== undefined);
		expect(maybe.length).toBeLessThanOrEqual(2);
		for (const item of maybe) expect(item.error).toMatch(/may already have started/);
		// Everyone else got exactly one session: the ones sent before the kill replayed, the rest sent now.
		const missing = contacts.filter((each) => sessions(each.to) === 0);
		expect(missing.length).toBeLessThanOrEqual(maybe.length);
		expect(items.filter((item) => item.replayed === true).length).toBeGreaterThanOrEqual(sentBeforeKill - 2);
		expect(simulator.sessions.length).toBeGreaterThanOrEqual(COUNT - maybe.length);
		// Not held up by the dead worker's claims: their lease is 20 s.
		expect(finishedAfterKillS).toBeLessThan(90);
		// And still never more than the tier in a second, across both workers.
		expect(
			maxInAnyWindow(
				simulator.sessions.map((session) => session.arrivedAt),
				1000,
			),
		).toBe(1);
	},
	5 * 60_000,
);
