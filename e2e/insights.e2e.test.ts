// The Session resource in a real n8n 2.41.1 (`n8n execute` and `n8n start`, the main edition) against the
// simulator's Insights API:
// - a search over 250 sessions in 150 days (three 60-day windows, three pages each) returns each once, newest first;
// - the example workflow "CRM contact → wait until read → the agent's answer → CRM", imported as shipped (its waits
//   shortened): a contact who confirms, one who declines, one who never answers and one whose WhatsApp is
//   undeliverable each end in their own "CRM" node, with their own CRM record ID.
import { randomUUID } from 'node:crypto';

import { preparePackage } from '../harness/n8n/communityPackage';
import { readExamples } from '../harness/n8n/examples';
import { N8nHome, N8nRest, outputItems, type ExecutionResult } from '../harness/n8n/n8n';
import { DEFAULT_N8N_VERSION } from '../harness/n8n/runtime';
import { chain, manualTrigger, sessionNode, studioCredential } from '../harness/n8n/workflows';
import { Stack } from '../harness/processes';
import { until } from '../harness/until';
import { startSimulator, type StudioSimulator } from '../simulator/simulator';

const DAY = 24 * 3_600_000;
const EXAMPLE = 'crm-contact-conversation-outcome';
const EXAMPLE_CREDENTIAL = { id: 'vgaiDemoStudio01', name: 'Vonage AI Studio account' };
/** The example's contacts: by the last digit the simulator's agent hears yes, no, or nothing; 304 is undeliverable. */
const CONTACTS = [
	{ contactId: 'crm-301', phone: '+44 7700 900301', expect: { node: 'CRM: confirmed', status: 'confirmed' } },
	{ contactId: 'crm-302', phone: '+44 7700 900302', expect: { node: 'CRM: declined', status: 'declined' } },
	{ contactId: 'crm-303', phone: '+44 7700 900303', expect: { node: 'CRM: no answer', status: 'no answer' } },
	{ contactId: 'crm-304', phone: '+44 7700 900304', expect: { node: 'CRM: not reached', status: 'not reached' } },
];
const CRM_NODES = ['CRM: confirmed', 'CRM: declined', 'CRM: no answer', 'CRM: not reached'];
const SEEDED = 250;

const stack = new Stack();
afterAll(() => stack.stopAll());

let simulator: StudioSimulator;
let home: N8nHome;
let search: ExecutionResult;
let seededIds: string[];

beforeAll(async () => {
	// Statuses 1.5 s apart: Read arrives after n8n has saved the execution as waiting.
	simulator = await startSimulator({
		tier: 5,
		apiKey: 'e2e-key',
		callbackDelayMs: 1_500,
		failNumbers: { '447700900304': 'undeliverable' },
		insights: { conversationMs: 2_000 },
	});
	stack.defer('simulator', () => simulator.close());
	const now = Date.now();
	seededIds = Array.from({ length: SEEDED }, () => randomUUID());
	seededIds.forEach((id, index) =>
		simulator.insights.add({
			id,
			startedAt: now - DAY - index * ((150 * DAY) / SEEDED),
			channel: 'whatsapp',
			contact: `4477009${String(10000 + index).slice(-5)}`,
			agentId: 'agent-seeded',
			parameters: [],
		}),
	);

	home = await N8nHome.create({ version: DEFAULT_N8N_VERSION, package: await preparePackage() });
	stack.defer('n8n user folder', () => home.remove());
	const credential = studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: 5 });
	await home.importCredentials([credential, { ...credential, ...EXAMPLE_CREDENTIAL }]);
	const example = readExamples(home.baseUrl, { statusWaitMinutes: 2, answerWaitSeconds: 3 })[EXAMPLE];
	const searchWorkflow = chain('vgaiE2eSearch250', 'search 250', [
		manualTrigger(),
		sessionNode({
			operation: 'search',
			startedAfter: '={{ $now.minus({ days: 170 }).toISO() }}',
			returnAll: true,
			filters: { agentId: 'agent-seeded' },
		}),
	]);
	await home.importWorkflows([example, searchWorkflow]);
	await home.publishWorkflow(example.id);
	// `n8n execute` runs before `n8n start`: two n8n processes on one folder would share its ports.
	search = await home.execute(searchWorkflow.id);
}, 5 * 60_000);

test('a search over 250 sessions in 150 days returns each once, newest first', () => {
	expect(search.data.resultData.error).toBeUndefined();
	const items = outputItems(search, 'Sessions');
	expect(items.map((item) => item.json.sessionId)).toEqual(seededIds);
	expect(items.every((item) => JSON.stringify(item.pairedItem) === JSON.stringify({ item: 0 }))).toBe(true);
	expect(items[0].json).toMatchObject({ channel: 'whatsapp', agentId: 'agent-seeded', contact: '447700910000' });
	const searches = simulator.insights.requests.filter((request) => request.path === '/insights/sessions');
	expect(new Set(searches.map((request) => new URLSearchParams(request.query).get('from_date'))).size).toBe(3);
	expect(searches.every((request) => request.status === 200 && !/[{}"]/.test(request.query))).toBe(true);
});

test(
	'the example: each contact ends in the CRM node of their answer, from one workflow and no expressions beyond $json',
	async () => {
		const n8n = stack.add(await home.start());
		const rest = await N8nRest.setupOwner(home.baseUrl);
		const url = home.webhookUrl('crm-contact-outcome');
		await home.waitForWebhooks([url], 60_000, n8n);

		for (const contact of CONTACTS) {
			const response = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({
					contactId: contact.contactId,
					phone: contact.phone,
					firstName: 'Ann',
					appointment: 'Tue 10:00',
				}),
			});
			expect(response.status).toBe(200);
		}
		const runs = await until(
			'four executions of the example to finish',
			async () => {
				const { results } = await rest.executions('vgaiDemoOutcome1');
				return results.length === CONTACTS.length &&
					results.every((run) => !['running', 'new', 'waiting'].includes(run.status))
					? results
					: undefined;
			},
			120_000,
			500,
		);
		expect(runs.map((run) => run.status)).toEqual(CONTACTS.map(() => 'success'));

		const ended: Record<string, { node: string; status: unknown }> = {};
		for (const run of runs) {
			const { runData } = await rest.execution(run.id);
			const ran = CRM_NODES.filter((node) => runData[node]);
			expect(ran).toHaveLength(1);
			const json = runData[ran[0]][0].data!.main[0]![0].json;
			ended[String(json.contactId)] = { node: ran[0], status: json.appointmentStatus };
		}
		expect(ended).toEqual(
			Object.fromEntries(
				CONTACTS.map((contact) => [contact.contactId, { node: contact.expect.node, status: contact.expect.status }]),
			),
		);
		// One session per contact; every read encoded and accepted.
		expect(simulator.sessions.map((session) => session.body.to).sort()).toEqual(
			CONTACTS.map((contact) => contact.phone.replace(/\D/g, '')).sort(),
		);
		const reads = simulator.insights.requests.filter((request) => request.query.includes('447700900'));
		expect(reads.length).toBeGreaterThanOrEqual(3);
		expect(simulator.insights.requests.every((request) => request.status === 200 || request.status === 404)).toBe(true);
	},
	5 * 60_000,
);
