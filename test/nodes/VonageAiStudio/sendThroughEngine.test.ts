// The action node run by n8n's real execution engine against the Studio simulator over loopback HTTP:
// exact bodies Studio receives, outputs with pairedItem, error items, and that the key never leaks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { resetNodeState } from '../../../harness/engine';
import { closeAllPools } from '../../../editions/queue/transport';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';
import { runStudioNode } from '../../../harness/engine';

const API_KEY = 'sk-test-7f3c9a1b2d4e';
let simulator: StudioSimulator;

const credentials = (overrides: Record<string, unknown> = {}) => ({
	apiKey: API_KEY,
	region: 'eu',
	sessionsPerSecond: 5,
	baseUrl: simulator.url,
	redisUrl: '',
	...overrides,
});

const whatsAppParameters = {
	resource: 'whatsapp',
	operation: 'startOutboundSession',
	agentId: '={{ $json.agent }}',
	to: '={{ $json.phone }}',
	namespace: 'ns_shop',
	template: 'order_update',
	locale: '={{ $json.lang }}',
	statusUrl: 'https://hooks.example.com/webhook/status',
	reference: '={{ $json.crmId }}',
	templateParameters: 'fields',
	headerParameters: { values: [{ text: '={{ $json.name }}' }] },
	bodyParameters: { values: [{ text: '={{ $json.order }}' }, { text: 'tomorrow' }] },
	sessionParameters: { values: [{ name: 'CUSTOMER_ID', value: '={{ $json.crmId }}' }] },
};

const contacts = Array.from({ length: 12 }, (_, i) => ({
	agent: 'agent-a',
	phone: `+44 7700 9000${String(i).padStart(2, '0')}`,
	lang: i % 2 ? 'en_GB' : 'pt-br',
	name: `Name ${i}`,
	order: `A-${1000 + i}`,
	crmId: `crm-${i}`,
}));

beforeEach(async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
});

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

describe('WhatsApp over many items', () => {
	it('sends the exact body per item from expressions, in item order, with pairedItem', async () => {
		const { outputs, error } = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts,
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(simulator.sessions).toHaveLength(contacts.length);
		const bodies = simulator.sessions.map((session) => session.body);
		bodies.sort((a, b) => String(a.to).localeCompare(String(b.to)));
		expect(bodies[3]).toEqual({
			namespace: 'ns_shop',
			template: 'order_update',
			locale: 'en_GB',
			to: '447700900003',
			agent_id: 'agent-a',
			channel: 'whatsapp',
			status_url: 'https://hooks.example.com/webhook/status?vgai_ref=crm-3',
			components: [
				{ type: 'header', parameters: [{ type: 'text', text: 'Name 3' }] },
				{
					type: 'body',
					parameters: [
						{ type: 'text', text: 'A-1003' },
						{ type: 'text', text: 'tomorrow' },
					],
				},
			],
			session_parameters: [{ name: 'CUSTOMER_ID', value: 'crm-3' }],
		});
		expect(bodies[4].locale).toBe('pt_BR');

		const items = outputs[0];
		expect(items).toHaveLength(contacts.length);
		items.forEach((item, index) => {
			expect(item.pairedItem).toEqual({ item: index });
			expect(item.json).toMatchObject({
				channel: 'whatsapp',
				to: `4477009000${String(index).padStart(2, '0')}`,
				agentId: 'agent-a',
				template: 'order_update',
				reference: `crm-${index}`,
				statusCode: 200,
				replayed: false,
			});
			expect(typeof item.json.sentAt).toBe('string');
			expect(item.json.response).toEqual(expect.objectContaining({}));
		});
		expect(maxInAnyWindow(simulator.sessions.map((s) => s.arrivedAt))).toBeLessThanOrEqual(5);
	});

	it('returns what Studio answered, and accepts any 2xx with an empty body', async () => {
		const first = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts.slice(0, 1),
			credentials: credentials(),
		});
		expect(first.outputs[0][0].json.response).toEqual({ session_id: expect.any(String) });

		// Studio's success status and body are undocumented: a 202 with no body must count as sent.
		const emptyAnswer = createServer((request, response) => {
			request.resume();
			request.on('end', () => response.writeHead(202).end());
		});
		await new Promise<void>((resolve) => emptyAnswer.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = emptyAnswer.address() as AddressInfo;
			const second = await runStudioNode({
				parameters: whatsAppParameters,
				items: contacts.slice(1, 2),
				credentials: credentials({ baseUrl: `http://127.0.0.1:${port}` }),
			});
			expect(second.outputs[0][0].json).toMatchObject({ statusCode: 202, response: '', replayed: false });
		} finally {
			await closeAllPools();
			await new Promise((resolve) => emptyAnswer.close(resolve));
		}
	});
});

