// The action node as an AI Agent's tool in a real n8n (2.41.1 and 2.8.4), with the language model replaced by a
// scripted stand-in (harness/scriptedModel.ts) behind n8n's own OpenAI Chat Model node: the model asks for tool calls
// as its prompt says, n8n's AI Agent 3 has its engine run our tools, and the model's reply shows what each tool
// answered. The tools are the ones of examples/ai-agent-tool.json. One execution, five turns:
// - four calls at once (three WhatsApp sessions and a call) at tier 1: four sessions, never two in one second;
// - the same WhatsApp call again: answered with the first result, `replayed`;
// - a bad number, a wrong key, a tool left on a waiting operation: answers saying what to do, nothing sent;
// and the execution succeeds: a refused call never stops the workflow, on either n8n.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { maxInAnyWindow } from '../simulator/windows';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, outputItems, type ExecutionResult, type WorkflowImport } from '../harness/n8n/n8n';
import { DEFAULT_N8N_VERSION, NODE20_N8N_VERSION, REPO_ROOT } from '../harness/n8n/runtime';
import { ACTION_NODE_TYPE, studioCredential } from '../harness/n8n/workflows';
import { Stack } from '../harness/processes';
import { script, startScriptedModel, toolAnswers, type ScriptedModel } from '../harness/scriptedModel';
import { startWhatsAppSession } from '../nodes/VonageAiStudio/actions/whatsapp/startOutboundSession.operation';

const TIER = 1;
const API_KEY = 'e2e-agent-key-9d2a';
const WRONG_KEY = 'e2e-agent-wrong-51fe';
const TOOL_TYPE = `${ACTION_NODE_TYPE}Tool`;
const MODEL_CREDENTIAL = { id: 'vgaiScriptedLlm1', name: 'Scripted model' };
const WRONG_KEY_CREDENTIAL = { id: 'vgaiAgentWrongK1', name: 'Studio with a wrong key' };

const example = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'ai-agent-tool.json'), 'utf8')) as WorkflowImport;
const exampleTools = example.nodes.filter((node) => node.type === TOOL_TYPE);
const exampleCredential = (exampleTools[0].credentials as { vonageAiStudioApi: { id: string; name: string } })
	.vonageAiStudioApi;
const toolName = (name: string) => name.replace(/[^a-zA-Z0-9_-]+/g, '_');
const WHATSAPP = toolName('Send order update on WhatsApp');
const CALL = toolName('Call the customer back');
const WRONG = 'Text_with_a_wrong_key';
const WAITS = 'Text_and_wait';

const order = (index: number) => ({
	phone: `+44 7700 9008${String(index).padStart(2, '0')}`,
	first_name: `Customer ${index}`,
	order_id: `ORD-${800 + index}`,
});
const digits = (phone: string) => phone.replace(/\D/g, '');

/** The five turns, one prompt item each. */
const TURNS = [
	script([
		{ tool: WHATSAPP, args: order(1) },
		{ tool: WHATSAPP, args: order(2) },
		{ tool: WHATSAPP, args: order(3) },
		{ tool: CALL, args: { phone: order(4).phone } },
	]),
	script([{ tool: WHATSAPP, args: order(1) }]),
	script([{ tool: WHATSAPP, args: { ...order(5), phone: '07700 900805' } }]),
	script([{ tool: WRONG, args: { phone: order(6).phone } }]),
	script([{ tool: WAITS, args: { phone: order(7).phone } }]),
];

/** A manual run of the example's AI Agent and tools on the prompts, with the scripted model and two refused tools. */
function agentWorkflow(): WorkflowImport {
	const node = (name: string, type: string, typeVersion: number, parameters: Record<string, unknown>) => ({
		id: randomUUID(),
		name,
		type,
		typeVersion,
		position: [0, 0],
		parameters,
	});
	const agent = example.nodes.find((each) => each.type === '@n8n/n8n-nodes-langchain.agent')!;
	const smsTool = (name: string, credential: { id: string; name: string }, operation: string) => ({
		...node(name, TOOL_TYPE, 1, {
			resource: 'sms',
			operation,
			agentId: 'agent-sms',
			to: "={{ $fromAI('phone', 'The mobile number with country code', 'string') }}",
			statusUrl: 'https://crm.example.com/vonage/status',
			options: {},
		}),
		credentials: { vonageAiStudioApi: credential },
	});
	const tools = [
		...exampleTools,
		smsTool('Text with a wrong key', WRONG_KEY_CREDENTIAL, 'startOutboundSession'),
		smsTool('Text and wait', exampleCredential, 'startSessionAndWait'),
	];
	const nodes = [
		node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
		node('Prompts', 'n8n-nodes-base.code', 2, {
			jsCode: `return ${JSON.stringify(TURNS.map((prompt) => ({ prompt })))}.map((json) => ({ json }));`,
		}),
		{
			...agent,
			parameters: { ...(agent.parameters as object), promptType: 'define', text: '={{ $json.prompt }}' },
		},
		{
			...node('Scripted model', '@n8n/n8n-nodes-langchain.lmChatOpenAi', 1.2, {
				model: { __rl: true, mode: 'id', value: 'scripted' },
				options: {},
			}),
			credentials: { openAiApi: MODEL_CREDENTIAL },
		},
		...tools,
	];
	const toAgent = (type: string) => ({ [type]: [[{ node: agent.name, type, index: 0 }]] });
	return {
		id: 'vgaiE2eAiAgent01',
		name: 'AI Agent with Studio tools',
		nodes,
		connections: {
			Start: { main: [[{ node: 'Prompts', type: 'main', index: 0 }]] },
			Prompts: toAgent('main'),
			'Scripted model': toAgent('ai_languageModel'),
			...Object.fromEntries(tools.map((tool) => [tool.name, toAgent('ai_tool')])),
		},
		settings: { executionOrder: 'v1' },
	};
}

