// A many-item send inside a real n8n 2.41.1 (`n8n execute`): the exact bodies reach Studio, every output item
// is paired with its input, bad rows become error items under Continue On Fail, and no second holds more
// sessions than the tier.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, outputItems } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';
import {
	chain,
	expectedWhatsAppBody,
	manualTrigger,
	rowsNode,
	studioCredential,
	whatsAppNode,
} from '../harness/n8n/workflows';

const TIER = 3;
const STATUS_URL = 'https://crm.example.com/vonage/status';

const good = (index: number) => ({
	to: `4477009000${String(index).padStart(2, '0')}`,
	name: `Customer ${index}`,
	order: `A-${1000 + index}`,
	ref: `crm-${index}`,
});

// Twelve rows: ten good ones (two pasted with + and spaces), two that Studio must never see.
const rows: Array<Record<string, string>> = [
	good(0),
	{ ...good(1), to: '+44 7700 900001' },
	good(2),
	{ ...good(3), to: 'call me maybe' },
	good(4),
	good(5),
	{ ...good(6), to: '' },
	good(7),
	good(8),
	{ ...good(9), to: '0044 7700 900009' },
	good(10),
	good(11),
];
const BAD_ROWS = [3, 6];

const stack = new Stack();
let simulator: StudioSimulator;
let home: N8nHome;

beforeAll(async () => {
	simulator = await startSimulator({
		tier: TIER,
		apiKey: 'e2e-key',
		callbacks: false,
		latencyMs: { min: 20, max: 120 },
	});
	stack.defer('simulator', () => simulator.close());
	home = await N8nHome.create({ package: await preparePackage() });
	stack.defer('n8n user folder', () => home.remove());
	await home.importCredentials([
		studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: TIER }),
	]);
	await home.importWorkflows([
		chain('vgaiE2eBatch0001', 'Batch send', [
			manualTrigger(),
			rowsNode(rows),
			whatsAppNode({ statusUrl: STATUS_URL, continueOnFail: true }),
		]),
	]);
});

afterAll(() => stack.stopAll());

test('twelve rows: ten exact sessions at the tier, two error items, every item paired', async () => {
	const result = await home.execute('vgaiE2eBatch0001');
	expect(result.data.resultData.error).toBeUndefined();

	const items = outputItems(result, 'Vonage AI Studio');
	expect(items).toHaveLength(rows.length);
	items.forEach((item, index) => expect(item.pairedItem).toEqual({ item: index }));

	for (const index of BAD_ROWS) {
		expect(items[index].json).toEqual({ error: expect.stringMatching(/^Item \d+: .*to/i) });
		expect(items[index].json.error).toContain(`Item ${index}`);
	}
	const goodIndexes = rows.map((_, index) => index).filter((index) => !BAD_ROWS.includes(index));
	for (const index of goodIndexes) {
		const row = good(index);
		expect(items[index].json).toMatchObject({
			channel: 'whatsapp',
			to: row.to,
			agentId: 'agent-e2e',
			template: 'order_update',
			reference: row.ref,
			statusCode: 200,
			response: { session_id: expect.any(String) },
			sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
		});
	}

	// Exactly the good rows, each body byte-for-byte what the contract says, the reference in the status URL.
	const received = [...simulator.sessions].sort((a, b) => String(a.body.to).localeCompare(String(b.body.to)));
	expect(received.map((session) => session.body)).toEqual(
		goodIndexes.map((index) =>
			expectedWhatsAppBody(good(index), `${STATUS_URL}?vgai_ref=${encodeURIComponent(good(index).ref)}`),
		),
	);
	// The simulator refuses (429) any start over the tier, so its count of 429s is what shows the pacing: a 429 is
	// retried safely and starts nothing; on two shared cores one may come now and then.
	expect(simulator.tooManyRequests).toBeLessThanOrEqual(1);
});
