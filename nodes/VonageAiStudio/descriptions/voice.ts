// Voice → Make Outbound Call: the agent calls a number or a SIP address.
import type { INodeProperties } from 'n8n-workflow';

import { agentIdField, idempotencyKeyField, referenceField, sessionParametersField } from './common';

const show = { show: { resource: ['voice'], operation: ['makeOutboundCall'] } };

export const voiceOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['voice'] } },
	options: [
		{
			name: 'Make Outbound Call',
			value: 'makeOutboundCall',
			action: 'Make an outbound call',
			description: 'Have the agent call a phone number or SIP address',
		},
	],
	default: 'makeOutboundCall',
};

export const voiceFields: INodeProperties[] = [
	{ ...agentIdField, displayOptions: show },
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		required: true,
		default: '',
		placeholder: '+44 7700 900000 or sip:alice@pbx.example.com',
		description: 'Phone number with country code, or a SIP address',
		displayOptions: show,
	},
	{
		displayName: 'Status URL',
		name: 'statusUrl',
		type: 'string',
		default: '',
		placeholder: 'https://your-n8n.example.com/webhook/vonage-ai-studio/status',
		description: 'Optional. Studio calls it only when the callee does not pick up (busy, unanswered ...).',
		displayOptions: show,
	},
	{
		displayName: 'Hang Up on Answering Machine',
		name: 'hangupOnAnswerMachine',
		type: 'boolean',
		default: false,
		description: 'Whether to end the call when an answering machine picks up (beta in Studio)',
		displayOptions: show,
	},
	{ ...referenceField, displayOptions: show },
	{ ...sessionParametersField, displayOptions: show },
	{ ...idempotencyKeyField, displayOptions: show },
];
