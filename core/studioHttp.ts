// What both editions' HTTP clients share about talking to Studio: the URL of a request, which low-level failures
// certainly happened before anything left this machine, how an answer becomes a result or a StudioHttpError, and
// the Retry-After header.
import { StudioHttpError, StudioNetworkError } from './errors';
import type { StudioResponse } from './ports';

/** Longest wait for a connection to Studio (the queue edition's client; n8n's helper has one timeout for both). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Failure codes of a request that never left this machine: only these may be retried without risking a second
 * session. A timeout, a reset or a cancel after the connection was made may have reached Studio.
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
	'ERR_TLS_CERT_ALTNAME_INVALID',
	'CERT_HAS_EXPIRED',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'SELF_SIGNED_CERT_IN_CHAIN',
]);

export function studioUrl(baseUrl: string, path: string): URL {
	return new URL(path.replace(/^\/+/, ''), `${baseUrl.replace(/\/+$/, '')}/`);
}

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date), if present and sane. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
	const raw = Array.isArray(value) ? value[0] : value;
	if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
	const trimmed = String(raw).trim();
	if (trimmed === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

/** A body as text → parsed JSON when it is JSON, the text otherwise, '' when empty. */
export function parseBody(text: string): unknown {
	if (text.trim() === '') return '';
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

/** Studio's answer: the response for any 2xx, else a StudioHttpError carrying the body and Retry-After. */
export function studioAnswer(statusCode: number, body: unknown, retryAfter: unknown): StudioResponse {
	if (statusCode < 200 || statusCode > 299) throw new StudioHttpError(statusCode, body, parseRetryAfter(retryAfter));
	return { statusCode, body };
}

/** A failure below HTTP, classified by whether the request may have reached Studio. */
export function networkFailure(reason: string, code: string | undefined): StudioNetworkError {
	const notSent = code !== undefined && NOT_SENT_CODES.has(code);
	return new StudioNetworkError(`${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`, code, !notSent);
}

/** The text of Studio's error body (its fields are not documented: the first of the usual ones), at most 500 characters. */
export function studioMessage(body: unknown): string | undefined {
	if (typeof body === 'string') return body.trim() === '' ? undefined : body.slice(0, 500);
	if (!body || typeof body !== 'object') return undefined;
	const record = body as Record<string, unknown>;
	for (const key of ['message', 'detail', 'error', 'title', 'description']) {
		const value = record[key];
		if (typeof value === 'string' && value.trim() !== '') return value;
		if (value && typeof value === 'object') {
			const nested = studioMessage(value);
			if (nested) return nested;
		}
	}
	return undefined;
}

/** Studio's words when the agent ID names no agent or the agent has no published version (docs/studio-api.md). */
const AGENT_MISSING = /not an ID to any agent|published version|agent .*not found/i;

export function isAgentMissing(statusCode: number, said: string | undefined): boolean {
	return statusCode === 404 || (said !== undefined && AGENT_MISSING.test(said));
}
