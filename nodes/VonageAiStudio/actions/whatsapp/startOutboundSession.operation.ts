// WhatsApp → Start Outbound Session: an approved template message that opens a session with the agent.
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { z } from 'zod';

import { STUDIO_PATHS } from '../../../../core/studioApi';
import {
	BODY_TEXT_LIMIT,
	EXAMPLE_NUMBER,
	FIELD_LABELS,
	FOR_MODELS,
	HEADER_TEXT_LIMIT,
	agentIdField,
	assemble,
	collection,
	commonRules,
	idempotencyKeyField,
	parameter,
	parse,
	phoneNumber,
	readCommon,
	referenceField,
	requiredText,
	sessionParametersField,
	statusUrl,
	statusUrlField,
	text,
	toField,
	type CommonInput,
} from '../fields';
import type { Operation, PreparedSend } from '../operation';

const properties: INodeProperties[] = [
	agentIdField,
	toField(
		`The contact's WhatsApp number with the country code, e.g. ${EXAMPLE_NUMBER} (spaces, +, 00 and brackets are fine)`,
	),
	{
		displayName: 'Namespace',
		name: 'namespace',
		type: 'string',
		required: true,
		default: '',
		description: 'The WhatsApp template namespace (shown with the template in your WhatsApp Business account)',
	},
	{
		displayName: 'Template Name',
		name: 'template',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'order_update',
		description: 'Name of the approved WhatsApp template: lowercase letters, digits and underscores, e.g. order_update',
	},
	{
		displayName: 'Locale',
		name: 'locale',
		type: 'string',
		required: true,
		default: 'en_US',
		placeholder: 'en_US',
		description: 'Language code of the approved template, e.g. en, en_US, pt_BR',
	},
	statusUrlField,
	referenceField,
	{
		displayName: 'Template Parameters',
		name: 'templateParameters',
		type: 'options',
		options: [
			{ name: 'Using Fields Below', value: 'fields', description: 'Enter header and body values in order' },
			{ name: 'Using JSON', value: 'json', description: 'Write the components array yourself' },
		],
		default: 'fields',
	},
	{
		displayName: 'Header Parameters',
		name: 'headerParameters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Header Value',
		default: {},
		description: `Values for {{1}}, {{2}} and so on in the template header, in order (up to ${HEADER_TEXT_LIMIT} characters)`,
		displayOptions: { show: { templateParameters: ['fields'] } },
		options: [
			{
				displayName: 'Value',
				name: 'values',
				values: [{ displayName: 'Text', name: 'text', type: 'string', default: '' }],
			},
		],
	},
	{
		displayName: 'Body Parameters',
		name: 'bodyParameters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Body Value',
		default: {},
		description: `Values for {{1}}, {{2}} and so on in the template body, in order (up to ${BODY_TEXT_LIMIT} characters each)`,
		displayOptions: { show: { templateParameters: ['fields'] } },
		options: [
			{
				displayName: 'Value',
				name: 'values',
				values: [{ displayName: 'Text', name: 'text', type: 'string', default: '' }],
			},
		],
	},
	{
		displayName: 'Template Components (JSON)',
		name: 'componentsJson',
		type: 'json',
		default:
			'[\n  { "type": "header", "parameters": [{ "type": "text", "text": "Ann" }] },\n  { "type": "body", "parameters": [{ "type": "text", "text": "42" }] }\n]',
		description: 'The WhatsApp components array, sent as it is',
		displayOptions: { show: { templateParameters: ['json'] } },
	},
	sessionParametersField,
	idempotencyKeyField,
];

export interface WhatsAppInput extends CommonInput {
	namespace: unknown;
	template: unknown;
	locale: unknown;
	templateParameters?: 'fields' | 'json';
	headerParameters?: unknown[];
	bodyParameters?: unknown[];
	componentsJson?: unknown;
}

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
	.preprocess(
		(value, ctx) => {
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
		},
		z.array(z.object({ type: z.string(), parameters: z.array(z.record(z.unknown())).optional() }).passthrough(), {
			invalid_type_error:
				'Template Components (JSON) must be an array like [{"type":"body","parameters":[{"type":"text","text":"Ann"}]}]',
		}),
	)
	.superRefine((components, ctx) => {
		for (const component of components) {
			const limit =
				component.type === 'header' ? HEADER_TEXT_LIMIT : component.type === 'body' ? BODY_TEXT_LIMIT : undefined;
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
	return region
		? `${language.toLowerCase()}_${region.length === 2 ? region.toUpperCase() : region}`
		: language.toLowerCase();
});

// Meta allows lowercase letters, digits and underscores in template names; anything else can only fail later
// as an undeliverable callback (error 1022), so say it now.
const templateName = requiredText('template').refine((value) => /^[a-z0-9_]+$/.test(value), {
	message:
		'Template Name may only hold lowercase letters, digits and underscores, as in WhatsApp Manager (e.g. order_update)',
});

const rules = z.object({
	...commonRules,
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

function toComponents(header: string[], body: string[]) {
	const components: Array<{ type: 'header' | 'body'; parameters: Array<{ type: 'text'; text: string }> }> = [];
	if (header.length)
		components.push({ type: 'header', parameters: header.map((value) => ({ type: 'text', text: value })) });
	if (body.length) components.push({ type: 'body', parameters: body.map((value) => ({ type: 'text', text: value })) });
	return components;
}

export const startWhatsAppSession: Operation<WhatsAppInput> = {
	resource: 'whatsapp',
	option: {
		name: 'Start Outbound Session',
		value: 'startOutboundSession',
		action: 'Start an outbound WhatsApp session',
		description: 'Send an approved template and hand the conversation to the agent',
	},
	subtitle: 'Start Session',
	toolDescription: [
		'Starts a Vonage AI Studio conversation on WhatsApp with one contact: sends them an approved WhatsApp template message, and the AI Studio agent handles their replies.',
		FOR_MODELS.pacing,
		FOR_MODELS.number,
		'Template names are lowercase letters, digits and underscores (order_update); template parameters are plain text.',
		FOR_MODELS.result,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): WhatsAppInput {
		const texts = (name: string) => collection<{ text?: unknown }>(context, name, itemIndex).map((value) => value.text);
		const templateParameters = parameter(context, 'templateParameters', itemIndex, 'fields') as 'fields' | 'json';
		return {
			...readCommon(context, itemIndex),
			namespace: parameter(context, 'namespace', itemIndex),
			template: parameter(context, 'template', itemIndex),
			locale: parameter(context, 'locale', itemIndex),
			templateParameters,
			...(templateParameters === 'json'
				? { componentsJson: parameter(context, 'componentsJson', itemIndex, '[]') }
				: { headerParameters: texts('headerParameters'), bodyParameters: texts('bodyParameters') }),
		};
	},

	prepare(input: WhatsAppInput): PreparedSend {
		const values = parse(rules, input);
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
	},
};
