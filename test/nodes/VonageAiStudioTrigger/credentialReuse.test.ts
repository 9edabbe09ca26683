// Proves the trigger, run by n8n-core's WebhookContext, reads its credential once per 10 seconds instead of once per
// callback, and that this weakens nothing: a changed token or secret works at once, the old one stops within
// 10 seconds, a removed credential refuses, forged callbacks still get 401, and test URL requests always read.
import { request } from 'undici';

import { SECRETS_TTL_MS } from '../../../nodes/VonageAiStudioTrigger/secretsCache';
import { signedAuthorization } from '../../../harness/signature';
import { startWebhookHarness, type WebhookHarness } from '../../../harness/webhookHarness';

const token = 'example-status-url-token';
const newToken = 'example-rotated-url-token';
const signatureSecret = 'example-signature-secret';
const credentialsWith = (secrets: { token?: string; signatureSecret?: string }) => ({
	vonageAiStudioCallbackApi: secrets,
});

let sequence = 0;
/** A distinct message each time, so the repeat filter never hides a result. */
function callback(status = 'delivered') {
	sequence++;
	return JSON.stringify({ message_uuid: `aaaaaaaa-0000-4000-8000-${String(sequence).padStart(12, '0')}`, status });
}

async function post(url: string, body = callback(), headers: Record<string, string> = {}) {
	const response = await request(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body,
	});
	await response.body.text();
	return response.statusCode;
}

/** Moves Date.now (which the cache's clock reads) forward; the server and undici keep their real timers. */
function advanceClock(ms: number) {
	const now = Date.now() + ms;
	jest.spyOn(Date, 'now').mockReturnValue(now);
}

let harness: WebhookHarness;
afterEach(async () => {
	jest.restoreAllMocks();
	await harness?.close();
});

describe('secret token', () => {
	beforeEach(async () => {
		harness = await startWebhookHarness({
			parameters: { authentication: 'token' },
			credentials: credentialsWith({ token }),
		});
	});

	it('reads the credential once for a burst of callbacks, sequential or 16 at once', async () => {
		for (let index = 0; index < 5; index++) expect(await post(harness.statusUrl({ token }))).toBe(200);
		const concurrent = await Promise.all(Array.from({ length: 16 }, () => post(harness.statusUrl({ token }))));
		expect(concurrent.every((status) => status === 200)).toBe(true);
		expect(harness.executions).toHaveLength(21);
		expect(harness.credentialReads()).toBe(1);
	});

	it('reads it again after 10 seconds', async () => {
		await post(harness.statusUrl({ token }));
		advanceClock(SECRETS_TTL_MS - 1000);
		await post(harness.statusUrl({ token }));
		expect(harness.credentialReads()).toBe(1);
		advanceClock(1000);
		await post(harness.statusUrl({ token }));
		expect(harness.credentialReads()).toBe(2);
	});

	it('accepts a changed token at once; the old one works at most 10 seconds longer', async () => {
		expect(await post(harness.statusUrl({ token }))).toBe(200);
		harness.setCredentials(credentialsWith({ token: newToken }));

		expect(await post(harness.statusUrl({ token: newToken }))).toBe(200); // refused by the reused token, read again
		expect(harness.credentialReads()).toBe(2);
		expect(await post(harness.statusUrl({ token }))).toBe(401); // that read replaced the old token
		expect(harness.executions).toHaveLength(2);
	});

	it('stops accepting the old token within 10 seconds even when the new one has not been used yet', async () => {
		expect(await post(harness.statusUrl({ token }))).toBe(200);
		harness.setCredentials(credentialsWith({ token: newToken }));
		expect(await post(harness.statusUrl({ token }))).toBe(200); // within the 10 seconds: documented
		advanceClock(SECRETS_TTL_MS);
		expect(await post(harness.statusUrl({ token }))).toBe(401);
		expect(await post(harness.statusUrl({ token: newToken }))).toBe(200);
	});

	it('fails closed when the credential is removed: at once for any callback it would refuse, after 10 s for all', async () => {
		expect(await post(harness.statusUrl({ token }))).toBe(200);
		harness.setCredentials({});

		expect(await post(harness.statusUrl({ token: 'example-wrong-token1' }))).toBe(401);
		expect(await post(harness.statusUrl())).toBe(401);
		advanceClock(SECRETS_TTL_MS);
		expect(await post(harness.statusUrl({ token }))).toBe(401);
		expect(await post(harness.statusUrl({ token }))).toBe(401); // a failed read is never reused
		expect(harness.executions).toHaveLength(1);
	});

	it('still refuses forged callbacks with 401, each after a fresh read of the credential', async () => {
		await post(harness.statusUrl({ token }));
		const forged = await Promise.all(
			Array.from({ length: 4 }, () => post(harness.statusUrl({ token: 'example-forged-token' }))),
		);
		expect(forged).toEqual([401, 401, 401, 401]);
		expect(harness.executions).toHaveLength(1);
		expect(harness.credentialReads()).toBeGreaterThan(1);
		// The fresh read is reused again by genuine callbacks.
		const reads = harness.credentialReads();
		expect(await post(harness.statusUrl({ token }))).toBe(200);
		expect(harness.credentialReads()).toBe(reads);
	});
});

it('accepts a changed signature secret at once', async () => {
	harness = await startWebhookHarness({
		parameters: { authentication: 'signature' },
		credentials: credentialsWith({ signatureSecret }),
	});
	const first = callback();
	expect(await post(harness.url, first, { authorization: signedAuthorization(first, signatureSecret) })).toBe(200);

	harness.setCredentials(credentialsWith({ signatureSecret: 'example-rotated-secret' }));
	const second = callback();
	expect(
		await post(harness.url, second, { authorization: signedAuthorization(second, 'example-rotated-secret') }),
	).toBe(200);
	const third = callback();
	expect(await post(harness.url, third, { authorization: signedAuthorization(third, signatureSecret) })).toBe(401);
	expect(harness.executions).toHaveLength(2);
});

it('reads the credential for every request to the test URL', async () => {
	harness = await startWebhookHarness({
		parameters: { authentication: 'token' },
		credentials: credentialsWith({ token }),
		mode: 'manual',
	});
	for (let index = 0; index < 3; index++) expect(await post(harness.statusUrl({ token }))).toBe(200);
	expect(harness.credentialReads()).toBe(3);
});

it('keeps workflows apart: each reads its own credential', async () => {
	harness = await startWebhookHarness({
		parameters: { authentication: 'token' },
		credentials: credentialsWith({ token }),
	});
	const other = await startWebhookHarness({
		parameters: { authentication: 'token' },
		credentials: credentialsWith({ token: newToken }),
	});
	try {
		expect(await post(harness.statusUrl({ token }))).toBe(200);
		expect(await post(other.statusUrl({ token }))).toBe(401);
		expect(await post(other.statusUrl({ token: newToken }))).toBe(200);
		expect([harness.credentialReads(), other.credentialReads()]).toEqual([1, 1]);
	} finally {
		await other.close();
	}
});

it('reads no credential without authentication', async () => {
	harness = await startWebhookHarness({
		parameters: { authentication: 'none' },
		credentials: credentialsWith({ token }),
	});
	expect(await post(harness.url)).toBe(200);
	expect(harness.credentialReads()).toBe(0);
});
