// Session → Get: one session by its ID, with its parameters, and on request its transcript and a call's recording.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InvalidField } from '../../../../core/errors';
import { INSIGHTS_MAX_RANGE_MS } from '../../../../core/studioApi';
import type { ReadOperation } from '../operation';
import { FOR_MODELS, parameter } from '../fields';
import {
	LABELS,
	includeTranscriptField,
	instant,
	optionsOf,
	requiredText,
	sessionJson,
	transcriptJson,
} from './fields';

/** How far either side of Started Around the session is looked for when Studio has no details endpoint. */
const AROUND_MS = 24 * 3_600_000;
/** The longest Wait for Recording: a read that waits longer belongs in a Wait node. */
const MAX_RECORDING_WAIT_S = 300;

const properties: INodeProperties[] = [
	{
		displayName: LABELS.sessionId,
		name: 'sessionId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. {{ $json.sessionId }}',
		description:
			'The ID of the AI Studio session, as a Search or Get Latest for Contact returns it (sessionId), or as AI Studio shows it in its reports',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			includeTranscriptField,
			{
				displayName: LABELS.startedAround,
				name: 'startedAround',
				type: 'dateTime',
				default: '',
				description:
					'When the session started, give or take a day (ISO 8601, e.g. 2025-03-01T09:00:00Z). Only needed when Studio does not answer its session details endpoint: the session is then searched for by ID, over the last 60 days unless this is set.',
			},
			{
				displayName: LABELS.recordingWait,
				name: 'recordingWaitSeconds',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: MAX_RECORDING_WAIT_S },
				default: 0,
				description: `For a call whose recording URL is not there yet (Studio adds it a while after the call ends): how long to keep looking, at most ${MAX_RECORDING_WAIT_S}. 0 returns at once, with recordingUrl null if it is not there yet.`,
			},
		],
	},
];

export interface GetValues {
	sessionId: string;
	includeTranscript: boolean;
	recordingWaitMs: number;
	startedAround?: number;
}

export const getSession: ReadOperation<GetValues> = {
	kind: 'read',
	resource: 'session',
	option: {
		name: 'Get',
		value: 'get',
		action: 'Get a session',
		description:
			"Get one AI Studio session by its ID: channel, contact, agent, start and end, and the parameters the agent collected (e.g. parameters.APPOINTMENT_CONFIRMED); optionally its transcript and a call's recording URL",
	},
	subtitle: 'Get',
	toolDescription: [
		'Reads one Vonage AI Studio session by its session ID (as a search returns it): channel, contact number, agent, start and end, and the parameters the AI Studio agent collected in the conversation (e.g. APPOINTMENT_CONFIRMED).',
		FOR_MODELS.reads,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): GetValues {
		const options = optionsOf(context, itemIndex);
		const seconds = Number(options.recordingWaitSeconds ?? 0);
		if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_RECORDING_WAIT_S) {
			throw new InvalidField(
				LABELS.recordingWait,
				`${LABELS.recordingWait} must be between 0 and ${MAX_RECORDING_WAIT_S}, got "${String(options.recordingWaitSeconds)}"`,
			);
		}
		const around = options.startedAround;
		return {
			sessionId: requiredText(
				parameter(context, 'sessionId', itemIndex),
				LABELS.sessionId,
				'give the ID of the session, e.g. {{ $json.sessionId }} from a Search',
			),
			includeTranscript: options.includeTranscript === true,
			recordingWaitMs: seconds * 1000,
			startedAround: around === undefined || around === '' ? undefined : instant(around, LABELS.startedAround),
		};
	},

	async run(values, reader): Promise<IDataObject[]> {
		const now = reader.now();
		const lookBack =
			values.startedAround === undefined
				? { from: now - INSIGHTS_MAX_RANGE_MS, to: now }
				: { from: values.startedAround - AROUND_MS, to: values.startedAround + AROUND_MS };
		const { session, detailsAvailable } = await reader.session(values.sessionId, lookBack);
		const json = sessionJson(session);
		// Only the details endpoint carries a recording: where Studio refused it, looking again finds none either.
		if (
			detailsAvailable &&
			session.channel === 'voice' &&
			session.recordingUrl === null &&
			values.recordingWaitMs > 0
		) {
			json.recordingUrl = await reader.recordingUrl(session.sessionId, values.recordingWaitMs, true);
		}
		if (values.includeTranscript) json.transcript = transcriptJson(await reader.transcript(session.sessionId));
		return [json];
	},
};
