// The decision for one callback, in order: size before anything, authenticity before parsing, and only authentic,
// selected callbacks reach the repeat memory, so forged or filtered ones cannot make it drop a real status.
import { decideCallback, type CallbackSettings } from '../../../nodes/VonageAiStudioTrigger/decide';
import { CallbackDeduper, repeatMemory } from '../../../nodes/VonageAiStudioTrigger/repeats';
import { signedAuthorization } from '../../../harness/signature';

describe('decideCallback', () => {
	const signatureSecret = 'example-signature-secret';
	const now = 1_741_215_101;
	const payload = (status: string, messageUuid = 'aaaaaaaa-0000-4000-8000-000000000001') =>
		Buffer.from(JSON.stringify({ message_uuid: messageUuid, status, channel: 'whatsapp', to: '447700900000' }));
	const sign = (rawBody: Buffer) => signedAuthorization(rawBody.toString(), signatureSecret, now);
	const settings = (overrides: Partial<CallbackSettings> = {}): CallbackSettings => ({
		authentication: 'signature',
		signatureSecret,
		statuses: ['*'],
		repeats: repeatMemory({ scope: 'test', windowMs: 60_000, local: new CallbackDeduper({ windowMs: 60_000 }) }),
		toleranceSeconds: 300,
		maxBodyBytes: 64 * 1024,
		nowSeconds: now,
		...overrides,
	});

	it('accepts, then drops the repeat', async () => {
		const rawBody = payload('delivered');
		const request = { rawBody, headers: { authorization: sign(rawBody) }, query: { vgai_ref: 'crm-1' } };
		const shared = settings();
		expect(await decideCallback(request, shared)).toMatchObject({ kind: 'accepted', callback: { reference: 'crm-1' } });
		expect(await decideCallback(request, shared)).toMatchObject({ kind: 'ignored', reason: 'duplicate' });
	});

	it('does not drop repeats when no repeat memory is given', async () => {
		const rawBody = payload('delivered');
		const request = { rawBody, headers: { authorization: sign(rawBody) }, query: {} };
		const noDedupe = settings({ repeats: undefined });
		expect((await decideCallback(request, noDedupe)).kind).toBe('accepted');
		expect((await decideCallback(request, noDedupe)).kind).toBe('accepted');
	});

	it('keeps forged callbacks out of the repeat memory', async () => {
		const rawBody = payload('read');
		const shared = settings();
		const forged = { rawBody, headers: { authorization: 'Bearer forged.token.value' }, query: {} };
		expect(await decideCallback(forged, shared)).toMatchObject({ kind: 'refused', refusal: { statusCode: 401 } });
		expect((await decideCallback({ ...forged, headers: { authorization: sign(rawBody) } }, shared)).kind).toBe(
			'accepted',
		);
	});

	it('keeps filtered statuses out of the repeat memory', async () => {
		const rawBody = payload('submitted');
		const shared = settings({ statuses: ['read'] });
		expect(
			await decideCallback({ rawBody, headers: { authorization: sign(rawBody) }, query: {} }, shared),
		).toMatchObject({
			kind: 'ignored',
			reason: 'filtered',
		});
		// Had it been remembered, the same status now selected would be dropped as a repeat.
		expect(
			(
				await decideCallback(
					{ rawBody, headers: { authorization: sign(rawBody) }, query: {} },
					{ ...shared, statuses: ['*'] },
				)
			).kind,
		).toBe('accepted');
	});

	it('refuses an oversized body with 413 before checking anything else', async () => {
		const rawBody = Buffer.alloc(2048, 0x20);
		expect(await decideCallback({ rawBody, headers: {}, query: {} }, settings({ maxBodyBytes: 1024 }))).toMatchObject({
			kind: 'refused',
			refusal: { statusCode: 413 },
		});
	});

	it('refuses an unauthenticated body with 401 even when it would not parse', async () => {
		const rawBody = Buffer.from('{not json');
		expect(await decideCallback({ rawBody, headers: {}, query: {} }, settings())).toMatchObject({
			refusal: { statusCode: 401 },
		});
		expect(
			await decideCallback({ rawBody, headers: { authorization: sign(rawBody) }, query: {} }, settings()),
		).toMatchObject({
			refusal: { statusCode: 400 },
		});
	});
});
