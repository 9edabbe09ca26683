// Proves repeats of (message UUID, status) are dropped within the window, memory stays bounded and shared,
// and that the decision order keeps forged callbacks out of that memory.

import {
	CallbackDeduper,
	decideCallback,
	dedupeKey,
	sharedDeduper,
	type CallbackSettings,
} from '../../nodes/VonageAiStudioTrigger/callback';
import { signedAuthorization } from '../support/signature';

function clock(start = 1_000_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('CallbackDeduper', () => {
	it('drops a repeat within the window and lets it through after the window', () => {
		const time = clock();
		const deduper = new CallbackDeduper({ windowMs: 10 * 60_000, now: time.now });
		expect(deduper.isRepeat('m1|delivered')).toBe(false);
		time.advance(9 * 60_000);
		expect(deduper.isRepeat('m1|delivered')).toBe(true);
		time.advance(60_000);
		expect(deduper.isRepeat('m1|delivered')).toBe(false);
	});

	it('counts the window from the first sighting, so endless repeats pass once per window', () => {
		const time = clock();
		const deduper = new CallbackDeduper({ windowMs: 1000, now: time.now });
		const passed: number[] = [];
		for (let t = 0; t < 3000; t += 400) {
			if (!deduper.isRepeat('k')) passed.push(t);
			time.advance(400);
		}
		expect(passed).toEqual([0, 1200, 2400]);
	});

	it('treats another status of the same message as new', () => {
		const deduper = new CallbackDeduper();
		expect(deduper.isRepeat(dedupeKey({ messageUuid: 'm1', conversationUuid: null, status: 'delivered' })!)).toBe(false);
		expect(deduper.isRepeat(dedupeKey({ messageUuid: 'm1', conversationUuid: null, status: 'read' })!)).toBe(false);
		expect(deduper.isRepeat(dedupeKey({ messageUuid: 'm1', conversationUuid: null, status: 'read' })!)).toBe(true);
	});

	it('keys calls by conversation UUID and never dedupes a callback without an id', () => {
		expect(dedupeKey({ messageUuid: null, conversationUuid: 'CON-1', status: 'busy' })).toContain('CON-1');
		expect(dedupeKey({ messageUuid: null, conversationUuid: null, status: 'busy' })).toBeUndefined();
	});

	it('forgets expired keys and never holds more than maxEntries', () => {
		const time = clock();
		const deduper = new CallbackDeduper({ windowMs: 1000, maxEntries: 3, now: time.now });
		for (const key of ['a', 'b', 'c', 'd']) deduper.isRepeat(key);
		expect(deduper.size).toBe(3);
		expect(deduper.isRepeat('a')).toBe(false); // the oldest was evicted
		time.advance(1000);
		deduper.isRepeat('e');
		expect(deduper.size).toBe(1);
	});
});

describe('sharedDeduper', () => {
	it('returns the same memory for the same workflow and node, and another for another node', () => {
		const first = sharedDeduper('wf-shared/node-1', { windowMs: 60_000 });
		first.isRepeat('m9|read');
		expect(sharedDeduper('wf-shared/node-1', { windowMs: 60_000 }).isRepeat('m9|read')).toBe(true);
		expect(sharedDeduper('wf-shared/node-2', { windowMs: 60_000 }).isRepeat('m9|read')).toBe(false);
	});

	it('lives on globalThis under a Symbol.for key, so a second copy of the module finds it', () => {
		sharedDeduper('wf-global/node-1', {}).isRepeat('m1|read');
		const registry = (globalThis as unknown as Record<symbol, Map<string, CallbackDeduper>>)[
			Symbol.for('n8n-nodes-vonage-ai-studio.trigger.dedupe')
		];
		expect(registry.get('wf-global/node-1')?.isRepeat('m1|read')).toBe(true);

		jest.isolateModules(() => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			const fresh = require('../../nodes/VonageAiStudioTrigger/callback') as typeof import('../../nodes/VonageAiStudioTrigger/callback');
			expect(fresh.sharedDeduper('wf-global/node-1', {}).isRepeat('m1|read')).toBe(true);
		});
	});
});

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
		deduper: new CallbackDeduper(),
		nowSeconds: now,
		...overrides,
	});

	it('accepts, then drops the repeat', () => {
		const rawBody = payload('delivered');
		const request = { rawBody, headers: { authorization: sign(rawBody) }, query: { vgai_ref: 'crm-1' } };
		const shared = settings();
		expect(decideCallback(request, shared)).toMatchObject({ kind: 'accepted', callback: { reference: 'crm-1' } });
		expect(decideCallback(request, shared)).toMatchObject({ kind: 'ignored', reason: 'duplicate' });
	});

	it('does not drop repeats when no deduper is given', () => {
		const rawBody = payload('delivered');
		const request = { rawBody, headers: { authorization: sign(rawBody) }, query: {} };
		const noDedupe = settings({ deduper: undefined });
		expect(decideCallback(request, noDedupe).kind).toBe('accepted');
		expect(decideCallback(request, noDedupe).kind).toBe('accepted');
	});

	it('keeps forged callbacks out of the repeat memory', () => {
		const rawBody = payload('read');
		const shared = settings();
		const forged = { rawBody, headers: { authorization: 'Bearer forged.token.value' }, query: {} };
		expect(decideCallback(forged, shared)).toMatchObject({ kind: 'refused', refusal: { statusCode: 401 } });
		expect(shared.deduper!.size).toBe(0);
		expect(decideCallback({ ...forged, headers: { authorization: sign(rawBody) } }, shared).kind).toBe('accepted');
	});

	it('keeps filtered statuses out of the repeat memory', () => {
		const rawBody = payload('submitted');
		const shared = settings({ statuses: ['read'] });
		expect(decideCallback({ rawBody, headers: { authorization: sign(rawBody) }, query: {} }, shared)).toMatchObject({
			kind: 'ignored',
			reason: 'filtered',
		});
		expect(shared.deduper!.size).toBe(0);
	});

	it('refuses an oversized body with 413 before checking anything else', () => {
		const rawBody = Buffer.alloc(2048, 0x20);
		expect(decideCallback({ rawBody, headers: {}, query: {} }, settings({ maxBodyBytes: 1024 }))).toMatchObject({
			kind: 'refused',
			refusal: { statusCode: 413 },
		});
	});

	it('refuses an unauthenticated body with 401 even when it would not parse', () => {
		const rawBody = Buffer.from('{not json');
		expect(decideCallback({ rawBody, headers: {}, query: {} }, settings())).toMatchObject({
			refusal: { statusCode: 401 },
		});
		expect(decideCallback({ rawBody, headers: { authorization: sign(rawBody) }, query: {} }, settings())).toMatchObject({
			refusal: { statusCode: 400 },
		});
	});
});
