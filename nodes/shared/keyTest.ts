// "Test" of the Studio credential, for both editions. Studio documents no read-only endpoint, so the test posts a
// deliberately incomplete WhatsApp request (CREDENTIAL_TEST_BODY: no agent, no recipient) that Studio can only
// refuse: no session can ever start. Studio checks the key first, so a refusal of the body (400, 422) or a 429
// means the key was accepted; every other status says what is wrong.
import type { IAuthenticateRuleResponseCode, ICredentialTestRequest } from 'n8n-workflow';

import { CREDENTIAL_TEST_BODY, STUDIO_HOSTS, STUDIO_PATHS } from '../../core/studioApi';

/** Statuses that mean Studio accepted the key (it refused the body, or is rate limiting the account). */
export const KEY_ACCEPTED_STATUSES: readonly number[] = [400, 422, 429];

/** What an answer to the test request says about the credential. */
export function keyTestVerdict(statusCode: number, host: string): { ok: boolean; message: string } {
	if (statusCode === 429)
		return { ok: true, message: `Key accepted by ${host}; it is rate limiting this account right now.` };
	if (KEY_ACCEPTED_STATUSES.includes(statusCode)) {
		return {
			ok: true,
			message: `Key accepted by ${host} (it refused the deliberately incomplete test request, so nothing was sent).`,
		};
	}
	if (statusCode === 401 || statusCode === 403) {
		return {
			ok: false,
			message: `Studio rejected this API key (HTTP ${statusCode}). Generate a new key in the AI Studio canvas and check the region.`,
		};
	}
	if (statusCode === 404) {
		return {
			ok: false,
			message: `${host} answered HTTP 404: it is not Vonage AI Studio. Check the region or the base URL override.`,
		};
	}
	return {
		ok: false,
		message: `${host} answered HTTP ${statusCode}. Vonage AI Studio may be having trouble; try again later.`,
	};
}

const FAILING_STATUSES = Array.from({ length: 300 }, (_, index) => 300 + index).filter(
	(status) => !KEY_ACCEPTED_STATUSES.includes(status),
);

/**
 * The same test declared on the credential (the main edition: n8n runs it, with the credential's own
 * `authenticate`). Measured in real n8n: on 2.41 every status gets its message; on 2.8 only the accepted ones and
 * 401/403 answered with Studio's "Unauthorized"/"Forbidden" message text are told apart (2.8 cannot throw on
 * chosen statuses), so there a 404 or 5xx passes the test and shows at the first send instead.
 */
export function declarativeKeyTest(): ICredentialTestRequest {
	const host = 'Studio';
	return {
		request: {
			baseURL: `={{ ($credentials.baseUrl || '').trim() || ($credentials.region === 'us' ? '${STUDIO_HOSTS.us}' : '${STUDIO_HOSTS.eu}') }}`,
			url: STUDIO_PATHS.messagingConversation,
			method: 'POST',
			body: { ...CREDENTIAL_TEST_BODY },
			json: true,
			// n8n 2.41 throws only on these statuses (its types allow the object; 2.8's say boolean, and 2.8 treats
			// the object as `true`).
			ignoreHttpStatusErrors: { ignore: true, except: FAILING_STATUSES } as unknown as boolean,
		},
		// responseCode rules: the statuses that threw (n8n 2.41). responseSuccessBody rules: answered bodies (both).
		rules: [
			...FAILING_STATUSES.map((status) => ({
				type: 'responseCode' as const,
				properties: { value: status, message: keyTestVerdict(status, host).message },
			})),
			{
				type: 'responseSuccessBody',
				properties: { key: 'message', value: 'Unauthorized', message: keyTestVerdict(401, host).message },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'message', value: 'Forbidden', message: keyTestVerdict(403, host).message },
			},
		] as unknown as IAuthenticateRuleResponseCode[],
	};
}
