// WhatsApp → Start Outbound Session: a template message that opens a session with the agent.
import type { INodeProperties } from 'n8n-workflow';

import { HEADER_TEXT_LIMIT, BODY_TEXT_LIMIT } from '../body';
import { agentIdField, idempotencyKeyField, referenceField, sessionParametersField, statusUrlField, toField } from './common';

const show = { show: { resource: ['whatsapp'], operation: ['startOutboundSession'] } };
const showFields = { show: { ...show.show, templateParameters: ['fields'] } };
const showJson = { show: { ...show.show, templateParameters: ['json'] } };

export const whatsAppOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['whatsapp'] } },
	options: [
		{
			name: 'Start Outbound Session',
			value: 'startOutboundSession',
			action: 'Start an outbound WhatsApp session',
			description: 'Send an approved template and hand the conversation to the agent',
		},
	],
	default: 'startOutboundSession',
};

export const whatsAppFields: INodeProperties[] = [
	{ ...agentIdField, displayOptions: show },
	{ ...toField('WhatsApp number with country code; spaces, +, 00 and brackets are fine'), displayOptions: show },
	{
		displayName: 'Namespace',
		name: 'namespace',
		type: 'string',
		required: true,
		default: '',
		description: 'The WhatsApp template namespace (shown with the template in your WhatsApp Business account)',
		displayOptions: show,
	},
	{
		displayName: 'Template Name',
		name: 'template',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'order_update',
		description: 'Name of the approved WhatsApp template',
		displayOptions: show,
	},
	{
		displayName: 'Locale',
		name: 'locale',
		type: 'string',
		required: true,
		default: 'en_US',
		placeholder: 'en_US',
		description: 'Language code of the approved template, e.g. en, en_US, pt_BR',
		displayOptions: show,
	},
	{ ...statusUrlField, displayOptions: show },
	{ ...referenceField, displayOptions: show },
	{
		displayName: 'Template Parameters',
		name: 'templateParameters',
		type: 'options',
		options: [
			{ name: 'Using Fields Below', value: 'fields', description: 'Enter header and body values in order' },
			{ name: 'Using JSON', value: 'json', description: 'Write the components array yourself' },
		],
		default: 'fields',
		displayOptions: show,
	},
	{
		displayName: 'Header Parameters',
		name: 'headerParameters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Header Value',
		default: {},
		description: `Values for {{1}}, {{2}} ... in the template header, in order (up to ${HEADER_TEXT_LIMIT} characters)`,
		displayOptions: showFields,
		options: [{ displayName: 'Value', name: 'values', values: [{ displayName: 'Text', name: 'text', type: 'string', default: '' }] }],
	},
	{
		displayName: 'Body Parameters',
		name: 'bodyParameters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Body Value',
		default: {},
		description: `Values for {{1}}, {{2}} ... in the template body, in order (up to ${BODY_TEXT_LIMIT} characters each)`,
		displayOptions: showFields,
		options: [{ displayName: 'Value', name: 'values', values: [{ displayName: 'Text', name: 'text', type: 'string', default: '' }] }],
	},
	{
		displayName: 'Template Components (JSON)',
		name: 'componentsJson',
		type: 'json',
		default: '[\n  { "type": "header", "parameters": [{ "type": "text", "text": "Ann" }] },\n  { "type": "body", "parameters": [{ "type": "text", "text": "42" }] }\n]',
		description: 'The WhatsApp components array, sent as it is',
		displayOptions: showJson,
	},
	{ ...sessionParametersField, displayOptions: show },
	{ ...idempotencyKeyField, displayOptions: show },
];
