// A loopback HTTP server that hands each POST to a trigger node's webhook() the way n8n 2.x does: n8n-core's
// real WebhookContext over a real Workflow, the body read into `rawBody` and parsed like n8n's body parser for the
// node's typeVersion, and the answer written like n8n writes it. Used by the trigger's webhook tests and
// reusable by end-to-end tests (point the simulator's status_url at `harness.statusUrl(...)`).
//
// What n8n does and this harness mirrors (packages/cli/src/webhooks/webhook-helpers.ts, webhook.service.ts,
// middlewares/body-parser.ts):
// - rawBodyReader: `readRawBody()` reads the whole body into a Buffer in `req.rawBody`; it is idempotent.
// - parseRequestBody: for typeVersion 1 always, for later versions only when the Content-Type is JSON, text, form
//   or XML, n8n reads the raw body and parses it: `application/json` is parsed (a parse failure is answered 422 by
//   n8n and the node never runs), `text/plain` becomes a string, `application/x-www-form-urlencoded` an object;
//   anything else leaves `{}` (version 1). Otherwise (later versions) the body is neither read nor parsed: the node
//   sees no `rawBody` until it calls `readRawBody()`, and no body.
// - runWebhook: `new WebhookContext(workflow, node, additionalData, mode, webhookData, [], null)` and
//   `nodeType.webhook.call(context)`.
// - After webhook(): `noWebhookResponse` means the node answered; no `workflowData` means no execution and an
//   answer of 200 with `webhookResponse` (or "Webhook call received"); `workflowData` starts an execution and
//   `onReceived` answers 200 "Workflow was started". A throw is answered 500.
// Not mirrored: XML and multipart bodies, gzip/deflate request bodies, response headers options, CORS.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';

