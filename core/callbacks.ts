// What a callback says, in fields a workflow can use: the body parsed from the exact bytes, normalised (absent
// values null, Vonage's numbers as text), ranked, and filtered by the statuses chosen in the trigger. Pure.
import { readCorrelation } from './statusUrl';
import { refuse, type Refusal } from './callbackAuthenticity';

// ---------------------------------------------------------------------------------------------------------------
// Statuses

/** Statuses Studio forwards from the Messages API (WhatsApp and SMS sessions). */
export const MESSAGE_STATUSES = ['submitted', 'delivered', 'read', 'rejected', 'undeliverable'] as const;

/**
 * Statuses of an outbound call that was not picked up (Studio calls the status URL of a call only then).
 * `rejected` is shared with the Messages statuses; the item's `channel` tells them apart.
 */
export const CALL_STATUSES = ['busy', 'cancelled', 'failed', 'rejected', 'timeout', 'unanswered'] as const;

/** The filter value that lets every status through, including ones this package does not know. */
export const ALL_STATUSES = '*';

const FAILURE_STATUSES = new Set<string>(['rejected', 'undeliverable', ...CALL_STATUSES]);

/**
 * How far a message got, so a workflow can drop a status that arrives after a later one
 * ("keep an item only if its statusRank is greater than the highest rank stored for that message"):
 * - 0: a status this package does not know
 * - 1: submitted
 * - 2: the outcome is known: delivered, rejected, undeliverable, or a call that was not picked up
 * - 3: read
 * With this scheme "delivered" (2) after "read" (3) is dropped, and "undeliverable" (2) after "submitted" (1) is kept.
 */
export function statusRank(status: string): number {
	if (status === 'submitted') return 1;
	if (status === 'read') return 3;
	if (status === 'delivered' || FAILURE_STATUSES.has(status)) return 2;
	return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

export type CallbackBody = Record<string, unknown> & { status: string };

export type ParsedCallback = { ok: true; body: CallbackBody } | Refusal;

/** Parses the raw bytes (not n8n's parsed body, which depends on the Content-Type the sender chose). */
export function parseCallbackBody(rawBody: Buffer): ParsedCallback {
	let parsed: unknown;
	try {
		parsed = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return refuse(400, 'body is not valid JSON');
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		return refuse(400, 'body is not a JSON object');
	}
	const { status } = parsed as Record<string, unknown>;
	if (typeof status !== 'string' || status.trim() === '') {
		return refuse(400, 'body has no "status" string');
	}
	return { ok: true, body: parsed as CallbackBody };
}

// ---------------------------------------------------------------------------------------------------------------
// Normalising

/** The item the trigger emits. Absent values are `null` so every field can be mapped in the editor. */
export interface NormalisedCallback {
	[key: string]: unknown;
	status: string;
	statusRank: number;
	/** True for rejected, undeliverable and calls that were not picked up. */
	failed: boolean;
	/** The `vgai_ref` query parameter the action node put into the status URL. */
	reference: string | null;
	channel: string | null;
	to: string | null;
	from: string | null;
	messageUuid: string | null;
	/** Voice callbacks carry a conversation UUID instead of a message UUID. */
	conversationUuid: string | null;
	agentId: string | null;
	/** ISO 8601, UTC. */
	timestamp: string | null;
	/** The numeric Messages error code as text, e.g. "1050". */
	errorCode: string | null;
	errorTitle: string | null;
	errorDetail: string | null;
	/** As Vonage sends it (a decimal string), to keep its precision. */
	price: string | null;
	currency: string | null;
	whatsappConversationId: string | null;
	whatsappOriginType: string | null;
	/** The callback exactly as received, unknown fields included. */
	body: CallbackBody;
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
	typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

function asText(value: unknown): string | null {
	if (typeof value === 'string') return value === '' ? null : value;
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return null;
}

/** Messages v1 sends `to`/`from` as strings; older shapes used `{ type, number }`. */
const asAddress = (value: unknown): string | null => asText(value) ?? asText(asRecord(value)?.number);

function asIsoTimestamp(value: unknown): string | null {
	let date: Date | undefined;
	if (typeof value === 'string' && value.trim() !== '') {
		date = /^\d+(\.\d+)?$/.test(value.trim()) ? fromEpoch(Number(value)) : new Date(value);
	} else if (typeof value === 'number') {
		date = fromEpoch(value);
	}
	return date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

/** Epoch values below 10^12 are seconds, above are milliseconds. */
const fromEpoch = (value: number) => new Date(value < 1e12 ? value * 1000 : value);

function errorCodeOf(error: Record<string, unknown> | undefined): string | null {
	if (!error) return null;
	const title = asText(error.title);
	if (title && /^\d+$/.test(title.trim())) return title.trim();
	const fromType = typeof error.type === 'string' ? /#(\d+)\s*$/.exec(error.type) : null;
	return fromType ? fromType[1] : null;
}

export function normaliseCallback(body: CallbackBody, query: Record<string, unknown>): NormalisedCallback {
	const status = body.status.trim();
	const error = asRecord(body.error);
	const usage = asRecord(body.usage);
	const whatsappConversation = asRecord(asRecord(body.whatsapp)?.conversation);
	const messageUuid = asText(body.message_uuid);
	const conversationUuid = asText(body.conversation_uuid);
	const channel = asText(body.channel) ?? (conversationUuid && !messageUuid ? 'voice' : null);

	return {
		status,
		statusRank: statusRank(status),
		failed: FAILURE_STATUSES.has(status),
		reference: readCorrelation(query).reference ?? null,
		channel,
		to: asAddress(body.to),
		from: asAddress(body.from),
		messageUuid,
		conversationUuid,
		agentId: asText(body.agent_id),
		timestamp: asIsoTimestamp(body.timestamp),
		errorCode: errorCodeOf(error),
		errorTitle: asText(error?.title),
		errorDetail: asText(error?.detail),
		price: asText(usage?.price),
		currency: asText(usage?.currency),
		whatsappConversationId: asText(whatsappConversation?.id),
		whatsappOriginType: asText(asRecord(whatsappConversation?.origin)?.type),
		body,
	};
}

// ---------------------------------------------------------------------------------------------------------------
// Filtering

/** An empty selection lets nothing through; `*` lets everything through, unknown statuses included. */
export function isStatusSelected(status: string, selected: readonly string[]): boolean {
	return selected.includes(ALL_STATUSES) || selected.includes(status);
}
