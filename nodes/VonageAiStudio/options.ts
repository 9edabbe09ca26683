// The Options collection of every send (the Session resource's reads have their own) and the settings it gives.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { SendPolicy } from '../../core/dispatcher';
import { defaultOf } from '../shared/defaults';
import { docsLink } from '../shared/docs';

export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	displayOptions: { hide: { resource: ['session'] } },
	options: [
		{
			displayName: 'Duplicate Guard',
			name: 'duplicateGuard',
			type: 'boolean',
			default: true,
			description: `Whether to skip a session identical to one this credential started within the Duplicate Guard Window, as when a CRM posts its webhook twice. ${docsLink('duplicates-and-crashes')}.`,
		},
		{
			displayName: 'Duplicate Guard Window (Hours)',
			name: 'duplicateGuardHours',
			type: 'number',
			typeOptions: { minValue: 0.1 },
			default: 12,
			description:
				'How long an identical session is skipped after the first one (a daily reminder with the same text still goes the next day)',
		},
		{
			displayName: 'Rate Limit Max Wait (Seconds)',
			name: 'rateLimitMaxWaitSeconds',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 60,
			description: 'The longest an item may wait in total for 429 retries before it fails',
		},
		{
			displayName: 'Rate Limit Retries',
			name: 'rateLimitRetries',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 20 },
			default: 5,
			description:
				'How many more times to try an item that Studio refused with 429 (too many requests). A 429 means no session was started, so trying again cannot send twice.',
		},
		{
			displayName: 'Remember Sent Sessions For (Hours)',
			name: 'rememberSentHours',
			type: 'number',
			typeOptions: { minValue: 0.1 },
			default: 24,
			description:
				'How long a sent session is remembered, so that Retry On Fail, a retried execution or a repeated idempotency key returns the earlier result instead of sending again',
		},
		{
			displayName: 'Response Timeout (Seconds)',
			name: 'responseTimeoutSeconds',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 30,
			description:
				'How long to wait for Studio to answer. A send that times out is never resent: it may have started a session.',
		},
		{
			displayName: 'Status URL Token',
			name: 'statusUrlToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"A secret added to the status URL (as vgai_token) that the Vonage AI Studio Trigger checks. Use the same value as the token in the trigger's credential.",
		},
	],
};

export interface SendSettings extends SendPolicy {
	responseTimeoutMs: number;
	/** Milliseconds an identical session is skipped for; undefined when the guard is off. */
	duplicateGuardMs?: number;
}

/** The options of the node, each option left out at its default. */
export function readSettings(context: IExecuteFunctions): SendSettings {
	const options = context.getNodeParameter('options', 0, {}) as IDataObject;
	const number = (name: string) => {
		const value = options[name];
		return typeof value === 'number' && Number.isFinite(value) ? value : defaultOf<number>([optionsProperty], name);
	};
	return {
		rememberForMs: number('rememberSentHours') * 3_600_000,
		rateLimitRetries: number('rateLimitRetries'),
		rateLimitMaxWaitMs: number('rateLimitMaxWaitSeconds') * 1000,
		responseTimeoutMs: number('responseTimeoutSeconds') * 1000,
		duplicateGuardMs:
			(options.duplicateGuard ?? defaultOf<boolean>([optionsProperty], 'duplicateGuard')) === false
				? undefined
				: number('duplicateGuardHours') * 3_600_000,
	};
}
