// The node's side of "start a session and wait for its status" (core/waitRules.ts has the rules):
// - executeWait(): one contact per execution; the status URL is this execution's resume URL; the send goes through
//   the gate, the ledger and the 429 policy like any other; then the execution waits until the time limit, having
//   left the Timed Out item where n8n will find it when the limit passes (n8n does not call the node again then);
// - waitWebhook(): every callback Studio posts to that URL. A refused or unknown one is answered without touching the
//   execution; an intermediate status keeps it waiting; the awaited status or a failure resumes it into Reached or
//   Failed. It never throws: n8n would resume the execution with the error.
import * as n8nWorkflow from 'n8n-workflow';
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { CREDENTIAL_TYPE, isStudioHost } from '../../core/studioApi';
import {
	WAIT_PARAMS,
	decideWait,
	decodeSession,
	isLocalAddress,
	verifyWaitToken,
	waitStatusUrl,
	waitToken,
	type WaitingSession,
} from '../../core/waitRules';
import { readAccount, type StudioAccount } from '../../core/account';
import type { Edition } from '../../editions/edition';
import { normaliseCallback, type CallbackBody } from '../../core/callbacks';
import { WAIT_OUTPUT_NAMES } from './actions/wait';
import type { WaitOutputs, WaitingOperation } from './actions/operation';
import { itemInputError } from './apiErrors';
import type { SendSettings } from './options';
import { runContextOf, runSends } from './send';
import { waitHistory } from './waitHistory';

/** The outcome a waiting item leaves by; `notSent` when the session could not be started at all. */
export type WaitOutcome = 'reached' | 'failed' | 'timedOut' | 'notSent';
const OUTPUT_OF: Record<WaitOutcome, number> = { reached: 0, failed: 1, timedOut: 2, notSent: 1 };

/**
 * Whether this n8n passes on every output of a node that waited. n8n 2.39 added it (metadata.forwardAllOutputs)
 * together with the node-API version check it exports from n8n-workflow; before, only the first output went on.
 */
export function engineForwardsAllOutputs(workflowModule: object = n8nWorkflow): boolean {
	return typeof (workflowModule as Record<string, unknown>).checkNodesApiVersion === 'function';
}

/** The outputs of the node for its parameters: evaluated by n8n in the editor and the engine (no imports inside). */
export const STUDIO_NODE_OUTPUTS: `={{${string}}}` = `={{ ["startSessionAndWait", "makeCallAndWait"].includes($parameter.operation) && $parameter.waitOutputs !== "single" ? ${JSON.stringify(
	WAIT_OUTPUT_NAMES.map((displayName) => ({ type: 'main', displayName })),
)} : [{ "type": "main" }] }}`;

/** The item of a waiting session, whichever way it leaves. */
function waitItem(
	session: WaitingSession,
	outcome: WaitOutcome,
	details: {
		statuses?: Array<{ status: string; at: string }>;
		callback?: IDataObject;
		response?: unknown;
		error?: string;
	},
): INodeExecutionData {
	const callback = details.callback ?? {};
	return {
		json: {
			outcome,
			status: (callback.status as string | undefined) ?? details.statuses?.at(-1)?.status ?? null,
			channel: session.channel,
			to: session.to,
			agentId: session.agentId,
			...(session.template === undefined ? {} : { template: session.template, locale: session.locale ?? null }),
			reference: session.reference ?? null,
			sentAt: session.sentAt,
			waitedFor: session.awaited,
			waitUntil: session.waitUntil,
			statuses: details.statuses ?? [],
			errorCode: callback.errorCode ?? null,
			errorTitle: callback.errorTitle ?? null,
			errorDetail: callback.errorDetail ?? null,
			messageUuid: callback.messageUuid ?? null,
			conversationUuid: callback.conversationUuid ?? null,
			...(details.response === undefined ? {} : { response: details.response as IDataObject }),
			...(details.error === undefined ? {} : { error: details.error }),
		},
		pairedItem: { item: 0 },
	};
}

