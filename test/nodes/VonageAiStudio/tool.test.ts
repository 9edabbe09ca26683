// The action node as an AI tool, through n8n's real engine against the simulator: what the tool variant offers (its
// operations, fields and description for a model), and that every guarantee holds for tool calls: parallel calls
// are paced, a repeated call is the first result, a refused call reads as what to change, and the key never shows.
import { NodeHelpers, type INode, type INodeProperties, type INodeTypeDescription } from 'n8n-workflow';

import { resetNodeState, runStudioNode, runStudioTool, toolVariant } from '../../../harness/engine';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';
import { VonageAiStudio } from '../../../nodes/VonageAiStudio/VonageAiStudio.node';
import { OPERATIONS, RESOURCES } from '../../../nodes/VonageAiStudio/actions/router';
import { fromAiArguments } from '../../../nodes/VonageAiStudio/tool';

const API_KEY = 'sk-tool-5e1f0c9a7b3d';

const workflowNode = new VonageAiStudio().description;
const toolNode = toolVariant(new VonageAiStudio()).description;

/** The parameters n8n shows for `values` in a node of this type (its own display rules, `@tool` included). */
function shown(description: INodeTypeDescription, values: Record<string, unknown>): INodeProperties[] {
	const node = { typeVersion: 1, parameters: values } as unknown as INode;
	return description.properties.filter((property) =>
		NodeHelpers.displayParameter(values as never, property, node, description),
	);
}

function operationMenu(description: INodeTypeDescription, resource: string) {
	const menus = shown(description, { resource }).filter((property) => property.name === 'operation');
	expect(menus).toHaveLength(1);
	return menus[0];
}

describe('the tool variant n8n builds from the node', () => {
	it('offers the operations that start a session and hides the ones that wait, for every resource', () => {
		const offered = (description: INodeTypeDescription, resource: string) =>
			(operationMenu(description, resource).options as Array<{ value: string }>).map((option) => option.value);
		expect(RESOURCES.map(({ value }) => [value, offered(toolNode, value)])).toEqual([
			['whatsapp', ['startOutboundSession']],
			['sms', ['startOutboundSession']],
			['voice', ['makeOutboundCall']],
			['session', ['get', 'getLatestForContact', 'search']],
		]);
		expect(RESOURCES.map(({ value }) => [value, offered(workflowNode, value)])).toEqual([
			['whatsapp', ['startOutboundSession', 'startSessionAndWait']],
			['sms', ['startOutboundSession', 'startSessionAndWait']],
			['voice', ['makeOutboundCall', 'makeCallAndWait']],
			['session', ['get', 'getLatestForContact', 'search']],
		]);
		for (const { value } of RESOURCES) expect(operationMenu(toolNode, value).default).toBe(offered(toolNode, value)[0]);
	});

	it('shows the same fields as the workflow node, plus a Description for the model prefilled per operation', () => {
		for (const operation of OPERATIONS.filter((each) => !('wait' in each))) {
			const values = { resource: operation.resource, operation: operation.option.value };
			const names = (description: INodeTypeDescription) =>
				shown(description, values)
					.map((property) => property.name)
					.filter((name) => name !== 'operation')
					.sort();
			expect(names(toolNode)).toEqual([...names(workflowNode), 'toolDescription'].sort());
			const field = shown(toolNode, values).find((property) => property.name === 'toolDescription');
			expect(field?.default).toBe(operation.toolDescription);
		}
		// With its own field n8n adds none ("Tool Description: Set Automatically" would say only the action's name).
		expect(toolNode.properties.some((property) => property.name === 'descriptionType')).toBe(false);
		expect(shown(workflowNode, { resource: 'whatsapp', operation: 'startOutboundSession' })).not.toContainEqual(
			expect.objectContaining({ name: 'toolDescription' }),
		);
	});

	it('tells a model what each operation does and what good values look like', () => {
		const offered = OPERATIONS.filter((operation) => operation.toolDescription !== undefined);
		expect(offered.map((operation) => `${operation.resource}:${operation.option.value}`)).toEqual([
			'whatsapp:startOutboundSession',
			'sms:startOutboundSession',
			'voice:makeOutboundCall',
			'session:get',
			'session:getLatestForContact',
			'session:search',
		]);
		const [whatsApp, sms, voice, get, latest, search] = offered.map((operation) => String(operation.toolDescription));
		for (const starts of [whatsApp, sms, voice]) {
			expect(starts).toMatch(/international, with the country code, e\.g\. \+44 7700 900000/);
			expect(starts).toMatch(/"replayed": true/);
		}
		expect(whatsApp).toMatch(/WhatsApp template.*lowercase letters, digits and underscores/);
		for (const reads of [get, latest, search]) expect(reads).toMatch(/It only reads: it starts no session/);
		for (const reads of [latest, search]) {
			expect(reads).toMatch(/ISO 8601, e\.g\. 2025-03-01T09:00:00Z/);
			expect(reads).toMatch(/\+44 7700 900000/);
		}
	});

	it("reads the arguments a model fills from a parameter's $fromAI() calls", () => {
		expect(fromAiArguments("={{ $fromAI('to', 'number', 'string') }}")).toEqual(['to']);
		expect(fromAiArguments({ values: [{ text: '={{ $fromAI("first_name") }} {{ $fromai(`order`) }}' }] })).toEqual([
			'first_name',
			'order',
		]);
		expect(fromAiArguments('={{ $json.phone }}')).toEqual([]);
	});
});

