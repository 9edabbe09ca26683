// Voice → Make Outbound Call: the agent calls a number or a SIP address.
import type { INodeProperties } from 'n8n-workflow';

import { agentIdField, idempotencyKeyField, referenceField, sessionParametersField, statusUrlField, toField } from './common';

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
	{ ...toField('Phone number with country code, or a SIP address', '+44 7700 900000 or sip:alice@pbx.example.com'), displayOptions: show },
	{
		...statusUrlField,
		required: false,
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