describe('SMS and voice', () => {
	it('sends the SMS body', async () => {
		const { outputs } = await runStudioNode({
			parameters: {
				resource: 'sms',
				operation: 'startOutboundSession',
				agentId: 'agent-sms',
				to: '={{ $json.phone }}',
				statusUrl: 'http://127.0.0.1:5678/webhook/sms-status',
				reference: '={{ $json.crmId }}',
				sessionParameters: { values: [{ name: 'PLAN', value: 'gold' }] },
			},
			items: [{ phone: '0033 6 12 34 56 78', crmId: 'c-9' }],
			credentials: credentials(),
		});
		expect(simulator.sessions.map((s) => [s.path, s.body])).toEqual([
			[
				'/messaging/conversation',
				{
					to: '33612345678',
					agent_id: 'agent-sms',
					channel: 'sms',
					status_url: 'http://127.0.0.1:5678/webhook/sms-status?vgai_ref=c-9',
					session_parameters: [{ name: 'PLAN', value: 'gold' }],
				},
			],
		]);
		expect(outputs[0][0].json).toMatchObject({ channel: 'sms', to: '33612345678', reference: 'c-9', statusCode: 200 });
	});

	it('makes a voice call to a number and to a SIP address', async () => {
		const { outputs } = await runStudioNode({
			parameters: {
				resource: 'voice',
				operation: 'makeOutboundCall',
				agentId: 'agent-voice',
				to: '={{ $json.to }}',
				statusUrl: '',
				hangupOnAnswerMachine: true,
			},
			items: [{ to: '+1 (201) 377-9099' }, { to: 'sip:alice@pbx.example.com' }],
			credentials: credentials(),
		});
		const bodies = simulator.sessions.map((s) => s.body).sort((a, b) => String(a.to).localeCompare(String(b.to)));
		expect(simulator.sessions.every((s) => s.path === '/telephony/make-call')).toBe(true);
		expect(bodies).toEqual([
			{ agent_id: 'agent-voice', to: '12013779099', hangup_on_answer_machine: true },
			{ agent_id: 'agent-voice', to: 'sip:alice@pbx.example.com', hangup_on_answer_machine: true },
		]);
		expect(outputs[0].map((item) => item.json.to)).toEqual(['12013779099', 'sip:alice@pbx.example.com']);
	});
});

describe('bad items', () => {
	const withBadRows = [
		contacts[0],
		{ ...contacts[1], phone: '07700 900001' },
		contacts[2],
		{ ...contacts[3], agent: '' },
		contacts[4],
	];

	it('stops before sending anything when an item is invalid and Continue On Fail is off', async () => {
		const { error, outputs } = await runStudioNode({
			parameters: whatsAppParameters,
			items: withBadRows,
			credentials: credentials(),
		});
		expect(error).toMatchObject({
			message: expect.stringMatching(/^Item 1: To .*national number/),
			description: expect.stringContaining('Field "To" of item 1'),
			context: expect.objectContaining({ itemIndex: 1 }),
		});
		expect(outputs).toEqual([]);
		expect(simulator.requests).toHaveLength(0);
	});

	it('turns each bad item into an error item and still sends the others (Continue On Fail)', async () => {
		const { outputs } = await runStudioNode({
			parameters: whatsAppParameters,
			items: withBadRows,
			credentials: credentials(),
			onError: 'continueRegularOutput',
		});
		const items = outputs[0];
		expect(items.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(items[1].json).toEqual({ error: expect.stringMatching(/^Item 1: To .*national number/) });
		expect(items[1].error).toMatchObject({ description: expect.stringContaining('Field "To" of item 1') });
		expect(items[3].json).toEqual({ error: 'Item 3: Agent ID is empty' });
		expect([0, 2, 4].map((i) => items[i].json.statusCode)).toEqual([200, 200, 200]);
		expect(simulator.sessions.map((s) => s.body.to).sort()).toEqual(['447700900000', '447700900002', '447700900004']);
	});

	it('routes bad items to the error output with Continue (using error output)', async () => {
		const { outputs } = await runStudioNode({
			parameters: whatsAppParameters,
			items: withBadRows,
			credentials: credentials(),
			onError: 'continueErrorOutput',
		});
		expect(outputs[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }, { item: 4 }]);
		expect(outputs[1].map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 3 }]);
	});

	it('refuses a status URL on a Vonage host without sending', async () => {
		const { error } = await runStudioNode({
			parameters: { ...whatsAppParameters, statusUrl: 'https://api.nexmo.com/v1/applications/abc/status' },
			items: contacts.slice(0, 1),
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/Status URL points at a Vonage host/);
		expect(simulator.requests).toHaveLength(0);
	});
});

