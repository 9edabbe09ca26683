// Turns one item's parameter values into the exact body Studio expects, or says which field is wrong.
// Pure: no n8n imports, so every rule here is tested without the engine.
import { z } from 'zod';

import { withCorrelation } from '../shared/statusUrl';
import { STUDIO_PATHS, type StudioChannel } from '../shared/studioApi';

/** What the node reads for one item, before validation. Values may be anything an expression returns. */
export interface SendInput {
	channel: StudioChannel;
	agentId: unknown;
	to: unknown;
	statusUrl: unknown;
	sessionParameters: Array<{ name?: unknown; value?: unknown }>;
	reference?: unknown;
	statusUrlToken?: unknown;
	// WhatsApp
	namespace?: unknown;
	template?: unknown;
	locale?: unknown;
	templateParameters?: 'fields' | 'json';
	headerParameters?: unknown[];
	bodyParameters?: unknown[];
	componentsJson?: unknown;
	// Voice
	hangupOnAnswerMachine?: unknown;
}

export interface PreparedSend {
	channel: StudioChannel;
	path: string;
	body: Record<string, unknown>;
	/** What the output shows of the send: never the key, never the status URL token. */
	summary: {
		channel: StudioChannel;
		to: string;
		agentId: string;
		template?: string;
		locale?: string;
		reference?: string;
		statusUrl?: string;
	};
}

export class InvalidField extends Error {
	constructor(
		/** The parameter as the user sees it in the node, e.g. "To". */
		readonly field: string,
		message: string,
		readonly hint?: string,
	) {
		super(message);
	}
}

/** Display names of the node's fields, used in every validation message. */
export const FIELD_LABELS = {
	agentId: 'Agent ID',
	to: 'To',
	statusUrl: 'Status URL',
	namespace: 'Namespace',
	template: 'Template Name',
	locale: 'Locale',
	headerParameters: 'Header Parameters',
	bodyParameters: 'Body Parameters',
	componentsJson: 'Template Components (JSON)',
	sessionParameters: 'Session Parameters',
	reference: 'Reference',
	statusUrlToken: 'Status URL Token',
	hangupOnAnswerMachine: 'Hang Up on Answering Machine',
} as const;

type FieldKey = keyof typeof FIELD_LABELS;

// WhatsApp limits from the contract: header text 60 characters, body 1024.
export const HEADER_TEXT_LIMIT = 60;
export const BODY_TEXT_LIMIT = 1024;

// Hosts that serve Vonage's own webhooks. Vonage warns that pointing status_url at the application's own
// status URL makes Studio loop forever, so nothing on these domains is accepted.
const VONAGE_DOMAINS = ['vonage.com', 'nexmo.com', 'vonage.net'];

const text = (field: FieldKey) =>
	z.preprocess(
		(value) => (typeof value === 'number' || typeof value === 'bigint' ? String(value) : value),
		z.string({
			required_error: `${FIELD_LABELS[field]} is required`,
			invalid_type_error: `${FIELD_LABELS[field]} must be text`,
		}),
	);

const requiredText = (field: FieldKey) =>
	text(field)
		.transform((value) => value.trim())
		.refine((value) => value !== '', { message: `${FIELD_LABELS[field]} is empty` });

/** E.164 digits without + or 00, from what people paste: "+44 7700 900000", "0044-7700-900000", "(44) 7700 900000". */
export function normalisePhoneNumber(raw: string): { ok: true; digits: string } | { ok: false; reason: string } {
	const compact = raw.trim().replace(/[\s().\-/]/g, '');
	if (compact === '') return { ok: false, reason: 'is empty' };
	let digits: string;
	if (compact.startsWith('+')) digits = compact.slice(1);
	else if (compact.startsWith('00')) digits = compact.slice(2);
	else digits = compact;
	if (!/^\d+$/.test(digits)) {
		return { ok: false, reason: `"${raw}" is not a phone number: use digits with the country code, e.g. +44 7700 900000` };
	}
	if (digits.startsWith('0')) {
		return {
			ok: false,
			reason: `"${raw}" looks like a national number: start with the country code, e.g. +44 7700 900000 instead of 07700 900000`,
		};
	}
	if (digits.length < 7 || digits.length > 15) {
		return { ok: false, reason: `"${raw}" has ${digits.length} digits; an international number has 7 to 15 with the country code` };
	}
	return { ok: true, digits };
}

