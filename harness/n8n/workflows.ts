// Hand-written n8n workflows and credentials for the e2e tests, using our nodes the way a user wires them.
import { randomUUID } from 'node:crypto';
import type { CredentialImport, WorkflowImport } from './n8n';

export const STUDIO_CREDENTIAL = { id: 'vgaiStudioSim001', name: 'Vonage AI Studio (simulator)' };
export const CALLBACK_CREDENTIAL = { id: 'vgaiCallbacks001', name: 'Vonage AI Studio callbacks (simulator)' };

export const ACTION_NODE_TYPE = 'n8n-nodes-vonage-ai-studio.vonageAiStudio';
export const TRIGGER_NODE_TYPE = 'n8n-nodes-vonage-ai-studio.vonageAiStudioTrigger';

/**
 * n8n, the simulator and jest share two cores in these tests: the lag between the gate's start and the request
 * reaching the simulator jumps by tens of milliseconds when another process takes the CPU, faster than a dozen
 * sends can teach the gate. The credential's margin sets a floor under the learnt one (docs/rate-gate.md). No e2e
 * test asserts throughput; the benchmark measures it with the margin learnt from 0.
 */
const E2E_SAFETY_MARGIN_MS = 100;

export function studioCredential(options: {
	baseUrl: string;
	apiKey: string;
	sessionsPerSecond: 1 | 3 | 5;
	redisUrl?: string;
	safetyMarginMs?: number;
	/** Main edition: n8n processes sending with this account without a shared gate (conservative mode). */
	sendingProcesses?: number;
	/** Queue edition: seconds sends wait for an unreachable Redis (the credential's default when absent). */
	redisOutageTolerance?: number;
}): CredentialImport {
	return {
		...STUDIO_CREDENTIAL,
		type: 'vonageAiStudioApi',
		data: {
			apiKey: options.apiKey,
			region: 'eu',
			sessionsPerSecond: options.sessionsPerSecond,
			baseUrl: options.baseUrl,
			redisUrl: options.redisUrl ?? '',
			safetyMarginMs: options.safetyMarginMs ?? E2E_SAFETY_MARGIN_MS,
			sendingProcesses: options.sendingProcesses ?? 1,
			...(options.redisOutageTolerance === undefined ? {} : { redisOutageTolerance: options.redisOutageTolerance }),
		},
	};
}

export function callbackCredential(options: {
	token?: string;
	signatureSecret?: string;
	redisUrl?: string;
}): CredentialImport {
	return {
		...CALLBACK_CREDENTIAL,
		type: 'vonageAiStudioCallbackApi',
		data: {
			token: options.token ?? '',
			signatureSecret: options.signatureSecret ?? '',
			redisUrl: options.redisUrl ?? '',
		},
	};
}

type Node = Record<string, unknown> & { name: string };

let position = 0;
function at(): [number, number] {
	position += 220;
	return [position, 300];
}

export function manualTrigger(name = 'Start'): Node {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: at(),
		parameters: {},
	};
}

/** A Code node running `jsCode` once for all items. */
export function codeNode(name: string, jsCode: string): Node {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position: at(),
		parameters: { jsCode },
	};
}

/** A Code node that returns the given rows as items. */
export function rowsNode(rows: Array<Record<string, unknown>>, name = 'Contacts'): Node {
	return codeNode(name, `return ${JSON.stringify(rows)}.map((json) => ({ json }));`);
}

/** A Code node that turns the list posted to a Webhook node (`{"contacts": [...]}`) into one item per contact. */
export function contactsFromWebhookNode(name = 'Contacts'): Node {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position: at(),
		parameters: { jsCode: 'return $input.first().json.body.contacts.map((json) => ({ json }));' },
	};
}

/**
 * A Webhook node (production URL /webhook/<path>), answering when the last node has finished: with its first item,
 * or with all of them (`allEntries`); or at once (`onReceived`: for a workflow that goes on to wait).
 */
export function webhookNode(
	path: string,
	name = 'Webhook',
	answer: 'lastNode' | 'allEntries' | 'onReceived' = 'lastNode',
): Node {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: at(),
		webhookId: randomUUID(),
		parameters: {
			httpMethod: 'POST',
			path,
			responseMode: answer === 'onReceived' ? 'onReceived' : 'lastNode',
			...(answer === 'allEntries' ? { responseData: answer } : {}),
			options: {},
		},
	};
}

/**
 * The action node sending a WhatsApp template session per item, reading `to`, `name`, `order` and `ref` from
 * the item: header {{1}} = name, body {{1}} = order, the reference = ref, and a session parameter ORDER.
 */
export function whatsAppNode(options: {
	statusUrl: string;
	statusUrlToken?: string;
	continueOnFail?: boolean;
	name?: string;
	agentId?: string;
	/** Where the row is inside each item's JSON, e.g. 'body' for a Webhook node's items. */
	rowPath?: string;
	/** More of the node's options (Duplicate Guard, retries...). */
	options?: Record<string, unknown>;
	/** Another Studio credential than the default one. */
	credential?: { id: string; name: string };
	idempotencyKey?: string;
}): Node {
	const field = (name: string) => `={{ $json${options.rowPath ? `.${options.rowPath}` : ''}.${name} }}`;
	return {
		id: randomUUID(),
		name: options.name ?? 'Vonage AI Studio',
		type: ACTION_NODE_TYPE,
		typeVersion: 1,
		position: at(),
		...(options.continueOnFail ? { onError: 'continueRegularOutput' } : {}),
		credentials: { vonageAiStudioApi: options.credential ?? STUDIO_CREDENTIAL },
		parameters: {
			resource: 'whatsapp',
			operation: 'startOutboundSession',
			agentId: options.agentId ?? 'agent-e2e',
			to: field('to'),
			namespace: 'ns-e2e',
			template: 'order_update',
			locale: 'en_GB',
			statusUrl: options.statusUrl,
			reference: field('ref'),
			templateParameters: 'fields',
			headerParameters: { values: [{ text: field('name') }] },
			bodyParameters: { values: [{ text: field('order') }] },
			sessionParameters: { values: [{ name: 'ORDER', value: field('order') }] },
			options: { ...(options.statusUrlToken ? { statusUrlToken: options.statusUrlToken } : {}), ...options.options },
			...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
		},
	};
}

