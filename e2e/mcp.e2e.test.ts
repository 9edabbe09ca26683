// The action node as an AI tool in a real n8n, proven without a language model: an MCP client (the official MCP
// TypeScript SDK, which n8n itself ships) connects to an MCP Server Trigger that serves our tool, the way a desktop
// assistant or an IDE does, lists the tools and calls them. On n8n 2.41.1 and on 2.8.4 (Node 20), each with:
// - the example workflow examples/mcp-server-tool.json, unchanged but for the simulator's credential;
// - the tool variant n8n serves to its editor offering only the operations that do not wait;
// - 5 calls at once at tier 1: 5 sessions, never two in one second, each answer saying what was sent;
// - the same call twice: one session, the second answer `replayed`;
// - a bad number, a wrong key and a tool left on a waiting operation: error results that say what is wrong and
//   what to do, nothing sent (one refused request for the key), no key in any answer, and n8n still serving;
// - the AI Agent example examples/ai-agent-tool.json importing, each of its node types known to that n8n.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { NodeHelpers, type INode, type INodeProperties, type INodeTypeDescription } from 'n8n-workflow';

import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { maxInAnyWindow } from '../simulator/windows';
import { preparePackage } from '../harness/n8n/communityPackage';
import { McpClient, type ToolAnswer } from '../harness/n8n/mcp';
import { N8nHome, N8nRest, type WorkflowImport } from '../harness/n8n/n8n';
import { DEFAULT_N8N_VERSION, NODE20_N8N_VERSION, REPO_ROOT } from '../harness/n8n/runtime';
import { ACTION_NODE_TYPE, studioCredential } from '../harness/n8n/workflows';
import { Stack } from '../harness/processes';
import { startWhatsAppSession } from '../nodes/VonageAiStudio/actions/whatsapp/startOutboundSession.operation';

const TIER = 1;
const API_KEY = 'e2e-mcp-key-4b8f';
const WRONG_KEY = 'e2e-wrong-key-77c1';
const TOOL_TYPE = `${ACTION_NODE_TYPE}Tool`;
const MCP_TRIGGER_TYPE = '@n8n/n8n-nodes-langchain.mcpTrigger';

const readExample = (name: string) =>
	JSON.parse(readFileSync(join(REPO_ROOT, 'examples', name), 'utf8')) as WorkflowImport;
/** The MCP example as shipped; its tool uses the credential the demo creates (id vgaiDemoStudio01). */
const example = readExample('mcp-server-tool.json');
/** The AI Agent example: imported and checked against n8n's node types (it needs a chat model to run). */
const agentExample = readExample('ai-agent-tool.json');
const exampleTool = example.nodes.find((node) => node.type === TOOL_TYPE) as { name: string; credentials: never };
const exampleCredential = (exampleTool.credentials as { vonageAiStudioApi: { id: string; name: string } })
	.vonageAiStudioApi;
const examplePath = String(
	(example.nodes.find((node) => node.type === MCP_TRIGGER_TYPE)?.parameters as { path: string }).path,
);
const TOOL_NAME = exampleTool.name.replace(/[^a-zA-Z0-9_-]+/g, '_');

const WRONG_KEY_CREDENTIAL = { id: 'vgaiMcpWrongKey1', name: 'Studio with a wrong key' };
const REFUSALS_PATH = 'studio-refusals';

/**
 * A second MCP server whose tools cannot succeed: one with a wrong API key, one left on Start Session and Wait for
 * Status (as a workflow saved before the tool variant hid the waiting operations still is).
 */
