// The Vonage AI Studio action node, written once for both editions: its description (assembled from the
// operations in actions/) and its execute(). A send validates every item, sends through the edition's gate and
// ledger, and builds one output item per input item; a read (the Session resource) goes to read.ts. Each package's
// VonageAiStudio.node.ts passes in its edition.
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeCredentialDescription,
	type INodeExecutionData,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { CREDENTIAL_TYPE, NODE_NAMES, isStudioHost } from '../../core/studioApi';
import { isLocalAddress } from '../../core/waitRules';
import { readAccount, type StudioAccount } from '../../core/account';
import type { Edition } from '../../editions/edition';
import { isRead, isWaiting } from './actions/operation';
import { itemInputError } from './apiErrors';
import { docsLink } from '../shared/docs';
import { OPERATIONS, RESOURCES, SEND_OPERATIONS, operationFor, operationProperties } from './actions/router';
import { optionsProperty, readSettings, type SendSettings } from './options';
import { executeRead } from './read';
import { runContextOf, runSends, type SendRequest, type SendResult } from './send';
import { STUDIO_NODE_OUTPUTS, executeWait, waitWebhook } from './sendAndWait';
import {
	answersErrorsAsItems,
	offeredAsTool,
	runsAsTool,
	toolInputError,
	toolSendError,
	waitingToolError,
} from './tool';

export { waitWebhook as studioNodeWebhook };

/** The name the queue edition's credential test function is registered under (`methods.credentialTest`). */
export const STUDIO_CREDENTIAL_TEST = 'vonageAiStudioApiTest';

const RESOURCE_NAMES: Record<string, string> = Object.fromEntries(RESOURCES.map(({ name, value }) => [value, name]));
const key = (resource: string, operation: string) => `${resource}:${operation}`;

/** What the canvas shows under the node's name for each resource and operation, e.g. "WhatsApp · Start and Wait". */
export const SUBTITLES: Record<string, string> = Object.fromEntries(
	OPERATIONS.map((operation) => [
		key(operation.resource, operation.option.value),
		`${RESOURCE_NAMES[operation.resource]} · ${operation.subtitle}`,
	]),
);

/** The node's subtitle on the canvas (n8n evaluates it with the node's parameters). */
export const STUDIO_NODE_SUBTITLE = `={{ ${JSON.stringify(SUBTITLES)}[$parameter["resource"] + ":" + $parameter["operation"]] ?? $parameter["operation"] }}`;

/**
 * The operations that start sessions without waiting, where the campaign pacing hint is true: a waiting operation
 * takes one contact per execution, and a read starts no session.
 */
const PACED = SEND_OPERATIONS.filter((operation) => !isWaiting(operation)).map((operation) =>
	key(operation.resource, operation.option.value),
);

/**
 * The description without its icon, subtitle and tool flag, which each package's node file sets (the icon names a
 * file next to that file; n8n's linter reads them there).
 */
export function studioNodeDescription(
	edition: Edition,
): Omit<INodeTypeDescription, 'icon' | 'subtitle' | 'usableAsTool'> {
	// The main edition declares its test on the credential; the queue edition's runs in the node.
	const testedBy: Partial<INodeCredentialDescription> = edition.studioCredentialTest
		? { testedBy: STUDIO_CREDENTIAL_TEST }
		: {};
	return {
		displayName: 'Vonage AI Studio',
		name: NODE_NAMES.action,
		group: ['output'],
		version: 1,
		description:
			'Start Vonage AI Studio outbound WhatsApp, SMS and voice sessions, paced to your rate tier, and read what the conversations produced',
		defaults: { name: 'Vonage AI Studio' },
		inputs: [NodeConnectionTypes.Main],
		// One output; three (Reached, Failed, Timed Out) for the operations that wait, unless set to one.
		outputs: STUDIO_NODE_OUTPUTS,
		credentials: [{ name: CREDENTIAL_TYPE, required: true, ...testedBy }],
		// Where Studio posts the statuses of a session the execution waits for: the execution's resume URL with this
		// node's ID as suffix (sendAndWait.ts). n8n never registers it as a live webhook.
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				path: '={{ $nodeId }}',
				restartWebhook: true,
				isFullPath: true,
				responseMode: 'onReceived',
				responseData: '',
			},
		],
		waitingNodeTooltip:
			'={{ "Waiting for the session\'s status from Vonage AI Studio, at most until the time limit. Statuses go to " + $execution.resumeUrl }}',
		hints: [
			{
				message: `Sessions start at the tier set in the credential (1 per second by default): 600 contacts take about 10 minutes at 1 per second, 2 minutes at 5 per second. Progress is written to the n8n log. ${docsLink('rate-gate')}.`,
				type: 'info',
				location: 'outputPane',
				whenToDisplay: 'beforeExecution',
				displayCondition: `={{ ${JSON.stringify(PACED)}.includes($parameter["resource"] + ":" + $parameter["operation"]) }}`,
			},
		],
		properties: [...operationProperties(), optionsProperty],
	};
}

export function studioNodeMethods(edition: Edition) {
	return edition.studioCredentialTest
		? { credentialTest: { [STUDIO_CREDENTIAL_TEST]: edition.studioCredentialTest } }
		: {};
}

