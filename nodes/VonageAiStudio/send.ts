// Runs a node's validated sends through the account's rate gate, the send ledger and the edition's transport,
// and turns each outcome into an output json or a NodeApiError.
import { createHash } from 'node:crypto';

import type { IDataObject, INode, Logger, NodeApiError } from 'n8n-workflow';

import { dispatchSends, type DispatchJob } from '../../core/dispatcher';
import type { StudioTransport } from '../../core/ports';
import type { StudioAccount } from '../shared/account';
import type { Edition } from '../shared/edition';
import type { PreparedSend } from './actions/operation';
import { toNodeApiError } from './apiErrors';
import type { SendSettings } from './options';

export interface SendRequest {
	itemIndex: number;
	prepared: PreparedSend;
	idempotencyKey?: string;
}

export type SendResult =
	| { ok: true; itemIndex: number; json: IDataObject & { replayed: boolean } }
	| { ok: false; itemIndex: number; error: NodeApiError };

export interface RunContext {
	edition: Edition;
	account: StudioAccount;
	transport: StudioTransport;
	settings: SendSettings;
	node: INode;
	workflowId: string;
	executionId: string;
	/** n8n's "Retry" of a failed execution runs under a new execution ID, in mode "retry". */
	retriedExecution: boolean;
	signal?: AbortSignal;
	log?: Logger;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The ledger keys of one send. The primary key is what makes a repeat return the first result:
 * - the user's idempotency key, across every execution;
 * - else, in a retried execution, the item's position and exact body in this workflow node (the retry has a
 *   new execution ID but the same items);
 * - else the execution, node and item (n8n's Retry On Fail re-runs the node in the same execution).
 * The content key is also recorded after each success, so that a later retry of this execution finds it.
 */
export function ledgerKeys(
	request: SendRequest,
	context: Pick<RunContext, 'workflowId' | 'executionId' | 'node' | 'retriedExecution'>,
) {
	const nodeKey = context.node.id || context.node.name;
	const content = `content:${context.workflowId}:${nodeKey}:${request.itemIndex}:${sha256(JSON.stringify(request.prepared.body))}`;
	if (request.idempotencyKey) return { primary: `key:${request.idempotencyKey}`, content };
	if (context.retriedExecution) return { primary: content, content };
	return { primary: `execution:${context.executionId}:${nodeKey}:${request.itemIndex}`, content };
}

function progressLogger(total: number, tier: number, log?: Logger) {
	if (!log || total < 2) return undefined;
	let lastLogged = 0;
	const startedAt = Date.now();
	return (done: number) => {
		const now = Date.now();
		if (done !== total && now - lastLogged < 10_000) return;
		lastLogged = now;
		const secondsLeft = Math.ceil((total - done) / tier);
		log.info(
			`Vonage AI Studio: ${done}/${total} items done after ${Math.round((now - startedAt) / 1000)} s` +
				(done < total ? `, about ${secondsLeft} s left at ${tier} per second` : ''),
		);
	};
}

export async function runSends(requests: SendRequest[], context: RunContext): Promise<SendResult[]> {
	if (requests.length === 0) return [];
	const { account, settings, transport, edition } = context;
	const { gate, ledger } = edition.accountState(account);
	const host = new URL(account.baseUrl).host;

	const jobs: Array<DispatchJob<IDataObject>> = requests.map((request) => {
		const keys = ledgerKeys(request, context);
		return {
			index: request.itemIndex,
			ledgerKey: keys.primary,
			alsoRecordAs: keys.content === keys.primary ? [] : [keys.content],
			send: async () => {
				const sentAt = new Date().toISOString();
				const response = await transport.post(request.prepared.path, request.prepared.body, settings.responseTimeoutMs);
				const json: IDataObject = {
					...request.prepared.summary,
					statusCode: response.statusCode,
					response: response.body as IDataObject,
					sentAt,
				};
				return json;
			},
		};
	});

	const outcomes = await dispatchSends(jobs, {
		gate,
		ledger,
		policy: settings,
		signal: context.signal,
		clock: edition.clock,
		onProgress: progressLogger(requests.length, account.tier, context.log),
	});

	const byIndex = new Map(requests.map((request) => [request.itemIndex, request]));
	return outcomes.map((outcome) => {
		const request = byIndex.get(outcome.index)!;
		if (outcome.outcome === 'sent')
			return { ok: true, itemIndex: outcome.index, json: { ...outcome.result, replayed: false } };
		if (outcome.outcome === 'replayed')
			return { ok: true, itemIndex: outcome.index, json: { ...outcome.result, replayed: true } };
		const error = toNodeApiError(context.node, outcome.error, {
			itemIndex: outcome.index,
			tier: account.tier,
			agentId: request.prepared.summary.agentId,
			host,
			apiKey: account.apiKey,
			attempts: outcome.attempts,
		});
		return { ok: false, itemIndex: outcome.index, error };
	});
}
