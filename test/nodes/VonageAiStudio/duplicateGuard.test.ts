// The duplicate guard, on by default: a session identical to one this credential started within the window is not
// sent again, and the item says so and when the first went. What makes two sessions identical (the status URL,
// the reference and the order of object keys do not count; another order number does), the off switch, the
// Idempotency Key winning where set, the hint for production executions without protection. Real engine, real HTTP.
import { canonicalJson, duplicateGuardKey, ledgerKeys } from '../../../nodes/VonageAiStudio/send';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { resetNodeState, runStudioNode, NODE_NAME } from '../../../harness/engine';

const API_KEY = 'sk-guard-test-5d1e';
let simulator: StudioSimulator;

const parameters = (extra: Record<string, unknown> = {}) => ({
	resource: 'whatsapp',
	operation: 'startOutboundSession',
	agentId: 'agent-a',
	to: '={{ $json.phone }}',
	namespace: 'ns',
	template: 'order_update',
	locale: 'en',
	statusUrl: 'https://hooks.example.com/status',
	reference: '={{ $json.ref }}',
	bodyParameters: { values: [{ text: '={{ $json.order }}' }] },
	...extra,
});

const crmContacts = [
	{ phone: '+447700900001', order: 'A-1', ref: 'crm-1' },
	{ phone: '+447700900002', order: 'A-2', ref: 'crm-2' },
	{ phone: '+447700900003', order: 'A-3', ref: 'crm-3' },
];

const credentials = () => ({ apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: simulator.url });

beforeEach(async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
});

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

describe('what makes two sessions identical', () => {
	const body = {
		agent_id: 'a',
		channel: 'whatsapp',
		to: '447700900001',
		namespace: 'ns',
		template: 't',
		locale: 'en',
		components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-1' }] }],
		session_parameters: [{ name: 'ORDER', value: 'A-1' }],
		status_url: 'https://hooks.example.com/status?vgai_ref=crm-1',
	};
	const key = (changes: Record<string, unknown>) =>
		duplicateGuardKey({ path: '/messaging/conversation', body: { ...body, ...changes } });

	it('ignores the status URL (and the reference and token in it) and the order of object keys', () => {
		expect(key({ status_url: 'https://elsewhere.example.com/?vgai_ref=other' })).toBe(key({}));
		const reordered = Object.fromEntries(Object.entries(body).reverse());
		expect(duplicateGuardKey({ path: '/messaging/conversation', body: reordered })).toBe(key({}));
		expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).toBe(
			'{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}',
		);
	});

	it('tells apart every field a customer would notice', () => {
		const variants = [
			{ to: '447700900002' },
			{ agent_id: 'b' },
			{ template: 'other' },
			{ locale: 'de' },
			{ namespace: 'ns2' },
			{ components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-2' }] }] },
			{ session_parameters: [{ name: 'ORDER', value: 'A-2' }] },
			{ channel: 'sms' },
		];
		const keys = new Set([key({}), ...variants.map(key)]);
		expect(keys.size).toBe(variants.length + 1);
		expect(duplicateGuardKey({ path: '/telephony/make-call', body })).not.toBe(key({}));
	});

	it('the Idempotency Key wins where set; the guard key is then only recorded beside it', () => {
		const context = {
			workflowId: 'wf',
			executionId: 'e1',
			node: { id: 'n1', name: 'Send' } as never,
			retriedExecution: false,
			asTool: false,
			settings: { duplicateGuardMs: 12 * 3_600_000 },
		};
		const prepared = { path: '/messaging/conversation', body } as never;
		const keyed = ledgerKeys({ itemIndex: 0, prepared, idempotencyKey: 'crm-1-welcome' }, context);
		expect(keyed.primary).toEqual({ key: 'key:crm-1-welcome', kind: 'idempotency-key' });
		expect(keyed.also).toContainEqual({ key: duplicateGuardKey(prepared), ttlMs: 12 * 3_600_000 });
		const guarded = ledgerKeys({ itemIndex: 0, prepared }, context);
		expect(guarded.primary).toEqual({
			key: duplicateGuardKey(prepared),
			kind: 'duplicate-guard',
			ttlMs: 12 * 3_600_000,
		});
		const off = ledgerKeys({ itemIndex: 0, prepared }, { ...context, settings: { duplicateGuardMs: undefined } });
		expect(off.primary.kind).toBe('same-execution');
	});

	it("as a tool, every call is item 0 of the agent's execution: the call's body tells calls apart, not the item", () => {
		const context = {
			workflowId: 'wf',
			executionId: 'e1',
			node: { id: 'n1', name: 'Send' } as never,
			retriedExecution: false,
			settings: { duplicateGuardMs: undefined },
		};
		const call = (to: string) => ({
			itemIndex: 0,
			prepared: { path: '/messaging/conversation', body: { ...body, to } } as never,
		});
		const asTool = (to: string) => ledgerKeys(call(to), { ...context, asTool: true }).primary;
		const inWorkflow = (to: string) => ledgerKeys(call(to), { ...context, asTool: false }).primary;
		// Two contacts in one chat are two sessions; the same call again (n8n's Retry On Fail) is the first one.
		expect(asTool('447700900001').key).not.toBe(asTool('447700900002').key);
		expect(asTool('447700900001')).toEqual(asTool('447700900001'));
		expect(asTool('447700900001').kind).toBe('same-execution');
		// In a workflow, the item is what Retry On Fail re-runs, whatever its values became.
		expect(inWorkflow('447700900001').key).toBe(inWorkflow('447700900002').key);
	});
});

