// The main edition's HTTP to Studio: n8n's own httpRequestWithAuthentication, so the credential's `authenticate`
// block is what sends the key (the package never handles it), proxies and n8n's settings apply, and nothing
// outside n8n's helpers is needed. Failures are classified as the queue edition's are.
import type { IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';

import type { StudioResponse, StudioTransport } from '../../core/ports';
import { CREDENTIAL_TYPE } from '../../core/studioApi';
import { networkFailure, studioAnswer, studioUrl } from '../../core/studioHttp';
import type { StudioAccount } from '../../core/account';

interface FullResponse {
	statusCode: number;
	headers?: Record<string, unknown>;
	body: unknown;
}

/** The low-level code of a failure n8n's helper reports: `httpCode` on its NodeApiError, or the cause's code. */
function failureCode(error: unknown): string | undefined {
	const { httpCode, code, cause } = (error ?? {}) as { httpCode?: unknown; code?: unknown; cause?: { code?: unknown } };
	for (const candidate of [cause?.code, code, httpCode]) {
		if (typeof candidate === 'string' && candidate !== '' && !/^\d+$/.test(candidate)) return candidate;
	}
	return undefined;
}

export function n8nTransport(context: IExecuteFunctions, account: StudioAccount): StudioTransport {
	const send = async (
		method: 'GET' | 'POST',
		path: string,
		body: unknown,
		responseTimeoutMs: number,
	): Promise<StudioResponse> => {
		const options: IHttpRequestOptions = {
			method,
			// The Insights API's query is encoded already: passed inside the URL, not as `qs`, so n8n's serializer
			// does not encode it a second way.
			url: studioUrl(account.baseUrl, path).toString(),
			...(method === 'POST' ? { body: body as IHttpRequestOptions['body'] } : {}),
			json: true,
			timeout: responseTimeoutMs,
			// Every status comes back as an answer, so a 4xx is Studio's refusal and not a failure of the request
			// (and n8n does not resend a POST that got a 401).
			ignoreHttpStatusErrors: true,
			returnFullResponse: true,
		};
		let response: FullResponse;
		try {
			response = (await context.helpers.httpRequestWithAuthentication.call(
				context,
				CREDENTIAL_TYPE,
				options,
			)) as FullResponse;
		} catch (error) {
			// n8n's helper wraps every failure; a timeout cannot say whether it was connecting or waiting for the
			// answer, so it counts as possibly sent (never resent).
			throw networkFailure((error as Error).message ?? String(error), failureCode(error));
		}
		return studioAnswer(response.statusCode, response.body ?? '', response.headers?.['retry-after']);
	};
	return {
		post: (path, body, responseTimeoutMs) => send('POST', path, body, responseTimeoutMs),
		get: (pathAndQuery, responseTimeoutMs) => send('GET', pathAndQuery, undefined, responseTimeoutMs),
	};
}