function refusalsWorkflow(): WorkflowImport {
	const trigger = {
		id: randomUUID(),
		name: 'MCP Server Trigger',
		type: MCP_TRIGGER_TYPE,
		typeVersion: 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { path: REFUSALS_PATH },
	};
	const tool = (name: string, credential: { id: string; name: string }, operation: string) => ({
		id: randomUUID(),
		name,
		type: TOOL_TYPE,
		typeVersion: 1,
		position: [0, 200],
		credentials: { vonageAiStudioApi: credential },
		parameters: {
			resource: 'sms',
			operation,
			agentId: 'agent-mcp',
			to: "={{ $fromAI('to', 'The mobile number with country code', 'string') }}",
			statusUrl: 'https://crm.example.com/vonage/status',
			options: {},
		},
	});
	const wrongKey = tool('Text with a wrong key', WRONG_KEY_CREDENTIAL, 'startOutboundSession');
	const waits = tool('Text and wait', exampleCredential, 'startSessionAndWait');
	const toTrigger = { ai_tool: [[{ node: trigger.name, type: 'ai_tool', index: 0 }]] };
	return {
		id: 'vgaiMcpRefusals1',
		name: 'MCP tools that are refused',
		nodes: [trigger, wrongKey, waits],
		connections: { [wrongKey.name]: toTrigger, [waits.name]: toTrigger },
		settings: { executionOrder: 'v1' },
	};
}

/** The parameters n8n's own display rules show for `values` in a node of this description. */
function shown(description: INodeTypeDescription, values: Record<string, unknown>): INodeProperties[] {
	const node = { typeVersion: 1, parameters: values } as unknown as INode;
	return description.properties.filter((property) =>
		NodeHelpers.displayParameter(values as never, property, node, description),
	);
}

const contact = (index: number) => ({
	to: `+44 7700 9006${String(index).padStart(2, '0')}`,
	first_name: `Customer ${index}`,
	order_id: `ORD-${600 + index}`,
});
const digits = (phone: string) => phone.replace(/\D/g, '');
const sentItems = (answer: ToolAnswer) => JSON.parse(answer.text) as Array<Record<string, unknown>>;