describe('tool calls through n8n-core, as an MCP Server Trigger makes them', () => {
	let simulator: StudioSimulator;
	beforeEach(async () => {
		simulator = await startSimulator({ apiKey: API_KEY, tier: 1, callbacks: false });
	});
	afterEach(async () => {
		await simulator.close();
		await resetNodeState();
	});

	const credentials = (overrides: Record<string, unknown> = {}) => ({
		apiKey: API_KEY,
		region: 'eu',
		sessionsPerSecond: 1,
		baseUrl: simulator.url,
		redisUrl: '',
		...overrides,
	});
	const whatsApp = (extra: Record<string, unknown> = {}) => ({
		resource: 'whatsapp',
		operation: 'startOutboundSession',
		agentId: 'agent-tool',
		to: "={{ $fromAI('to', 'WhatsApp number with country code', 'string') }}",
		namespace: 'ns_shop',
		template: 'order_update',
		locale: 'en_GB',
		statusUrl: 'https://hooks.example.com/webhook/status',
		templateParameters: 'fields',
		bodyParameters: { values: [{ text: "={{ $fromAI('order', 'the order number', 'string') }}" }] },
		...extra,
	});
	const answerOf = (text: string | undefined) => JSON.parse(String(text)) as Array<Record<string, unknown>>;

	it('five calls at once at tier 1: five sessions a second apart, each answer saying what was sent', async () => {
		const calls = [0, 1, 2, 3, 4].map((index) => ({ to: `+44 7700 90010${index}`, order: `A-${index}` }));
		const { tool, answers } = await runStudioTool({ parameters: whatsApp(), credentials: credentials(), calls });

		expect(tool).toMatchObject({
			tools: 1,
			name: 'Vonage_AI_Studio',
			description: OPERATIONS[0].toolDescription,
			arguments: { to: 'WhatsApp number with country code', order: 'the order number' },
		});
		expect(simulator.sessions).toHaveLength(5);
		expect(simulator.tooManyRequests).toBe(0);
		expect(maxInAnyWindow(simulator.sessions.map((session) => session.arrivedAt))).toBe(1);
		for (const [index, answer] of answers.entries()) {
			expect(answer.failed).toBeUndefined();
			expect(answerOf(answer.answer)).toEqual([
				expect.objectContaining({
					channel: 'whatsapp',
					to: `44770090010${index}`,
					template: 'order_update',
					statusCode: 200,
					replayed: false,
				}),
			]);
		}
		expect(JSON.stringify(answers)).not.toContain(API_KEY);
	}, 30_000);

	it('the same call twice: one session, the second answer is the first one, replayed', async () => {
		const call = { to: '+44 7700 900200', order: 'B-1' };
		const { answers } = await runStudioTool({ parameters: whatsApp(), credentials: credentials(), calls: [call] });
		const again = await runStudioTool({ parameters: whatsApp(), credentials: credentials(), calls: [call] });
		expect(simulator.sessions).toHaveLength(1);
		const [first] = answerOf(answers[0].answer);
		expect(answerOf(again.answers[0].answer)).toEqual([
			expect.objectContaining({ sentAt: first.sentAt, replayed: true, firstSentAt: first.sentAt }),
		]);
	});

	it("the queue edition's tool calls the same way (its own transport, the same answers)", async () => {
		const calls = [
			{ to: '+44 7700 900250', order: 'Q-1' },
			{ to: '07700 900251', order: 'Q-2' },
		];
		const { tool, answers } = await runStudioTool({
			edition: 'queue',
			parameters: whatsApp(),
			credentials: credentials(),
			calls,
		});
		expect(tool.description).toBe(OPERATIONS[0].toolDescription);
		expect(answerOf(answers[0].answer)).toEqual([expect.objectContaining({ to: '447700900250', replayed: false })]);
		expect(answers[1].failed).toMatch(/^The call was refused before sending: To "07700 900251" looks like a national/);
		expect(simulator.sessions).toHaveLength(1);
	});

	it('with Duplicate Guard off, two contacts in one conversation are two sessions', async () => {
		const parameters = whatsApp({ options: { duplicateGuard: false } });
		const calls = [
			{ to: '+44 7700 900301', order: 'C-1' },
			{ to: '+44 7700 900302', order: 'C-2' },
		];
		const { answers } = await runStudioTool({ parameters, credentials: credentials(), calls });
		expect(simulator.sessions.map((session) => session.body.to).sort()).toEqual(['447700900301', '447700900302']);
		expect(answers.map((answer) => answerOf(answer.answer)[0].replayed)).toEqual([false, false]);
	});

	it('a bad number from the model: the answer says which argument to change, nothing is sent', async () => {
		const { answers } = await runStudioTool({
			parameters: whatsApp(),
			credentials: credentials(),
			calls: [{ to: '07700 900400', order: 'D-1' }],
		});
		expect(simulator.requests).toHaveLength(0);
		expect(answers[0].failed).toBe(
			'The call was refused before sending: To "07700 900400" looks like a national number: start with the country code, e.g. +44 7700 900000 instead of 07700 900000. Nothing was sent. Call again with "to" corrected.',
		);
	});

	it("a bad value in the tool's own settings: the answer says calling again will not help", async () => {
		const { answers } = await runStudioTool({
			parameters: whatsApp({ template: 'Order Update' }),
			credentials: credentials(),
			calls: [{ to: '+44 7700 900500', order: 'E-1' }],
		});
		expect(simulator.requests).toHaveLength(0);
		expect(answers[0].failed).toMatch(/^The call was refused before sending: Template Name may only hold lowercase/);
		expect(answers[0].failed).toMatch(
			/Calling again will not help: tell the user that Template Name is set in the tool's own settings in n8n/,
		);
		expect(answers[0].failed).not.toMatch(/item/i);
	});

	it('a wrong key: one request, an answer that says what is wrong and whom to tell, no key in it', async () => {
		const { answers } = await runStudioTool({
			parameters: whatsApp(),
			credentials: credentials({ apiKey: 'sk-not-the-key-91' }),
			calls: [{ to: '+44 7700 900600', order: 'F-1' }],
		});
		expect(simulator.requests).toHaveLength(1);
		expect(simulator.sessions).toHaveLength(0);
		const failed = String(answers[0].failed);
		expect(failed).toMatch(
			/^Vonage AI Studio rejected the API key\. Calling again will not help: tell the user that the API key in the tool's Vonage AI Studio credential in n8n was rejected\. Check the API key/,
		);
		expect(failed).not.toMatch(/item|sk-not-the-key-91|Details:/i);
	});

	it('Studio still refusing after the retries (429): the answer says nothing started and to wait', async () => {
		simulator.configure({ throttle: { rejectRatio: 1 } });
		const { answers } = await runStudioTool({
			parameters: whatsApp({ options: { rateLimitRetries: 1 } }),
			credentials: credentials(),
			calls: [{ to: '+44 7700 900700', order: 'G-1' }],
		});
		expect(simulator.sessions).toHaveLength(0);
		expect(answers[0].failed).toMatch(
			/^Over the rate tier: .* refused this one\. No session was started\. Wait a minute and call again/,
		);
		expect(answers[0].failed).toMatch(/no session was started for this call/);
	});

	it("a Session read as a tool: the contact's latest session, and a bad number the model can correct", async () => {
		simulator.insights.add({
			startedAt: Date.now() - 60_000,
			channel: 'whatsapp',
			contact: '447700900900',
			agentId: 'agent-tool',
			parameters: [{ name: 'APPOINTMENT_CONFIRMED', value: 'yes' }],
		});
		const parameters = {
			resource: 'session',
			operation: 'getLatestForContact',
			contact: "={{ $fromAI('contact', 'The contact number with country code', 'string') }}",
			since: '={{ $now.minus({ hours: 1 }).toISO() }}',
			reference: '',
		};
		const { tool, answers } = await runStudioTool({
			parameters,
			credentials: credentials(),
			calls: [{ contact: '+44 7700 900900' }, { contact: '07700 900901' }],
		});
		expect(tool.description).toBe(
			OPERATIONS.find((each) => each.option.value === 'getLatestForContact')?.toolDescription,
		);
		expect(answerOf(answers[0].answer)).toEqual([
			expect.objectContaining({
				found: true,
				contact: '447700900900',
				parameters: expect.objectContaining({ APPOINTMENT_CONFIRMED: 'yes' }),
			}),
		]);
		expect(answers[1].failed).toBe(
			'The call was refused before reading: Contact Number "07700 900901" looks like a national number: start with the country code, e.g. +44 7700 900000 instead of 07700 900000. Nothing was read. Call again with "contact" corrected.',
		);
		expect(simulator.sessions).toHaveLength(0);
	});

	it('a tool set to an operation that waits sends nothing and says why', async () => {
		const { answers } = await runStudioTool({
			parameters: whatsApp({ operation: 'startSessionAndWait' }),
			credentials: credentials(),
			calls: [{ to: '+44 7700 900800', order: 'H-1' }],
		});
		expect(simulator.requests).toHaveLength(0);
		expect(answers[0].failed).toBe(
			'This tool is set to "Start Session and Wait for Status", which waits for the contact\'s status, and a tool call cannot wait. Nothing was sent. Calling again will not help: tell the user that they must choose "Start Outbound Session" in the Vonage AI Studio tool.',
		);
	});

	it('run as a node of the execution (an AI Agent 3), a refused call is answered, not thrown: the workflow goes on', async () => {
		const { error, outputs } = await runStudioNode({
			asTool: true,
			parameters: whatsApp(),
			credentials: credentials(),
			items: [{ to: '+44 77', order: 'I-1', toolCallId: 'call_1' }],
		});
		expect(simulator.requests).toHaveLength(0);
		expect(error).toBeUndefined();
		expect(outputs[0].map((item) => item.json)).toEqual([
			{
				error:
					'The call was refused before sending: To "+44 77" has 4 digits; an international number has 7 to 15 with the country code. Nothing was sent. Call again with "to" corrected.',
			},
		]);
	});

	it('the same bad number in a workflow still names the item and the field', async () => {
		const { error } = await runStudioNode({
			parameters: whatsApp({ to: '={{ $json.to }}', bodyParameters: { values: [{ text: 'I-1' }] } }),
			credentials: credentials(),
			items: [{ to: '+44 77' }],
		});
		expect(error).toMatchObject({
			message: 'Item 0: To "+44 77" has 4 digits; an international number has 7 to 15 with the country code',
			description: 'Field "To" of item 0. Nothing was sent for this item.',
		});
	});
});
