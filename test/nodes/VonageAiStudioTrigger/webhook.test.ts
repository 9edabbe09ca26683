// Proves the trigger node, run by n8n-core's WebhookContext behind a real HTTP server, emits verified callbacks
// with their reference, filters and dedupes them, and refuses forged, malformed and oversized ones without an
// execution.
import { request } from 'undici';

import { deliveredWithUsage as delivered } from '../../../harness/fixtures';
import { signedAuthorization } from '../../../harness/signature';
import { startWebhookHarness, type WebhookHarness } from '../../../harness/webhookHarness';

const token = 'example-status-url-token';
const signatureSecret = 'example-signature-secret';
const credentials = { vonageAiStudioCallbackApi: { token, signatureSecret } };

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
	const raw = typeof body === 'string' ? body : JSON.stringify(body);
	const response = await request(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: raw,
	});
	return { status: response.statusCode, body: await response.body.text() };
}

let harness: WebhookHarness;
afterEach(async () => {
	await harness?.close();
});

describe('secret token in the status URL', () => {
	beforeEach(async () => {
		harness = await startWebhookHarness({ parameters: { authentication: 'token' }, credentials });
	});

	it('emits one normalised item carrying the reference from vgai_ref', async () => {
		const response = await post(harness.statusUrl({ reference: 'crm-42', token }), delivered);
		expect(response).toEqual({ status: 200, body: JSON.stringify({ message: 'Workflow was started' }) });
		expect(harness.executions).toHaveLength(1);
		expect(harness.emitted()).toEqual([
			expect.objectContaining({
				status: 'delivered',
				statusRank: 2,
				reference: 'crm-42',
				channel: 'whatsapp',
				to: '447700900000',
				messageUuid: 'aaaaaaaa-1356-4540-9f3b-ddb1564dc008',
				timestamp: '2025-03-05T22:51:41.000Z',
				price: '0.04',
				currency: 'EUR',
				whatsappConversationId: 'c1',
				whatsappOriginType: 'utility',
				body: delivered,
			}),
		]);
	});

	it('refuses a wrong or missing token with 401 and starts nothing', async () => {
		const wrong = await post(harness.statusUrl({ reference: 'crm-42', token: 'example-wrong-token' }), delivered);
		const missing = await post(harness.statusUrl({ reference: 'crm-42' }), delivered);
		expect([wrong.status, missing.status]).toEqual([401, 401]);
		expect(JSON.parse(wrong.body)).toEqual({ message: 'Callback refused: authentication failed' });
		expect(harness.executions).toHaveLength(0);
	});

	it('refuses when the credential is missing (fails closed)', async () => {
		harness.setCredentials({});
		const response = await post(harness.statusUrl({ token }), delivered);
		expect(response.status).toBe(401);
		expect(harness.executions).toHaveLength(0);
	});

	it('refuses malformed JSON with 400 when it reaches the node (sent as text/plain)', async () => {
		const response = await post(harness.statusUrl({ token }), '{"status": "delivered"', {
			'content-type': 'text/plain',
		});
		expect(response.status).toBe(400);
		expect(JSON.parse(response.body)).toEqual({ message: 'Callback refused: body is not valid JSON' });
		expect(harness.handled[0].nodeRan).toBe(true);
		expect(harness.executions).toHaveLength(0);
	});

	it('leaves malformed JSON sent as application/json to n8n, which answers 422 before the node runs', async () => {
		const response = await post(harness.statusUrl({ token }), '{"status": "delivered"');
		expect(response.status).toBe(422);
		expect(harness.handled[0].nodeRan).toBe(false);
		expect(harness.executions).toHaveLength(0);
	});

	it('refuses a body without status with 400', async () => {
		const { status: _status, ...withoutStatus } = delivered;
		const response = await post(harness.statusUrl({ token }), withoutStatus);
		expect(response.status).toBe(400);
		expect(JSON.parse(response.body).message).toContain('status');
		expect(harness.executions).toHaveLength(0);
	});

	it('refuses a body over the size limit with 413, though n8n already parsed it', async () => {
		harness.setParameters({ authentication: 'token', options: { maxBodySizeKb: 1 } });
		const large = { ...delivered, padding: 'x'.repeat(2048) };
		const response = await post(harness.statusUrl({ token }), large);
		expect(response.status).toBe(413);
		expect(harness.handled[0].nodeRan).toBe(true);
		expect(harness.executions).toHaveLength(0);

		const small = await post(harness.statusUrl({ token }), delivered);
		expect(small.status).toBe(200);
	});

	it('refuses a body over the default 64 KB limit', async () => {
		const response = await post(harness.statusUrl({ token }), { ...delivered, padding: 'x'.repeat(70 * 1024) });
		expect(response.status).toBe(413);
		expect(harness.executions).toHaveLength(0);
	});
});

