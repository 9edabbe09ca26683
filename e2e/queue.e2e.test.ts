// Queue mode, the way users scale n8n past one process, with the queue edition (n8n-nodes-vonage-ai-studio-queue,
// packed and installed as n8n installs it): main + 2 workers + a webhook process on one real Redis and one real
// PostgreSQL, all on 127.0.0.1. The workflows are written for the main edition and moved with the queue package's
// switch-edition command, as a user moves theirs. Twenty CRM webhook calls at once, each execution sending one WhatsApp
// session through the credential's shared Redis gate at tier 1: all accepted, spread over both workers, no second
// over. And statuses that reach both main and the webhook process (as repeats behind a load balancer do) start one
// execution each, through the callback credential's shared repeat memory. And a CRM contact started with Start
// Session and Wait for Status: the worker builds the resume URL on WEBHOOK_URL (the webhook process, as behind a load
// balancer), the statuses reach the webhook process, and the execution resumes on a worker by Reached.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, N8nRest } from '../harness/n8n/n8n';
import { prepareQueueMode } from '../harness/n8n/queueMode';
import { startRecorder, type Recorder } from '../harness/n8n/recorder';
import { Stack, run, type ManagedProcess } from '../harness/processes';
import { until } from '../harness/until';
import {
	callbackCredential,
	chain,
	expectedWhatsAppBody,
	studioCredential,
	triggerNode,
	triggerPath,
	waitNode,
	waitWorkflow,
	webhookNode,
	whatsAppNode,
} from '../harness/n8n/workflows';

const CALLS = 20;
const STATUS_URL = 'https://crm.example.com/vonage/status';
const CALLBACK_TOKEN = 'e2e-queue-status-token';
const STATUS_WORKFLOW = 'vgaiE2eQueueStat1';
const WAIT_WORKFLOW = 'vgaiE2eQueueWait1';

const contact = (index: number) => ({
	to: `4477009300${String(index).padStart(2, '0')}`,
	name: `Lead ${index}`,
	order: `Q-${index}`,
	ref: `lead-${index}`,
});

const stack = new Stack();
let simulator: StudioSimulator;
let main: N8nHome;
let webhookHome: N8nHome;
let workers: ManagedProcess[];
let statusPath: string;
let recorder: Recorder;
let rest: N8nRest;

beforeAll(async () => {
	simulator = await startSimulator({ tier: 1, apiKey: 'e2e-key', callbacks: false, latencyMs: { min: 20, max: 150 } });
	stack.defer('simulator', () => simulator.close());
	recorder = await startRecorder();
	stack.defer('recorder', () => recorder.close());
	const prepared = await preparePackage({ edition: 'queue' });
	const queue = await prepareQueueMode(stack, prepared, { workers: 2, webhookProcess: true });
	const { redis, workerHomes } = queue;
	main = queue.main;
	webhookHome = queue.webhookHome!;
	const trigger = triggerNode({ authentication: 'token', statuses: ['delivered', 'read'] });
	statusPath = triggerPath(trigger);

	await main.importCredentials([
		// Main, two workers, PostgreSQL, Redis and jest share two cores here: a worker's event loop can lag by a
		// hundred milliseconds between the gate's admission and the request reaching Studio, sooner than twenty
		// sends can teach the gate. The credential's margin sets a floor under the learnt one (docs/rate-gate.md).
		studioCredential({
			baseUrl: simulator.url,
			apiKey: 'e2e-key',
			sessionsPerSecond: 1,
			redisUrl: redis.url,
			safetyMarginMs: 150,
		}),
		callbackCredential({ token: CALLBACK_TOKEN, redisUrl: redis.url }),
	]);
	const workflows = [
		chain('vgaiE2eQueue0001', 'CRM contact to WhatsApp', [
			webhookNode('crm-contact'),
			whatsAppNode({ statusUrl: STATUS_URL, rowPath: 'body' }),
		]),
		chain(STATUS_WORKFLOW, 'Statuses', [trigger]),
		waitWorkflow(
			WAIT_WORKFLOW,
			'crm-wait',
			waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: 5 }),
			recorder.url,
			['reached', 'failed', 'timedOut'],
		),
	];
	// As a user moves an exported workflow: the queue package's own command, from the installed package.
	const exported = join(main.userFolder, 'exported-workflows.json');
	writeFileSync(exported, JSON.stringify(workflows));
	const command = join(prepared.nodesDir, 'node_modules', prepared.name, 'bin', 'switch-edition.js');
	const { stdout } = await run(process.execPath, [command, 'switch-edition', '--to', 'queue', exported]);
	expect(stdout).toContain('3 nodes now use the queue edition');
	const moved = JSON.parse(readFileSync(exported, 'utf8')) as typeof workflows;
	expect(moved.flatMap((workflow) => workflow.nodes.map((node) => String(node.type)))).toEqual(
		expect.arrayContaining([
			'n8n-nodes-vonage-ai-studio-queue.vonageAiStudio',
			'n8n-nodes-vonage-ai-studio-queue.vonageAiStudioTrigger',
		]),
	);
	expect(JSON.stringify(moved)).not.toMatch(/"n8n-nodes-vonage-ai-studio\./);
	await main.importWorkflows(moved);
	await main.publishWorkflow('vgaiE2eQueue0001');
	await main.publishWorkflow(STATUS_WORKFLOW);
	await main.publishWorkflow(WAIT_WORKFLOW);
	const mainProcess = stack.add(await main.start({ name: 'n8n main' }));
	await main.waitForWebhooks(
		[main.webhookUrl('crm-contact'), main.webhookUrl(statusPath), main.webhookUrl('crm-wait')],
		60_000,
		mainProcess,
	);
	rest = await N8nRest.setupOwner(main.baseUrl);
	const webhookProcess = stack.add(await webhookHome.startWebhookProcess({ name: 'n8n webhook' }));
	await webhookHome.waitForWebhooks([webhookHome.webhookUrl(statusPath)], 60_000, webhookProcess);
	workers = [];
	for (const [index, home] of workerHomes.entries()) {
		// Workers build resume URLs: on WEBHOOK_URL, which points at the webhook process (docs/send-and-wait.md).
		const extraEnv = { WEBHOOK_URL: `${webhookHome.baseUrl}/` };
		workers.push(stack.add(await home.startWorker({ name: `n8n worker ${index + 1}`, extraEnv })));
	}
}, 10 * 60_000);

