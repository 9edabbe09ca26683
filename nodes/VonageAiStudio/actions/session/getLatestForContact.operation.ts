// Session → Get Latest for Contact: the join between "we started a session with this contact" and "what came of
// it". The newest session with the contact's number since a time (a send's sentAt), with its parameters. Its
// defaults read a send's or a wait's output item, so it can follow either without any expression typed.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InvalidField, NoSessionFound } from '../../../../core/errors';
import { isoOf } from '../../../../core/insights';
import { SINCE_SLACK_MS } from '../../../../core/insightsReader';
import type { ReadOperation } from '../operation';
import { FOR_MODELS, parameter } from '../fields';
import {
	LABELS,
	agentIdFilterField,
	channelField,
	channelValue,
	contactField,
	contactNumber,
	includeTranscriptField,
	instant,
	optionalText,
	optionsOf,
	rangeEnd,
	sessionJson,
	transcriptJson,
} from './fields';

/** What to do when the contact has no session in the range yet. */
type WhenNone = 'emptyItem' | 'noItem' | 'error';

const properties: INodeProperties[] = [
	{
		...contactField(
			'The number the session was started with, with the country code (+44 7700 900000 or 447700900000). The default reads "to" from the item of a Vonage AI Studio send or wait.',
		),
		required: true,
		default: '={{ $json.to }}',
	},
	{
		displayName: LABELS.since,
		name: 'since',
		type: 'dateTime',
		required: true,
		default: '={{ $json.sentAt }}',
		description: `Only sessions that started at or after this time: when you started the session (ISO 8601, e.g. 2025-03-01T09:00:00Z). The default reads "sentAt" from the item of a Vonage AI Studio send or wait. Sessions up to ${SINCE_SLACK_MS / 1000} s earlier count too, for clocks that differ.`,
	},
	{
		displayName: 'Reference',
		name: 'reference',
		type: 'string',
		default: '={{ $json.reference }}',
		description:
			'Your own ID for the contact (e.g. the CRM record ID), passed through to the output as "reference" so the next node can update the right record. The default reads it from the item of a Vonage AI Studio send or wait.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			agentIdFilterField,
			channelField,
			{
				displayName: 'If No Session Found',
				name: 'whenNone',
				type: 'options',
				options: [
					{
						name: 'Fail',
						value: 'error',
						description: 'Stop with an error (or an error item with Continue On Fail)',
					},
					{
						name: 'Return an Item With Found False',
						value: 'emptyItem',
						description: 'An item with found false and empty parameters, to branch on found',
					},
					{ name: 'Return No Item', value: 'noItem', description: 'The branch after this node does not run' },
				],
				default: 'emptyItem',
				description: 'What to output when the contact has no session since that time (yet)',
			},
			includeTranscriptField,
			{
				displayName: LABELS.until,
				name: 'until',
				type: 'dateTime',
				default: '',
				description: 'Only sessions that started at or before this time (ISO 8601). Empty: now.',
			},
		],
	},
];

export interface LatestValues {
	contact: string;
	since: number;
	until?: number;
	reference: string | null;
	agentId?: string;
	channel?: string;
	whenNone: WhenNone;
	includeTranscript: boolean;
}

const WHEN_NONE: readonly WhenNone[] = ['emptyItem', 'noItem', 'error'];

export const getLatestForContact: ReadOperation<LatestValues> = {
	kind: 'read',
	resource: 'session',
	option: {
		name: 'Get Latest for Contact',
		value: 'getLatestForContact',
		action: 'Get the latest session for a contact',
		description:
			"Get the newest AI Studio session with a contact's number (+447700900000) that started since a time (ISO 8601, e.g. when the session was sent), with the parameters the agent collected (e.g. parameters.APPOINTMENT_CONFIRMED); found is false when there is none yet.",
	},
	subtitle: 'Latest for Contact',
	toolDescription: [
		'Finds the newest Vonage AI Studio session with one contact that started since a given time, with the parameters the AI Studio agent collected (found: false when there is none yet).',
		FOR_MODELS.number,
		FOR_MODELS.times,
		FOR_MODELS.reads,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): LatestValues {
		const options = optionsOf(context, itemIndex);
		const whenNone = (optionalText(options.whenNone) ?? 'emptyItem') as WhenNone;
		if (!WHEN_NONE.includes(whenNone)) {
			throw new InvalidField(
				'If No Session Found',
				`If No Session Found "${whenNone}" is not one of: ${WHEN_NONE.join(', ')}`,
			);
		}
		const sinceValue = parameter(context, 'since', itemIndex);
		if (optionalText(sinceValue) === undefined) {
			throw new InvalidField(
				LABELS.since,
				'Since is empty: set it to when the session was started. After a Vonage AI Studio send or wait that is {{ $json.sentAt }} (the default); after the Vonage AI Studio Trigger, whose statuses do not carry it, a time before the send such as {{ $now.minus({ hours: 24 }).toISO() }}.',
			);
		}
		const since = instant(sinceValue, LABELS.since);
		const until = rangeEnd(options.until, LABELS.until, since, LABELS.since);
		return {
			contact: contactNumber(parameter(context, 'contact', itemIndex)),
			since,
			until,
			reference: optionalText(parameter(context, 'reference', itemIndex)) ?? null,
			agentId: optionalText(options.agentId),
			channel: channelValue(options.channel),
			whenNone,
			includeTranscript: options.includeTranscript === true,
		};
	},

	async run(values, reader): Promise<IDataObject[]> {
		const asked = { reference: values.reference, since: isoOf(values.since) };
		const session = await reader.latestFor(values.contact, values.since, values.until ?? reader.now(), {
			agentId: values.agentId,
			channel: values.channel,
		});
		if (!session) {
			if (values.whenNone === 'noItem') return [];
			if (values.whenNone === 'error') {
				throw new NoSessionFound(
					`No session with +${values.contact} since ${asked.since}`,
					'The contact may not have answered yet, or the session started under another number or account. Wait longer before this node, or choose "Return an Item With Found False" under If No Session Found to branch on it.',
				);
			}
			return [
				{
					found: false,
					...asked,
					...sessionJson({
						sessionId: '',
						channel: null,
						contact: values.contact,
						agentId: values.agentId ?? null,
						agentName: null,
						agentNumber: null,
						startedAt: null,
						endedAt: null,
						durationSeconds: null,
						parameters: {},
						recordingUrl: null,
					}),
					sessionId: null,
					...(values.includeTranscript ? { transcript: null } : {}),
				},
			];
		}
		// The documented parameters endpoint is the authority; what the search result carried fills any gap.
		session.parameters = { ...session.parameters, ...(await reader.parameters(session)) };
		const json: IDataObject = { found: true, ...asked, ...sessionJson(session) };
		if (values.includeTranscript) json.transcript = transcriptJson(await reader.transcript(session.sessionId));
		return [json];
	},
};