const phoneNumber = (field: FieldKey) =>
	requiredText(field).transform((value, ctx) => {
		const result = normalisePhoneNumber(value);
		if (!result.ok) {
			ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${FIELD_LABELS[field]} ${result.reason}` });
			return z.NEVER;
		}
		return result.digits;
	});

const SIP_ADDRESS = /^sips?:[^\s@]+@[^\s@]+$/i;

const callTarget = requiredText('to').transform((value, ctx) => {
	if (/^sips?:/i.test(value)) {
		if (SIP_ADDRESS.test(value)) return value;
		ctx.addIssue({ code: z.ZodIssueCode.custom, message: `To "${value}" is not a SIP address: use sip:user@host` });
		return z.NEVER;
	}
	const result = normalisePhoneNumber(value);
	if (!result.ok) {
		ctx.addIssue({ code: z.ZodIssueCode.custom, message: `To ${result.reason}, or a SIP address (sip:user@host)` });
		return z.NEVER;
	}
	return result.digits;
});

function isVonageHost(hostname: string): boolean {
	const host = hostname.toLowerCase().replace(/\.$/, '');
	return VONAGE_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

const statusUrl = requiredText('statusUrl').superRefine((value, ctx) => {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Status URL "${value}" is not an absolute URL: use e.g. https://your-n8n.example.com/webhook/...`,
		});
		return;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Status URL must start with https:// or http://, not ${url.protocol}` });
		return;
	}
	if (isVonageHost(url.hostname)) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Status URL points at a Vonage host (${url.hostname}). Vonage warns that using the application's own status URL makes Studio loop endlessly: use your own endpoint, e.g. the Vonage AI Studio Trigger's production URL`,
		});
	}
});

const optionalText = (field: FieldKey) =>
	z
		.preprocess((value) => (value === undefined || value === null ? '' : value), text(field))
		.transform((value) => value.trim())
		.transform((value) => (value === '' ? undefined : value));

const sessionParameters = z
	.array(
		z.object({
			name: z.preprocess(
				(value) => (typeof value === 'string' ? value.trim() : value),
				z
					.string({ required_error: 'has no name', invalid_type_error: 'name must be text' })
					.min(1, 'has no name')
					.regex(/^\S+$/, 'name must not contain spaces (use the parameter name defined in the agent)'),
			),
			value: z.preprocess(
				(value) =>
					value === undefined || value === null
						? ''
						: typeof value === 'object'
							? JSON.stringify(value)
							: String(value),
				z.string(),
			),
		}),
	)
	.superRefine((parameters, ctx) => {
		const seen = new Set<string>();
		for (const { name } of parameters) {
			if (seen.has(name)) {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `Session Parameters has "${name}" twice: each agent parameter can be set once`,
				});
			}
			seen.add(name);
		}
	});

const templateValues = (field: 'headerParameters' | 'bodyParameters', limit: number) =>
	z.array(text(field)).superRefine((values, ctx) => {
		values.forEach((value, position) => {
			if (value.length > limit) {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `${FIELD_LABELS[field]} value {{${position + 1}}} has ${value.length} characters; WhatsApp allows ${limit}`,
				});
			}
			if (value.trim() === '') {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `${FIELD_LABELS[field]} value {{${position + 1}}} is empty; WhatsApp refuses empty template parameters`,
				});
			}
		});
	});

// Advanced mode: the components array as WhatsApp defines it. Only header and body text parameters are
// documented for Studio, so other component types pass through untouched; the text limits still apply.
const componentsJson = z
	.preprocess((value, ctx) => {
		if (typeof value !== 'string') return value;
		if (value.trim() === '') return [];
		try {
			return JSON.parse(value) as unknown;
		} catch (error) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `Template Components (JSON) is not valid JSON: ${(error as Error).message}`,
			});
			return z.NEVER;
		}
	}, z.array(z.object({ type: z.string(), parameters: z.array(z.record(z.unknown())).optional() }).passthrough(), {
		invalid_type_error: 'Template Components (JSON) must be an array like [{"type":"body","parameters":[{"type":"text","text":"Ann"}]}]',
	}))
	.superRefine((components, ctx) => {
		for (const component of components) {
			const limit = component.type === 'header' ? HEADER_TEXT_LIMIT : component.type === 'body' ? BODY_TEXT_LIMIT : undefined;
			if (limit === undefined) continue;
			for (const parameter of component.parameters ?? []) {
				if (typeof parameter.text === 'string' && parameter.text.length > limit) {
					ctx.addIssue({
						code: z.ZodIssueCode.custom,
						message: `Template Components (JSON): a ${component.type} text has ${parameter.text.length} characters; WhatsApp allows ${limit}`,
					});
				}
			}
		}
	});

// WhatsApp template language codes: en, en_US, pt_BR, zh_HK, fil ... People also type en-US.
const locale = requiredText('locale').transform((value, ctx) => {
	const normalised = value.replace('-', '_');
	const match = /^([a-zA-Z]{2,3})(?:_([a-zA-Z]{2,4}))?$/.exec(normalised);
	if (!match) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Locale "${value}" is not a WhatsApp template language code such as en, en_US or pt_BR`,
		});
		return z.NEVER;
	}
	const [, language, region] = match;
	return region ? `${language.toLowerCase()}_${region.length === 2 ? region.toUpperCase() : region}` : language.toLowerCase();
});

// Meta allows lowercase letters, digits and underscores in template names; anything else can only fail later
// as an undeliverable callback (error 1022), so say it now.
const templateName = requiredText('template').refine((value) => /^[a-z0-9_]+$/.test(value), {
	message: 'Template Name may only hold lowercase letters, digits and underscores, as in WhatsApp Manager (e.g. order_update)',
});