/** The node's outputs with `item` on the one for `outcome`. */
function route(outputs: WaitOutputs, outcome: WaitOutcome, item: INodeExecutionData): INodeExecutionData[][] {
	if (outputs === 'single') return [[item]];
	const branches: INodeExecutionData[][] = [[], [], []];
	branches[OUTPUT_OF[outcome]].push(item);
	return branches;
}

/** Runs a validation step of the item; a bad field becomes the error a user reads, naming it. */
function validated<T>(node: INode, step: () => T): T {
	try {
		return step();
	} catch (error) {
		throw itemInputError(node, error, 0, 'Nothing was sent.');
	}
}

export async function executeWait(
	context: IExecuteFunctions,
	edition: Edition,
	operation: WaitingOperation,
	account: StudioAccount,
	settings: SendSettings,
): Promise<INodeExecutionData[][]> {
	const node = context.getNode();
	const items = context.getInputData();
	if (items.length !== 1) {
		throw new NodeOperationError(
			node,
			`${operation.option.name} handles one contact per execution, and this one has ${items.length} items`,
			{
				description:
					'An execution can wait only once. Start it once per contact (e.g. from a CRM webhook), or, for a campaign, use Start Outbound Session and the Vonage AI Studio Trigger, which receives the statuses of every session.',
			},
		);
	}
	const wait = validated(node, () => operation.wait.read(context, 0));
	if (wait.outputs === 'branches' && !engineForwardsAllOutputs()) {
		throw new NodeOperationError(node, 'This n8n version passes on only the first output of a node that waited', {
			description:
				'n8n before 2.39 continues a waiting node by its first output only, so Failed and Timed Out would never receive their item. Set Outputs to "One Output With an Outcome Field" and branch on the item\'s "outcome" field (e.g. with a Switch node), or update n8n. Nothing was sent.',
		});
	}

	const resumeUrl = String((context.getWorkflowDataProxy(0).$execution as { resumeUrl?: unknown }).resumeUrl ?? '');
	const resumeHost = new URL(resumeUrl).hostname;
	if (isStudioHost(account.baseUrl) && isLocalAddress(resumeHost)) {
		throw new NodeOperationError(node, `Studio could never reach this n8n: its resume URL is on ${resumeHost}`, {
			description: `The statuses go to ${new URL(resumeUrl).origin}, an address only this machine or network can reach, so the execution would wait until its time limit. Set WEBHOOK_URL to the public address of this n8n (the one Vonage can reach) on every n8n process, then run it again. Nothing was sent.`,
		});
	}

	const input = operation.read(context, 0) as IDataObject;
	// Validated once for what the item says about the session, then again with the status URL built from it.
	const draft = validated(node, () => operation.prepare({ ...input, statusUrl: resumeUrl, statusUrlToken: undefined }));
	const now = Date.now();
	const session: WaitingSession = {
		channel: draft.channel,
		to: draft.summary.to,
		agentId: draft.summary.agentId,
		template: draft.summary.template,
		locale: draft.summary.locale,
		reference: draft.summary.reference,
		sentAt: new Date(now).toISOString(),
		awaited: wait.awaited,
		waitUntil: new Date(now + wait.limitMs).toISOString(),
		outputs: wait.outputs,
	};
	const executionId = context.getExecutionId();
	const statusUrl = waitStatusUrl(resumeUrl, node.id, session, (encoded) =>
		waitToken(account.apiKey, executionId, node.id, encoded),
	);
	const prepared = validated(node, () => operation.prepare({ ...input, statusUrl, statusUrlToken: undefined }));
	const idempotencyKey = String(context.getNodeParameter('idempotencyKey', 0, '') ?? '').trim() || undefined;

	const [result] = await runSends(
		[{ itemIndex: 0, prepared, idempotencyKey }],
		runContextOf(context, edition, account, settings),
	);

	if (!result.ok) {
		if (!context.continueOnFail()) throw result.error;
		return route(wait.outputs, 'notSent', waitItem(session, 'notSent', { error: result.error.message }));
	}
	// Sent before by another execution (a CRM posting twice): that execution is the one waiting for its statuses.
	if (result.json.replayed && result.replayKind !== 'same-execution') {
		context.addExecutionHints({
			message: `Nothing sent and nothing to wait for: ${String(result.json.replayedReason)} The execution that first sent it receives its statuses.`,
			type: 'info',
			location: 'outputPane',
		});
		return wait.outputs === 'single' ? [[]] : [[], [], []];
	}

	waitHistory(edition).begin(executionId, node.id, result.json.response, wait.limitMs);
	// When the time limit passes, n8n resumes the execution without calling the node: it passes on the data of this
	// execute step, so that is where the Timed Out item goes (on the third output, from n8n 2.39 on).
	const timedOut = waitItem(session, 'timedOut', { response: result.json.response });
	const step = context.getExecuteData();
	if (wait.outputs === 'branches') {
		context.setMetadata({ forwardAllOutputs: true } as Parameters<IExecuteFunctions['setMetadata']>[0]);
		step.data = { main: [[], [], [timedOut]] };
	} else {
		step.data = { main: [[timedOut]] };
	}
	await context.putExecutionToWait(new Date(session.waitUntil));
	const waiting = waitItem(session, 'timedOut', { response: result.json.response });
	waiting.json.outcome = 'waiting';
	return wait.outputs === 'single' ? [[waiting]] : [[waiting], [], []];
}