describe.each([DEFAULT_N8N_VERSION, NODE20_N8N_VERSION])('MCP Server Trigger with our tool, n8n %s', (version) => {
	const stack = new Stack();
	let simulator: StudioSimulator;
	let home: N8nHome;
	let studio: McpClient;
	let refusals: McpClient;
	const answers: ToolAnswer[] = [];
	const call = async (client: McpClient, name: string, args: Record<string, unknown>) => {
		const answer = await client.call(name, args);
		answers.push(answer);
		return answer;
	};

	beforeAll(async () => {
		simulator = await startSimulator({
			tier: TIER,
			apiKey: API_KEY,
			callbacks: false,
			latencyMs: { min: 10, max: 40 },
		});
		stack.defer('simulator', () => simulator.close());
		home = await N8nHome.create({ version, package: await preparePackage() });
		stack.defer('n8n user folder', () => home.remove());
		await home.importCredentials([
			{
				...studioCredential({ baseUrl: simulator.url, apiKey: API_KEY, sessionsPerSecond: TIER }),
				...exampleCredential,
			},
			{
				...studioCredential({ baseUrl: simulator.url, apiKey: WRONG_KEY, sessionsPerSecond: TIER }),
				...WRONG_KEY_CREDENTIAL,
			},
		]);
		await home.importWorkflows([example, agentExample, refusalsWorkflow()]);
		await home.publishWorkflow(example.id);
		await home.publishWorkflow('vgaiMcpRefusals1');
		const n8n = stack.add(await home.start());
		try {
			studio = await McpClient.connect(`${home.baseUrl}/mcp/${examplePath}`);
			stack.defer('MCP client', () => studio.close());
			refusals = await McpClient.connect(`${home.baseUrl}/mcp/${REFUSALS_PATH}`);
			stack.defer('MCP client (refusals)', () => refusals.close());
		} catch (error) {
			throw new Error(`${(error as Error).message}\nn8n log:\n${n8n.tail(40)}`);
		}
	}, 5 * 60_000);

	afterAll(() => stack.stopAll());

	it('lists one tool with its name, the description written for a model and the fields the model fills', async () => {
		const tools = await studio.listTools();
		expect(tools.map((tool) => tool.name)).toEqual([TOOL_NAME]);
		const [tool] = tools;
		expect(tool.description).toBe(startWhatsAppSession.toolDescription);
		const properties = tool.inputSchema.properties as Record<string, { type: string; description: string }>;
		expect(Object.keys(properties).sort()).toEqual(['first_name', 'order_id', 'to']);
		expect(properties.to).toEqual({
			type: 'string',
			description: "The contact's WhatsApp number, international with the country code, e.g. +447700900000",
		});
	});

	/** n8n's REST API as its editor uses it, signed in as the owner (set up once). */
	let rest: N8nRest | undefined;
	const signedIn = async () => (rest ??= await N8nRest.setupOwner(home.baseUrl));
	/** The node types n8n's editor loads, the generated tool variants included. */
	const typesInEditor = async () => (await signedIn()).get<INodeTypeDescription[]>('/types/nodes.json');

	it('offers only the operations that do not wait in the tool variant n8n serves to its editor', async () => {
		const types = await typesInEditor();
		const toolType = types.find((type) => type.name === TOOL_TYPE);
		const nodeType = types.find((type) => type.name === ACTION_NODE_TYPE);
		expect(toolType?.outputs).toEqual(['ai_tool']);
		const operations = (description: INodeTypeDescription, resource: string) =>
			shown(description, { resource })
				.filter((property) => property.name === 'operation')
				.flatMap((menu) => (menu.options as Array<{ value: string }>).map((option) => option.value))
				// n8n's own "Custom API Call" entry, added to every menu of a node whose credential allows it.
				.filter((value) => value !== '__CUSTOM_API_CALL__');
		expect(['whatsapp', 'sms', 'voice', 'session'].map((resource) => operations(toolType!, resource))).toEqual([
			['startOutboundSession'],
			['startOutboundSession'],
			['makeOutboundCall'],
			['get', 'getLatestForContact', 'search'],
		]);
		expect(operations(nodeType!, 'whatsapp')).toEqual(['startOutboundSession', 'startSessionAndWait']);
	});

	it(`5 calls at once at tier ${TIER}: 5 sessions, never two in one second, each answer saying what was sent`, async () => {
		const contacts = [0, 1, 2, 3, 4].map(contact);
		const results = await Promise.all(contacts.map((each) => call(studio, TOOL_NAME, each)));

		for (const [index, answer] of results.entries()) {
			expect(answer.isError).toBe(false);
			expect(sentItems(answer)).toEqual([
				expect.objectContaining({
					channel: 'whatsapp',
					to: digits(contacts[index].to),
					template: 'order_update',
					reference: contacts[index].order_id,
					statusCode: 200,
					replayed: false,
				}),
			]);
		}
		const sessions = simulator.sessions.filter((session) =>
			contacts.some((each) => session.body.to === digits(each.to)),
		);
		expect(sessions).toHaveLength(5);
		expect(maxInAnyWindow(sessions.map((session) => session.arrivedAt))).toBeLessThanOrEqual(TIER);
		// A 429 is retried safely and starts nothing; with n8n, the simulator and jest on two shared cores, a send can
		// reach Studio late enough for the next one to land inside its second now and then (as in batch.e2e.test.ts).
		expect(simulator.tooManyRequests).toBeLessThanOrEqual(1);
		// What the model filled went where the example puts it: the header, the body and the reference.
		for (const each of contacts) {
			expect(sessions.find((session) => session.body.to === digits(each.to))?.body).toMatchObject({
				components: [
					{ type: 'header', parameters: [{ type: 'text', text: each.first_name }] },
					{ type: 'body', parameters: [{ type: 'text', text: each.order_id }] },
				],
				status_url: expect.stringContaining(`vgai_ref=${each.order_id}`),
			});
		}
	}, 60_000);

	it('the same call twice: one session, the second answer is the first one, replayed', async () => {
		const again = contact(10);
		const first = await call(studio, TOOL_NAME, again);
		const second = await call(studio, TOOL_NAME, again);
		expect(simulator.sessions.filter((session) => session.body.to === digits(again.to))).toHaveLength(1);
		const [sent] = sentItems(first);
		expect(second.isError).toBe(false);
		expect(sentItems(second)).toEqual([
			expect.objectContaining({ replayed: true, sentAt: sent.sentAt, firstSentAt: sent.sentAt }),
		]);
	}, 30_000);

	it('a bad number: an error result naming the argument to change, nothing sent, n8n still serving', async () => {
		const answer = await call(studio, TOOL_NAME, { ...contact(20), to: '07700 900620' });
		expect(answer).toEqual({
			isError: true,
			text: 'NodeOperationError: The call was refused before sending: To "07700 900620" looks like a national number: start with the country code, e.g. +44 7700 900000 instead of 07700 900000. Nothing was sent. Call again with "to" corrected.',
		});
		expect(simulator.requests.filter((request) => JSON.stringify(request.body).includes('7700900620'))).toEqual([]);
		const corrected = await call(studio, TOOL_NAME, { ...contact(20), to: '+44 7700 900620' });
		expect(corrected.isError).toBe(false);
	}, 30_000);

	it('a wrong key: an error result saying calling again will not help, one refused request, no key', async () => {
		expect((await refusals.listTools()).map((tool) => tool.name).sort()).toEqual([
			'Text_and_wait',
			'Text_with_a_wrong_key',
		]);
		const before = simulator.requests.length;
		const answer = await call(refusals, 'Text_with_a_wrong_key', { to: '+44 7700 900630' });
		expect(answer.isError).toBe(true);
		expect(answer.text).toMatch(
			/^NodeOperationError: Vonage AI Studio rejected the API key\. Calling again will not help: tell the user that the API key in the tool's Vonage AI Studio credential in n8n was rejected\./,
		);
		expect(simulator.requests.slice(before).map((request) => request.status)).toEqual([401]);
		expect(simulator.sessions.filter((session) => session.body.to === '447700900630')).toEqual([]);
	}, 30_000);

	it('a tool left on an operation that waits: an error result saying why, nothing sent', async () => {
		const before = simulator.requests.length;
		const answer = await call(refusals, 'Text_and_wait', { to: '+44 7700 900640' });
		expect(answer).toEqual({
			isError: true,
			text: 'NodeOperationError: This tool is set to "Start Session and Wait for Status", which waits for the contact\'s status, and a tool call cannot wait. Nothing was sent. Calling again will not help: tell the user that they must choose "Start Outbound Session" in the Text and wait tool.',
		});
		expect(simulator.requests.length).toBe(before);
	});

	it('imports the AI Agent example, every node of it a type this n8n knows', async () => {
		const known = new Set((await typesInEditor()).map((type) => type.name));
		const types = agentExample.nodes.map((node) => String(node.type));
		expect(types.filter((type) => !known.has(type))).toEqual([]);
		expect(types.filter((type) => type === TOOL_TYPE)).toHaveLength(2);
		const imported = await (await signedIn()).get<{ data: { nodes: unknown[] } }>(`/rest/workflows/${agentExample.id}`);
		expect(imported.data.nodes).toHaveLength(agentExample.nodes.length);
	});

	it('never shows an API key, and still serves after every refusal', async () => {
		expect(answers.length).toBeGreaterThanOrEqual(10);
		for (const answer of answers) {
			expect(answer.text).not.toContain(API_KEY);
			expect(answer.text).not.toContain(WRONG_KEY);
			expect(answer.text).not.toMatch(/\bItem \d|at .*\.js:\d+/);
		}
		expect((await studio.listTools()).map((tool) => tool.name)).toEqual([TOOL_NAME]);
	});
});
