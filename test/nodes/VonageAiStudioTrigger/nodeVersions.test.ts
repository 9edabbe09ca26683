// Proves new trigger nodes get version 1.1, saved version-1 nodes still load, and both versions answer every kind of
// request the same way, including bodies n8n does not read for 1.1 (the node then reads the exact bytes itself).
import { NodeHelpers } from 'n8n-workflow';
import { request } from 'undici';

import { VonageAiStudioTrigger } from '../../../nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';
import { signedAuthorization } from '../../../harness/signature';
import { startWebhookHarness, type WebhookHarness } from '../../../harness/webhookHarness';

const token = 'example-status-url-token';
const signatureSecret = 'example-signature-secret';
const credentials = { vonageAiStudioCallbackApi: { token, signatureSecret } };

async function post(url: string, body: string, headers: Record<string, string>) {
	const response = await request(url, { method: 'POST', headers, body });
	return { status: response.statusCode, body: await response.body.text() };
}

it('gives new nodes version 1.1 and keeps version 1 loadable', () => {
	const trigger = new VonageAiStudioTrigger();
	expect(trigger.description.version).toEqual([1, 1.1]);
	expect(trigger.description.defaultVersion).toBe(1.1);
	expect(NodeHelpers.getVersionedNodeType(trigger, 1)).toBe(trigger);
});

describe.each([1, 1.1])('version %s', (typeVersion) => {
	let harness: WebhookHarness;
	afterEach(async () => {
		await harness.close();
	});

	// Pretty-printed, so only the exact bytes verify (a re-serialised body would not).
	const raw = JSON.stringify({ message_uuid: 'aaaaaaaa-0000-4000-8000-000000000001', status: 'delivered' }, null, 2);

	it.each(['application/json', 'application/octet-stream', 'text/plain'])(
		'verifies a signed body sent as %s over its exact bytes',
		async (contentType) => {
			harness = await startWebhookHarness({ typeVersion, parameters: { authentication: 'signature' }, credentials });
			const authorization = signedAuthorization(raw, signatureSecret);
			const response = await post(harness.url, raw, { 'content-type': contentType, authorization });
			expect(response.status).toBe(200);
			expect(harness.emitted()).toEqual([expect.objectContaining({ status: 'delivered' })]);
		},
	);

	it('verifies a signed body sent without a Content-Type', async () => {
		harness = await startWebhookHarness({ typeVersion, parameters: { authentication: 'signature' }, credentials });
		const response = await post(harness.url, raw, { authorization: signedAuthorization(raw, signatureSecret) });
		expect(response.status).toBe(200);
		expect(harness.executions).toHaveLength(1);
	});

	it('refuses a token callback with a wrong token, and malformed JSON the node receives', async () => {
		harness = await startWebhookHarness({ typeVersion, parameters: { authentication: 'token' }, credentials });
		const json = { 'content-type': 'application/json' };
		const wrong = await post(harness.statusUrl({ token: 'example-wrong-token1' }), raw, json);
		const malformed = await post(harness.statusUrl({ token }), '{"status"', {
			'content-type': 'application/octet-stream',
		});
		const ok = await post(harness.statusUrl({ token, reference: 'crm-1' }), raw, json);
		expect([wrong.status, malformed.status, ok.status]).toEqual([401, 400, 200]);
		expect(harness.emitted()).toEqual([expect.objectContaining({ reference: 'crm-1' })]);
	});
});
