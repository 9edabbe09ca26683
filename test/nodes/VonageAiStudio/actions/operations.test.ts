// Each start operation: item values -> the exact Studio body, and a clear message naming the field for every bad value.
import { InvalidField } from '../../../../core/errors';
import { normalisePhoneNumber } from '../../../../nodes/VonageAiStudio/actions/fields';
import type { PreparedSend } from '../../../../nodes/VonageAiStudio/actions/operation';
import { startSmsSession } from '../../../../nodes/VonageAiStudio/actions/sms/startOutboundSession.operation';
import {
	makeOutboundCall,
	type CallInput,
} from '../../../../nodes/VonageAiStudio/actions/voice/makeOutboundCall.operation';
import {
	startWhatsAppSession,
	type WhatsAppInput,
} from '../../../../nodes/VonageAiStudio/actions/whatsapp/startOutboundSession.operation';

/** One item's values for one of the three start operations (the channel picks it, as the Resource does). */
type SendInput =
	| ({ channel: 'whatsapp' } & Partial<WhatsAppInput>)
	| ({ channel: 'sms' } & Partial<WhatsAppInput>)
	| ({ channel: 'voice' } & Partial<CallInput>);

function prepareSend({ channel, ...values }: SendInput): PreparedSend {
	const reference = (values as { reference?: unknown }).reference ?? undefined;
	const input = { statusUrlToken: undefined, ...values, reference };
	if (channel === 'whatsapp') return startWhatsAppSession.prepare(input as WhatsAppInput);
	if (channel === 'sms') return startSmsSession.prepare(input as WhatsAppInput);
	return makeOutboundCall.prepare(input as CallInput);
}

const whatsApp = (overrides: Partial<WhatsAppInput> = {}): SendInput => ({
	channel: 'whatsapp',
	agentId: 'agent-1',
	to: '+44 7700 900000',
	statusUrl: 'https://hooks.example.com/webhook/status',
	namespace: 'ns_123',
	template: 'order_update',
	locale: 'en_US',
	templateParameters: 'fields',
	headerParameters: ['Ann'],
	bodyParameters: ['42', 'tomorrow'],
	sessionParameters: [{ name: 'CUSTOMER_ID', value: 42 }],
	...overrides,
});

function invalid(input: SendInput): InvalidField {
	try {
		prepareSend(input);
	} catch (error) {
		if (error instanceof InvalidField) return error;
		throw error;
	}
	throw new Error('expected the input to be refused');
}

describe('phone numbers', () => {
	it.each([
		['+44 7700 900000', '447700900000'],
		['0044 7700 900000', '447700900000'],
		['(44) 7700-900000', '447700900000'],
		['447700900000', '447700900000'],
		['+1 (201) 377-9099', '12013779099'],
	])('normalises %s to %s', (raw, digits) => {
		expect(normalisePhoneNumber(raw)).toEqual({ ok: true, digits });
	});

	it.each(['07700 900000', '+44 77OO 900000', '123', '+1234567890123456', 'call me'])('refuses %s', (raw) => {
		expect(normalisePhoneNumber(raw).ok).toBe(false);
	});
});

