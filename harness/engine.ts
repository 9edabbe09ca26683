// Runs our nodes through n8n-core's real WorkflowExecute, the way n8n runs a workflow: parameter
// resolution, expressions per item, onError shaping, Retry On Fail, pairedItem and error serialisation.
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	ICredentialsHelper,
	NodeConnectionTypes,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialsExpressionResolveValues,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type INodeTypes,
	type IRun,
	type ITaskData,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { VonageAiStudioApi } from '../credentials/VonageAiStudioApi.credentials';
import { NODE_NAMES, PACKAGES } from '../core/studioApi';
import { mainEdition } from '../editions/main';
import { queueEdition } from '../editions/queue';
import { VonageAiStudio } from '../nodes/VonageAiStudio/VonageAiStudio.node';
import { VonageAiStudio as QueueVonageAiStudio } from '../queue/nodes/VonageAiStudio/VonageAiStudio.node';

/** The node type of the action node in each package. */
export const STUDIO_NODE_TYPES = {
	main: `${PACKAGES.main}.${NODE_NAMES.action}`,
	queue: `${PACKAGES.queue}.${NODE_NAMES.action}`,
} as const;

/** The tool variant n8n generates for the action node of each package ("<type>Tool"). */
export const STUDIO_TOOL_TYPES = {
	main: `${STUDIO_NODE_TYPES.main}Tool`,
	queue: `${STUDIO_NODE_TYPES.queue}Tool`,
} as const;

/**
 * The "<name>Tool" type n8n builds from a node with `usableAsTool` (n8n/dist/tool-generation/ai-tools.js, the same in
 * n8n 2.8 and 2.41): the node's own execute() and properties under a name ending in Tool, no main input, one ai_tool
 * output. n8n would add a Tool Description field when the node has none; ours has its own (tool.test.ts checks it).
 * The MCP e2e test runs n8n's real conversion.
 */
export function toolVariant(node: INodeType): INodeType {
	const description = node.description;
	const variant = Object.create(node) as INodeType;
	variant.description = {
		...description,
		name: `${description.name}Tool`,
		displayName: `${description.displayName} Tool`,
		inputs: [],
		outputs: [NodeConnectionTypes.AiTool],
		usableAsTool: undefined,
	};
	return variant;
}

/** Forgets every gate, ledger and connection both editions keep for the process (between tests). */
export async function resetNodeState(): Promise<void> {
	await mainEdition.closeAll();
	await queueEdition.closeAll();
}

/** A start node that emits the items given in its `items` parameter (stands in for a trigger or a sheet). */
class TestItemsNode implements INodeType {
	description = {
		displayName: 'Test Items',
		name: 'testItems',
		group: ['input'],
		version: 1,
		description: 'Emits fixed items',
		defaults: { name: 'Items' },
		inputs: [],
		outputs: ['main'],
		properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const raw = this.getNodeParameter('items', 0) as string;
		const items = JSON.parse(raw) as IDataObject[];
		return [items.map((json, index) => ({ json, pairedItem: { item: index } }))];
	}
}

/** What a test reads of a tool n8n hands to an agent (a LangChain structured tool). */
interface AgentTool {
	name: string;
	description: string;
	schema: { shape?: Record<string, { description?: string }> };
	invoke(args: IDataObject): Promise<unknown>;
}

/**
 * Stands in for an AI Agent or an MCP Server Trigger: takes the tool connected to it the way they do (n8n-core's
 * getInputConnectionData, which wraps a `usableAsTool` node with createNodeAsTool) and makes the calls in its Calls
 * parameter all at once, as a model asking for several tool calls in one turn. Its first item describes the tool;
 * then one item per call: the text the tool answered, or the message it failed with.
 */
class TestAgentNode implements INodeType {
	description = {
		displayName: 'Test Agent',
		name: 'testAgent',
		group: ['transform'],
		version: 1,
		description: 'Calls its tool',
		defaults: { name: 'Agent' },
		inputs: ['main', { type: 'ai_tool', displayName: 'Tools' }],
		outputs: ['main'],
		properties: [{ displayName: 'Calls', name: 'calls', type: 'json', default: '[]' }],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const calls = JSON.parse(this.getNodeParameter('calls', 0) as string) as IDataObject[];
		const tools = (await this.getInputConnectionData(NodeConnectionTypes.AiTool, 0)) as AgentTool[];
		const [tool] = tools;
		const argumentsOf = Object.fromEntries(
			Object.entries(tool.schema.shape ?? {}).map(([name, each]) => [name, each.description ?? '']),
		);
		const answers = await Promise.all(
			calls.map(async (args): Promise<IDataObject> => {
				try {
					return { answer: String(await tool.invoke(args)) };
				} catch (error) {
					return { failed: (error as Error).message };
				}
			}),
		);
		const described = { tools: tools.length, name: tool.name, description: tool.description, arguments: argumentsOf };
		return [[described, ...answers].map((json) => ({ json, pairedItem: { item: 0 } }))];
	}
}

