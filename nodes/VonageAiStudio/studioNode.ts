// The Vonage AI Studio action node, written once for both editions: its description (assembled from the
// operations in actions/) and its execute(), which validates every item, sends through the edition, and builds
// one output item per input item. Each package's VonageAiStudio.node.ts passes in its edition.
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeCredentialDescription,
	type INodeExecutionData,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { isError } from '../../core/errors';
import { CREDENTIAL_TYPE, NODE_NAMES } from '../../core/studioApi';
import { readAccount } from '../shared/account';
import type { Edition } from '../shared/edition';
import { OPERATIONS, operationFor, operationProperties } from './actions/router';
import { optionsProperty, readSettings } from './options';
import { runSends, type SendRequest } from './send';

/** The name the queue edition's credential test function is registered under (`methods.credentialTest`). */
export const STUDIO_CREDENTIAL_TEST = 'vonageAiStudioApiTest';

const OPERATION_LABELS = Object.fromEntries(
	OPERATIONS.map((operation) => [operation.option.value, operation.option.name.toLowerCase()]),
);

/** What the node shows under its name on the canvas: the resource and the operation, e.g. "whatsapp: start outbound session". */
export const STUDIO_NODE_SUBTITLE = `={{ $parameter["resource"] + ": " + (${JSON.stringify(OPERATION_LABELS)}[$parameter["operation"]] ?? $parameter["operation"]) }}`;

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
		description: 'Start Vonage AI Studio outbound WhatsApp, SMS and voice sessions, paced to your rate tier',
		defaults: { name: 'Vonage AI Studio' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL_TYPE, required: true, ...testedBy }],
		hints: [
			{
				message:
					'Sends are paced to the tier set in the credential (1 session per second by default): 600 items take about 10 minutes at 1 per second, 2 minutes at 5 per second. Progress is written to the n8n log.',
				type: 'info',
				location: 'outputPane',
				whenToDisplay: 'beforeExecution',
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
	const account = readAccount(await context.getCredentials(CREDENTIAL_TYPE));
	const settings = readSettings(context);

	// Validate every item before anything is sent, so a bad row never leaves half a batch behind.
	const requests: SendRequest[] = [];
	const output: INodeExecutionData[] = new Array(items.length);
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const prepared = operation.prepare(operation.read(context, itemIndex));
			const idempotencyKey = String(context.getNodeParameter('idempotencyKey', itemIndex, '') ?? '').trim();
			requests.push({ itemIndex, prepared, idempotencyKey: idempotencyKey || undefined });
		} catch (error) {
			const failure = isError(error, 'InvalidField')
				? new NodeOperationError(node, `Item ${itemIndex}: ${error.message}`, {
						itemIndex,
						description: `Field "${error.field}" of item ${itemIndex}. Nothing was sent for this item.`,
					})
				: new NodeOperationError(node, error as Error, { itemIndex });
			if (!context.continueOnFail()) throw failure;
			// n8n replaces the json of an item that carries an error with { error: message }.
			output[itemIndex] = { json: { error: failure.message }, error: failure, pairedItem: { item: itemIndex } };
		}
	}

	const results = await runSends(requests, {
		edition,
		account,
		transport: edition.studioTransport(context, account),
		settings,
		node,
		workflowId: String(context.getWorkflow().id ?? ''),
		executionId: context.getExecutionId(),
		retriedExecution: context.getMode() === 'retry',
		signal: context.getExecutionCancelSignal(),
		log: context.logger,
	});

	for (const result of results) {
		if (result.ok) {
			output[result.itemIndex] = { json: result.json, pairedItem: { item: result.itemIndex } };
			continue;
		}
		if (!context.continueOnFail()) throw result.error;
		output[result.itemIndex] = {
			json: { error: result.error.message },
			error: result.error,
			pairedItem: { item: result.itemIndex },
		};
	}
	const sent = results.filter((result) => result.ok && !result.json.replayed).length;
	const replayed = results.filter((result) => result.ok && result.json.replayed).length;
	if (replayed > 0) {
		context.addExecutionHints({
			message: `${replayed} item${replayed === 1 ? ' was' : 's were'} sent before (same execution and item, or same idempotency key) and not sent again; the earlier result is shown.`,
			type: 'info',
			location: 'outputPane',
		});
	}
	if (sent > account.tier * 10) {
		context.addExecutionHints({
			message: `${sent} sessions were paced at ${account.tier} per second (the credential's tier).`,
			type: 'info',
			location: 'outputPane',
		});
	}
	return [output];
}
