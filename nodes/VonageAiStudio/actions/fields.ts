// What several operations of the Vonage AI Studio node share: the fields every send has (agent, recipient,
// status URL, reference, session parameters, idempotency key), their validation rules (zod), and how the common
// part of Studio's body is assembled. Each operation's own fields and rules live in its file.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { z } from 'zod';

import { InvalidField } from '../../../core/errors';
import { withCorrelation } from '../../../core/statusUrl';
import type { StudioChannel } from '../../../core/studioApi';
import { docsLink } from '../../shared/docs';
import type { PreparedSend } from './operation';

/** The phone number every example, placeholder and message shows (a UK number reserved for fiction). */
export const EXAMPLE_NUMBER = '+44 7700 900000';

/**
 * What the operations tell an AI model about their calls (each operation's toolDescription adds what it does): how a
 * number and a time are written, what a repeated start returns, why a start can take a moment, that a read sends
 * nothing.
 */
export const FOR_MODELS = {
	number: `Phone numbers are international, with the country code, e.g. ${EXAMPLE_NUMBER} (a national number such as 07700 900000 is refused).`,
	result:
		'The result shows what was sent. "replayed": true means this same session had already been started, so it was not sent again: do not call again for it.',
	pacing:
		"Call it once per contact. Sessions are paced to the account's rate limit, so a call may take a few seconds when several are made at once.",
	times: 'Times are ISO 8601, e.g. 2025-03-01T09:00:00Z.',
	reads: 'It only reads: it starts no session and sends nothing to anyone.',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Fields

export const agentIdField: INodeProperties = {
	displayName: 'Agent ID',
	name: 'agentId',
	type: 'string',
	required: true,
	default: '',
	placeholder: '64f1c2d3e4a5b6c7d8e9f012',
	description: 'The ID of the published AI Studio agent that runs the session (agent settings in AI Studio)',
};

export const sessionParametersField: INodeProperties = {
	displayName: 'Session Parameters',
	name: 'sessionParameters',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Session Parameter',
	default: {},
	description: "Values for the agent's own parameters (flow variables), e.g. CUSTOMER_ID",
	options: [
		{
			displayName: 'Parameter',
			name: 'values',
			values: [
				{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'CUSTOMER_ID' },
				{ displayName: 'Value', name: 'value', type: 'string', default: '' },
			],
		},
	],
};

export const referenceField: INodeProperties = {
	displayName: 'Reference',
	name: 'reference',
	type: 'string',
	default: '',
	placeholder: 'e.g. {{ $json.contactId }}',
	description: `Your own ID for this contact, e.g. the CRM record ID: the Vonage AI Studio Trigger returns it with every status. ${docsLink('action-node')}.`,
};

export const idempotencyKeyField: INodeProperties = {
	displayName: 'Idempotency Key',
	name: 'idempotencyKey',
	type: 'string',
	default: '',
	placeholder: 'e.g. {{ $json.contactId }}-welcome',
	description: `Optional: sends with the same key (e.g. the contact ID plus "-welcome") start one session; repeats within Remember Sent Sessions For return the first result. ${docsLink('duplicates-and-crashes')}.`,
};

export function toField(description: string, placeholder = EXAMPLE_NUMBER): INodeProperties {
	return { displayName: 'To', name: 'to', type: 'string', required: true, default: '', placeholder, description };
}

export const statusUrlField: INodeProperties = {
	displayName: 'Status URL',
	name: 'statusUrl',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'https://your-n8n.example.com/webhook/vonage-ai-studio/status',
	description:
		"Where Studio posts delivery statuses: the Production URL of a Vonage AI Studio Trigger, or an endpoint of yours (never the Vonage application's own status URL)",
};

// ---------------------------------------------------------------------------------------------------------------
// Validation

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

export type FieldKey = keyof typeof FIELD_LABELS;

// WhatsApp limits from the contract: header text 60 characters, body 1024.
export const HEADER_TEXT_LIMIT = 60;
export const BODY_TEXT_LIMIT = 1024;

// Hosts that serve Vonage's own webhooks. Vonage warns that pointing status_url at the application's own
// status URL makes Studio loop forever, so nothing on these domains is accepted.
const VONAGE_DOMAINS = ['vonage.com', 'nexmo.com', 'vonage.net'];

export const text = (field: FieldKey) =>
	z.preprocess(
		(value) => (typeof value === 'number' || typeof value === 'bigint' ? String(value) : value),
		z.string({
			required_error: `${FIELD_LABELS[field]} is required`,
			invalid_type_error: `${FIELD_LABELS[field]} must be text`,
		}),
	);

export const requiredText = (field: FieldKey) =>
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
		return {
			ok: false,
			reason: `"${raw}" is not a phone number: use digits with the country code, e.g. ${EXAMPLE_NUMBER}`,
		};
	}
	if (digits.startsWith('0')) {
		return {
			ok: false,
			reason: `"${raw}" looks like a national number: start with the country code, e.g. ${EXAMPLE_NUMBER} instead of 07700 900000`,
		};
	}
	if (digits.length < 7 || digits.length > 15) {
		return {
			ok: false,
			reason: `"${raw}" has ${digits.length} digits; an international number has 7 to 15 with the country code`,
		};
	}
	return { ok: true, digits };
}