describe.each([DEFAULT_N8N_VERSION, NODE20_N8N_VERSION])('an AI Agent with our tools, n8n %s', (version) => {
	const stack = new Stack();
	let simulator: StudioSimulator;
	let model: ScriptedModel;
	let result: ExecutionResult;
	/** Per turn, what each tool answered the model. */
	let answers: string[][];

	beforeAll(async () => {
		simulator = await startSimulator({
			tier: TIER,
			apiKey: API_KEY,
			callbacks: false,
			latencyMs: { min: 10, max: 40 },
		});
		stack.defer('simulator', () => simulator.close());
		model = await startScriptedModel();
		stack.defer('scripted model', () => model.close());
		const home = await N8nHome.create({ version, package: await preparePackage() });
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
			{ ...MODEL_CREDENTIAL, type: 'openAiApi', data: { apiKey: 'sk-scripted', url: model.baseUrl } },
		]);
		const workflow = agentWorkflow();
		await home.importWorkflows([workflow]);
		result = await home.execute(workflow.id);
		const agentName = String(workflow.nodes.find((node) => node.type === '@n8n/n8n-nodes-langchain.agent')!.name);
		answers = outputItems(result, agentName).map((item) => toolAnswers(item.json.output));
	}, 5 * 60_000);

	afterAll(() => stack.stopAll());

	it('runs to the end: no refused call stops the workflow', () => {
		expect(result.data.resultData.error).toBeUndefined();
		expect(result.status).toBe('success');
		expect(answers).toHaveLength(TURNS.length);
	});

	it('offers the model each tool with the description written for it and the arguments it fills', () => {
		const offered = model.requests[0].tools ?? [];
		expect(offered.map((tool) => tool.function.name).sort()).toEqual([CALL, WHATSAPP, WAITS, WRONG].sort());
		const whatsApp = offered.find((tool) => tool.function.name === WHATSAPP)!.function;
		expect(whatsApp.description).toBe(startWhatsAppSession.toolDescription);
		expect(Object.keys((whatsApp.parameters as { properties: object }).properties).sort()).toEqual([
			'first_name',
			'order_id',
			'phone',
		]);
	});

	/** What one turn's calls answered, as sent items (each answer is the tool's output, one item). */
	const sent = (turn: number) =>
		answers[turn].map((answer) => (JSON.parse(answer) as Array<Record<string, unknown>>)[0]);

	it(`four calls at once at tier ${TIER}: four sessions, never two in one second, each answer saying what was sent`, () => {
		expect(sent(0).map((each) => [each.channel, each.to, each.statusCode])).toEqual([
			['whatsapp', digits(order(1).phone), 200],
			['whatsapp', digits(order(2).phone), 200],
			['whatsapp', digits(order(3).phone), 200],
			['voice', digits(order(4).phone), 200],
		]);
		const numbers = [1, 2, 3, 4].map((index) => digits(order(index).phone));
		const sessions = simulator.sessions.filter((session) => numbers.includes(String(session.body.to)));
		expect(sessions.map((session) => session.body.to).sort()).toEqual(numbers);
		expect(maxInAnyWindow(sessions.map((session) => session.arrivedAt))).toBeLessThanOrEqual(TIER);
		// A 429 is retried safely and starts nothing; on two shared cores one may come now and then.
		expect(simulator.tooManyRequests).toBeLessThanOrEqual(1);
	});

	it('the same call in another turn: one session, one answer sent and the other the same result replayed', () => {
		// The agent may run its turns side by side (n8n 2.8 does): either turn can be the one that sent.
		const both = [sent(0)[0], sent(1)[0]];
		expect(both.map((each) => each.to)).toEqual([digits(order(1).phone), digits(order(1).phone)]);
		expect(both.map((each) => each.replayed).sort()).toEqual([false, true]);
		expect(both[0].sentAt).toBe(both[1].sentAt);
		expect(simulator.sessions.filter((session) => session.body.to === digits(order(1).phone))).toHaveLength(1);
	});

	it('refused calls answer what to do, and send nothing', () => {
		const [badNumber, wrongKey, waits] = [answers[2], answers[3], answers[4]].map(
			(turn) => (JSON.parse(turn[0]) as Array<{ error: string }>)[0].error,
		);
		expect(badNumber).toBe(
			'The call was refused before sending: To "07700 900805" looks like a national number: start with the country code, e.g. +44 7700 900000 instead of 07700 900000. Nothing was sent. Call again with "phone" corrected.',
		);
		expect(wrongKey).toMatch(
			/^Vonage AI Studio rejected the API key\. Calling again will not help: tell the user that the API key in the tool's Vonage AI Studio credential in n8n was rejected\./,
		);
		expect(waits).toMatch(
			/^This tool is set to "Start Session and Wait for Status".*a tool call cannot wait\. Nothing was sent\./,
		);
		for (const index of [5, 6, 7]) {
			expect(simulator.sessions.filter((session) => session.body.to === digits(order(index).phone))).toEqual([]);
		}
		expect(JSON.stringify(answers)).not.toContain(API_KEY);
		expect(JSON.stringify(answers)).not.toContain(WRONG_KEY);
	});
});
