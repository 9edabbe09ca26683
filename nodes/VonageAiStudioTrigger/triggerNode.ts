// The Vonage AI Studio Trigger, written once for both editions: the webhook Studio posts delivery statuses to.
// It reads the request and the credential's secrets, lets decide.ts decide, and answers; every refusal is answered
// here and starts no execution. Each package's VonageAiStudioTrigger.node.ts passes in its edition.
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IDataObject,
	IHookFunctions,
	INodeCredentialTestResult,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { CALLBACK_CREDENTIAL_TYPE } from '../../core/studioApi';
import { defaultOf } from '../shared/defaults';
import type { Edition } from '../../editions/edition';
import {
	checkCallbackSecrets,
	publicMessage,
	type AuthenticationMode,
	type Refusal,
} from '../../core/callbackAuthenticity';
import { decideCallback, type CallbackOutcome } from './decide';
import { CALLBACK_CREDENTIAL_TEST, triggerDescription } from './description';
import { ALL_STATUSES } from '../../core/callbacks';
import { localMemory, repeatMemory, type RepeatMemory } from './repeats';
import { sharedSecretsCache, type ReadSecrets } from './secretsCache';

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
async function readSecrets(context: IWebhookFunctions, edition: Edition): Promise<ReadSecrets<CallbackCredential>> {
	const read = () => context.getCredentials<CallbackCredential>(CALLBACK_CREDENTIAL_TYPE);
	const key = secretsKey(context);
	if (key === undefined) return { secrets: await read(), reused: false };
	return await sharedSecretsCache<CallbackCredential>(edition.processStore).get(key, read);
}

function forgetSecrets(context: IWebhookFunctions, edition: Edition) {
	const key = secretsKey(context);
	if (key !== undefined) sharedSecretsCache<CallbackCredential>(edition.processStore).forget(key);
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

const defaultFor = (name: string) => defaultOf<number>(triggerDescription.properties, name);

/** The credential check on save: the secrets contact nothing, so their own values are checked (and the edition's extras). */
export function triggerMethods(edition: Edition) {
	return {
		credentialTest: {
			async [CALLBACK_CREDENTIAL_TEST](
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const data = credential.data ?? {};
				const problem = checkCallbackSecrets(data);
				if (problem) return { status: 'Error', message: problem };
				const extra = await edition.callbackCredentialProblem(data);
				if (extra) return { status: 'Error', message: `The secrets are usable, but ${extra}` };
				return { status: 'OK', message: 'The secrets are usable; they are checked when callbacks arrive' };
			},
		},
	};
}

// Studio keeps no webhook registry: the status URL travels with each send, so there is nothing to create, find or
// delete on activation.
export const triggerWebhookMethods = {
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

export async function triggerWebhook(context: IWebhookFunctions, edition: Edition): Promise<IWebhookResponseData> {
	const authentication = context.getNodeParameter('authentication', 'token') as AuthenticationMode;
	const statuses = context.getNodeParameter('statuses', [ALL_STATUSES]) as string[];
	const dropRepeats = context.getNodeParameter('dropRepeats', true) as boolean;
	const options = context.getNodeParameter('options', {}) as TriggerOptions;

	const request = context.getRequestObject() as unknown as CallbackHttpRequest;
	const rawBody = await receivedBytes(request, context.getBodyData());
	const scope = nodeScope(context);
	const windowMs =
		(context.getNodeParameter('repeatWindowMinutes', defaultFor('repeatWindowMinutes')) as number) * 60_000;
	const repeats = (secrets: CallbackCredential): RepeatMemory | undefined =>
		dropRepeats
			? repeatMemory({
					scope,
					windowMs,
					local: localMemory(edition.processStore, scope, { windowMs }),
					shared: edition.sharedRepeats(secrets as ICredentialDataDecryptedObject),
					onSharedFailure: (error, location) =>
						context.logger.warn(
							`Vonage AI Studio Trigger could not reach the shared repeat memory in Redis at ${location} (${(error as Error).message}); the callback is let through`,
							{ node: context.getNode().name },
						),
				})
			: undefined;
	const decide = async (secrets: CallbackCredential): Promise<CallbackOutcome> =>
		await decideCallback(
			{
				rawBody,
				headers: context.getHeaderData(),
				query: context.getQueryData() as Record<string, unknown>,
			},
			{
				authentication,
				token: secrets.token,
				signatureSecret: secrets.signatureSecret,
				toleranceSeconds: options.signatureToleranceSeconds ?? defaultFor('signatureToleranceSeconds'),
				maxBodyBytes: (options.maxBodySizeKb ?? defaultFor('maxBodySizeKb')) * 1024,
				statuses,
				repeats: repeats(secrets),
			},
		);

	if (authentication === 'none') return respond(context, await decide({}));

	// Fail closed: without the secrets nothing can be verified.
	let read: ReadSecrets<CallbackCredential>;
	try {
		read = await readSecrets(context, edition);
	} catch (error) {
		return refuse(context, unreadableCredential(error));
	}
	let outcome = await decide(read.secrets);
	if (outcome.kind === 'refused' && outcome.refusal.statusCode === 401 && read.reused) {
		// The secrets may have changed since they were read: a new token or secret works at once, and a
		// credential that is gone refuses. A refusal changed nothing (not even the repeat memory), so deciding
		// again is safe. Forged callbacks cost one credential read each, as they did without the cache.
		forgetSecrets(context, edition);
		try {
			read = await readSecrets(context, edition);
		} catch (error) {
			return refuse(context, unreadableCredential(error));
		}
		outcome = await decide(read.secrets);
	}
	return respond(context, outcome);
}
