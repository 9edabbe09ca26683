// The webhook Studio posts delivery statuses to. Thin: reads the parameters and the request, lets callback.ts
// decide, and answers. Every refusal is answered here and starts no execution.
import {
	NodeConnectionTypes,
	type ICredentialTestFunctions,
	type ICredentialsDecrypted,
	type IDataObject,
	type IHookFunctions,
	type INodeCredentialTestResult,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import {
	ALL_STATUSES,
	DEFAULT_DEDUPE_WINDOW_MS,
	DEFAULT_MAX_BODY_BYTES,
	DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
	checkCallbackSecrets,
	decideCallback,
	dedupeKey,
	publicMessage,
	sharedDeduper,
	type AuthenticationMode,
	type CallbackOutcome,
	type Refusal,
} from './callback';
import { sharedSecretsCache, type ReadSecrets } from './secretsCache';
import { claimFirstSighting } from './sharedRepeats';
import { getSharedRedisClient, redisProblem } from '../shared/redisRateGate';

interface CallbackCredential {
	token?: string;
	signatureSecret?: string;
	redisUrl?: string;
}

interface TriggerOptions {
	signatureToleranceSeconds?: number;
	maxBodySizeKb?: number;
}

/** The parts of n8n's request object the trigger reads. n8n 2.x keeps the received bytes in `rawBody`. */
interface CallbackHttpRequest {
	rawBody?: unknown;
	readRawBody?: () => Promise<void>;
}

/** The parts of the response object used to refuse: plain node:http methods, present on express's too. */
interface CallbackHttpResponse {
	writeHead(statusCode: number, headers: Record<string, string>): unknown;
	end(body: string): unknown;
}

const CALLBACK_CREDENTIAL_TYPE = 'vonageAiStudioCallbackApi';

/**
 * The bytes exactly as received. n8n reads the whole body into `rawBody` before `webhook()` runs when it parses
 * it (always at version 1; from 1.1 on only for JSON, text, form and XML content types); if it has not,
 * `readRawBody()` reads it. A re-serialisation of the parsed body is only the last resort: it is not what Vonage
 * signed, so signature checks refuse it, as they should.
 */
async function receivedBytes(request: CallbackHttpRequest, parsedBody: unknown): Promise<Buffer> {
	if (!Buffer.isBuffer(request.rawBody) && typeof request.readRawBody === 'function') {
		await request.readRawBody();
	}
	if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
	return Buffer.from(typeof parsedBody === 'string' ? parsedBody : JSON.stringify(parsedBody ?? {}), 'utf8');
}

/**
 * The credential's secrets, reused for a few seconds (see secretsCache.ts) per workflow, node and credential, so
 * choosing another credential in the node takes effect at once. Test URL requests always read them afresh.
 * Throws when the credential cannot be read; nothing that failed is reused.
 */
async function readSecrets(context: IWebhookFunctions): Promise<ReadSecrets<CallbackCredential>> {
	const read = () => context.getCredentials<CallbackCredential>(CALLBACK_CREDENTIAL_TYPE);
	const key = secretsKey(context);
	if (key === undefined) return { secrets: await read(), reused: false };
	return await sharedSecretsCache<CallbackCredential>().get(key, read);
}

function forgetSecrets(context: IWebhookFunctions) {
	const key = secretsKey(context);
	if (key !== undefined) sharedSecretsCache<CallbackCredential>().forget(key);
}

/** This trigger node in its workflow: what the repeat memory and the kept secrets are scoped to. */
function nodeScope(context: IWebhookFunctions): string {
	return `${context.getWorkflow().id ?? 'unsaved'}/${context.getNode().id}`;
}

/** Undefined when the secrets must not be reused: a test URL request, or no credential chosen in the node. */
function secretsKey(context: IWebhookFunctions): string | undefined {
	const credentialId = context.getNode().credentials?.[CALLBACK_CREDENTIAL_TYPE]?.id;
	if (!credentialId || context.getMode() === 'manual') return undefined;
	return `${nodeScope(context)}/${credentialId}`;
}

const unreadableCredential = (error: unknown): Refusal => ({
	ok: false,
	statusCode: 401,
	reason: `the credential could not be read: ${(error as Error).message}`,
});

/** Writes the refusal itself; `noWebhookResponse` tells n8n the answer is sent and no execution starts. */
function refuse(context: IWebhookFunctions, refusal: Refusal): IWebhookResponseData {
	// 401s are logged as warnings: a wrong token or secret is the usual reason nothing starts.
	const message = `Vonage AI Studio Trigger refused a callback (${refusal.statusCode}): ${refusal.reason}`;
	const meta = { node: context.getNode().name };
	if (refusal.statusCode === 401) context.logger.warn(message, meta);
	else context.logger.debug(message, meta);
	const response = context.getResponseObject() as unknown as CallbackHttpResponse;
	response.writeHead(refusal.statusCode, { 'Content-Type': 'application/json; charset=utf-8' });
	response.end(JSON.stringify({ message: publicMessage(refusal) }));
	return { noWebhookResponse: true };
}

/**
 * An accepted callback this process had not seen may still be a repeat another n8n process received: with a Redis
 * URL in the credential, the first sighting is claimed there. Redis failing lets the callback through (logged): a
 * repeat is better than a lost status, and statusRank and the action node's idempotency key handle repeats.
 */
async function checkOtherProcesses(
	context: IWebhookFunctions,
	outcome: CallbackOutcome,
	redisUrl: string | undefined,
	scope: string,
	windowMs: number,
): Promise<CallbackOutcome> {
	const url = redisUrl?.trim();
	if (outcome.kind !== 'accepted' || !url) return outcome;
	const key = dedupeKey(outcome.callback);
	if (key === undefined) return outcome;
	try {
		const first = await claimFirstSighting(getSharedRedisClient(url), scope, key, windowMs);
		return first ? outcome : { kind: 'ignored', reason: 'duplicate', callback: outcome.callback };
	} catch (error) {
		context.logger.warn(
			`Vonage AI Studio Trigger could not reach the shared repeat memory in Redis (${(error as Error).message}); the callback is let through`,
			{ node: context.getNode().name },
		);
		return outcome;
	}
}

/** Turns the decision into n8n's answer: a refusal, a 200 that starts nothing, or the item of a new execution. */
function respond(context: IWebhookFunctions, outcome: CallbackOutcome): IWebhookResponseData {
	switch (outcome.kind) {
		case 'refused':
			return refuse(context, outcome.refusal);
		case 'ignored':
			// No workflowData: n8n answers 200 with this body and starts no execution, so Vonage does not retry.
			return {
				webhookResponse: {
					message:
						outcome.reason === 'duplicate'
							? 'Callback received: a repeat, ignored'
							: `Callback received: status "${outcome.callback.status}" is not selected, ignored`,
				},
			};
		case 'accepted':
			return { workflowData: [context.helpers.returnJsonArray(outcome.callback as unknown as IDataObject)] };
	}
}

export class VonageAiStudioTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Vonage AI Studio Trigger',
		name: 'vonageAiStudioTrigger',
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves exactly like 1. For every request to a webhook node of version 1, n8n evaluates an expression
		// (its Webhook node's "binaryData" option), which needs an expression isolate; from 1.1 on it does not. Where
		// n8n creates isolates only on demand (N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true) that triples the callbacks per
		// second (README, Benchmark). Version 1 stays listed so saved workflows keep loading; new nodes get 1.1.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{ $parameter["statuses"].includes("*") ? "All statuses" : $parameter["statuses"].join(", ") }}',
		description: 'Starts the workflow when Vonage AI Studio posts a delivery status to the status URL of a session',
		defaults: {
			name: 'Vonage AI Studio Trigger',
		},
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'vonageAiStudioCallbackApi',
				required: true,
				testedBy: 'vonageAiStudioCallbackSecrets',
				displayOptions: {
					show: {
						authentication: ['token', 'signature'],
					},
				},
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'status',
			},
		],
		properties: [
			{
				displayName:
					"Use this node's Production URL as the Status URL of the Vonage AI Studio node. Its Reference option comes back here as the reference field.",
				name: 'setupNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Authentication',
				name: 'authentication',
				type: 'options',
				options: [
					{
						name: 'Secret Token in Status URL',
						value: 'token',
						description:
							"The status URL carries vgai_token. Set the same secret in the credential and in the Vonage AI Studio node's Status URL Token option.",
					},
					{
						name: 'Vonage Signed Callbacks',
						value: 'signature',
						description:
							'Callbacks carry an Authorization: Bearer JWT signed with your Vonage signature secret',
					},
					{
						name: 'None',
						value: 'none',
						description: 'Accept every callback. Anyone who knows the URL can start the workflow.',
					},
				],
				default: 'token',
				description: 'How the trigger tells a real Studio callback from a forged one. Failed checks get 401.',
			},
			{
				displayName:
					'Without authentication anyone who learns this URL can start the workflow with made-up statuses. Use a secret token or signed callbacks in production.',
				name: 'noAuthenticationWarning',
				type: 'notice',
				default: '',
				displayOptions: {
					show: {
						authentication: ['none'],
					},
				},
			},
			{
				displayName:
					'Vonage documents signing for Messages API callbacks, not whether Studio signs the ones it forwards. If every callback gets 401, use the secret token instead.',
				name: 'signatureNotice',
				type: 'notice',
				default: '',
				displayOptions: {
					show: {
						authentication: ['signature'],
					},
				},
			},
			{
				displayName: 'Statuses',
				name: 'statuses',
				type: 'multiOptions',
				options: [
					{
						name: 'All Statuses',
						value: ALL_STATUSES,
						description: 'Every status, including ones not listed here',
					},
					{ name: 'Busy (Call)', value: 'busy', description: 'The called number was busy' },
					{ name: 'Cancelled (Call)', value: 'cancelled', description: 'The call was cancelled before it was answered' },
					{ name: 'Delivered', value: 'delivered', description: 'The message reached the phone' },
					{ name: 'Failed (Call)', value: 'failed', description: 'The call could not be connected' },
					{ name: 'Read', value: 'read', description: 'The recipient opened the message' },
					{
						name: 'Rejected',
						value: 'rejected',
						description: 'Vonage or the carrier refused the message, or the callee rejected the call',
					},
					{ name: 'Submitted', value: 'submitted', description: 'The message left Vonage for the carrier' },
					{ name: 'Timeout (Call)', value: 'timeout', description: 'Nobody answered the call in time' },
					{ name: 'Unanswered (Call)', value: 'unanswered', description: 'The call was not answered' },
					{ name: 'Undeliverable', value: 'undeliverable', description: 'The message could not be delivered' },
				],
				default: [ALL_STATUSES],
				description:
					'Which statuses start the workflow. Others are answered 200 and start nothing.',
			},
			{
				displayName: 'Drop Repeated Callbacks',
				name: 'dropRepeats',
				type: 'boolean',
				default: true,
				description:
					'Whether to ignore a callback with the same message UUID and status as one received within the window. Studio may post a status more than once.',
			},
			{
				displayName: 'Repeat Window (Minutes)',
				name: 'repeatWindowMinutes',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_DEDUPE_WINDOW_MS / 60_000,
				description: 'How long a status is remembered. Counted from the first time it arrived.',
				displayOptions: {
					show: {
						dropRepeats: [true],
					},
				},
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Max Body Size (KB)',
						name: 'maxBodySizeKb',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: DEFAULT_MAX_BODY_BYTES / 1024,
						description: 'Larger callbacks are refused with 413. Studio callbacks are well under 4 KB.',
					},
					{
						displayName: 'Signature Tolerance (Seconds)',
						name: 'signatureToleranceSeconds',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
						description:
							'How far the signed issue time (iat) may be from the clock of this n8n, in either direction',
						displayOptions: {
							show: {
								'/authentication': ['signature'],
							},
						},
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			// The secrets contact nothing, so saving checks that they are usable, and that the Redis answers if set.
			async vonageAiStudioCallbackSecrets(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const data = credential.data ?? {};
				const problem = checkCallbackSecrets(data);
				if (problem) return { status: 'Error', message: problem };
				const redisUrl = typeof data.redisUrl === 'string' ? data.redisUrl.trim() : '';
				const unreachable = redisUrl ? await redisProblem(redisUrl) : undefined;
				if (unreachable) {
					return {
						status: 'Error',
						message: `The secrets are usable, but the Shared Repeat Memory Redis URL does not work: ${unreachable}. Callbacks would still be let through, without recognising repeats across processes.`,
					};
				}
				return { status: 'OK', message: 'The secrets are usable; they are checked when callbacks arrive' };
			},
		},
	};

	// Studio keeps no webhook registry: the status URL travels with each send, so there is nothing to create,
	// find or delete on activation.
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const authentication = this.getNodeParameter('authentication', 'token') as AuthenticationMode;
		const statuses = this.getNodeParameter('statuses', [ALL_STATUSES]) as string[];
		const dropRepeats = this.getNodeParameter('dropRepeats', true) as boolean;
		const options = this.getNodeParameter('options', {}) as TriggerOptions;

		const request = this.getRequestObject() as unknown as CallbackHttpRequest;
		const rawBody = await receivedBytes(request, this.getBodyData());
		const repeatScope = nodeScope(this);
		const repeatWindowMs = (this.getNodeParameter('repeatWindowMinutes', 10) as number) * 60_000;
		const deduper = dropRepeats ? sharedDeduper(repeatScope, { windowMs: repeatWindowMs }) : undefined;
		const decide = (secrets: CallbackCredential): CallbackOutcome =>
			decideCallback(
				{
					rawBody,
					headers: this.getHeaderData(),
					query: this.getQueryData() as Record<string, unknown>,
				},
				{
					authentication,
					token: secrets.token,
					signatureSecret: secrets.signatureSecret,
					toleranceSeconds: options.signatureToleranceSeconds,
					maxBodyBytes: options.maxBodySizeKb !== undefined ? options.maxBodySizeKb * 1024 : undefined,
					statuses,
					deduper,
				},
			);

		if (authentication === 'none') return respond(this, decide({}));

		// Fail closed: without the secrets nothing can be verified.
		let read: ReadSecrets<CallbackCredential>;
		try {
			read = await readSecrets(this);
		} catch (error) {
			return refuse(this, unreadableCredential(error));
		}
		let outcome = decide(read.secrets);
		if (outcome.kind === 'refused' && outcome.refusal.statusCode === 401 && read.reused) {
			// The secrets may have changed since they were read: a new token or secret works at once, and a
			// credential that is gone refuses. A refusal changed nothing (not even the repeat memory), so deciding
			// again is safe. Forged callbacks cost one credential read each, as they did without the cache.
			forgetSecrets(this);
			try {
				read = await readSecrets(this);
			} catch (error) {
				return refuse(this, unreadableCredential(error));
			}
			outcome = decide(read.secrets);
		}
		if (deduper) outcome = await checkOtherProcesses(this, outcome, read.secrets.redisUrl, repeatScope, repeatWindowMs);
		return respond(this, outcome);
	}
}
