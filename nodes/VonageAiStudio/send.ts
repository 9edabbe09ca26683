// Runs a node's validated sends through the account's rate gate, the send ledger and the edition's transport,
// and turns each outcome into an output json or a NodeApiError.
import { createHash, randomUUID } from 'node:crypto';

import type { IDataObject, IExecuteFunctions, INode, Logger, NodeApiError } from 'n8n-workflow';

import type { StopGroups } from '../../core/batchStop';
import { dispatchSends, type DispatchJob } from '../../core/dispatcher';
import { isError } from '../../core/errors';
import type { StudioTransport } from '../../core/ports';
import type { StudioAccount } from '../../core/account';
import type { Edition } from '../../editions/edition';
import type { PreparedSend } from './actions/operation';
import { toNodeApiError } from './apiErrors';
import { runsAsTool } from './tool';
import type { SendSettings } from './options';

export interface SendRequest {
	itemIndex: number;
	prepared: PreparedSend;
	idempotencyKey?: string;
}

export type SendResult =
	| { ok: true; itemIndex: number; replayKind?: ReplayKind; json: IDataObject & { replayed: boolean } }
	/** `stoppedBy`: the item whose answer stopped this one from being tried (core/batchStop.ts). */
	| { ok: false; itemIndex: number; error: NodeApiError; cause: unknown; stoppedBy?: number };

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
	/** The node runs as an AI tool: every call is one item 0 (tool.ts). */
	asTool: boolean;
	signal?: AbortSignal;
	log?: Logger;
}

/** What a send needs from the execution that runs it. */
export function runContextOf(
	context: IExecuteFunctions,
	edition: Edition,
	account: StudioAccount,
	settings: SendSettings,
): RunContext {
	return {
		edition,
		account,
		transport: edition.studioTransport(context, account),
		settings,
		node: context.getNode(),
		workflowId: String(context.getWorkflow().id ?? ''),
		// An MCP Server Trigger calls its tools inside its webhook, before any execution exists: each call stands alone.
		executionId: context.getExecutionId() ?? `none-${randomUUID()}`,
		retriedExecution: context.getMode() === 'retry',
		asTool: runsAsTool(context.getNode()),
		signal: context.getExecutionCancelSignal(),
		log: context.logger,
	};
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with every object's keys sorted: the same session gives the same text whatever order it was built in. */
export function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.entries(value as Record<string, unknown>)
			.filter(([, each]) => each !== undefined)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return `{${entries.map(([key, each]) => `${JSON.stringify(key)}:${canonicalJson(each)}`).join(',')}}`;
	}
	return JSON.stringify(value);
}

/**
 * What makes two sessions identical for the duplicate guard: the operation and every field of Studio's body (agent,
 * channel, recipient, template, parameters, session parameters) but the status URL, which carries the reference and
 * the token. Keys are per account already (one ledger per credential account).
 */
export function duplicateGuardKey(prepared: Pick<PreparedSend, 'path' | 'body'>): string {
	const { status_url: _statusUrl, ...session } = prepared.body;
	return `identical:${prepared.path}:${sha256(canonicalJson(session))}`;
}

/** Why a send was found in the ledger: which key matched decides what the output says. */
export type ReplayKind = 'idempotency-key' | 'duplicate-guard' | 'retried-execution' | 'same-execution';

/**
 * The ledger keys of one send. The primary key is claimed: a send that finds it taken returns the first result.
 * - the user's idempotency key, across every execution (it wins where set);
 * - else the duplicate guard's content key, when the guard is on: an identical session within its window;
 * - else, in a retried execution, the item's position and exact body in this workflow node (the retry has a new
 *   execution ID but the same items);
 * - else the execution, node and item (n8n's Retry On Fail re-runs the node in the same execution); for a tool,
 *   whose calls are all item 0 of one execution (an AI Agent's), the call's body instead of the item.
 * The outcome is also recorded under the other keys that apply, so that each way of looking it up finds it.
 */
