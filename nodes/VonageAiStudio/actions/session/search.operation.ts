// Session → Search: the sessions that started in a time range (any length: searched 60 days at a time), narrowed
// by contact, channel, agent or words the contact said, newest first, every page read for the user.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InvalidField } from '../../../../core/errors';
import type { SessionFilter } from '../../../../core/insights';
import type { ReadOperation } from '../operation';
import { FOR_MODELS, parameter } from '../fields';
import {
	LABELS,
	agentIdFilterField,
	channelField,
	channelValue,
	contactField,
	instant,
	optionalContactNumber,
	optionalText,
	optionsOf,
	rangeEnd,
	saidByContactField,
	sessionJson,
} from './fields';

const properties: INodeProperties[] = [
	{
		displayName: LABELS.startedAfter,
		name: 'startedAfter',
		type: 'dateTime',
		required: true,
		default: '',
		description:
			'Sessions that started at or after this time (ISO 8601, e.g. 2025-03-01T00:00:00Z). Any range works: more than 60 days is searched 60 days at a time.',
	},
	{
		displayName: LABELS.startedBefore,
		name: 'startedBefore',
		type: 'dateTime',
		default: '',
		description: 'Sessions that started at or before this time (ISO 8601). Empty: now.',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			contactField(
				"Only sessions with this contact's number, with the country code (+44 7700 900000; spaces, + and 00 are fine)",
			),
			channelField,
			agentIdFilterField,
			saidByContactField,
		],
	},
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: LABELS.limit,
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Include Parameters',
				name: 'includeParameters',
				type: 'boolean',
				default: false,
				description:
					'Whether to fetch the parameters of each session the search result does not already carry them for (one more request per session)',
			},
			{
				displayName: 'Latest Session per Contact',
				name: 'latestPerContact',
				type: 'boolean',
				default: false,
				description: 'Whether to return only the newest session of each contact',
			},
		],
	},
];

export interface SearchValues {
	from: number;
	/** Undefined: now. */
	to?: number;
	filter: SessionFilter;
	limit?: number;
	latestPerContact: boolean;
	includeParameters: boolean;
}

export const searchSessions: ReadOperation<SearchValues> = {
	kind: 'read',
	resource: 'session',
	option: {
		name: 'Search',
		value: 'search',
		action: 'Search sessions',
		description:
			'Find AI Studio sessions that started between two times (ISO 8601), newest first, one item per session, optionally only those with a contact number (+447700900000), on a channel, of an agent, or where the contact said some words',
	},
	subtitle: 'Search',
	toolDescription: [
		'Lists Vonage AI Studio sessions that started between two times, newest first, optionally only those with one contact number, on a channel or of an agent.',
		FOR_MODELS.times,
		FOR_MODELS.number,
		FOR_MODELS.reads,
	].join(' '),
	properties,

	read(context: IExecuteFunctions, itemIndex: number): SearchValues {
		const filters = (parameter(context, 'filters', itemIndex, {}) as IDataObject | undefined) ?? {};
		const options = optionsOf(context, itemIndex);
		const returnAll = parameter(context, 'returnAll', itemIndex, false) === true;
		const from = instant(parameter(context, 'startedAfter', itemIndex), LABELS.startedAfter);
		const to = rangeEnd(
			parameter(context, 'startedBefore', itemIndex),
			LABELS.startedBefore,
			from,
			LABELS.startedAfter,
		);
		let limit: number | undefined;
		if (!returnAll) {
			limit = Number(parameter(context, 'limit', itemIndex, 50));
			if (!Number.isInteger(limit) || limit < 1) {
				throw new InvalidField(LABELS.limit, `${LABELS.limit} must be a whole number of 1 or more`);
			}
		}
		return {
			from,
			to,
			filter: {
				contact: optionalContactNumber(filters.contact),
				channel: channelValue(filters.channel),
				agentId: optionalText(filters.agentId),
				saidByContact: optionalText(filters.saidByContact),
			},
			limit,
			latestPerContact: options.latestPerContact === true,
			includeParameters: options.includeParameters === true,
		};
	},

	async run(values, reader): Promise<IDataObject[]> {
		const sessions = await reader.search({ from: values.from, to: values.to ?? reader.now() }, values.filter, {
			limit: values.limit,
			latestPerContact: values.latestPerContact,
		});
		const items: IDataObject[] = [];
		for (const session of sessions) {
			if (values.includeParameters && Object.keys(session.parameters).length === 0) {
				session.parameters = await reader.parameters(session);
			}
			items.push(sessionJson(session));
		}
		return items;
	},
};