afterAll(() => stack.stopAll());

test('20 webhook calls at once: 20 sessions accepted, executed on both workers, never more than 1 per second', async () => {
	const answers = await Promise.all(
		Array.from({ length: CALLS }, (_, index) =>
			fetch(main.webhookUrl('crm-contact'), {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(contact(index)),
			}).then(async (response) => ({ status: response.status, body: await response.text() })),
		),
	);
	expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);

	expect(simulator.sessions).toHaveLength(CALLS);
	// The simulator refuses (429) any start over the tier, so its count of 429s is what shows the pacing: a 429 is
	// retried safely and starts nothing; two workers each pacing alone would send at twice the tier.
	expect(simulator.tooManyRequests).toBeLessThanOrEqual(2);
	const bodies = [...simulator.sessions]
		.map((session) => session.body)
		.sort((a, b) => String(a.to).localeCompare(String(b.to)));
	expect(bodies).toEqual(
		Array.from({ length: CALLS }, (_, index) =>
			expectedWhatsAppBody(contact(index), `${STATUS_URL}?vgai_ref=${contact(index).ref}`),
		),
	);

	const perWorker = workers.map((worker) => (worker.output.match(/Worker finished execution/g) ?? []).length);
	expect(perWorker.reduce((sum, count) => sum + count, 0)).toBe(CALLS);
	for (const count of perWorker) expect(count).toBeGreaterThan(0);
});

test('a status that reaches both main and the webhook process starts one execution (shared repeat memory)', async () => {
	const executions = async () => (await rest.executions(STATUS_WORKFLOW)).count;
	const callbacks = Array.from(
		{ length: 5 },
		(_, index) => `dddddddd-0000-4000-8000-${String(index).padStart(12, '0')}`,
	).flatMap((uuid) =>
		['delivered', 'read'].map((status) => JSON.stringify({ message_uuid: uuid, status, to: '447700930000' })),
	);
	const receivers = [main, webhookHome].map(
		(home) => `${home.webhookUrl(statusPath)}?vgai_ref=lead-0&vgai_token=${CALLBACK_TOKEN}`,
	);
	const answers = await Promise.all(
		callbacks.flatMap((body) =>
			receivers.map((url) =>
				fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status),
			),
		),
	);
	expect(answers).toEqual(answers.map(() => 200));

	// Executions run on the workers; wait for them to be recorded, then for any late extra one.
	await until('an execution per status', async () => (await executions()) >= callbacks.length, 30_000, 250);
	await new Promise((resolve) => setTimeout(resolve, 2000));
	expect(await executions()).toBe(callbacks.length);
});

test('start and wait: the statuses reach the webhook process, and the execution resumes on a worker by Reached', async () => {
	const contact = { to: '447700930099', ref: 'crm-wait-1' };
	const finishedOnWorkers = () =>
		workers.reduce((sum, worker) => sum + (worker.output.match(/Worker finished execution/g) ?? []).length, 0);
	const before = finishedOnWorkers();
	const answer = await fetch(main.webhookUrl('crm-wait'), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(contact),
	});
	expect(answer.status).toBe(200);
	const sent = () => simulator.sessions.filter((session) => session.body.to === contact.to);
	await until('the session', () => sent().length > 0, 30_000);
	expect(sent()).toHaveLength(1);
	const statusUrl = String(sent()[0].body.status_url);
	expect(statusUrl.startsWith(`${webhookHome.baseUrl}/webhook-waiting/`)).toBe(true);

	// Studio's first status comes seconds after the send; by then n8n has saved the execution as waiting.
	await rest.untilWaiting(WAIT_WORKFLOW, statusUrl, 30_000);
	const post = async (status: string) => {
		const response = await fetch(statusUrl, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ message_uuid: 'm-queue-wait', status, to: contact.to }),
		});
		await response.arrayBuffer();
		return response.status;
	};
	expect(await post('submitted')).toBe(200);
	expect(await post('delivered')).toBe(200);
	await new Promise((resolve) => setTimeout(resolve, 2000));
	expect(recorder.bodies).toEqual([]);
	expect(await post('read')).toBe(200);

	await recorder.waitFor(1, 60_000);
	expect(recorder.bodies).toEqual([
		expect.objectContaining({ branch: 'reached', outcome: 'reached', status: 'read', reference: contact.ref }),
	]);
	expect((recorder.bodies[0].statuses as Array<{ status: string }>).map((each) => each.status)).toEqual([
		'submitted',
		'delivered',
		'read',
	]);
	// The part before the wait and the resumed part each ran on a worker (logged a moment after the recorder heard
	// from it); nothing was sent again.
	await until('both parts logged as finished', () => finishedOnWorkers() >= before + 2, 10_000);
	expect(finishedOnWorkers()).toBeGreaterThanOrEqual(before + 2);
	expect(sent()).toHaveLength(1);
});