/** The Studio body the node must send for a row read by whatsAppNode (to already in E.164 digits). */
export function expectedWhatsAppBody(row: { to: string; name: string; order: string; ref: string }, statusUrl: string) {
	return {
		namespace: 'ns-e2e',
		template: 'order_update',
		locale: 'en_GB',
		to: row.to,
		agent_id: 'agent-e2e',
		channel: 'whatsapp',
		status_url: statusUrl,
		components: [
			{ type: 'header', parameters: [{ type: 'text', text: row.name }] },
			{ type: 'body', parameters: [{ type: 'text', text: row.order }] },
		],
		session_parameters: [{ name: 'ORDER', value: row.order }],
	};
}

export function triggerNode(options: {
	authentication: 'token' | 'signature' | 'none';
	statuses: string[];
	name?: string;
}): Node {
	return {
		id: randomUUID(),
		name: options.name ?? 'Vonage AI Studio Trigger',
		type: TRIGGER_NODE_TYPE,
		typeVersion: 1.1,
		position: at(),
		webhookId: randomUUID(),
		...(options.authentication === 'none' ? {} : { credentials: { vonageAiStudioCallbackApi: CALLBACK_CREDENTIAL } }),
		parameters: { authentication: options.authentication, statuses: options.statuses, options: {} },
	};
}

/** Production URL path of a trigger node's webhook: <webhookId>/status. */
export function triggerPath(trigger: Node): string {
	return `${String(trigger.webhookId)}/status`;
}

/**
 * An HTTP Request node posting each item's JSON to `url` (a recorder), with `extra` fields added (written with
 * Object.assign: n8n 2.8's expressions do not know object spread).
 */
export function postItemNode(url: string, name = 'Record', extra: Record<string, unknown> = {}): Node {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: at(),
		parameters: {
			method: 'POST',
			url,
			sendBody: true,
			specifyBody: 'json',
			jsonBody: `={{ JSON.stringify(Object.assign(${JSON.stringify(extra)}, $json)) }}`,
			options: {},
		},
	};
}

/**
 * The action node starting a session and waiting for its status, reading `to` and `ref` from a webhook's body:
 * a WhatsApp template waiting for Read, or a call waiting for its outcome.
 */
export function waitNode(options: {
	resource: 'whatsapp' | 'voice';
	outputs: 'branches' | 'single';
	/** The time limit, or an expression giving it (e.g. from the CRM's post). */
	minutes: number | string;
	credential?: { id: string; name: string };
}): Node {
	const common = {
		agentId: 'agent-wait',
		to: '={{ $json.body.to }}',
		reference: '={{ $json.body.ref }}',
		timeLimitAmount: options.minutes,
		timeLimitUnit: 'minutes',
		waitOutputs: options.outputs,
		options: {},
	};
	return {
		id: randomUUID(),
		name: 'Start and wait',
		type: ACTION_NODE_TYPE,
		typeVersion: 1,
		position: at(),
		credentials: { vonageAiStudioApi: options.credential ?? STUDIO_CREDENTIAL },
		parameters:
			options.resource === 'whatsapp'
				? {
						resource: 'whatsapp',
						operation: 'startSessionAndWait',
						namespace: 'ns-wait',
						template: 'appointment',
						locale: 'en_GB',
						waitFor: 'read',
						templateParameters: 'fields',
						bodyParameters: { values: [{ text: '={{ $json.body.ref }}' }] },
						...common,
					}
				: { resource: 'voice', operation: 'makeCallAndWait', ...common },
	};
}

/**
 * A CRM contact posted to /webhook/<path> → the wait node → one recorder per output, each adding `branch` to what
 * it posts to the recorder.
 */
export function waitWorkflow(
	id: string,
	path: string,
	wait: Node,
	recorderUrl: string,
	branches: string[],
): WorkflowImport {
	const webhook = webhookNode(path, 'CRM contact', 'onReceived');
	const recorders = branches.map((branch) => postItemNode(recorderUrl, `Record ${branch}`, { branch }));
	return {
		id,
		name: id,
		nodes: [webhook, wait, ...recorders],
		connections: {
			[webhook.name]: { main: [[{ node: wait.name, type: 'main', index: 0 }]] },
			[wait.name]: { main: recorders.map((node) => [{ node: node.name, type: 'main', index: 0 }]) },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** The action node reading sessions (resource Session) with the given operation and parameters. */
export function sessionNode(parameters: Record<string, unknown>, name = 'Sessions'): Node {
	return {
		id: randomUUID(),
		name,
		type: ACTION_NODE_TYPE,
		typeVersion: 1,
		position: at(),
		credentials: { vonageAiStudioApi: STUDIO_CREDENTIAL },
		parameters: { resource: 'session', ...parameters },
	};
}

/** A straight line of nodes: each one's main output feeds the next. */
export function chain(id: string, name: string, nodes: Node[]): WorkflowImport {
	const connections: Record<string, unknown> = {};
	for (let index = 0; index + 1 < nodes.length; index++) {
		connections[nodes[index].name] = { main: [[{ node: nodes[index + 1].name, type: 'main', index: 0 }]] };
	}
	return { id, name, nodes, connections, settings: { executionOrder: 'v1' } };
}