export const phoneNumber = (field: FieldKey) =>
	requiredText(field).transform((value, ctx) => {
		const result = normalisePhoneNumber(value);
		if (!result.ok) {
			ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${FIELD_LABELS[field]} ${result.reason}` });
			return z.NEVER;
		}
		return result.digits;
	});

function isVonageHost(hostname: string): boolean {
	const host = hostname.toLowerCase().replace(/\.$/, '');
	return VONAGE_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

export const statusUrl = requiredText('statusUrl').superRefine((value, ctx) => {
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
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Status URL must start with https:// or http://, not ${url.protocol}`,
		});
		return;
	}
	if (isVonageHost(url.hostname)) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Status URL points at a Vonage host (${url.hostname}). Vonage warns that using the application's own status URL makes Studio loop endlessly: use your own endpoint, e.g. the Vonage AI Studio Trigger's production URL`,
		});
	}
});

export const optionalText = (field: FieldKey) =>
	z
		.preprocess((value) => (value === undefined || value === null ? '' : value), text(field))
		.transform((value) => value.trim())
		.transform((value) => (value === '' ? undefined : value));

export const sessionParameters = z
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

/** What every channel's values have in common once validated. */
export const commonRules = {
	agentId: requiredText('agentId').refine((value) => !/\s/.test(value), {
		message: 'Agent ID must not contain spaces: copy it from the agent settings in AI Studio',
	}),
	sessionParameters,
	reference: optionalText('reference'),
	statusUrlToken: optionalText('statusUrlToken'),
};

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

/** Validates `input` with `schema`; throws InvalidField for the first problem, naming the field. */
export function parse<T extends z.ZodTypeAny>(schema: T, input: unknown): z.output<T> {
	const result = schema.safeParse(input);
	if (!result.success) throw firstIssue(result.error);
	return result.data as z.output<T>;
}

export interface CommonValues {
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
export function assemble(
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

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** What every send reads for one item, before validation. Values may be anything an expression returns. */
export interface CommonInput {
	agentId: unknown;
	to: unknown;
	statusUrl: unknown;
	reference: unknown;
	statusUrlToken: unknown;
	sessionParameters: Array<{ name?: unknown; value?: unknown }>;
}

type FixedCollection<T> = { values?: T[] } | undefined;

/** A parameter of one item; `fallback` when the field is hidden for this operation. */
export function parameter(
	context: IExecuteFunctions,
	name: string,
	itemIndex: number,
	fallback: unknown = '',
): unknown {
	return context.getNodeParameter(name, itemIndex, fallback) as unknown;
}

/** The values of a fixed collection of one kind of entry, in order. */
export function collection<T>(context: IExecuteFunctions, name: string, itemIndex: number): T[] {
	return (parameter(context, name, itemIndex, {}) as FixedCollection<T>)?.values ?? [];
}

export function readCommon(context: IExecuteFunctions, itemIndex: number): CommonInput {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	return {
		agentId: parameter(context, 'agentId', itemIndex),
		to: parameter(context, 'to', itemIndex),
		statusUrl: parameter(context, 'statusUrl', itemIndex),
		reference: parameter(context, 'reference', itemIndex),
		statusUrlToken: options.statusUrlToken,
		sessionParameters: collection(context, 'sessionParameters', itemIndex),
	};
}
