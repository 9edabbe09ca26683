// Everything the trigger does with a status callback that does not need n8n: size check, authenticity,
// parsing, normalising, filtering and dropping repeats. The node file only wires these to the request.
import { createHash, timingSafeEqual } from 'node:crypto';
import { verify as verifyJwt } from 'jsonwebtoken';

import { readCorrelation } from '../shared/statusUrl';

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
// Refusals

/** Why a callback was not accepted, with the HTTP status to answer. `reason` is for logs, never for the caller. */
export interface Refusal {
	ok: false;
	statusCode: 400 | 401 | 413;
	reason: string;
}

const refuse = (statusCode: Refusal['statusCode'], reason: string): Refusal => ({ ok: false, statusCode, reason });

/** What the caller is told: short, and the same for every authentication failure so it teaches a forger nothing. */
export function publicMessage(refusal: Refusal): string {
	switch (refusal.statusCode) {
		case 401:
			return 'Callback refused: authentication failed';
		case 413:
			return 'Callback refused: body too large';
		default:
			return `Callback refused: ${refusal.reason}`;
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Size

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * n8n has already read and parsed the body when the trigger runs, so the limit is checked on the raw bytes n8n
 * kept and on the declared Content-Length (either one over the limit refuses the callback).
 */
export function checkBodySize(
	rawBodyLength: number,
	contentLengthHeader: string | string[] | undefined,
	maxBytes: number,
): Refusal | undefined {
	const declared = Number(Array.isArray(contentLengthHeader) ? contentLengthHeader[0] : contentLengthHeader);
	if (rawBodyLength > maxBytes || (Number.isFinite(declared) && declared > maxBytes)) {
		return refuse(413, `body is larger than ${maxBytes} bytes`);
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Authenticity

export type AuthenticationMode = 'token' | 'signature' | 'none';

export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;
export const VONAGE_ISSUER = 'Vonage';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

/**
 * Token mode: the secret the action node put into the status URL must equal the configured one.
 * Both sides are hashed first so the comparison takes the same time whatever their lengths.
 */
export function verifyStatusUrlToken(expected: string | undefined, presented: string | undefined): Refusal | undefined {
	if (!expected) return refuse(401, 'no token is configured in the credential');
	if (!presented) return refuse(401, 'the status URL carries no token');
	if (!timingSafeEqual(sha256(expected), sha256(presented))) return refuse(401, 'the status URL token does not match');
	return undefined;
}

export interface SignatureCheck {
	authorization: string | string[] | undefined;
	rawBody: Buffer;
	signatureSecret: string | undefined;
	toleranceSeconds?: number;
	/** Seconds since the epoch; tests pass a fixed clock. */
	nowSeconds?: number;
}

/**
 * Signature mode: `Authorization: Bearer <JWT>` signed HS256 with the account's signature secret, issued by
 * Vonage, issued within the tolerance (either direction), and carrying the SHA-256 of the exact bytes received.
 */
export function verifySignedCallback(check: SignatureCheck): Refusal | undefined {
	const { rawBody, signatureSecret } = check;
	const tolerance = check.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
	const now = check.nowSeconds ?? Math.floor(Date.now() / 1000);
	if (!signatureSecret) return refuse(401, 'no signature secret is configured in the credential');

	const header = Array.isArray(check.authorization) ? check.authorization[0] : check.authorization;
	const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
	if (!match) return refuse(401, 'no Bearer token in the Authorization header');

	let claims: unknown;
	try {
		claims = verifyJwt(match[1], signatureSecret, {
			algorithms: ['HS256'],
			issuer: VONAGE_ISSUER,
			clockTimestamp: now,
			clockTolerance: tolerance,
		});
	} catch (error) {
		return refuse(401, `signature rejected: ${(error as Error).message}`);
	}
	if (typeof claims !== 'object' || claims === null) return refuse(401, 'the token has no claims');
	const { iat, payload_hash: payloadHash } = claims as Record<string, unknown>;

	if (typeof iat !== 'number' || !Number.isFinite(iat)) return refuse(401, 'the token has no iat');
	if (Math.abs(now - iat) > tolerance) return refuse(401, `iat is more than ${tolerance} s away from now`);

	if (typeof payloadHash !== 'string') return refuse(401, 'the token has no payload_hash');
	const received = Buffer.from(payloadHash.toLowerCase(), 'utf8');
	const actual = Buffer.from(sha256(rawBody).toString('hex'), 'utf8');
	if (received.length !== actual.length || !timingSafeEqual(received, actual)) {
		return refuse(401, 'payload_hash does not match the body');
	}
	return undefined;
}

export interface AuthenticityCheck {
	mode: AuthenticationMode;
	query: Record<string, unknown>;
	headers: Record<string, string | string[] | undefined>;
	rawBody: Buffer;
	token?: string;
	signatureSecret?: string;
	toleranceSeconds?: number;
	nowSeconds?: number;
}

/** One entry point for the three modes. An unknown mode fails closed. */
export function verifyAuthenticity(check: AuthenticityCheck): Refusal | undefined {
	switch (check.mode) {
		case 'none':
			return undefined;
		case 'token':
			return verifyStatusUrlToken(check.token, readCorrelation(check.query).token);
		case 'signature':
			return verifySignedCallback({
				authorization: check.headers.authorization,
				rawBody: check.rawBody,
				signatureSecret: check.signatureSecret,
				toleranceSeconds: check.toleranceSeconds,
				nowSeconds: check.nowSeconds,
			});
		default:
			return refuse(401, `unknown authentication mode "${String(check.mode)}"`);
	}
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

// ---------------------------------------------------------------------------------------------------------------
// Dropping repeats

export const DEFAULT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;
export const DEFAULT_DEDUPE_MAX_ENTRIES = 10_000;

/** Repeats are recognised by message (or call) UUID and status; a callback without either is never a repeat. */
export function dedupeKey(callback: Pick<NormalisedCallback, 'messageUuid' | 'conversationUuid' | 'status'>) {
	const id = callback.messageUuid ?? callback.conversationUuid;
	return id ? `${id}\u0000${callback.status}` : undefined;
}

export interface DeduperOptions {
	windowMs?: number;
	maxEntries?: number;
	now?: () => number;
}

/**
 * Remembers keys for a window counted from their first sighting, so a callback repeated forever still gets
 * through once per window. Bounded: past `maxEntries` the oldest keys are forgotten first.
 */
export class CallbackDeduper {
	private readonly firstSeen = new Map<string, number>();
	private windowMs: number;
	private maxEntries: number;
	private readonly now: () => number;

	constructor(options: DeduperOptions = {}) {
		this.windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
		this.maxEntries = options.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES;
		this.now = options.now ?? Date.now;
	}

	/** The node's options can change between requests; the remembered keys stay. */
	configure({ windowMs, maxEntries }: Pick<DeduperOptions, 'windowMs' | 'maxEntries'>) {
		if (windowMs !== undefined) this.windowMs = windowMs;
		if (maxEntries !== undefined) this.maxEntries = maxEntries;
	}

	get size() {
		return this.firstSeen.size;
	}

	/** True when the key was seen within the window; otherwise records it and returns false. */
	isRepeat(key: string): boolean {
		const now = this.now();
		this.forgetExpired(now);
		if (this.firstSeen.has(key)) return true;
		this.firstSeen.set(key, now);
		while (this.firstSeen.size > this.maxEntries) {
			const oldest = this.firstSeen.keys().next().value as string;
			this.firstSeen.delete(oldest);
		}
		return false;
	}

	// Keys are inserted in time order and never refreshed, so the expired ones are always at the front.
	private forgetExpired(now: number) {
		for (const [key, seenAt] of this.firstSeen) {
			if (now - seenAt < this.windowMs) break;
			this.firstSeen.delete(key);
		}
	}
}

const REGISTRY_KEY = Symbol.for('n8n-nodes-vonage-ai-studio.trigger.dedupe');
const MAX_REGISTRY_SCOPES = 1000;

/**
 * n8n creates the node's context anew for every request and may load this module more than once (test and
 * production webhooks, package reloads), so the memory of past callbacks lives in one process-wide registry,
 * one deduper per workflow and node. It is per process: instances behind a load balancer each remember their own.
 */
export function sharedDeduper(scope: string, options: Pick<DeduperOptions, 'windowMs' | 'maxEntries'>) {
	const holder = globalThis as unknown as Record<symbol, Map<string, CallbackDeduper> | undefined>;
	const registry = (holder[REGISTRY_KEY] ??= new Map());
	let deduper = registry.get(scope);
	if (deduper) {
		registry.delete(scope); // re-inserted below: most recently used last
		deduper.configure(options);
	} else {
		deduper = new CallbackDeduper(options);
	}
	registry.set(scope, deduper);
	while (registry.size > MAX_REGISTRY_SCOPES) registry.delete(registry.keys().next().value as string);
	return deduper;
}

// ---------------------------------------------------------------------------------------------------------------
// The whole decision for one request

export interface CallbackRequest {
	/** The exact bytes received. */
	rawBody: Buffer;
	headers: Record<string, string | string[] | undefined>;
	query: Record<string, unknown>;
}

export interface CallbackSettings {
	authentication: AuthenticationMode;
	token?: string;
	signatureSecret?: string;
	toleranceSeconds?: number;
	maxBodyBytes?: number;
	statuses: readonly string[];
	/** Absent: repeats are not dropped. */
	deduper?: CallbackDeduper;
	nowSeconds?: number;
}

export type CallbackOutcome =
	| { kind: 'accepted'; callback: NormalisedCallback }
	| { kind: 'ignored'; reason: 'filtered' | 'duplicate'; callback: NormalisedCallback }
	| { kind: 'refused'; refusal: Refusal };

/**
 * Order matters: the size is checked before hashing anything, authenticity before parsing (a forger learns
 * nothing about what would parse), and only authentic callbacks reach the repeat memory, so forged ones
 * cannot make it drop a real status.
 */
export function decideCallback(request: CallbackRequest, settings: CallbackSettings): CallbackOutcome {
	const tooLarge = checkBodySize(
		request.rawBody.length,
		request.headers['content-length'],
		settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
	);
	if (tooLarge) return { kind: 'refused', refusal: tooLarge };

	const forged = verifyAuthenticity({
		mode: settings.authentication,
		query: request.query,
		headers: request.headers,
		rawBody: request.rawBody,
		token: settings.token,
		signatureSecret: settings.signatureSecret,
		toleranceSeconds: settings.toleranceSeconds,
		nowSeconds: settings.nowSeconds,
	});
	if (forged) return { kind: 'refused', refusal: forged };

	const parsed = parseCallbackBody(request.rawBody);
	if (!parsed.ok) return { kind: 'refused', refusal: parsed };

	const callback = normaliseCallback(parsed.body, request.query);
	if (!isStatusSelected(callback.status, settings.statuses)) return { kind: 'ignored', reason: 'filtered', callback };

	const key = dedupeKey(callback);
	if (settings.deduper && key !== undefined && settings.deduper.isRepeat(key)) {
		return { kind: 'ignored', reason: 'duplicate', callback };
	}
	return { kind: 'accepted', callback };
}

// ---------------------------------------------------------------------------------------------------------------
// Checking the credential when it is saved (it talks to nothing, so only its own values can be checked)

export const MIN_TOKEN_LENGTH = 16;

/** Returns what the user must change, or undefined when the credential is usable. */
export function checkCallbackSecrets(secrets: { token?: unknown; signatureSecret?: unknown }): string | undefined {
	const token = typeof secrets.token === 'string' ? secrets.token : '';
	const signatureSecret = typeof secrets.signatureSecret === 'string' ? secrets.signatureSecret : '';
	if (!token && !signatureSecret) return 'Set a Status URL Token, a Signature Secret, or both';
	if (token && token.length < MIN_TOKEN_LENGTH) {
		return `The Status URL Token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} random ones`;
	}
	if (token && token.trim() !== token) return 'The Status URL Token starts or ends with a space; remove it';
	return undefined;
}
