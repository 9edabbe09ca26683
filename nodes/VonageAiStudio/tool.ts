// The node as an AI tool. n8n turns a node with `usableAsTool` into a "<name>Tool" type that an AI Agent or an MCP
// Server Trigger calls, one call per contact. This file says how the node knows it runs as one, which operations the
// tool variant offers (those that do not wait: a tool call cannot), and what a refused call says to the model that
// made it: what went wrong and what to do, with no item numbers and no stack.
import {
	NodeOperationError,
	type IExecuteFunctions,
	type INode,
	type INodeProperties,
	type NodeApiError,
} from 'n8n-workflow';

import { isError } from '../../core/errors';
import { isAgentMissing, studioMessage } from '../../core/studioHttp';
import { isWaiting, type AnyOperation, type Operation } from './actions/operation';

/**
 * n8n's display condition for "the tool variant": true where the node type's name ends in Tool, as n8n's generated
 * tool type does (n8n-workflow's displayParameter, editor and engine alike, n8n 2.8 and later).
 */
export const TOOL_MARKER = '@tool';

/**
 * Whether this node runs as an AI tool. n8n runs a tool node two ways: an MCP Server Trigger (and AI Agents before
 * version 3) call its execute() with a context for the tool connection, an AI Agent 3 has the engine run it as a
 * node of the execution; the node's type is the generated "<name>Tool" in both, while isToolExecution() is true in
 * the first only.
 */
export function runsAsTool(node: Pick<INode, 'type'>): boolean {
	return node.type.endsWith('Tool');
}

/**
 * Whether a refused call is answered as an item `{ error }` rather than thrown. An AI Agent 3 has the engine run
 * its tools as nodes of the execution, where a thrown error stops the whole workflow in n8n 2.8 (n8n 2.41 turns it
 * into the same `{ error: message }` for the agent): the item reaches the model on both. An MCP Server Trigger calls
 * execute() itself (isToolExecution() true) and marks a thrown error as an `isError` result, so there it is thrown.
 */
export function answersErrorsAsItems(context: Pick<IExecuteFunctions, 'getNode' | 'isToolExecution'>): boolean {
	return runsAsTool(context.getNode()) && !context.isToolExecution();
}

/**
 * The operations the tool variant offers: those with a description for a model (operation.ts), never one that waits.
 * An execution waits for a status by stopping and being resumed later, which a tool call, answered at once, cannot do.
 */
export function offeredAsTool(operation: AnyOperation): boolean {
	return !isWaiting(operation) && operation.toolDescription !== undefined;
}

const NOTHING_SENT = 'Nothing was sent.';

/**
 * An error for the model that called the tool, with no stack: n8n 2.8's MCP Server Trigger appends the stack to the
 * text a model reads, and the code path of a refused call means nothing to a model or to the person it talks to.
 */
function forModel(node: INode, message: string): NodeOperationError {
	const error = new NodeOperationError(node, message);
	error.stack = '';
	return error;
}
const TELL_THE_USER = 'Calling again will not help: tell the user that';