const nodeTypes: INodeTypes = (() => {
	const types: Record<string, INodeType> = {
		'test.items': new TestItemsNode(),
		'test.agent': new TestAgentNode(),
		[STUDIO_NODE_TYPES.main]: new VonageAiStudio(),
		[STUDIO_NODE_TYPES.queue]: new QueueVonageAiStudio(),
		[STUDIO_TOOL_TYPES.main]: toolVariant(new VonageAiStudio()),
		[STUDIO_TOOL_TYPES.queue]: toolVariant(new QueueVonageAiStudio()),
	};
	return {
		getByName: (name: string) => types[name],
		getByNameAndVersion: (name: string, version?: number) => NodeHelpers.getVersionedNodeType(types[name], version),
		getKnownTypes: () => ({}),
	};
})();

/** Hands the node its credential and applies the credential's own generic `authenticate` block. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		if (typeName !== 'vonageAiStudioApi') return requestOptions;
		const { authenticate } = new VonageAiStudioApi();
		const headers = { ...(requestOptions.headers ?? {}) } as IDataObject;
		for (const [name, expression] of Object.entries(authenticate.properties.headers ?? {})) {
			headers[name] = workflow.expression.getSimpleParameterValue(node, expression as string, 'internal', {
				$credentials: credentials,
			} as never) as string;
		}
		return { ...requestOptions, headers };
	}

	async preAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used in tests');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		_mode?: WorkflowExecuteMode,
		_executeData?: unknown,
		_raw?: boolean,
		_expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const found = this.data[type];
		if (!found) throw new Error(`No test credential of type ${type}`);
		return found;
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties() {
		return [];
	}
}

export interface RunOptions {
	/** Parameters of the Vonage AI Studio node. */
	parameters: INodeParameters;
	items: IDataObject[];
	credentials: ICredentialDataDecryptedObject;
	onError?: INode['onError'];
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
	workflowId?: string;
	executionId?: string;
	mode?: WorkflowExecuteMode;
	/** Cancel the execution (like the Stop button) after this many ms. */
	cancelAfterMs?: number;
	/** Which package's node runs: the main one (n8n's HTTP helpers) unless the test needs the queue edition. */
	edition?: 'main' | 'queue';
}

export interface NodeRun {
	run: IRun;
	task: ITaskData;
	/** Items per output (0 = success, 1 = error output when onError is continueErrorOutput). */
	outputs: INodeExecutionData[][];
	/** The node's error as n8n stores it in the run data, when the node failed. */
	error?: ITaskData['error'];
}

export const NODE_NAME = 'Vonage AI Studio';

/** The instance URLs n8n's additional data must carry (empty strings crash the engine); nothing listens there. */
export const TEST_INSTANCE_URLS = {
	restApiUrl: 'http://127.0.0.1:5678/rest',
	instanceBaseUrl: 'http://127.0.0.1:5678/',
	formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
	webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
	webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
	webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
};
let executionCounter = 0;

/** Runs a workflow of test nodes and ours to the end, as n8n's engine does, with the test credential. */
async function runWorkflow(
	nodes: INode[],
	connections: IWorkflowBase['connections'],
	options: Pick<RunOptions, 'credentials' | 'workflowId' | 'executionId' | 'mode' | 'cancelAfterMs'>,
): Promise<IRun> {
	const workflowId = options.workflowId ?? 'wf-test';
	const executionId = options.executionId ?? `exec-${process.pid}-${++executionCounter}-${Date.now()}`;
	const mode = options.mode ?? 'manual';
	const workflow = new Workflow({
		id: workflowId,
		name: 'test',
		nodes,
		connections,
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});
	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: 'test',
		active: false,
		isArchived: false,
		nodes,
		connections,
		createdAt: new Date(),
		updatedAt: new Date(),
		activeVersionId: null,
	} as unknown as IWorkflowBase;
	const additionalData = {
		credentialsHelper: new TestCredentialsHelper({ vonageAiStudioApi: options.credentials }),
		hooks: new ExecutionLifecycleHooks(mode, executionId, workflowData),
		executionId,
		currentNodeExecutionIndex: 0,
		...TEST_INSTANCE_URLS,
		variables: {},
		executeWorkflow: async () => {
			throw new Error('not used');
		},
		getRunExecutionData: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('not used');
		},
	} as unknown as IWorkflowExecuteAdditionalData;

	const execution = new WorkflowExecute(additionalData, mode).run({ workflow, startNode: nodes[0] });
	let timer: NodeJS.Timeout | undefined;
	if (options.cancelAfterMs !== undefined) timer = setTimeout(() => execution.cancel(), options.cancelAfterMs);
	try {
		return await execution;
	} finally {
		if (timer) clearTimeout(timer);
	}
}