describe('Vonage signed callbacks', () => {
	beforeEach(async () => {
		harness = await startWebhookHarness({ parameters: { authentication: 'signature' }, credentials });
	});

	it('emits a callback signed over the exact bytes received', async () => {
		const raw = JSON.stringify(delivered, null, 2); // whitespace n8n's parsed body would not reproduce
		const response = await post(harness.statusUrl({ reference: 'crm-7' }), raw, {
			authorization: signedAuthorization(raw, signatureSecret),
		});
		expect(response.status).toBe(200);
		expect(harness.emitted()).toEqual([expect.objectContaining({ status: 'delivered', reference: 'crm-7' })]);
	});

	it('refuses forged callbacks with 401: no header, wrong secret, tampered body, stale iat', async () => {
		const raw = JSON.stringify(delivered);
		const tampered = raw.replace('delivered', 'read');
		const attempts = [
			await post(harness.url, raw),
			await post(harness.url, raw, { authorization: signedAuthorization(raw, 'example-other-secret') }),
			await post(harness.url, tampered, { authorization: signedAuthorization(raw, signatureSecret) }),
			await post(harness.url, raw, {
				authorization: signedAuthorization(raw, signatureSecret, Math.floor(Date.now() / 1000) - 3600),
			}),
			await post(harness.url, raw, { authorization: 'Bearer not.a.jwt' }),
		];
		expect(attempts.map((attempt) => attempt.status)).toEqual([401, 401, 401, 401, 401]);
		expect(harness.executions).toHaveLength(0);
	});

	it('honours a longer signature tolerance', async () => {
		harness.setParameters({ authentication: 'signature', options: { signatureToleranceSeconds: 7200 } });
		const raw = JSON.stringify(delivered);
		const hourOld = signedAuthorization(raw, signatureSecret, Math.floor(Date.now() / 1000) - 3600);
		expect((await post(harness.url, raw, { authorization: hourOld })).status).toBe(200);
	});

	it('checks the signature before parsing: unsigned garbage gets 401, signed garbage 400', async () => {
		expect((await post(harness.url, 'not json', { 'content-type': 'text/plain' })).status).toBe(401);
		const signed = signedAuthorization('not json', signatureSecret);
		expect((await post(harness.url, 'not json', { 'content-type': 'text/plain', authorization: signed })).status).toBe(
			400,
		);
		expect(harness.executions).toHaveLength(0);
	});
});

describe('no authentication', () => {
	it('accepts callbacks without token or signature', async () => {
		harness = await startWebhookHarness({ parameters: { authentication: 'none' } });
		expect((await post(harness.statusUrl({ reference: 'r1' }), delivered)).status).toBe(200);
		expect(harness.emitted()).toEqual([expect.objectContaining({ reference: 'r1' })]);
	});
});

describe('status filter', () => {
	it('answers 200 to an unselected status and starts nothing', async () => {
		harness = await startWebhookHarness({
			parameters: { authentication: 'token', statuses: ['read', 'undeliverable'] },
			credentials,
		});
		const ignored = await post(harness.statusUrl({ token }), delivered);
		expect(ignored.status).toBe(200);
		expect(JSON.parse(ignored.body).message).toContain('not selected');
		const started = await post(harness.statusUrl({ token }), { ...delivered, status: 'read', usage: undefined });
		expect(started.status).toBe(200);
		expect(harness.emitted().map((item) => item.status)).toEqual(['read']);
	});

	it('lets an unknown status through only with All Statuses', async () => {
		harness = await startWebhookHarness({
			parameters: { authentication: 'token', statuses: ['delivered'] },
			credentials,
		});
		await post(harness.statusUrl({ token }), { ...delivered, status: 'deleted' });
		expect(harness.executions).toHaveLength(0);

		harness.setParameters({ authentication: 'token', statuses: ['*'] });
		await post(harness.statusUrl({ token }), { ...delivered, status: 'deleted' });
		expect(harness.emitted()).toEqual([expect.objectContaining({ status: 'deleted', statusRank: 0 })]);
	});
});

describe('repeated callbacks', () => {
	it('drops a repeat of the same message and status by default, answering 200', async () => {
		harness = await startWebhookHarness({ parameters: { authentication: 'token' }, credentials });
		const first = await post(harness.statusUrl({ token }), delivered);
		const again = await post(harness.statusUrl({ token }), delivered);
		const read = await post(harness.statusUrl({ token }), { ...delivered, status: 'read' });
		expect([first.status, again.status, read.status]).toEqual([200, 200, 200]);
		expect(JSON.parse(again.body).message).toContain('repeat');
		expect(harness.emitted().map((item) => item.status)).toEqual(['delivered', 'read']);
	});

	it('keeps repeats when Drop Repeated Callbacks is off', async () => {
		harness = await startWebhookHarness({ parameters: { authentication: 'token', dropRepeats: false }, credentials });
		await post(harness.statusUrl({ token }), delivered);
		await post(harness.statusUrl({ token }), delivered);
		expect(harness.executions).toHaveLength(2);
	});

	it('remembers across node instances of the same workflow, not across workflows', async () => {
		harness = await startWebhookHarness({
			parameters: { authentication: 'token' },
			credentials,
			workflowId: 'wf-shared-memory',
		});
		await post(harness.statusUrl({ token }), delivered);
		await harness.close();

		harness = await startWebhookHarness({
			parameters: { authentication: 'token' },
			credentials,
			workflowId: 'wf-shared-memory',
		});
		await post(harness.statusUrl({ token }), delivered);
		expect(harness.executions).toHaveLength(0);
		await harness.close();

		harness = await startWebhookHarness({
			parameters: { authentication: 'token' },
			credentials,
			workflowId: 'wf-other',
		});
		await post(harness.statusUrl({ token }), delivered);
		expect(harness.executions).toHaveLength(1);
	});
});