/** The names of the arguments a model fills in a parameter's value: the keys of its $fromAI() calls. */
export function fromAiArguments(value: unknown): string[] {
	const texts: string[] = [];
	const collect = (each: unknown): void => {
		if (typeof each === 'string') texts.push(each);
		else if (each && typeof each === 'object') Object.values(each).forEach(collect);
	};
	collect(value);
	const keys = texts.flatMap((text) =>
		[...text.matchAll(/\$fromai\(\s*(['"`])((?:(?!\1).)*)\1/gi)].map((match) => match[2]),
	);
	return [...new Set(keys)];
}

/**
 * Where the field a label names sits in the node's parameters: its name, inside the collections (Options, Filters)
 * that hold it. Read from the operation's own fields, so every operation's labels are found the same way.
 */
function fieldPath(fields: INodeProperties[], label: string, within: string[] = []): string[] | undefined {
	for (const field of fields) {
		if (field.displayName === label && field.type !== 'notice') return [...within, field.name];
		if (field.type === 'collection' && Array.isArray(field.options)) {
			const found = fieldPath(field.options as INodeProperties[], label, [...within, field.name]);
			if (found) return found;
		}
	}
	return undefined;
}

function parameterValue(node: INode, fields: INodeProperties[], label: string): unknown {
	const path = fieldPath(fields, label) ?? [];
	let value: unknown = path.length > 0 ? node.parameters : undefined;
	for (const name of path) value = (value as Record<string, unknown> | undefined)?.[name];
	return value;
}

/** How a refused call begins and what it says was not done, for an operation that sends or one that reads. */
const REFUSED = {
	send: { prefix: 'The call was refused before sending', done: NOTHING_SENT },
	read: { prefix: 'The call was refused before reading', done: 'Nothing was read.' },
} as const;

/**
 * A tool call refused before anything was done: a value was wrong, in the call (a $fromAI argument: the model can
 * correct it) or in the tool's own settings (it cannot). `fields` are the operation's, to find where the field is.
 */
export function toolInputError(
	node: INode,
	error: unknown,
	fields: INodeProperties[],
	kind: keyof typeof REFUSED,
): NodeOperationError {
	const { prefix, done } = REFUSED[kind];
	if (!isError(error, 'InvalidField')) {
		const message = error instanceof Error ? error.message : String(error);
		return forModel(node, `${prefix}: ${message.replace(/[.\s]+$/, '')}. ${done}`);
	}
	const sentence = error.message.replace(/[.\s]+$/, '');
	const arguments_ = fromAiArguments(parameterValue(node, fields, error.field));
	const next =
		arguments_.length > 0
			? `Call again with ${arguments_.map((name) => `"${name}"`).join(' and ')} corrected.`
			: `${TELL_THE_USER} ${error.field} is set in the tool's own settings in n8n, not by the call.`;
	return forModel(node, `${prefix}: ${sentence}. ${done} ${next}`);
}

/** What the model can do about a send that failed, by its cause (the core's error). */
function nextStep(cause: unknown): string {
	if (isError(cause, 'BatchStoppedError')) return nextStep(cause.source);
	if (isError(cause, 'StudioHttpError')) {
		const status = cause.statusCode;
		if (status === 429)
			return "No session was started. Wait a minute and call again; if it keeps happening, tell the user that the account's rate tier is exceeded.";
		if (status === 401 || status === 403)
			return `${TELL_THE_USER} the API key in the tool's Vonage AI Studio credential in n8n was rejected.`;
		if (isAgentMissing(status, studioMessage(cause.body)))
			return `${TELL_THE_USER} the agent set in the tool is missing or not published in AI Studio.`;
		if (status >= 500 || status === 408 || status === 409)
			return 'The session may have started: do not call again for this contact; tell the user to check it in AI Studio.';
		return "Check the values you passed (number, template parameters); if they look right, tell the user that Studio refused the tool's settings.";
	}
	if (isError(cause, 'StudioNetworkError')) {
		return cause.mayHaveReachedStudio
			? 'The session may have started: do not call again for this contact; tell the user to check it in AI Studio.'
			: 'Vonage AI Studio could not be reached, so nothing was sent. Try again in a few minutes.';
	}
	if (isError(cause, 'PossiblySentError'))
		return 'An earlier call may already have started this session: do not call again for this contact.';
	if (isError(cause, 'SendInProgressError'))
		return 'The same session is being sent by another call right now: do not call again for it.';
	if (isError(cause, 'RedisUnavailableError') || isError(cause, 'SendCancelledError'))
		return 'Nothing was sent. Try again in a few minutes.';
	return 'Whether the session started is not known: do not call again for this contact; tell the user.';
}

/**
 * A tool call whose send failed: what went wrong, what the model can do, then the details for the person it talks to.
 * Everything is in the message, which is all an AI Agent 3 reads of a failed tool (n8n hands it `{ error: message }`);
 * an MCP client reads the message as the text of an `isError` result.
 */
export function toolSendError(node: INode, error: NodeApiError, cause: unknown): NodeOperationError {
	const parts = [error.message.replace(/[.\s]+$/, '') + '.', nextStep(cause), error.description ?? ''];
	return forModel(node, parts.filter(Boolean).join(' '));
}

/**
 * A read (the Session resource) that failed, for the model: what went wrong and what it can do, then the details.
 * `cause` is the core's error, `error` what the node made of it (apiErrors.ts toReadError).
 */
export function toolReadError(
	node: INode,
	error: NodeApiError | NodeOperationError,
	cause: unknown,
): NodeOperationError {
	const last = isError(cause, 'ReadRetriesExhausted') ? cause.last : cause;
	if (isError(last, 'NoSessionFound')) {
		return forModel(node, `${last.message.replace(/[.\s]+$/, '')}. ${last.hint}`);
	}
	let next = 'Try again in a few minutes.';
	if (isError(last, 'StudioHttpError')) {
		const status = last.statusCode;
		if (status === 429) next = 'Wait a minute and call again.';
		else if (status === 401 || status === 403)
			next =
				"Check the values you passed (times in ISO 8601 such as 2025-03-01T09:00:00Z, numbers with the country code); if they look right, tell the user that the API key in the tool's credential may be wrong.";
		else if (status === 404) next = 'Check the session ID you passed.';
		else if (status < 500) next = 'Check the values you passed.';
	}
	const parts = [error.message.replace(/[.\s]+$/, '') + '.', next, error.description ?? ''];
	return forModel(node, parts.filter(Boolean).join(' '));
}

/** A tool set to an operation that waits (a workflow from before the tool variant hid them, or edited by hand). */
export function waitingToolError(
	node: INode,
	operation: Operation,
	instead: AnyOperation | undefined,
): NodeOperationError {
	const choose = instead
		? `choose "${instead.option.name}" in the ${node.name} tool`
		: 'use an operation that does not wait';
	return forModel(
		node,
		`This tool is set to "${operation.option.name}", which waits for the contact's status, and a tool call cannot wait. ${NOTHING_SENT} ${TELL_THE_USER} they must ${choose}.`,
	);
}