/** Our node as a workflow holds it. */
function studioNode(
	options: Pick<RunOptions, 'parameters' | 'onError' | 'retryOnFail' | 'maxTries' | 'waitBetweenTries' | 'edition'>,
	type: string,
): INode {
	return {
		id: 'studio-node-id',
		name: NODE_NAME,
		type,
		typeVersion: 1,
		position: [200, 0],
		parameters: options.parameters,
		credentials: { vonageAiStudioApi: { id: 'cred-1', name: 'Studio' } },
		onError: options.onError,
		retryOnFail: options.retryOnFail,
		maxTries: options.maxTries,
		waitBetweenTries: options.waitBetweenTries,
	};
}

function itemsNode(items: IDataObject[]): INode {
	return {
		id: 'items',
		name: 'Items',
		type: 'test.items',
		typeVersion: 1,
		position: [0, 0],
		parameters: { items: JSON.stringify(items) },
	};
}

/**
 * Runs the action node on the items. With `asTool`, its tool variant runs as a node of the execution, as an AI Agent
 * 3 has n8n's engine run the tools it calls (the call's arguments are the item).
 */
export async function runStudioNode(options: RunOptions & { asTool?: boolean }): Promise<NodeRun> {
	const edition = options.edition ?? 'main';
	const type = options.asTool ? STUDIO_TOOL_TYPES[edition] : STUDIO_NODE_TYPES[edition];
	const nodes = [itemsNode(options.items), studioNode(options, type)];
	const connections = { Items: { main: [[{ node: NODE_NAME, type: 'main' as const, index: 0 }]] } };
	const run = await runWorkflow(nodes, connections, options);
	const task = run.data.resultData.runData[NODE_NAME]?.at(-1);
	if (!task) {
		const error = run.data.resultData.error;
		throw new Error(`The node did not run${error ? `: ${error.message}` : ''}`);
	}
	const outputs = (task.data?.main ?? []).map((items) => items ?? []);
	return { run, task, outputs, error: task.error };
}

export interface ToolRun {
	run: IRun;
	/** The tool as the agent got it: its name, its description, and the arguments a model fills (with descriptions). */
	tool: { tools: number; name: string; description: string; arguments: Record<string, string> };
	/** Per call, in the order given: the text the tool answered, or the message it failed with. */
	answers: Array<{ answer?: string; failed?: string }>;
}

/**
 * The action node's tool variant connected to an agent that makes `calls` at once (each call's arguments fill the
 * node's $fromAI() fields), the way an MCP Server Trigger and AI Agents before version 3 run a tool: n8n-core's
 * createNodeAsTool calls the node's execute() once per call with a context for the tool connection.
 */
export async function runStudioTool(
	options: Omit<RunOptions, 'items' | 'cancelAfterMs'> & { calls: IDataObject[] },
): Promise<ToolRun> {
	const agent: INode = {
		id: 'agent',
		name: 'Agent',
		type: 'test.agent',
		typeVersion: 1,
		position: [200, -200],
		parameters: { calls: JSON.stringify(options.calls) },
	};
	const nodes = [itemsNode([{}]), agent, studioNode(options, STUDIO_TOOL_TYPES[options.edition ?? 'main'])];
	const connections = {
		Items: { main: [[{ node: agent.name, type: 'main' as const, index: 0 }]] },
		[NODE_NAME]: { ai_tool: [[{ node: agent.name, type: 'ai_tool' as const, index: 0 }]] },
	};
	const run = await runWorkflow(nodes, connections, options);
	const task = run.data.resultData.runData[agent.name]?.at(-1);
	const items = (task?.data?.main?.[0] ?? []).map((item) => item.json);
	if (!task || task.error || items.length === 0) {
		const error = task?.error ?? run.data.resultData.error;
		throw new Error(`The agent did not run${error ? `: ${error.message}` : ''}`);
	}
	const [described, ...answers] = items;
	return { run, tool: described as unknown as ToolRun['tool'], answers: answers as ToolRun['answers'] };
}