const common = {
	agentId: requiredText('agentId').refine((value) => !/\s/.test(value), {
		message: 'Agent ID must not contain spaces: copy it from the agent settings in AI Studio',
	}),
	sessionParameters,
	reference: optionalText('reference'),
	statusUrlToken: optionalText('statusUrlToken'),
};

const whatsAppSchema = z.object({
	...common,
	to: phoneNumber('to'),
	statusUrl,
	namespace: requiredText('namespace'),
	template: templateName,
	locale,
	templateParameters: z.enum(['fields', 'json']).default('fields'),
	headerParameters: templateValues('headerParameters', HEADER_TEXT_LIMIT).default([]),
	bodyParameters: templateValues('bodyParameters', BODY_TEXT_LIMIT).default([]),
	componentsJson: z.unknown(),
});

const smsSchema = z.object({ ...common, to: phoneNumber('to'), statusUrl });

const voiceSchema = z.object({
	...common,
	to: callTarget,
	statusUrl: z.preprocess((value) => (value === undefined || value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value), statusUrl.optional()),
	hangupOnAnswerMachine: z.preprocess((value) => (value === undefined || value === '' ? false : value), z.boolean({
		invalid_type_error: 'Hang Up on Answering Machine must be true or false',
	})),
});

function firstIssue(error: z.ZodError): InvalidField {
	const issue = error.issues[0];
	const key = issue.path[0];
	if (key === 'sessionParameters' && typeof issue.path[1] === 'number') {
		return new InvalidField(
			FIELD_LABELS.sessionParameters,
			`Session Parameters #${issue.path[1] + 1} ${issue.message}`,
		);
	}
	const field = typeof key === 'string' && key in FIELD_LABELS ? FIELD_LABELS[key as FieldKey] : String(key ?? 'input');
	const message = issue.message.startsWith(field) ? issue.message : `${field}: ${issue.message}`;
	return new InvalidField(field, message);
}

function parse<T extends z.ZodTypeAny>(schema: T, input: unknown): z.output<T> {
	const result = schema.safeParse(input);
	if (!result.success) throw firstIssue(result.error);
	return result.data as z.output<T>;
}

interface CommonValues {
	agentId: string;
	to: string;
	statusUrl?: string;
	reference?: string;
	statusUrlToken?: string;
	sessionParameters: Array<{ name: string; value: string }>;
}

/**
 * The parts every channel shares: `status_url` (with the reference and token that the trigger reads back) and
 * `session_parameters` in the body, and the summary, whose status URL never carries the token.
 */
function assemble(
	channel: StudioChannel,
	path: string,
	values: CommonValues,
	body: Record<string, unknown>,
	extraSummary: { template?: string; locale?: string } = {},
): PreparedSend {
	const { statusUrl, reference, statusUrlToken } = values;
	if (statusUrl) body.status_url = withCorrelation(statusUrl, { reference, token: statusUrlToken });
	if (values.sessionParameters.length) body.session_parameters = values.sessionParameters;
	return {
		channel,
		path,
		body,
		summary: {
			channel,
			to: values.to,
			agentId: values.agentId,
			...extraSummary,
			reference,
			statusUrl: statusUrl ? withCorrelation(statusUrl, { reference }) : undefined,
		},
	};
}

function toComponents(header: string[], body: string[]) {
	const components: Array<{ type: 'header' | 'body'; parameters: Array<{ type: 'text'; text: string }> }> = [];
	if (header.length) components.push({ type: 'header', parameters: header.map((value) => ({ type: 'text', text: value })) });
	if (body.length) components.push({ type: 'body', parameters: body.map((value) => ({ type: 'text', text: value })) });
	return components;
}

/** Validates one item's values and builds Studio's body. Throws InvalidField naming the field. */
export function prepareSend(input: SendInput): PreparedSend {
	if (input.channel === 'whatsapp') {
		const values = parse(whatsAppSchema, input);
		const components =
			values.templateParameters === 'json'
				? parse(z.object({ componentsJson }), { componentsJson: input.componentsJson }).componentsJson
				: toComponents(values.headerParameters, values.bodyParameters);
		const body: Record<string, unknown> = {
			namespace: values.namespace,
			template: values.template,
			locale: values.locale,
			to: values.to,
			agent_id: values.agentId,
			channel: 'whatsapp',
		};
		if (components.length) body.components = components;
		return assemble('whatsapp', STUDIO_PATHS.messagingConversation, values, body, {
			template: values.template,
			locale: values.locale,
		});
	}
	if (input.channel === 'sms') {
		const values = parse(smsSchema, input);
		return assemble('sms', STUDIO_PATHS.messagingConversation, values, { to: values.to, agent_id: values.agentId, channel: 'sms' });
	}
	const values = parse(voiceSchema, input);
	const body: Record<string, unknown> = { agent_id: values.agentId, to: values.to };
	if (values.hangupOnAnswerMachine) body.hangup_on_answer_machine = true;
	return assemble('voice', STUDIO_PATHS.makeCall, values, body);
}
