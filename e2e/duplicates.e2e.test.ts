// In a running n8n 2.41.1 (`n8n start`, regular mode, the main edition), as a new user meets it:
// - a CRM posting its webhook twice for three contacts (it retries when its first call is slow) starts 3 sessions
//   with the Duplicate Guard on (the default), and 6 with it switched off; a contact with the same template but
//   another order number is sent;
// - a wrong API key with 50 contacts at tier 1 sends one request and answers within seconds, every item saying it
//   was not sent and why.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';
import {
	STUDIO_CREDENTIAL,
	chain,
	contactsFromWebhookNode,
	studioCredential,
	webhookNode,
	whatsAppNode,
} from '../harness/n8n/workflows';

const STATUS_URL = 'https://crm.example.com/vonage/status';
const WRONG_KEY_CREDENTIAL = { id: 'vgaiStudioWrong1', name: 'Studio with a wrong key' };

const contact = (index: number, order = `O-${index}`) => ({
	to: `4477009500${String(index).padStart(2, '0')}`,
	name: `Customer ${index}`,
	order,
	ref: `crm-${index}`,
});

const stack = new Stack();
let simulator: StudioSimulator;
let home: N8nHome;

beforeAll(async () => {
	simulator = await startSimulator({ tier: 5, apiKey: 'e2e-key', callbacks: false, latencyMs: { min: 20, max: 80 } });
	stack.defer('simulator', () => simulator.close());
	home = await N8nHome.create({ package: await preparePackage() });
	stack.defer('n8n user folder', () => home.remove());
	await home.importCredentials([
		studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: 5 }),
		{
			...studioCredential({ baseUrl: simulator.url, apiKey: 'not-the-key', sessionsPerSecond: 1 }),
			...WRONG_KEY_CREDENTIAL,
		},
	]);
	const workflows = [
		// Built like the CRM example, without an Idempotency Key: what a new user builds first.
		chain('vgaiE2eDupGuard1', 'CRM contact, guard on', [
			webhookNode('crm-guarded'),
			whatsAppNode({ statusUrl: STATUS_URL, rowPath: 'body' }),
		]),
		chain('vgaiE2eDupNoGrd1', 'CRM contact, guard off', [
			webhookNode('crm-unguarded'),
			whatsAppNode({ statusUrl: STATUS_URL, rowPath: 'body', options: { duplicateGuard: false } }),
		]),
		chain('vgaiE2eWrongKey1', 'Campaign with a wrong key', [
			webhookNode('campaign-wrong-key', 'Webhook', 'allEntries'),
			contactsFromWebhookNode(),
			whatsAppNode({ statusUrl: STATUS_URL, continueOnFail: true, credential: WRONG_KEY_CREDENTIAL }),
		]),
	];
	await home.importWorkflows(workflows);
	for (const workflow of workflows) await home.publishWorkflow(workflow.id);
	const n8n = stack.add(await home.start());
	await home.waitForWebhooks(
		['crm-guarded', 'crm-unguarded', 'campaign-wrong-key'].map((path) => home.webhookUrl(path)),
		60_000,
		n8n,
	);
}, 5 * 60_000);

afterAll(() => stack.stopAll());

async function post(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
	const response = await fetch(home.webhookUrl(path), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { status: response.status, json: await response.json().catch(() => undefined) };
}

/** Each contact posted twice, a few seconds apart, as a CRM retrying its webhook. */
async function postEachTwice(path: string, contacts: Array<ReturnType<typeof contact>>) {
	const first = await Promise.all(contacts.map((each) => post(path, each)));
	await new Promise((resolve) => setTimeout(resolve, 2_000));
	const second = await Promise.all(contacts.map((each) => post(path, each)));
	return { first, second };
}

const sessionsTo = (contacts: Array<{ to: string }>) =>
	simulator.sessions.filter((session) => contacts.some((each) => each.to === session.body.to));

test('a CRM posting the same three contacts twice: 3 sessions, the repeats answered with the first result', async () => {
	const contacts = [0, 1, 2].map((index) => contact(index));
	const { first, second } = await postEachTwice('crm-guarded', contacts);
	expect([...first, ...second].map((answer) => answer.status)).toEqual(Array(6).fill(200));
	expect(sessionsTo(contacts)).toHaveLength(3);
	for (const [index, answer] of second.entries()) {
		expect(answer.json).toMatchObject({
			to: contacts[index].to,
			replayed: true,
			replayedReason: expect.stringMatching(/^Not sent again: an identical session/),
			firstSentAt: (first[index].json as { sentAt: string }).sentAt,
		});
	}
	// Another order for the same contact is another message: it goes.
	const another = await post('crm-guarded', contact(0, 'O-100'));
	expect(another.json).toMatchObject({ replayed: false, statusCode: 200 });
	expect(sessionsTo(contacts)).toHaveLength(4);
});

test('with Duplicate Guard switched off, the same posts start 6 sessions', async () => {
	const contacts = [10, 11, 12].map((index) => contact(index));
	await postEachTwice('crm-unguarded', contacts);
	expect(sessionsTo(contacts)).toHaveLength(6);
});

test('a wrong key with 50 contacts at tier 1: one request reaches Studio, every item says it was not sent and why', async () => {
	const contacts = Array.from({ length: 50 }, (_, index) => contact(50 + index));
	const before = simulator.requests.length;
	const started = Date.now();
	const answer = await post('campaign-wrong-key', { contacts });
	const seconds = (Date.now() - started) / 1000;

	expect(simulator.requests.length - before).toBe(1);
	expect(seconds).toBeLessThan(20); // at tier 1, trying every item would take 50 s
	const items = answer.json as Array<{ error?: string }>;
	expect(items).toHaveLength(50);
	expect(items[0].error).toBe('Vonage AI Studio rejected the API key');
	for (const item of items.slice(1)) {
		expect(item.error).toBe('Not sent: Studio rejected the API key (HTTP 401) for item 0, so this item was not tried');
	}
	expect(JSON.stringify(items)).not.toContain('not-the-key');
	expect(STUDIO_CREDENTIAL.id).not.toBe(WRONG_KEY_CREDENTIAL.id);
});