import { parseIncomingMessage, WebhookContext } from 'n8n-core';
import {
	ICredentialsHelper,
	jsonParse,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type INodeTypes,
	type IWebhookData,
	type IWebhookResponseData,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { VonageAiStudioTrigger } from '../nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';
import { withCorrelation } from '../core/statusUrl';
import { TEST_INSTANCE_URLS } from './engine';

export const TRIGGER_NODE_TYPE = 'n8n-nodes-vonage-ai-studio.vonageAiStudioTrigger';
export const TRIGGER_NODE_NAME = 'Vonage AI Studio Trigger';

/** n8n's default N8N_PAYLOAD_SIZE_MAX (16 MiB). */
const N8N_PAYLOAD_SIZE_MAX = 16 * 1024 * 1024;

export interface WebhookHarnessOptions {
	/** Default: the Vonage AI Studio Trigger. */
	nodeType?: INodeType;
	nodeTypeName?: string;
	/** The node's parameters as stored in a workflow; n8n fills in the defaults of the missing ones. */
	parameters?: INodeParameters;
	/** Default: the version n8n gives new nodes (`defaultVersion`, else the highest). */
	typeVersion?: number;
	/** Decrypted credential data by credential type; a type not given here fails like a missing credential. */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Default: a fresh id per harness, so remembered callbacks never leak between tests. */
	workflowId?: string;
	nodeId?: string;
	/** 'webhook' (production URL, the default) or 'manual' (test URL). */
	mode?: WorkflowExecuteMode;
	/** n8n refuses larger bodies before the node runs. Default 16 MiB like n8n. */
	payloadSizeMaxBytes?: number;
}

export interface HandledRequest {
	method: string;
	/** Path and query string as requested. */
	url: string;
	headers: IncomingMessage['headers'];
	rawBody: Buffer;
	/** False when n8n would have answered before the node ran (body too large or not parseable). */
	nodeRan: boolean;
	result?: IWebhookResponseData;
	error?: Error;
	statusCode: number;
	responseBody: string;
	/** The items of the execution this request started; undefined when it started none. */
	items?: INodeExecutionData[];
}

export interface WebhookHarness {
	/** e.g. http://127.0.0.1:41234/webhook/<webhookId>/status */
	url: string;
	/** The webhook URL with the action node's correlation query parameters (vgai_ref, vgai_token). */
	statusUrl(correlation?: { reference?: string; token?: string }): string;
	handled: HandledRequest[];
	/** One entry per execution started, in order: the items the trigger emitted. */
	executions: INodeExecutionData[][];
	/** The json of every emitted item, in order. */
	emitted(): IDataObject[];
	/** Changes the node's parameters for the requests that follow (like saving the workflow again). */
	setParameters(parameters: INodeParameters): void;
	setCredentials(credentials: Record<string, ICredentialDataDecryptedObject>): void;
	/** How many times a node asked n8n for a credential (each is a database read and a decryption in n8n). */
	credentialReads(): number;
	/** Resolves once `count` requests have been answered. */
	waitForHandled(count: number, timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
}

/** What n8n's credentials helper does for a node, minus the database: hand over the decrypted data. */
class HarnessCredentialsHelper extends ICredentialsHelper {
	reads = 0;

	constructor(private readonly source: () => Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(): Promise<never> {
		throw new Error('The webhook harness does not make authenticated requests');
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('The webhook harness only hands out decrypted credentials');
	}

	async getDecrypted(_additionalData: unknown, _nodeCredentials: unknown, type: string) {
		this.reads++;
		const data = this.source()[type];
		if (!data) throw new Error(`Credential of type "${type}" is not available`);
		return { ...data };
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties() {
		return [];
	}
}

/** The request shape n8n hands to nodes: node's IncomingMessage plus what express and n8n's middlewares add. */
type N8nLikeRequest = IncomingMessage & {
	/** Absent until n8n (or the node) calls `readRawBody()`. */
	rawBody?: Buffer;
	readRawBody: () => Promise<void>;
	_body: boolean;
	body: unknown;
	query: Record<string, string | string[]>;
	params: Record<string, string>;
};

class BodyRefusal extends Error {
	constructor(
		readonly statusCode: number,
		readonly body: IDataObject,
	) {
		super(String(body.message));
	}
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > limit) throw new BodyRefusal(413, { code: 413, message: 'request entity too large' });
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

/** The Content-Types n8n parses for webhook nodes of a version later than 1. */
function isParsableContentType(contentType: string | undefined) {
	if (!contentType) return false;
	return (
		['application/json', 'text/plain', 'application/x-www-form-urlencoded'].some((type) =>
			contentType.startsWith(type),
		) ||
		contentType.endsWith('/xml') ||
		contentType.endsWith('+xml')
	);
}

/** n8n's parseBody (XML aside), run once the raw body is read. */
function parseLikeN8n(req: N8nLikeRequest) {
	const { rawBody, contentType } = req;
	const encoding = (req.encoding ?? 'utf-8') as BufferEncoding;
	if (rawBody && rawBody.length > 0) {
		if (contentType === 'application/json') {
			try {
				req.body = jsonParse(rawBody.toString(encoding));
			} catch (error) {
				throw new BodyRefusal(422, {
					code: 422,
					message: 'Failed to parse request body',
					hint: (error as Error).message,
				});
			}
		} else if (contentType === 'application/x-www-form-urlencoded') {
			req.body = parseQueryString(rawBody.toString(encoding), undefined, undefined, { maxKeys: 1000 });
		} else if (contentType === 'text/plain') {
			req.body = rawBody.toString(encoding);
		}
	}
	if (!req.body) req.body = {};
}

function queryOf(url: URL): Record<string, string | string[]> {
	const query: Record<string, string | string[]> = {};
	for (const key of new Set(url.searchParams.keys())) {
		const values = url.searchParams.getAll(key);
		query[key] = values.length === 1 ? values[0] : values;
	}
	return query;
}

function answer(res: ServerResponse, statusCode: number, body: unknown) {
	if (res.headersSent) return;
	res.writeHead(statusCode, { 'Content-Type': 'application/json; charset=utf-8' });
	res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Collects what was written to the response, so tests can read what the caller got. */
function recordResponse(res: ServerResponse): () => string {
	const chunks: Buffer[] = [];
	const originalEnd = res.end.bind(res);
	res.end = ((chunk?: unknown, ...rest: unknown[]) => {
		if (chunk !== undefined && typeof chunk !== 'function') {
			chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
		}
		return (originalEnd as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
	}) as ServerResponse['end'];
	return () => Buffer.concat(chunks).toString('utf8');
}

let harnessCounter = 0;

export async function startWebhookHarness(options: WebhookHarnessOptions = {}): Promise<WebhookHarness> {
	const nodeType = options.nodeType ?? new VonageAiStudioTrigger();
	const nodeTypeName = options.nodeTypeName ?? TRIGGER_NODE_TYPE;
	const workflowId = options.workflowId ?? `wf-harness-${process.pid}-${++harnessCounter}-${Date.now()}`;
	const nodeId = options.nodeId ?? 'trigger-node-id';
	const webhookId = `hook-${harnessCounter}`;
	const mode = options.mode ?? 'webhook';
	const payloadSizeMax = options.payloadSizeMaxBytes ?? N8N_PAYLOAD_SIZE_MAX;
	const { version, defaultVersion } = nodeType.description;
	const typeVersion =
		options.typeVersion ?? defaultVersion ?? (Array.isArray(version) ? Math.max(...version) : version);
	let parameters = options.parameters ?? {};
	let credentials = options.credentials ?? {};

	const nodeTypes: INodeTypes = {
		getByName: () => nodeType,
		getByNameAndVersion: (_name, version) => NodeHelpers.getVersionedNodeType(nodeType, version),
		getKnownTypes: () => ({}),
	};
	const credentialsHelper = new HarnessCredentialsHelper(() => credentials);
	const webhookDescription = nodeType.description.webhooks?.find((webhook) => webhook.name === 'default');
	if (!webhookDescription) throw new Error('The node type has no default webhook');

	const handled: HandledRequest[] = [];
	const executions: INodeExecutionData[][] = [];
	const waiters = new Set<() => void>();
	const notify = () => waiters.forEach((wake) => wake());

	async function handle(req: IncomingMessage, res: ServerResponse, record: HandledRequest) {
		const request = req as N8nLikeRequest;
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		parseIncomingMessage(request);
		// Read here in every case, so the size limit applies and the test can see the bytes; handed to the node
		// only once n8n would have read them.
		const bytes = await readBody(req, payloadSizeMax);
		record.rawBody = bytes;
		request.readRawBody = async () => {
			request.rawBody = bytes;
			request._body = true;
		};
		request.query = queryOf(url);
		request.params = {};
		if (typeVersion === 1 || isParsableContentType(request.contentType)) {
			await request.readRawBody();
			parseLikeN8n(request);
		}

		// A workflow as n8n builds it from storage: missing parameters get their defaults here.
		const node: INode = {
			id: nodeId,
			name: TRIGGER_NODE_NAME,
			type: nodeTypeName,
			typeVersion,
			position: [0, 0],
			webhookId,
			parameters,
			credentials: Object.fromEntries(
				(nodeType.description.credentials ?? []).map(({ name }) => [name, { id: `cred-${name}`, name }]),
			),
		};
		const workflow = new Workflow({
			id: workflowId,
			name: 'webhook harness',
			nodes: [node],
			connections: {},
			active: true,
			nodeTypes,
			staticData: {},
			settings: { executionOrder: 'v1' },
		});
		const additionalData = {
			credentialsHelper,
			httpRequest: request,
			httpResponse: res,
			...TEST_INSTANCE_URLS,
			variables: {},
		} as unknown as IWorkflowExecuteAdditionalData;
		const webhookData: IWebhookData = {
			httpMethod: 'POST',
			node: node.name,
			path: `${webhookId}/${String(webhookDescription!.path)}`,
			webhookDescription: webhookDescription!,
			workflowId,
			webhookId,
			workflowExecuteAdditionalData: additionalData,
		};

		const workflowNode = workflow.getNode(node.name)!;
		const context = new WebhookContext(workflow, workflowNode, additionalData, mode, webhookData, [], null);
		record.nodeRan = true;
		let result: IWebhookResponseData;
		try {
			result = (await nodeType.webhook!.call(context)) as IWebhookResponseData;
		} catch (error) {
			record.error = error as Error;
			// n8n answers this and records a failed execution; it never emits the trigger's items.
			answer(res, 500, { code: 0, message: 'Workflow Webhook Error: Workflow could not be started!' });
			return;
		}
		record.result = result;
		if (result.noWebhookResponse === true) {
			if (!res.writableEnded) {
				record.error = new Error('webhook() returned noWebhookResponse without answering the request');
				answer(res, 500, { message: record.error.message });
			}
			return;
		}
		if (result.workflowData === undefined) {
			answer(
				res,
				200,
				result.webhookResponse !== undefined ? result.webhookResponse : { message: 'Webhook call received' },
			);
			return;
		}
		record.items = result.workflowData[0] ?? [];
		executions.push(record.items);
		answer(
			res,
			200,
			result.webhookResponse !== undefined ? result.webhookResponse : { message: 'Workflow was started' },
		);
	}

	const server: Server = createServer((req, res) => {
		const written = recordResponse(res);
		const record: HandledRequest = {
			method: req.method ?? '',
			url: req.url ?? '',
			headers: req.headers,
			rawBody: Buffer.alloc(0),
			nodeRan: false,
			statusCode: 0,
			responseBody: '',
		};
		res.on('finish', () => {
			record.statusCode = res.statusCode;
			record.responseBody = written();
			handled.push(record);
			notify();
		});
		handle(req, res, record).catch((error: unknown) => {
			if (error instanceof BodyRefusal) answer(res, error.statusCode, error.body);
			else {
				record.error = error as Error;
				answer(res, 500, { message: (error as Error).message });
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const url = `${base}/webhook/${webhookId}/${String(webhookDescription.path)}`;

	return {
		url,
		statusUrl: (correlation = {}) => withCorrelation(url, correlation),
		handled,
		executions,
		emitted: () => executions.flat().map((item) => item.json),
		setParameters: (next) => {
			parameters = next;
		},
		setCredentials: (next) => {
			credentials = next;
		},
		credentialReads: () => credentialsHelper.reads,
		waitForHandled: (count, timeoutMs = 10_000) =>
			new Promise<void>((resolve, reject) => {
				const check = () => {
					if (handled.length < count) return;
					waiters.delete(check);
					clearTimeout(timer);
					resolve();
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`Timed out waiting for ${count} webhook requests; ${handled.length} arrived`));
				}, timeoutMs);
				waiters.add(check);
				check();
			}),
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
