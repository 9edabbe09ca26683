// The main package's Studio credential: n8n sends the key from its `authenticate` block, and its declared "Test"
// posts the request Studio can only refuse, counting 400, 422 and 429 as an accepted key and naming what every
// other status means. (Run in a real n8n by e2e/credentials.e2e.test.ts.)
import type { IAuthenticateGeneric, IAuthenticateRuleResponseCode } from 'n8n-workflow';

import { VonageAiStudioApi } from '../../credentials/VonageAiStudioApi.credentials';
import {
	API_KEY_HEADER,
	CREDENTIAL_TEST_BODY,
	CREDENTIAL_TYPE,
	STUDIO_HOSTS,
	STUDIO_PATHS,
} from '../../core/studioApi';
import { VonageAiStudio } from '../../nodes/VonageAiStudio/VonageAiStudio.node';
import { KEY_ACCEPTED_STATUSES, keyTestVerdict } from '../../core/keyTest';

const credential = new VonageAiStudioApi();

it('sends the key as the X-Vgai-Key header through n8n, and is tested by its own declared request', () => {
	expect((credential.authenticate as IAuthenticateGeneric).properties.headers).toEqual({
		[API_KEY_HEADER]: '={{$credentials.apiKey}}',
	});
	expect(new VonageAiStudio().description.credentials).toEqual([{ name: CREDENTIAL_TYPE, required: true }]);
	expect(credential.test.request).toMatchObject({
		method: 'POST',
		url: STUDIO_PATHS.messagingConversation,
		body: CREDENTIAL_TEST_BODY,
	});
	// The region's host unless the base URL override says otherwise.
	expect(credential.test.request.baseURL).toContain(STUDIO_HOSTS.eu);
	expect(credential.test.request.baseURL).toContain(STUDIO_HOSTS.us);
	expect(credential.test.request.baseURL).toContain('$credentials.baseUrl');
});

it('throws on every status but the ones that mean the key was accepted, and names each', () => {
	const { except } = credential.test.request.ignoreHttpStatusErrors as unknown as { except: number[] };
	for (const status of KEY_ACCEPTED_STATUSES) expect(except).not.toContain(status);
	for (const status of [301, 401, 403, 404, 418, 500, 502, 599]) expect(except).toContain(status);
	const rules = credential.test.rules as IAuthenticateRuleResponseCode[];
	const byStatus = new Map(
		rules
			.filter((rule) => rule.type === 'responseCode')
			.map((rule) => [rule.properties.value, rule.properties.message]),
	);
	expect(byStatus.get(401)).toMatch(/rejected this API key \(HTTP 401\)/);
	expect(byStatus.get(403)).toMatch(/rejected this API key \(HTTP 403\)/);
	expect(byStatus.get(404)).toMatch(/not Vonage AI Studio/);
	expect(byStatus.get(503)).toMatch(/HTTP 503.*try again later/);
});

it.each([
	[400, true, /Key accepted/],
	[422, true, /Key accepted/],
	[429, true, /rate limiting/],
	[401, false, /rejected this API key/],
	[403, false, /rejected this API key/],
	[404, false, /not Vonage AI Studio/],
	[500, false, /having trouble/],
])('an answer of HTTP %i: accepted %s', (status, ok, message) => {
	const verdict = keyTestVerdict(status, 'studio-api-eu.ai.vonage.com');
	expect(verdict.ok).toBe(ok);
	expect(verdict.message).toMatch(message);
});
