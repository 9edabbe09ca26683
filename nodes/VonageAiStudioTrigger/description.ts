// The Vonage AI Studio Trigger's description: its parameters, webhook and credential.
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

import { CALLBACK_CREDENTIAL_TYPE, NODE_NAMES } from '../../core/studioApi';
import { ALL_STATUSES } from '../../core/callbacks';

/** The name the callback credential's check is registered under (`methods.credentialTest`). */
export const CALLBACK_CREDENTIAL_TEST = 'vonageAiStudioCallbackSecrets';

/** What the trigger shows under its name on the canvas: the statuses it starts on. */
export const TRIGGER_SUBTITLE =
	'={{ $parameter["statuses"].includes("*") ? "All statuses" : $parameter["statuses"].join(", ") }}';

/**
 * The description without its icon and subtitle, which each package's node file sets (the icon names a file next
 * to that file; n8n's linter reads both there).
 */
export const triggerDescription: Omit<INodeTypeDescription, 'icon' | 'subtitle'> = {
	displayName: 'Vonage AI Studio Trigger',
	name: NODE_NAMES.trigger,
	group: ['trigger'],
	// 1.1 behaves exactly like 1. For every request to a webhook node of version 1, n8n evaluates an expression
	// (its Webhook node's "binaryData" option), which needs an expression isolate; from 1.1 on it does not. Where
	// n8n creates isolates only on demand (N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true) that triples the callbacks per
	// second (docs/benchmarks.md). Version 1 stays listed so saved workflows keep loading; new nodes get 1.1.
	version: [1, 1.1],
	defaultVersion: 1.1,
	description: 'Starts the workflow when Vonage AI Studio posts a delivery status to the status URL of a session',
	defaults: {
		name: 'Vonage AI Studio Trigger',
	},
	inputs: [],
	outputs: [NodeConnectionTypes.Main],
	credentials: [
		{
			name: CALLBACK_CREDENTIAL_TYPE,
			required: true,
			testedBy: CALLBACK_CREDENTIAL_TEST,
			displayOptions: {
				show: {
					authentication: ['token', 'signature'],
				},
			},
		},
	],
	webhooks: [
		{
			name: 'default',
			httpMethod: 'POST',
			responseMode: 'onReceived',
			path: 'status',
		},
	],
	properties: [
		{
			displayName:
				"Use this node's Production URL as the Status URL of the Vonage AI Studio node. What you put in that node's Reference field comes back here as reference.",
			name: 'setupNotice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{
					name: 'Secret Token in Status URL',
					value: 'token',
					description:
						"The status URL carries vgai_token. Set the same secret in the credential and in the Vonage AI Studio node's Status URL Token option.",
				},
				{
					name: 'Vonage Signed Callbacks',
					value: 'signature',
					description: 'Callbacks carry an Authorization: Bearer JWT signed with your Vonage signature secret',
				},
				{
					name: 'None',
					value: 'none',
					description: 'Accept every callback. Anyone who knows the URL can start the workflow.',
				},
			],
			default: 'token',
			description: 'How the trigger tells a real Studio callback from a forged one. Failed checks get 401.',
		},
		{
			displayName:
				'Without authentication anyone who learns this URL can start the workflow with made-up statuses. Use a secret token or signed callbacks in production.',
			name: 'noAuthenticationWarning',
			type: 'notice',
			default: '',
			displayOptions: {
				show: {
					authentication: ['none'],
				},
			},
		},
		{
			displayName:
				'Vonage documents signing for Messages API callbacks, not whether Studio signs the ones it forwards. If every callback gets 401, use the secret token instead.',
			name: 'signatureNotice',
			type: 'notice',
			default: '',
			displayOptions: {
				show: {
					authentication: ['signature'],
				},
			},
		},
		{
			displayName: 'Statuses',
			name: 'statuses',
			type: 'multiOptions',
			options: [
				{
					name: 'All Statuses',
					value: ALL_STATUSES,
					description: 'Every status, including ones not listed here',
				},
				{ name: 'Busy (Call)', value: 'busy', description: 'The called number was busy' },
				{ name: 'Cancelled (Call)', value: 'cancelled', description: 'The call was cancelled before it was answered' },
				{ name: 'Delivered', value: 'delivered', description: 'The message reached the phone' },
				{ name: 'Failed (Call)', value: 'failed', description: 'The call could not be connected' },
				{ name: 'Read', value: 'read', description: 'The recipient opened the message' },
				{
					name: 'Rejected',
					value: 'rejected',
					description: 'Vonage or the carrier refused the message, or the callee rejected the call',
				},
				{ name: 'Submitted', value: 'submitted', description: 'The message left Vonage for the carrier' },
				{ name: 'Timeout (Call)', value: 'timeout', description: 'Nobody answered the call in time' },
				{ name: 'Unanswered (Call)', value: 'unanswered', description: 'The call was not answered' },
				{ name: 'Undeliverable', value: 'undeliverable', description: 'The message could not be delivered' },
			],
			default: [ALL_STATUSES],
			description: 'Which statuses start the workflow. Others are answered 200 and start nothing.',
		},
		{
			displayName: 'Drop Repeated Callbacks',
			name: 'dropRepeats',
			type: 'boolean',
			default: true,
			description:
				'Whether to ignore a callback with the same message UUID and status as one received within the window. Studio may post a status more than once.',
		},
		{
			displayName: 'Repeat Window (Minutes)',
			name: 'repeatWindowMinutes',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 10,
			description: 'How long a status is remembered. Counted from the first time it arrived.',
			displayOptions: {
				show: {
					dropRepeats: [true],
				},
			},
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Max Body Size (KB)',
					name: 'maxBodySizeKb',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 64,
					description: 'Larger callbacks are refused with 413. Studio callbacks are well under 4 KB.',
				},
				{
					displayName: 'Signature Tolerance (Seconds)',
					name: 'signatureToleranceSeconds',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 300,
					description: 'How far the signed issue time (iat) may be from the clock of this n8n, in either direction',
					displayOptions: {
						show: {
							'/authentication': ['signature'],
						},
					},
				},
			],
		},
	],
};
