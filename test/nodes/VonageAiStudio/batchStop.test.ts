// A doomed batch stops at the first sign, through the real engine and real HTTP: a wrong key with 50 contacts at
// tier 1 sends one request and fails within seconds with the key message; with Continue On Fail every item says it was
// not sent and why, nothing is recorded as possibly sent, and the key accepted, a re-run then sends all 50. A template Studio
// does not know stops after three refusals in a row; an unknown agent stops only that agent's items.
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { resetNodeState, runStudioNode } from '../../../harness/engine';

const API_KEY = 'sk-right-key-7a31';
let simulator: StudioSimulator;

const parameters = (extra: Record<string, unknown> = {}) => ({
	resource: 'whatsapp',
	operation: 'startOutboundSession',
	agentId: '={{ $json.agent ?? "agent-a" }}',
	to: '={{ $json.phone }}',
	namespace: 'ns',
	template: 'order_update',
	locale: 'en',
	statusUrl: 'https://hooks.example.com/status',
	bodyParameters: { values: [{ text: '={{ $json.order }}' }] },
	...extra,
});

const contacts = (count: number, agent?: (index: number) => string) =>
	Array.from({ length: count }, (_, index) => ({
		phone: `+4477009${String(20000 + index)}`,
		order: `B-${index}`,
		...(agent ? { agent: agent(index) } : {}),
	}));

const credentials = (apiKey: string, tier = 1) => ({
	apiKey,
	region: 'eu',
	sessionsPerSecond: tier,
	baseUrl: simulator.url,
});

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

describe('a wrong API key with 50 contacts at tier 1', () => {
	beforeEach(async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 1, callbacks: false });
	});

	it('one request reaches Studio and the node fails within seconds with the key message', async () => {
		const started = Date.now();
		const { error } = await runStudioNode({
			parameters: parameters(),
			items: contacts(50),
			credentials: credentials('sk-wrong-key'),
		});
		expect(Date.now() - started).toBeLessThan(15_000); // 50 s if every item were tried at tier 1
		expect(simulator.requests).toHaveLength(1);
		expect(error?.message).toBe('Vonage AI Studio rejected the API key');
		expect(JSON.stringify(error)).not.toContain('sk-wrong-key');
	});

	it('with Continue On Fail: 50 items, each saying it was not sent and why; the key accepted, a re-run then sends all 50', async () => {
		const items = contacts(50);
		const { outputs } = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials('sk-wrong-key'),
			onError: 'continueRegularOutput',
			workflowId: 'wf-stop',
		});
		expect(simulator.requests).toHaveLength(1);
		expect(outputs[0]).toHaveLength(50);
		expect(outputs[0][0].json.error).toBe('Vonage AI Studio rejected the API key');
		for (const [index, item] of outputs[0].entries()) {
			expect(item.pairedItem).toEqual({ item: index });
			if (index === 0) continue;
			expect(item.json.error).toBe(
				'Not sent: Studio rejected the API key (HTTP 401) for item 0, so this item was not tried',
			);
		}

		simulator.reset();
		// The same key, now accepted (say it had just been generated), on the same send ledger: nothing was left
		// claimed or recorded as possibly sent, so all 50 go. (The account got a higher tier meanwhile: a shorter test.)
		simulator.configure({ apiKey: 'sk-wrong-key', tier: 5 });
		const corrected = await runStudioNode({
			parameters: parameters(),
			items,
			credentials: credentials('sk-wrong-key', 5),
			onError: 'continueRegularOutput',
			workflowId: 'wf-stop',
		});
		expect(corrected.outputs[0].every((item) => item.json.statusCode === 200 && item.json.replayed === false)).toBe(
			true,
		);
		expect(simulator.sessions).toHaveLength(50);
	}, 60_000);
});

it('a template Studio does not know: three refusals in a row, then the other items are not tried', async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, templates: ['welcome'] });
	const { outputs } = await runStudioNode({
		parameters: parameters(),
		items: contacts(20),
		credentials: credentials(API_KEY, 5),
		onError: 'continueRegularOutput',
	});
	const refused = outputs[0].filter((item) => String(item.json.error).startsWith('Studio refused the request'));
	const stopped = outputs[0].filter((item) =>
		String(item.json.error).startsWith('Not sent: Studio refused the template'),
	);
	expect(refused.length).toBeGreaterThanOrEqual(3);
	expect(refused.length).toBeLessThanOrEqual(8); // the ones already on their way when the third answer came
	expect(stopped).toHaveLength(20 - refused.length);
	expect(simulator.requests).toHaveLength(refused.length);
});

it("an agent that does not exist stops only its own items; the other agent's go", async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, agents: ['agent-live'] });
	const agent = (index: number) => (index % 2 === 0 ? 'agent-gone' : 'agent-live');
	const { outputs } = await runStudioNode({
		parameters: parameters(),
		items: contacts(16, agent),
		credentials: credentials(API_KEY, 5),
		onError: 'continueRegularOutput',
	});
	for (const [index, item] of outputs[0].entries()) {
		if (agent(index) === 'agent-live') expect(item.json.statusCode).toBe(200);
		else expect(String(item.json.error)).toMatch(/agent-gone was not found or has no published version/);
	}
	expect(simulator.sessions).toHaveLength(8);
	expect(simulator.requests.length).toBeLessThan(16);
});