describe('a CRM posting the same webhook twice (two executions)', () => {
	const run = (
		items: Array<Record<string, string>>,
		extra: Record<string, unknown> = {},
		mode: 'manual' | 'webhook' = 'webhook',
	) => runStudioNode({ parameters: parameters(extra), items, credentials: credentials(), workflowId: 'wf-crm', mode });

	it('starts one session per contact; the second execution’s items say why and when the first went', async () => {
		const first = await run(crmContacts);
		const second = await run(crmContacts);
		expect(simulator.sessions).toHaveLength(3);
		expect(first.outputs[0].map((item) => item.json.replayed)).toEqual([false, false, false]);
		for (const [index, item] of second.outputs[0].entries()) {
			expect(item.json).toMatchObject({
				replayed: true,
				to: crmContacts[index].phone.replace('+', ''),
				firstSentAt: first.outputs[0][index].json.sentAt,
				response: first.outputs[0][index].json.response,
			});
			expect(item.json.replayedReason).toMatch(
				/^Not sent again: an identical session \(same agent, recipient, template and parameters\) was started at .*, within the Duplicate Guard Window \(12 h\)\. .*switch off Duplicate Guard/,
			);
			expect(item.pairedItem).toEqual({ item: index });
		}
		expect(second.task.hints?.map((hint) => hint.message)).toContainEqual(
			expect.stringMatching(/^3 items were not sent again \(item 0: Not sent again: an identical session/),
		);
	});

	it('a contact with the same template but another order number is sent', async () => {
		await run(crmContacts);
		await run([{ ...crmContacts[0], order: 'A-99' }]);
		expect(simulator.sessions).toHaveLength(4);
		expect(simulator.sessions[3].body.components).toEqual([
			{ type: 'body', parameters: [{ type: 'text', text: 'A-99' }] },
		]);
	});

	it('the same contact twice in one campaign gets one session', async () => {
		const { outputs } = await run([crmContacts[0], crmContacts[1], crmContacts[0]]);
		expect(simulator.sessions).toHaveLength(2);
		expect(outputs[0].map((item) => item.json.replayed)).toEqual([false, false, true]);
	});

	it('switched off in the node’s options, both executions send: 6 sessions, and a production run gets a warning', async () => {
		await run(crmContacts, { options: { duplicateGuard: false } });
		const second = await run(crmContacts, { options: { duplicateGuard: false } });
		expect(simulator.sessions).toHaveLength(6);
		expect(second.task.hints).toContainEqual(
			expect.objectContaining({
				type: 'warning',
				message: expect.stringMatching(/^3 sessions were sent without protection against a repeat/),
			}),
		);
	});

	it('no warning in the editor (manual) or with an Idempotency Key', async () => {
		const manual = await run(crmContacts, { options: { duplicateGuard: false } }, 'manual');
		const keyed = await run(crmContacts, { options: { duplicateGuard: false }, idempotencyKey: '={{ $json.ref }}' });
		for (const result of [manual, keyed]) {
			expect((result.task.hints ?? []).filter((hint) => hint.type === 'warning')).toEqual([]);
		}
	});

	it('an Idempotency Key lets identical sessions go on purpose, one per key', async () => {
		await run(crmContacts, { idempotencyKey: '={{ $json.ref }}-monday' });
		await run(crmContacts, { idempotencyKey: '={{ $json.ref }}-tuesday' });
		expect(simulator.sessions).toHaveLength(6);
		const again = await run(crmContacts, { idempotencyKey: '={{ $json.ref }}-tuesday' });
		expect(simulator.sessions).toHaveLength(6);
		expect(again.outputs[0][0].json.replayedReason).toMatch(/^Not sent again: a session with the same Idempotency Key/);
	});

	it('the window is an option: past it, an identical session goes again', async () => {
		const shortWindow = { options: { duplicateGuardHours: 1 / 3600 } }; // one second
		await run(crmContacts.slice(0, 1), shortWindow);
		await run(crmContacts.slice(0, 1), shortWindow);
		expect(simulator.sessions).toHaveLength(1);
		await new Promise((resolve) => setTimeout(resolve, 1_300));
		await run(crmContacts.slice(0, 1), shortWindow);
		expect(simulator.sessions).toHaveLength(2);
	});
});

test('the node is named as the engine helper expects', () => expect(NODE_NAME).toBe('Vonage AI Studio'));
