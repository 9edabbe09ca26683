// Runs our nodes through n8n-core's real WorkflowExecute, the way n8n runs a workflow: parameter
// resolution, expressions per item, onError shaping, Retry On Fail, pairedItem and error serialisation.
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	ICredentialsHelper,
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

const nodeTypes: INodeTypes = (() => {
	const types: Record<string, INodeType> = {
		'test.items': new TestItemsNode(),
		[STUDIO_NODE_TYPES.main]: new VonageAiStudio(),
		[STUDIO_NODE_TYPES.queue]: new QueueVonageAiStudio(),
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

export async function runStudioNode(options: RunOptions): Promise<NodeRun> {
	const workflowId = options.workflowId ?? 'wf-test';
	const executionId = options.executionId ?? `exec-${process.pid}-${++executionCounter}-${Date.now()}`;
	const mode = options.mode ?? 'manual';
	const nodes: INode[] = [
		{
			id: 'items',
			name: 'Items',
			type: 'test.items',
			typeVersion: 1,
			position: [0, 0],
			parameters: { items: JSON.stringify(options.items) },
		},
		{
			id: 'studio-node-id',
			name: NODE_NAME,
			type: STUDIO_NODE_TYPES[options.edition ?? 'main'],
			typeVersion: 1,
			position: [200, 0],
			parameters: options.parameters,
			credentials: { vonageAiStudioApi: { id: 'cred-1', name: 'Studio' } },
			onError: options.onError,
			retryOnFail: options.retryOnFail,
			maxTries: options.maxTries,
			waitBetweenTries: options.waitBetweenTries,
		},
	];
	const connections = { Items: { main: [[{ node: NODE_NAME, type: 'main' as const, index: 0 }]] } };
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
	let run: IRun;
	try {
		run = await execution;
	} finally {
		if (timer) clearTimeout(timer);
	}
	const task = run.data.resultData.runData[NODE_NAME]?.at(-1);
	if (!task) {
		const error = run.data.resultData.error;
		throw new Error(`The node did not run${error ? `: ${error.message}` : ''}`);
	}
	const outputs = (task.data?.main ?? []).map((items) => items ?? []);
	return { run, task, outputs, error: task.error };
}
