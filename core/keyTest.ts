// What an answer to the Studio credential's test request says about the key, for both editions. Studio documents no
// read-only endpoint, so the test posts a deliberately incomplete WhatsApp request (CREDENTIAL_TEST_BODY: no agent,
// no recipient) that Studio can only refuse: no session can ever start. Studio checks the key first, so a refusal of
// the body (400, 422) or a 429 means the key was accepted; every other status says what is wrong.

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
