// HTTP to Studio: one keep-alive undici pool per origin, bounded timeouts, and failures classified by
// whether the request may have reached Studio (which decides whether a retry could duplicate a session).
import { Pool } from 'undici';

import type { StudioResponse, StudioTransport } from '../../core/ports';
import { API_KEY_HEADER } from '../../core/studioApi';
import { CONNECT_TIMEOUT_MS, networkFailure, parseBody, studioAnswer, studioUrl } from '../../core/studioHttp';
import type { StudioAccount } from '../../core/account';
import { processWide } from './processWide';

export interface TransportTimeouts {
	connectTimeoutMs: number;
	responseTimeoutMs: number;
}

/** When a caller names no timeouts (the credential test, tests and the benchmark); the node passes its option. */
export const DEFAULT_TIMEOUTS: TransportTimeouts = { connectTimeoutMs: CONNECT_TIMEOUT_MS, responseTimeoutMs: 30_000 };

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
 * One request to Studio: a JSON body for a POST, none for a GET (whose query in `path` is sent as given). Resolves
 * for any 2xx; throws StudioHttpError for other statuses and StudioNetworkError below HTTP. Never retries by itself.
 */
async function requestStudio(
	method: 'GET' | 'POST',
	baseUrl: string,
	path: string,
	body: unknown,
	apiKey: string,
	timeouts: TransportTimeouts,
): Promise<StudioResponse> {
	const url = studioUrl(baseUrl, path);
	const pool = poolFor(url.origin, timeouts);
	let statusCode: number;
	let headers: Record<string, string | string[] | undefined>;
	let text: string;
	try {
		const response = await pool.request({
			method,
			path: `${url.pathname}${url.search}`,
			headers: {
				...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
				accept: 'application/json',
				[API_KEY_HEADER]: apiKey,
			},
			body: method === 'POST' ? JSON.stringify(body) : undefined,
		});
		statusCode = response.statusCode;
		headers = response.headers;
		text = await response.body.text();
	} catch (error) {
		throw networkFailure(error instanceof Error ? error.message : String(error), errorCode(error));
	}
	return studioAnswer(statusCode, parseBody(text), headers['retry-after']);
}

/** POSTs one JSON body to Studio (see requestStudio). */
export async function postToStudio(
	baseUrl: string,
	path: string,
	body: unknown,
	apiKey: string,
	timeouts: TransportTimeouts = DEFAULT_TIMEOUTS,
): Promise<StudioResponse> {
	return await requestStudio('POST', baseUrl, path, body, apiKey, timeouts);
}

/** The queue edition's transport for one account: undici, keep-alive pools per origin. */
export function undiciTransport(account: StudioAccount): StudioTransport {
	const timeouts = (responseTimeoutMs: number) => ({ connectTimeoutMs: CONNECT_TIMEOUT_MS, responseTimeoutMs });
	return {
		post: (path, body, responseTimeoutMs) =>
			requestStudio('POST', account.baseUrl, path, body, account.apiKey, timeouts(responseTimeoutMs)),
		get: (pathAndQuery, responseTimeoutMs) =>
			requestStudio('GET', account.baseUrl, pathAndQuery, undefined, account.apiKey, timeouts(responseTimeoutMs)),
	};
}
