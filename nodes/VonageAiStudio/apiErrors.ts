// Turns what went wrong with an item into the error a no-code user can act on: a bad field into a
// NodeOperationError naming it, a failed send or read into a NodeApiError (what happened, what to change).
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';

import { isError, redact } from '../../core/errors';
import { isAgentMissing, studioMessage } from '../../core/studioHttp';

/**
 * An item that could not be read or validated: names the item and the field (InvalidField), and says what was not
 * sent (`nothingSent`, a sentence).
 */
export function itemInputError(
	node: INode,
	error: unknown,
	itemIndex: number,
	nothingSent: string,
): NodeOperationError {
	if (isError(error, 'InvalidField')) {
		return new NodeOperationError(node, `Item ${itemIndex}: ${error.message}`, {
			itemIndex,
			description: `Field "${error.field}" of item ${itemIndex}. ${nothingSent}`,
		});
	}
	return new NodeOperationError(node, error as Error, { itemIndex });
}

export interface FailureContext {
	itemIndex: number;
	/** What the user calls what failed: an item of a workflow, or the call of an AI tool (default item). */
	subject?: 'item' | 'call';
	tier: number;
	agentId: string;
	host: string;
	apiKey: string;
	attempts?: number;
}

const RAISE_TIER =
	'To raise it, email ai.support@vonage.com with your API key, the agent IDs and the tier you want (3 or 5 sessions per second); once approved, re-publish the agents, wait about 5 minutes and set the new tier in the credential.';

function redactDeep(value: unknown, apiKey: string): unknown {
	if (typeof value === 'string') return redact(value, apiKey);
	if (Array.isArray(value)) return value.map((entry) => redactDeep(entry, apiKey));
	if (value && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, redactDeep(entry, apiKey)]));
	}
	return value;
}

// The code goes in the description: n8n replaces any message that contains a code like ECONNREFUSED with a
// generic text of its own.
function connectionProblem(code: string | undefined): string {
	return code ? `Connection problem: ${code}. ` : '';
}

/** A NodeApiError with Studio's body (the key removed everywhere) and the item it belongs to. */
function apiError(
	node: INode,
	context: { itemIndex: number; apiKey: string },
	httpCode: string,
	message: string,
	description: string,
	body: unknown = {},
): NodeApiError {
	const response = redactDeep(body && typeof body === 'object' ? body : { body }, context.apiKey) as JsonObject;
	return new NodeApiError(node, response, {
		httpCode,
		message: redact(message, context.apiKey),
		description: redact(description, context.apiKey),
		itemIndex: context.itemIndex,
	});
}

export function toNodeApiError(node: INode, error: unknown, context: FailureContext): NodeApiError {
	const { tier, agentId, host } = context;
	const subject = context.subject ?? 'item';
	const words = (text: string) => text.replaceAll('this item', `this ${subject}`);
	const build = (httpCode: string, message: string, description: string, body: unknown = {}) =>
		apiError(node, context, httpCode, words(message), words(description), body);

	if (isError(error, 'StudioHttpError')) {
		const said = studioMessage(error.body);
		const code = String(error.statusCode);
		const quote = said ? ` Studio said: "${said}"` : '';
		if (error.statusCode === 429) {
			return build(
				code,
				`Over the rate tier: Studio allows ${tier} outbound session${tier === 1 ? '' : 's'} per second for this account and refused this one`,
				`Refused ${context.attempts ?? 1} time${(context.attempts ?? 1) === 1 ? '' : 's'}; no session was started for this item. If the credential's tier is higher than what Vonage approved, lower it; if other systems use the same API key, they share the budget. ${RAISE_TIER}`,
				error.body,
			);
		}
		if (error.statusCode === 401 || error.statusCode === 403) {
			return build(
				code,
				'Vonage AI Studio rejected the API key',
				`Check the API key in the "Vonage AI Studio API" credential (AI Studio canvas: user menu, Generate API Key) and that its region matches the agent's region.${quote}`,
				error.body,
			);
		}
		if (isAgentMissing(error.statusCode, said)) {
			return build(
				code,
				`Agent ${agentId} was not found or has no published version`,
				`Check the Agent ID and publish the agent in AI Studio; also check that the credential's region is the agent's region.${quote}`,
				error.body,
			);
		}
		if (error.statusCode >= 500) {
			return build(
				code,
				`Vonage AI Studio had a server error (HTTP ${code})`,
				`The session may or may not have started, so it was not sent again (a customer must not get it twice). Check in AI Studio before re-running this item.${quote}`,
				error.body,
			);
		}
		return build(
			code,
			said ? `Studio refused the request: ${said}` : `Studio refused the request (HTTP ${code})`,
			'Check the values of this item against the agent and the WhatsApp template (namespace, template name, locale, number of parameters).',
			error.body,
		);
	}

	if (isError(error, 'StudioNetworkError')) {
		if (!error.mayHaveReachedStudio) {
			return build(
				'',
				`Could not reach Vonage AI Studio at ${host}`,
				`${connectionProblem(error.code)}Nothing was sent for this item. Check the region or base URL in the credential and this machine's network connection.`,
			);
		}
		return build(
			'',
			`No complete answer from Vonage AI Studio at ${host}`,
			`${connectionProblem(error.code)}The request may have reached Studio and started the session, so it was not sent again (a customer must not get it twice). Check in AI Studio before re-running this item.`,
		);
	}

	if (isError(error, 'PossiblySentError')) {
		return build('', 'Not sent again: an earlier run may already have started this session', error.message);
	}
	if (isError(error, 'SendInProgressError')) {
		return build('', 'Not sent: another execution is sending this item right now', error.message);
	}
	if (isError(error, 'RedisUnavailableError')) {
		return build(
			'',
			// An older copy of this package (n8n loads one per version while executions run) has no headline.
			error.headline ?? `Not sent: the shared ${error.purpose} in Redis (${error.location}) could not be reached`,
			error.message,
		);
	}
	if (isError(error, 'BatchStoppedError')) {
		const source = error.source;
		const code = isError(source, 'StudioHttpError') ? String(source.statusCode) : '';
		const said = isError(source, 'StudioHttpError') ? studioMessage(source.body) : undefined;
		return build(
			code,
			error.message,
			`Nothing was sent for this item, and it is not recorded as sent: run it again once the cause is fixed.${said ? ` Studio said: "${said}"` : ''}`,
		);
	}
	if (isError(error, 'SendCancelledError')) {
		return build('', error.message, 'Nothing was sent for this item.');
	}

	const message = error instanceof Error ? error.message : String(error);
	return build('', `Sending failed: ${message}`, 'Nothing is known about whether the session started.');
}

