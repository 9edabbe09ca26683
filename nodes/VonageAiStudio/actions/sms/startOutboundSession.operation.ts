// SMS → Start Outbound Session: the agent opens an SMS conversation.
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { z } from 'zod';

import { STUDIO_PATHS } from '../../../../core/studioApi';
import {
	EXAMPLE_NUMBER,
	FOR_MODELS,
	agentIdField,
	assemble,
	commonRules,
	idempotencyKeyField,
	parse,
	phoneNumber,
	readCommon,
	referenceField,
	sessionParametersField,
	statusUrl,
	statusUrlField,
	toField,
	type CommonInput,
} from '../fields';
import type { Operation, PreparedSend } from '../operation';

const properties: INodeProperties[] = [
	agentIdField,
	toField(
		`The contact's mobile number with the country code, e.g. ${EXAMPLE_NUMBER} (spaces, +, 00 and brackets are fine)`,
	),
	statusUrlField,
	referenceField,
	sessionParametersField,
	idempotencyKeyField,
];

const rules = z.object({ ...commonRules, to: phoneNumber('to'), statusUrl });

export const startSmsSession: Operation<CommonInput> = {
	resource: 'sms',
	option: {
		name: 'Start Outbound Session',
		value: 'startOutboundSession',
		action: 'Start an outbound SMS session',
		description: 'Have the agent start an SMS conversation',
	},
	subtitle: 'Start Session',
	toolDescription: [
		'Starts a Vonage AI Studio conversation by SMS with one contact: the AI Studio agent texts them and handles their replies.',
		FOR_MODELS.pacing,
		FOR_MODELS.number,
		FOR_MODELS.result,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): CommonInput {
		return readCommon(context, itemIndex);
	},

	prepare(input: CommonInput): PreparedSend {
		const values = parse(rules, input);
		return assemble('sms', STUDIO_PATHS.messagingConversation, values, {
			to: values.to,
			agent_id: values.agentId,
			channel: 'sms',
		});
	},
};
