// Proves the correlation loop: the action node, run by n8n's engine, sends with a Reference and a Status URL
// Token; the simulator posts Studio's callbacks to that status URL; the trigger emits items carrying each
// item's reference, filtered and deduplicated as configured.
import { resetNodeState } from '../../../harness/engine';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { runStudioNode } from '../../../harness/engine';
import { startWebhookHarness, type WebhookHarness } from '../../../harness/webhookHarness';

const API_KEY = 'sk-test-loop-1234';
const statusUrlToken = 'example-status-url-token';

let simulator: StudioSimulator;
let trigger: WebhookHarness;

beforeEach(async () => {
	simulator = await startSimulator({
		apiKey: API_KEY,
		tier: 5,
		callbackDelayMs: 5,
		duplicateCallbacks: true,
		failNumbers: { '447700900902': 'undeliverable' },
	});
	trigger = await startWebhookHarness({
		parameters: { authentication: 'token', statuses: ['delivered', 'undeliverable'] },
		credentials: { vonageAiStudioCallbackApi: { token: statusUrlToken } },
	});
});

afterEach(async () => {
	await simulator.close();
	await trigger.close();
	await resetNodeState();
});

it('a send with a reference comes back as trigger items carrying that reference, filtered and deduplicated', async () => {
	const contacts = [
		{ phone: '+44 7700 900900', crmId: 'crm-100' },
		{ phone: '+44 7700 900901', crmId: 'crm-101' },
		{ phone: '+44 7700 900902', crmId: 'crm-102' },
	];
	const send = await runStudioNode({
		parameters: {
			resource: 'sms',
			operation: 'startOutboundSession',
			agentId: 'agent-a',
			to: '={{ $json.phone }}',
			statusUrl: trigger.url,
			reference: '={{ $json.crmId }}',
			options: { statusUrlToken },
		},
		items: contacts,
		credentials: { apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: simulator.url, redisUrl: '' },
	});
	expect(send.error).toBeUndefined();
	expect(simulator.sessions).toHaveLength(3);

	// Two numbers: submitted, delivered, read; the failing one: submitted, undeliverable. Every callback twice.
	await trigger.waitForHandled((3 + 3 + 2) * 2);
	expect(trigger.handled.every((handled) => handled.statusCode === 200)).toBe(true);

	const byReference = Object.fromEntries(
		trigger.emitted().map((item) => [item.reference as string, [item.status, item.failed]]),
	);
	expect(trigger.executions).toHaveLength(3);
	expect(byReference).toEqual({
		'crm-100': ['delivered', false],
		'crm-101': ['delivered', false],
		'crm-102': ['undeliverable', true],
	});
	// The secret authenticates the callback; it must not end up in execution data.
	expect(JSON.stringify(trigger.emitted())).not.toContain(statusUrlToken);
});

it('a send without the Status URL Token is refused by the trigger', async () => {
	await runStudioNode({
		parameters: {
			resource: 'sms',
			operation: 'startOutboundSession',
			agentId: 'agent-a',
			to: '447700900900',
			statusUrl: trigger.url,
			reference: 'crm-200',
		},
		items: [{}],
		credentials: { apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: simulator.url, redisUrl: '' },
	});
	await trigger.waitForHandled(6);
	expect(trigger.handled.map((handled) => handled.statusCode)).toEqual([401, 401, 401, 401, 401, 401]);
	expect(trigger.executions).toHaveLength(0);
});