export interface ReadFailureContext {
	itemIndex: number;
	host: string;
	apiKey: string;
}

const READ_AGAIN = 'Reading starts no session, so running it again is safe.';

/**
 * A read from the Insights API that failed (after its retries, core/insightsReader.ts): a NodeApiError with the
 * HTTP code and what to do; no matching session: a NodeOperationError saying what to check.
 */
export function toReadError(
	node: INode,
	error: unknown,
	context: ReadFailureContext,
): NodeApiError | NodeOperationError {
	const { itemIndex, host } = context;
	const build = (httpCode: string, message: string, description: string, body: unknown = {}) =>
		apiError(node, context, httpCode, message, description, body);
	let attempts = 1;
	let cause = error;
	if (isError(error, 'ReadRetriesExhausted')) {
		attempts = error.attempts;
		cause = error.last;
	}
	const tried = attempts > 1 ? ` Tried ${attempts} times.` : '';

	if (isError(cause, 'NoSessionFound')) {
		return new NodeOperationError(node, redact(`Item ${itemIndex}: ${cause.message}`, context.apiKey), {
			itemIndex,
			description: cause.hint,
		});
	}
	if (isError(cause, 'StudioHttpError')) {
		const said = studioMessage(cause.body);
		const code = String(cause.statusCode);
		const quote = said ? ` Studio said: "${said}"` : '';
		if (cause.statusCode === 429) {
			const asked =
				cause.retryAfterMs === undefined ? '' : ` Studio asked to wait ${Math.ceil(cause.retryAfterMs / 1000)} s.`;
			return build(
				code,
				'Vonage AI Studio is refusing Insights reads for now (too many requests)',
				`Refused ${attempts} time${attempts === 1 ? '' : 's'}.${asked} These reads start no session and do not use the credential's rate tier, but Studio limits them too: run this again later, or read fewer items at once. ${READ_AGAIN}`,
				cause.body,
			);
		}
		if (cause.statusCode === 401 || cause.statusCode === 403) {
			return build(
				code,
				'Vonage AI Studio refused the read: a bad API key, or invalid parameters such as the date range or filter',
				`Studio's Insights API answers ${code} for both. Check the API key and region in the "Vonage AI Studio API" credential, then this item's values: dates in ISO 8601 (e.g. 2025-03-01T09:00:00Z), the contact number with its country code, the channel and the agent ID.${quote}`,
				cause.body,
			);
		}
		if (cause.statusCode === 404) {
			return build(
				code,
				'Vonage AI Studio found nothing to read (HTTP 404)',
				`Check the session ID and that the credential's region is the agent's region.${quote}`,
				cause.body,
			);
		}
		if (cause.statusCode >= 500) {
			return build(
				code,
				`Vonage AI Studio had a server error (HTTP ${code})`,
				`${tried.trim()} ${READ_AGAIN} Try again later.${quote}`.trim(),
				cause.body,
			);
		}
		return build(
			code,
			said ? `Studio refused the read: ${said}` : `Studio refused the read (HTTP ${code})`,
			"Check this item's values (dates, contact number, channel, agent ID).",
			cause.body,
		);
	}
	if (isError(cause, 'StudioNetworkError')) {
		return build(
			'',
			`Could not reach Vonage AI Studio at ${host}`,
			`${connectionProblem(cause.code)}${tried.trim()} Check the region or base URL in the credential and this machine's network connection. ${READ_AGAIN}`,
		);
	}
	if (isError(cause, 'ReadCancelledError')) return build('', cause.message, 'Nothing more was read for this item.');
	const message = cause instanceof Error ? cause.message : String(cause);
	return build('', `Reading from Vonage AI Studio failed: ${message}`, READ_AGAIN);
}