export async function executeStudioNode(context: IExecuteFunctions, edition: Edition): Promise<INodeExecutionData[][]> {
	const items = context.getInputData();
	const node = context.getNode();
	const resource = context.getNodeParameter('resource', 0) as string;
	const operationName = context.getNodeParameter('operation', 0) as string;
	const operation = operationFor(resource, operationName);
	if (!operation) throw new NodeOperationError(node, `Unknown operation "${operationName}" for resource "${resource}"`);
	const asTool = runsAsTool(node);
	const continueOnFail = context.continueOnFail() || answersErrorsAsItems(context);
	if (asTool && isWaiting(operation)) {
		const instead = OPERATIONS.find((each) => each.resource === operation.resource && offeredAsTool(each));
		const failure = waitingToolError(node, operation, instead);
		if (!continueOnFail) throw failure;
		return [items.map((_, item) => ({ json: { error: failure.message }, error: failure, pairedItem: { item } }))];
	}
	const account = readAccount(await context.getCredentials(CREDENTIAL_TYPE));
	// A read starts no session: no gate, no ledger, none of the send options.
	if (isRead(operation)) return await executeRead(context, edition, operation, account);
	const settings = readSettings(context);
	if (isWaiting(operation)) return await executeWait(context, edition, operation, account, settings);

	// Validate every item before anything is sent, so a bad row never leaves half a batch behind.
	const requests: SendRequest[] = [];
	const output: INodeExecutionData[] = new Array(items.length);
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const prepared = operation.prepare(operation.read(context, itemIndex));
			const idempotencyKey = String(context.getNodeParameter('idempotencyKey', itemIndex, '') ?? '').trim();
			requests.push({ itemIndex, prepared, idempotencyKey: idempotencyKey || undefined });
		} catch (error) {
			// A model reads a tool's error: it gets what to change in its call, not an item number.
			const failure = asTool
				? toolInputError(node, error, operation.properties, 'send')
				: itemInputError(node, error, itemIndex, 'Nothing was sent for this item.');
			if (!continueOnFail) throw failure;
			// n8n replaces the json of an item that carries an error with { error: message }.
			output[itemIndex] = { json: { error: failure.message }, error: failure, pairedItem: { item: itemIndex } };
		}
	}

	const results = await runSends(requests, runContextOf(context, edition, account, settings));
	const errorOf = (result: Extract<SendResult, { ok: false }>) =>
		asTool ? toolSendError(node, result.error, result.cause) : result.error;

	if (!continueOnFail) {
		// Fail with the cause: the item whose answer stopped the others, not one of those it stopped.
		const failures = results.filter((result) => !result.ok);
		const cause = failures.find((result) => result.stoppedBy === undefined) ?? failures[0];
		if (cause) throw errorOf(cause);
	}
	for (const result of results) {
		if (result.ok) {
			output[result.itemIndex] = { json: result.json, pairedItem: { item: result.itemIndex } };
			continue;
		}
		const error = errorOf(result);
		output[result.itemIndex] = { json: { error: error.message }, error, pairedItem: { item: result.itemIndex } };
	}
	addHints(context, results, requests, settings, account);
	return [output];
}

/** What the user should know about this run, beside the items: repeats skipped, unprotected sends, long pacing. */
function addHints(
	context: IExecuteFunctions,
	results: SendResult[],
	requests: SendRequest[],
	settings: SendSettings,
	account: StudioAccount,
): void {
	const tier = account.tier;
	// A status URL on an address Studio, on the internet, cannot reach: its statuses would never arrive.
	const local = requests
		.map((request) => request.prepared.summary.statusUrl)
		.find((url) => url !== undefined && isLocalAddress(new URL(url).hostname));
	if (local && isStudioHost(account.baseUrl)) {
		context.addExecutionHints({
			message: `The Status URL is on ${new URL(local).host}, an address Vonage AI Studio on the internet cannot reach: its statuses will never arrive. If it is this n8n's own webhook URL, set WEBHOOK_URL to the public address of this n8n (without it, n8n builds its URLs on localhost).`,
			type: 'warning',
			location: 'outputPane',
		});
	}
	const sent = results.filter((result) => result.ok && !result.json.replayed);
	const replayed = results.filter((result) => result.ok && result.json.replayed);
	if (replayed.length > 0) {
		const first = replayed[0] as Extract<SendResult, { ok: true }>;
		context.addExecutionHints({
			message: `${replayed.length} item${replayed.length === 1 ? ' was' : 's were'} not sent again (item ${first.itemIndex}: ${String(first.json.replayedReason)})`,
			type: 'info',
			location: 'outputPane',
		});
	}
	// A production execution sent sessions that nothing recognises when the CRM posts again or the workflow is re-run.
	const unprotected = sent.filter(
		(result) => !requests.find((request) => request.itemIndex === result.itemIndex)?.idempotencyKey,
	);
	if (settings.duplicateGuardMs === undefined && unprotected.length > 0 && context.getMode() !== 'manual') {
		context.addExecutionHints({
			message: `${unprotected.length} session${unprotected.length === 1 ? ' was' : 's were'} sent without protection against a repeat: if the CRM posts the same contact again or the workflow is run again, the contact gets a second session. Switch Duplicate Guard on in the node's options, or set an Idempotency Key such as the contact's ID.`,
			type: 'warning',
			location: 'outputPane',
		});
	}
	if (sent.length > tier * 10) {
		context.addExecutionHints({
			message: `${sent.length} sessions were paced at ${tier} per second (the credential's tier).`,
			type: 'info',
			location: 'outputPane',
		});
	}
}
