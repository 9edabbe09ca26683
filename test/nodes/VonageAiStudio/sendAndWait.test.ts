// Start Session and Wait for Status in n8n's engine (n8n-core 2.8): the send goes out once with the execution's resume
// URL as status URL, and the execution waits until the time limit; what cannot work is refused before anything is
// sent (several items, three outputs on an n8n that passes on only the first, a resume URL Studio could never reach).
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { WAIT_PARAMS, decodeSession, verifyWaitToken, waitToken } from '../../../core/waitRules';
import { TEST_INSTANCE_URLS, resetNodeState, runStudioNode } from '../../../harness/engine';

const API_KEY = 'sk-wait-test-2c9d';
let simulator: StudioSimulator;

const parameters = (extra: Record<string, unknown> = {}) => ({
	resource: 'whatsapp',
	operation: 'startSessionAndWait',
	agentId: 'agent-a',
	to: '={{ $json.phone }}',
	namespace: 'ns',
	template: 'appointment',
	locale: 'en_GB',
	reference: '={{ $json.ref }}',
	waitFor: 'read',
	timeLimitAmount: 2,
	timeLimitUnit: 'hours',
	waitOutputs: 'single',
	bodyParameters: { values: [{ text: '={{ $json.ref }}' }] },
	...extra,
});

const credentials = (extra: Record<string, unknown> = {}) => ({
	apiKey: API_KEY,
	region: 'eu',
	sessionsPerSecond: 5,
	baseUrl: simulator.url,
	...extra,
});

beforeEach(async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
});

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

test('one contact: sent once with the resume URL as status URL, then the execution waits until the time limit', async () => {
	const started = Date.now();
	const { run, outputs } = await runStudioNode({
		parameters: parameters(),
		items: [{ phone: '+44 7700 900001', ref: 'crm-1' }],
		credentials: credentials(),
		executionId: 'exec-wait-1',
		mode: 'webhook',
	});
	expect(simulator.sessions).toHaveLength(1);
	const statusUrl = new URL(String(simulator.sessions[0].body.status_url));
	expect(`${statusUrl.origin}${statusUrl.pathname}`).toBe(
		`${TEST_INSTANCE_URLS.webhookWaitingBaseUrl}/exec-wait-1/studio-node-id`,
	);
	expect(statusUrl.searchParams.get('vgai_ref')).toBe('crm-1');
	const encoded = statusUrl.searchParams.get(WAIT_PARAMS.session)!;
	expect(decodeSession(encoded)).toMatchObject({
		to: '447700900001',
		awaited: 'read',
		reference: 'crm-1',
		outputs: 'single',
	});
	expect(
		verifyWaitToken(
			waitToken(API_KEY, 'exec-wait-1', 'studio-node-id', encoded),
			statusUrl.searchParams.get(WAIT_PARAMS.token),
		),
	).toBe(true);
	expect(String(statusUrl)).not.toContain(API_KEY);

	const waitTill = run.waitTill ?? run.data.waitTill;
	expect(waitTill).toBeInstanceOf(Date);
	const limit = (waitTill as Date).getTime() - started;
	expect(limit).toBeGreaterThan(2 * 3_600_000 - 60_000);
	expect(limit).toBeLessThan(2 * 3_600_000 + 60_000);
	expect(outputs[0][0].json).toMatchObject({ outcome: 'waiting', to: '447700900001', reference: 'crm-1' });
});

test('several items are refused: an execution can wait only once', async () => {
	const { error } = await runStudioNode({
		parameters: parameters(),
		items: [
			{ phone: '+44 7700 900001', ref: 'a' },
			{ phone: '+44 7700 900002', ref: 'b' },
		],
		credentials: credentials(),
	});
	expect(error?.message).toBe(
		'Start Session and Wait for Status handles one contact per execution, and this one has 2 items',
	);
	expect(error?.description).toMatch(/Vonage AI Studio Trigger/);
	expect(simulator.requests).toHaveLength(0);
});

test('three outputs on an n8n that passes on only the first (before 2.39) are refused before sending', async () => {
	const { error } = await runStudioNode({
		parameters: parameters({ waitOutputs: 'branches' }),
		items: [{ phone: '+44 7700 900001', ref: 'a' }],
		credentials: credentials(),
	});
	expect(error?.message).toBe('This n8n version passes on only the first output of a node that waited');
	expect(error?.description).toMatch(/One Output With an Outcome Field/);
	expect(simulator.requests).toHaveLength(0);
});

test("with Vonage's hosts, a resume URL on 127.0.0.1 is refused before sending, naming WEBHOOK_URL", async () => {
	const { error } = await runStudioNode({
		parameters: parameters(),
		items: [{ phone: '+44 7700 900001', ref: 'a' }],
		credentials: credentials({ baseUrl: '' }),
	});
	expect(error?.message).toBe('Studio could never reach this n8n: its resume URL is on 127.0.0.1');
	expect(error?.description).toMatch(/Set WEBHOOK_URL/);
});

test('a bad field names the field, and nothing is sent', async () => {
	const { error } = await runStudioNode({
		parameters: parameters({ timeLimitAmount: 40, timeLimitUnit: 'days' }),
		items: [{ phone: '+44 7700 900001', ref: 'a' }],
		credentials: credentials(),
	});
	expect(error?.message).toBe('Item 0: Time Limit can be at most 31 days');
	expect(simulator.requests).toHaveLength(0);
});

test("the start operation with Vonage's hosts and a status URL on localhost warns that statuses will never arrive", async () => {
	const { task } = await runStudioNode({
		parameters: {
			...parameters(),
			operation: 'startOutboundSession',
			statusUrl: 'http://localhost:5678/webhook/abc/status',
		},
		items: [{ phone: '+44 7700 900001', ref: 'a' }],
		// Vonage's own host: unreachable from this machine, so the send itself fails; the item is kept as an error.
		credentials: credentials({ baseUrl: '' }),
		onError: 'continueRegularOutput',
	});
	expect(task.hints).toContainEqual(
		expect.objectContaining({
			type: 'warning',
			message: expect.stringMatching(/^The Status URL is on localhost:5678, .*set WEBHOOK_URL/),
		}),
	);
});