describe('HTTP failures', () => {
	it('says the key was rejected on 401, without the key anywhere', async () => {
		const { error, run } = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts.slice(0, 1),
			credentials: credentials({ apiKey: 'sk-wrong-key-123456' }),
		});
		expect(error).toMatchObject({ httpCode: '401', message: 'Vonage AI Studio rejected the API key' });
		expect(JSON.stringify(run)).not.toContain('sk-wrong-key-123456');
	});

	it('says the agent is missing or unpublished', async () => {
		simulator.configure({ agents: ['agent-b'] });
		const { error } = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts.slice(0, 1),
			credentials: credentials(),
		});
		expect(error).toMatchObject({
			message: 'Agent agent-a was not found or has no published version',
			description: expect.stringContaining('publish the agent'),
		});
	});

	it("surfaces Studio's own 400 message", async () => {
		const { error } = await runStudioNode({
			parameters: {
				...whatsAppParameters,
				templateParameters: 'json',
				componentsJson: '[{"type":"body","parameters":[{"type":"text"}]}]',
			},
			items: contacts.slice(0, 1),
			credentials: credentials(),
		});
		expect(error).toMatchObject({ httpCode: '400', message: expect.stringMatching(/^Studio refused the request: .+/) });
	});

	it('explains 429 with the tier and how to raise it after the retries run out', async () => {
		simulator.configure({ throttle: { rejectRatio: 1 } });
		const { error } = await runStudioNode({
			parameters: { ...whatsAppParameters, options: { rateLimitRetries: 1, rateLimitMaxWaitSeconds: 2 } },
			items: contacts.slice(0, 1),
			credentials: credentials({ sessionsPerSecond: 3 }),
		});
		expect(error).toMatchObject({
			httpCode: '429',
			message: expect.stringContaining('Studio allows 3 outbound sessions per second'),
			description: expect.stringContaining('ai.support@vonage.com'),
		});
		expect(simulator.tooManyRequests).toBe(2);
		expect(simulator.sessions).toHaveLength(0);
	});

	it('never resends when the connection dropped after the request reached Studio', async () => {
		simulator.configure({ dropConnectionRatio: 1 });
		const { outputs } = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts.slice(0, 2),
			credentials: credentials(),
			onError: 'continueRegularOutput',
		});
		expect(simulator.sessions).toHaveLength(2);
		expect(outputs[0].map((item) => item.json.error)).toEqual([
			expect.stringMatching(/^No complete answer from Vonage AI Studio/),
			expect.stringMatching(/^No complete answer from Vonage AI Studio/),
		]);
	});

	it('says the host is unreachable when nothing listens, and nothing was sent', async () => {
		const closed = simulator.url;
		await simulator.close();
		simulator = await startSimulator({ apiKey: API_KEY });
		const { error } = await runStudioNode({
			parameters: whatsAppParameters,
			items: contacts.slice(0, 1),
			credentials: credentials({ baseUrl: closed }),
		});
		expect(error).toMatchObject({
			message: expect.stringMatching(/^Could not reach Vonage AI Studio at 127\.0\.0\.1:\d+$/),
			description: expect.stringMatching(/ECONNREFUSED.*Nothing was sent/),
		});
	});
});