export function ledgerKeys(
	request: SendRequest,
	context: Pick<RunContext, 'workflowId' | 'executionId' | 'node' | 'retriedExecution' | 'asTool'> & {
		settings: Pick<SendSettings, 'duplicateGuardMs'>;
	},
): {
	primary: { key: string; kind: ReplayKind; ttlMs?: number };
	also: Array<{ key: string; ttlMs?: number }>;
} {
	const nodeKey = context.node.id || context.node.name;
	const bodyHash = sha256(JSON.stringify(request.prepared.body));
	const content = `content:${context.workflowId}:${nodeKey}:${request.itemIndex}:${bodyHash}`;
	const call = context.asTool ? `call:${bodyHash}` : request.itemIndex;
	const execution = `execution:${context.executionId}:${nodeKey}:${call}`;
	const guardMs = context.settings.duplicateGuardMs;
	const guard = guardMs === undefined ? undefined : { key: duplicateGuardKey(request.prepared), ttlMs: guardMs };
	const candidates: Array<{ key: string; kind: ReplayKind; ttlMs?: number } | undefined> = [
		request.idempotencyKey ? { key: `key:${request.idempotencyKey}`, kind: 'idempotency-key' } : undefined,
		guard && { ...guard, kind: 'duplicate-guard' },
		context.retriedExecution ? { key: content, kind: 'retried-execution' } : undefined,
		{ key: execution, kind: 'same-execution' },
	];
	const [primary] = candidates.filter((each) => each !== undefined);
	const also = [guard, { key: content }, { key: execution }].filter(
		(each): each is { key: string; ttlMs?: number } => each !== undefined && each.key !== primary!.key,
	);
	return { primary: primary!, also };
}

/** What a replayed item's output says, in a user's words. */
export function replayReason(kind: ReplayKind, when: string, settings: Pick<SendSettings, 'duplicateGuardMs'>): string {
	switch (kind) {
		case 'idempotency-key':
			return `Not sent again: a session with the same Idempotency Key was started at ${when}. The first result is shown.`;
		case 'duplicate-guard':
			return `Not sent again: an identical session (same agent, recipient, template and parameters) was started at ${when}, within the Duplicate Guard Window (${(settings.duplicateGuardMs ?? 0) / 3_600_000} h). The first result is shown. To send it anyway, switch off Duplicate Guard in the node's options.`;
		case 'retried-execution':
			return `Not sent again: the execution being retried sent this item at ${when}. The first result is shown.`;
		case 'same-execution':
			return `Not sent again: this execution already sent this item at ${when} (the node ran again, e.g. Retry On Fail). The first result is shown.`;
	}
}

/** The groups of one send for stopping a doomed batch early (core/batchStop.ts). */
function stopGroups(prepared: PreparedSend): StopGroups {
	const body = prepared.body;
	const agent = prepared.summary.agentId;
	return {
		agent,
		template:
			typeof body.template === 'string'
				? [agent, body.namespace, body.template, body.locale].map((part) => String(part ?? '')).join('|')
				: undefined,
	};
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
			ledgerKey: keys.primary.key,
			ledgerTtlMs: keys.primary.ttlMs,
			alsoRecordAs: keys.also,
			groups: stopGroups(request.prepared),
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
		if (outcome.outcome === 'replayed') {
			const kind = ledgerKeys(request, context).primary.kind;
			// When the first one went: its own sentAt (the earlier result is the output), else when it was recorded.
			const firstSentAt =
				typeof outcome.result.sentAt === 'string' ? outcome.result.sentAt : new Date(outcome.at).toISOString();
			return {
				ok: true,
				itemIndex: outcome.index,
				replayKind: kind,
				json: {
					...outcome.result,
					replayed: true,
					replayedReason: replayReason(kind, firstSentAt, settings),
					firstSentAt,
				},
			};
		}
		const error = toNodeApiError(context.node, outcome.error, {
			itemIndex: outcome.index,
			subject: context.asTool ? 'call' : 'item',
			tier: account.tier,
			agentId: request.prepared.summary.agentId,
			host,
			apiKey: account.apiKey,
			attempts: outcome.attempts,
		});
		const stoppedBy = isError(outcome.error, 'BatchStoppedError') ? outcome.error.sourceIndex : undefined;
		return { ok: false, itemIndex: outcome.index, error, cause: outcome.error, stoppedBy };
	});
}
