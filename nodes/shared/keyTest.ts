// The Studio credential's "Test" declared on the credential (the main edition: n8n sends the request itself); what
// each answer means is core/keyTest.ts, shared with the queue edition's own test.
import type { IAuthenticateRuleResponseCode, ICredentialTestRequest } from 'n8n-workflow';

import { KEY_ACCEPTED_STATUSES, keyTestVerdict } from '../../core/keyTest';
import { CREDENTIAL_TEST_BODY, STUDIO_HOSTS, STUDIO_PATHS } from '../../core/studioApi';

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