describe('WhatsApp body', () => {
	it('builds the documented body with positional header and body parameters', () => {
		const prepared = prepareSend(whatsApp({ reference: 'crm-7' }));
		expect(prepared.path).toBe('/messaging/conversation');
		expect(prepared.body).toEqual({
			namespace: 'ns_123',
			template: 'order_update',
			locale: 'en_US',
			to: '447700900000',
			agent_id: 'agent-1',
			channel: 'whatsapp',
			status_url: 'https://hooks.example.com/webhook/status?vgai_ref=crm-7',
			components: [
				{ type: 'header', parameters: [{ type: 'text', text: 'Ann' }] },
				{
					type: 'body',
					parameters: [
						{ type: 'text', text: '42' },
						{ type: 'text', text: 'tomorrow' },
					],
				},
			],
			session_parameters: [{ name: 'CUSTOMER_ID', value: '42' }],
		});
		expect(prepared.summary).toEqual({
			channel: 'whatsapp',
			to: '447700900000',
			agentId: 'agent-1',
			template: 'order_update',
			locale: 'en_US',
			reference: 'crm-7',
			statusUrl: 'https://hooks.example.com/webhook/status?vgai_ref=crm-7',
		});
	});

	it('puts the token in the sent status URL but never in the summary', () => {
		const prepared = prepareSend(whatsApp({ reference: 'r 1', statusUrlToken: 's3cret' }));
		expect(prepared.body.status_url).toBe('https://hooks.example.com/webhook/status?vgai_ref=r+1&vgai_token=s3cret');
		expect(JSON.stringify(prepared.summary)).not.toContain('s3cret');
	});

	it('omits components and session parameters when there are none', () => {
		const prepared = prepareSend(whatsApp({ headerParameters: [], bodyParameters: [], sessionParameters: [] }));
		expect(prepared.body).not.toHaveProperty('components');
		expect(prepared.body).not.toHaveProperty('session_parameters');
	});

	it('takes components as JSON in advanced mode, passing unknown component types through', () => {
		const components = [
			{ type: 'body', parameters: [{ type: 'text', text: 'Ann' }] },
			{ type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'abc' }] },
		];
		const prepared = prepareSend(whatsApp({ templateParameters: 'json', componentsJson: JSON.stringify(components) }));
		expect(prepared.body.components).toEqual(components);
	});

	it('normalises locale spelling', () => {
		expect(prepareSend(whatsApp({ locale: 'pt-br' })).body.locale).toBe('pt_BR');
		expect(prepareSend(whatsApp({ locale: 'en' })).body.locale).toBe('en');
	});

	it.each<[string, Partial<WhatsAppInput>, string, RegExp]>([
		['missing agent', { agentId: '' }, 'Agent ID', /Agent ID is empty/],
		['national number', { to: '07700 900000' }, 'To', /national number.*country code/],
		['letters in number', { to: 'abc' }, 'To', /not a phone number/],
		['relative status URL', { statusUrl: '/status' }, 'Status URL', /not an absolute URL/],
		['ftp status URL', { statusUrl: 'ftp://example.com/x' }, 'Status URL', /https:\/\/ or http:\/\//],
		['Vonage status URL', { statusUrl: 'https://api.nexmo.com/v1/status' }, 'Status URL', /Vonage host.*loop/],
		['Vonage subdomain', { statusUrl: 'https://studio-api-eu.ai.vonage.com/x' }, 'Status URL', /Vonage host/],
		['missing namespace', { namespace: ' ' }, 'Namespace', /Namespace is empty/],
		['template with spaces', { template: 'Order Update' }, 'Template Name', /lowercase letters/],
		['bad locale', { locale: 'english' }, 'Locale', /not a WhatsApp template language code/],
		[
			'long header',
			{ headerParameters: ['x'.repeat(61)] },
			'Header Parameters',
			/\{\{1\}\} has 61 characters; WhatsApp allows 60/,
		],
		[
			'long body',
			{ bodyParameters: ['ok', 'y'.repeat(1025)] },
			'Body Parameters',
			/\{\{2\}\} has 1025 characters; WhatsApp allows 1024/,
		],
		['empty body value', { bodyParameters: [''] }, 'Body Parameters', /\{\{1\}\} is empty/],
		['bad JSON', { templateParameters: 'json', componentsJson: '[{' }, 'Template Components (JSON)', /not valid JSON/],
		[
			'JSON not an array',
			{ templateParameters: 'json', componentsJson: '{"type":"body"}' },
			'Template Components (JSON)',
			/must be an array/,
		],
		[
			'nameless session parameter',
			{ sessionParameters: [{ name: '', value: 'x' }] },
			'Session Parameters',
			/#1 has no name/,
		],
		[
			'duplicate session parameter',
			{
				sessionParameters: [
					{ name: 'A', value: '1' },
					{ name: 'A', value: '2' },
				],
			},
			'Session Parameters',
			/"A" twice/,
		],
		['object as agent', { agentId: { id: 1 } }, 'Agent ID', /must be text/],
	])('refuses %s, naming the field', (_case, overrides, field, message) => {
		const error = invalid(whatsApp(overrides));
		expect(error.field).toBe(field);
		expect(error.message).toMatch(message);
	});
});

describe('SMS body', () => {
	it('builds the documented body without template fields', () => {
		const prepared = prepareSend({
			channel: 'sms',
			agentId: 'agent-2',
			to: '0033 6 12 34 56 78',
			statusUrl: 'http://127.0.0.1:5678/webhook/s',
			sessionParameters: [],
			namespace: 'ignored',
		});
		expect(prepared.body).toEqual({
			to: '33612345678',
			agent_id: 'agent-2',
			channel: 'sms',
			status_url: 'http://127.0.0.1:5678/webhook/s',
		});
	});

	it('requires a status URL', () => {
		const error = invalid({ channel: 'sms', agentId: 'a', to: '+33612345678', statusUrl: '', sessionParameters: [] });
		expect(error.field).toBe('Status URL');
	});
});

describe('voice call body', () => {
	it('accepts a number and the optional fields', () => {
		const prepared = prepareSend({
			channel: 'voice',
			agentId: 'agent-3',
			to: '+1 201 377 9099',
			statusUrl: 'https://hooks.example.com/call',
			hangupOnAnswerMachine: true,
			sessionParameters: [{ name: 'LANG', value: 'en' }],
		});
		expect(prepared.path).toBe('/telephony/make-call');
		expect(prepared.body).toEqual({
			agent_id: 'agent-3',
			to: '12013779099',
			status_url: 'https://hooks.example.com/call',
			hangup_on_answer_machine: true,
			session_parameters: [{ name: 'LANG', value: 'en' }],
		});
	});

	it('accepts a SIP address and needs no status URL', () => {
		const prepared = prepareSend({
			channel: 'voice',
			agentId: 'a',
			to: 'sip:alice@pbx.example.com',
			statusUrl: '',
			sessionParameters: [],
		});
		expect(prepared.body).toEqual({ agent_id: 'a', to: 'sip:alice@pbx.example.com' });
	});

	it('refuses a broken SIP address', () => {
		const error = invalid({ channel: 'voice', agentId: 'a', to: 'sip:nobody', sessionParameters: [], statusUrl: '' });
		expect(error.field).toBe('To');
		expect(error.message).toMatch(/not a SIP address/);
	});
});
