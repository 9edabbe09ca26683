// Voice → Make Outbound Call: the agent calls a phone number or a SIP address.
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
	normalisePhoneNumber,
	parameter,
	parse,
	readCommon,
	referenceField,
	requiredText,
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
		`The phone number to call with the country code, e.g. ${EXAMPLE_NUMBER}, or a SIP address such as sip:alice@pbx.example.com`,
		`${EXAMPLE_NUMBER} or sip:alice@pbx.example.com`,
	),
	{
		...statusUrlField,
		required: false,
		description: 'Optional. Studio calls it only when the callee does not pick up (busy, unanswered and so on).',
	},
	{
		displayName: 'Hang Up on Answering Machine',
		name: 'hangupOnAnswerMachine',
		type: 'boolean',
		default: false,
		description: 'Whether to end the call when an answering machine picks up (beta in Studio)',
	},
	referenceField,
	sessionParametersField,
	idempotencyKeyField,
];

export interface CallInput extends CommonInput {
	hangupOnAnswerMachine: unknown;
}

const SIP_ADDRESS = /^sips?:[^\s@]+@[^\s@]+$/i;

/** A phone number (normalised to E.164 digits) or a SIP address. */
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

const rules = z.object({
	...commonRules,
	to: callTarget,
	statusUrl: z.preprocess(
		(value) =>
			value === undefined || value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value,
		statusUrl.optional(),
	),
	hangupOnAnswerMachine: z.preprocess(
		(value) => (value === undefined || value === '' ? false : value),
		z.boolean({ invalid_type_error: 'Hang Up on Answering Machine must be true or false' }),
	),
});

export const makeOutboundCall: Operation<CallInput> = {
	resource: 'voice',
	option: {
		name: 'Make Outbound Call',
		value: 'makeOutboundCall',
		action: 'Make an outbound call',
		description: 'Have the agent call a phone number or SIP address',
	},
	subtitle: 'Call',
	toolDescription: [
		'Has the Vonage AI Studio voice agent phone one contact now; the agent talks with them. It does not wait for the call to end.',
		FOR_MODELS.pacing,
		`${FOR_MODELS.number} A SIP address (sip:alice@pbx.example.com) works too.`,
		FOR_MODELS.result,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): CallInput {
		return {
			...readCommon(context, itemIndex),
			hangupOnAnswerMachine: parameter(context, 'hangupOnAnswerMachine', itemIndex, false),
		};
	},

	prepare(input: CallInput): PreparedSend {
		const values = parse(rules, input);
		const body: Record<string, unknown> = { agent_id: values.agentId, to: values.to };
		if (values.hangupOnAnswerMachine) body.hangup_on_answer_machine = true;
		return assemble('voice', STUDIO_PATHS.makeCall, values, body);
	},
};
