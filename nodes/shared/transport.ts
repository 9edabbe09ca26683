// HTTP to Studio: one keep-alive undici pool per origin, bounded timeouts, and failures classified by
// whether the request may have reached Studio (which decides whether a retry could duplicate a session).
import { Pool } from 'undici';

import { StudioHttpError, StudioNetworkError } from './errors';
import { API_KEY_HEADER } from './studioApi';
import { processWide } from './processWide';

export interface StudioResponse {
	statusCode: number;
	/** Parsed JSON when the body was JSON, the text otherwise, '' when empty. */
	body: unknown;
}

export interface TransportTimeouts {
	connectTimeoutMs: number;
	responseTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: TransportTimeouts = { connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 };

// Errors that happen before a single byte of the request can have left this machine.
const NOT_SENT_CODES = new Set([
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

function poolRegistry(): Map<string, Pool> {
	return processWide('transport.pools', () => new Map<string, Pool>());
}

function poolFor(origin: string, timeouts: TransportTimeouts): Pool {
	const key = `${origin}|${timeouts.connectTimeoutMs}|${timeouts.responseTimeoutMs}`;
	const pools = poolRegistry();
	let pool = pools.get(key);
	if (!pool) {
		pool = new Pool(origin, {
			connections: 64,
			pipelining: 1,
			connectTimeout: timeouts.connectTimeoutMs,
			headersTimeout: timeouts.responseTimeoutMs,
			bodyTimeout: timeouts.responseTimeoutMs,
			keepAliveTimeout: 30_000,
		});
		pools.set(key, pool);
	}
	return pool;
}

/** Closes every pool (tests and benchmarks; n8n itself never needs to). */
export async function closeAllPools(): Promise<void> {
	const pools = poolRegistry();
	const all = [...pools.values()];
	pools.clear();
	await Promise.all(all.map(async (pool) => pool.close()));
}

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date), if present and sane. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
	const raw = Array.isArray(value) ? value[0] : value;
	if (!raw) return undefined;
	const trimmed = raw.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

function parseBody(text: string): unknown {
	if (text.trim() === '') return '';
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

function errorCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/**
 * POSTs one JSON body to Studio. Resolves for any 2xx; throws StudioHttpError for other statuses and
 * StudioNetworkError below HTTP. Never retries by itself.
 */
export async function postToStudio(
	baseUrl: string,
	path: string,
	body: unknown,
	apiKey: string,
	timeouts: TransportTimeouts = DEFAULT_TIMEOUTS,
): Promise<StudioResponse> {
	const url = new URL(path.replace(/^\/+/, ''), `${baseUrl.replace(/\/+$/, '')}/`);
	const pool = poolFor(url.origin, timeouts);
	let statusCode: number;
	let headers: Record<string, string | string[] | undefined>;
	let text: string;
	try {
		const response = await pool.request({
			method: 'POST',
			path: `${url.pathname}${url.search}`,
			headers: {
				'content-type': 'application/json',
				accept: 'application/json',
				[API_KEY_HEADER]: apiKey,
			},
			body: JSON.stringify(body),
		});
		statusCode = response.statusCode;
		headers = response.headers;
		text = await response.body.text();
	} catch (error) {
		const code = errorCode(error);
		const notSent = code !== undefined && NOT_SENT_CODES.has(code);
		const reason = error instanceof Error ? error.message : String(error);
		throw new StudioNetworkError(`${reason}${code ? ` (${code})` : ''}`, code, !notSent);
	}
	const parsed = parseBody(text);
	if (statusCode < 200 || statusCode > 299) {
		throw new StudioHttpError(statusCode, parsed, parseRetryAfter(headers['retry-after']));
	}
	return { statusCode, body: parsed };
}
