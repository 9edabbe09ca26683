// Proves how a callback body is parsed and turned into the item a workflow maps, with the hand-written Studio
// callbacks of harness/fixtures.ts.
import { checkBodySize, publicMessage } from '../../core/callbackAuthenticity';
import {
	isStatusSelected,
	normaliseCallback,
	parseCallbackBody,
	statusRank,
	type CallbackBody,
} from '../../core/callbacks';
import { deliveredWithUsage, readWithoutUsage, undeliverableNumericTitle, voiceBusy } from '../../harness/fixtures';

const parse = (value: unknown) =>
	parseCallbackBody(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const body = (value: object) => value as CallbackBody;

describe('parsing the raw body', () => {
	it('returns the object as sent', () => {
		expect(parse(deliveredWithUsage)).toEqual({ ok: true, body: deliveredWithUsage });
	});

	it('refuses malformed JSON with 400', () => {
		expect(parse('{"status": "delivered"')).toMatchObject({ ok: false, statusCode: 400 });
		expect(parse('')).toMatchObject({ ok: false, statusCode: 400 });
	});

	it('refuses JSON that is not an object with 400', () => {
		for (const value of ['[]', '"delivered"', 'null', '42']) {
			expect(parse(value)).toMatchObject({ ok: false, statusCode: 400 });
		}
	});

	it('refuses a missing, empty or non-string status with 400', () => {
		for (const status of [undefined, '', '  ', 3, null, { value: 'read' }]) {
			expect(parse({ ...deliveredWithUsage, status })).toMatchObject({
				ok: false,
				statusCode: 400,
				reason: 'body has no "status" string',
			});
		}
		expect(publicMessage({ ok: false, statusCode: 400, reason: 'body has no "status" string' })).toBe(
			'Callback refused: body has no "status" string',
		);
	});
});

describe('the size limit', () => {
	it('refuses with 413 when the bytes or the declared length exceed it', () => {
		expect(checkBodySize(1025, undefined, 1024)).toMatchObject({ statusCode: 413 });
		expect(checkBodySize(10, '1025', 1024)).toMatchObject({ statusCode: 413 });
		expect(checkBodySize(1024, '1024', 1024)).toBeUndefined();
		expect(checkBodySize(10, 'not-a-number', 1024)).toBeUndefined();
	});
});

describe('normalising', () => {
	it('maps a delivered WhatsApp callback with usage', () => {
		const item = normaliseCallback(body(deliveredWithUsage), { vgai_ref: 'crm-42', vgai_token: 'example' });
		expect(item).toEqual({
			status: 'delivered',
			statusRank: 2,
			failed: false,
			reference: 'crm-42',
			channel: 'whatsapp',
			to: '447700900000',
			from: '447700900100',
			messageUuid: 'aaaaaaaa-1356-4540-9f3b-ddb1564dc008',
			conversationUuid: null,
			agentId: null,
			timestamp: '2025-03-05T22:51:41.000Z',
			errorCode: null,
			errorTitle: null,
			errorDetail: null,
			price: '0.04',
			currency: 'EUR',
			whatsappConversationId: 'c1',
			whatsappOriginType: 'utility',
			body: deliveredWithUsage,
		});
	});

	it('maps a read callback without usage to null price and currency', () => {
		const item = normaliseCallback(body(readWithoutUsage), {});
		expect(item).toMatchObject({ status: 'read', statusRank: 3, price: null, currency: null, reference: null });
	});

	it('maps an undeliverable callback whose error title is a number', () => {
		const item = normaliseCallback(body(undeliverableNumericTitle), { vgai_ref: 'crm-7' });
		expect(item).toMatchObject({
			status: 'undeliverable',
			statusRank: 2,
			failed: true,
			errorCode: '1050',
			errorTitle: '1050',
			errorDetail: 'The number is barred',
			reference: 'crm-7',
		});
	});

	it('takes the error code from the error type when the title is text', () => {
		const item = normaliseCallback(
			body({ ...undeliverableNumericTitle, error: { ...undeliverableNumericTitle.error, title: 'Number barred' } }),
			{},
		);
		expect(item).toMatchObject({ errorCode: '1050', errorTitle: 'Number barred' });
	});

	it('maps a voice busy callback: channel voice, conversation UUID, agent', () => {
		const item = normaliseCallback(body(voiceBusy), { vgai_ref: 'lead-9' });
		expect(item).toMatchObject({
			status: 'busy',
			statusRank: 2,
			failed: true,
			channel: 'voice',
			to: '447700900002',
			from: null,
			messageUuid: null,
			conversationUuid: 'CON-eeeeeeee-0000-4000-8000-000000000001',
			agentId: 'agent-123',
			timestamp: '2025-03-05T22:55:00.000Z',
			reference: 'lead-9',
		});
	});

	it('keeps unknown fields in body, untouched', () => {
		const withExtras = { ...deliveredWithUsage, new_field: { nested: [1, 2] }, sms: { count_total: '1' } };
		const item = normaliseCallback(body(withExtras), {});
		expect(item.body).toBe(withExtras);
		expect(item.body).toEqual(withExtras);
		expect(item).not.toHaveProperty('new_field');
	});

	it('accepts epoch timestamps and leaves unparseable ones null', () => {
		expect(normaliseCallback(body({ status: 'read', timestamp: 1741215101 }), {}).timestamp).toBe(
			'2025-03-05T22:51:41.000Z',
		);
		expect(normaliseCallback(body({ status: 'read', timestamp: '1741215101000' }), {}).timestamp).toBe(
			'2025-03-05T22:51:41.000Z',
		);
		expect(normaliseCallback(body({ status: 'read', timestamp: 'yesterday' }), {}).timestamp).toBeNull();
	});

	it('reads the first reference when the query repeats it', () => {
		expect(normaliseCallback(body(readWithoutUsage), { vgai_ref: ['a', 'b'] }).reference).toBe('a');
	});
});

describe('status rank and filter', () => {
	it('ranks submitted < delivered = failures < read, unknown 0', () => {
		expect(['submitted', 'delivered', 'read'].map(statusRank)).toEqual([1, 2, 3]);
		expect(['rejected', 'undeliverable', 'busy', 'unanswered'].map(statusRank)).toEqual([2, 2, 2, 2]);
		expect(statusRank('deleted')).toBe(0);
	});

	it('lets an unknown status through only with all statuses selected', () => {
		expect(isStatusSelected('deleted', ['delivered', 'read'])).toBe(false);
		expect(isStatusSelected('deleted', ['*'])).toBe(true);
		expect(isStatusSelected('read', ['delivered', 'read'])).toBe(true);
		expect(isStatusSelected('read', [])).toBe(false);
	});
});
