// SMS → Start Outbound Session: the agent opens an SMS conversation.
import type { INodeProperties } from 'n8n-workflow';

import { agentIdField, idempotencyKeyField, referenceField, sessionParametersField, statusUrlField, toField } from './common';

const show = { show: { resource: ['sms'], operation: ['startOutboundSession'] } };

export const smsOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['sms'] } },
	options: [
		{
			name: 'Start Outbound Session',
			value: 'startOutboundSession',
			action: 'Start an outbound SMS session',
			description: 'Have the agent start an SMS conversation',
		},
	],
	default: 'startOutboundSession',
};

export const smsFields: INodeProperties[] = [
	{ ...agentIdField, displayOptions: show },
	{ ...toField('Mobile number with country code; spaces, +, 00 and brackets are fine'), displayOptions: show },
	{ ...statusUrlField, displayOptions: show },
	{ ...referenceField, displayOptions: show },
	{ ...sessionParametersField, displayOptions: show },
	{ ...idempotencyKeyField, displayOptions: show },
];