/** The response the webhook writes itself when it refuses a callback (the execution keeps waiting). */
function refuse(context: IWebhookFunctions, statusCode: number, message: string): IWebhookResponseData {
	const response = context.getResponseObject();
	response.status(statusCode).json({ error: message });
	return { noWebhookResponse: true };
}

export async function waitWebhook(context: IWebhookFunctions, edition: Edition): Promise<IWebhookResponseData> {
	try {
		const query = context.getQueryData() as Record<string, unknown>;
		const encoded = typeof query[WAIT_PARAMS.session] === 'string' ? (query[WAIT_PARAMS.session] as string) : '';
		const session = decodeSession(encoded);
		const node = context.getNode();
		const executionId = context.getExecutionId();
		let account: StudioAccount;
		try {
			account = readAccount(await context.getCredentials(CREDENTIAL_TYPE));
		} catch {
			return refuse(context, 500, 'the Vonage AI Studio credential of this node could not be read');
		}
		const expected = waitToken(account.apiKey, executionId, node.id, encoded);
		if (!session || !verifyWaitToken(expected, query[WAIT_PARAMS.token])) {
			return refuse(context, 401, 'this status is not for this waiting execution');
		}
		const body = context.getBodyData() as Record<string, unknown>;
		if (typeof body?.status !== 'string' || body.status.trim() === '') {
			return refuse(context, 400, 'body has no "status" string');
		}
		const callback = normaliseCallback(body as CallbackBody, query);
		const history = waitHistory(edition);
		const seen = { status: callback.status, at: callback.timestamp ?? new Date().toISOString() };
		const decision = decideWait(session.awaited, callback.status);
		if (decision === 'keep-waiting') {
			history.add(executionId, node.id, seen);
			return { webhookResponse: { received: callback.status, waitingFor: session.awaited } };
		}
		const known = history.take(executionId, node.id);
		const outcome: WaitOutcome = decision === 'reached' ? 'reached' : 'failed';
		const item = waitItem(session, outcome, {
			statuses: [...(known?.statuses ?? []), seen],
			callback: callback as unknown as IDataObject,
			response: known?.response,
		});
		return { workflowData: route(session.outputs, outcome, item) };
	} catch (error) {
		return refuse(
			context,
			500,
			`the status could not be handled: ${error instanceof Error ? error.message : String(error)}`,
		);
	}
}
