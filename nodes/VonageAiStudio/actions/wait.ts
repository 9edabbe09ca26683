// What turns a start operation into its "and wait" twin: the same fields but the status URL (the node makes it: the
// execution's resume URL), plus what to wait for, the time limit and how the outcome leaves the node. Each waiting
// operation's own file says which start operation it waits on and what it can wait for.
import type { INodeProperties } from 'n8n-workflow';

import { InvalidField } from '../../../core/errors';
import { MAX_WAIT_MS, TIME_UNITS, type AwaitedStatus, type TimeUnit } from '../../../core/waitRules';
import { parameter } from './fields';
import type { Operation, WaitOutputs, WaitSettings, WaitingOperation } from './operation';

export const WAIT_OUTPUT_NAMES = ['Reached', 'Failed', 'Timed Out'] as const;

const timeLimitFields: INodeProperties[] = [
	{
		displayName: 'Time Limit',
		name: 'timeLimitAmount',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 24,
		description: 'How long to wait for the status before the item leaves by Timed Out',
	},
	{
		displayName: 'Time Limit Unit',
		name: 'timeLimitUnit',
		type: 'options',
		options: [
			{ name: 'Minutes', value: 'minutes' },
			{ name: 'Hours', value: 'hours' },
			{ name: 'Days', value: 'days' },
		],
		default: 'hours',
	},
	{
		displayName: 'Outputs',
		name: 'waitOutputs',
		type: 'options',
		options: [
			{
				name: 'Reached, Failed, Timed Out',
				value: 'branches',
				description: 'One output per outcome (n8n 2.39 or newer)',
			},
			{
				name: 'One Output With an Outcome Field',
				value: 'single',
				description: 'Every outcome on one output, its "outcome" field saying which (any n8n version)',
			},
		],
		default: 'branches',
		description: 'How the item continues once the wait is over',
	},
];

function waitForField(awaitable: readonly AwaitedStatus[]): INodeProperties[] {
	if (awaitable.length < 2) return [];
	return [
		{
			displayName: 'Wait For',
			name: 'waitFor',
			type: 'options',
			options: [
				{
					name: 'Delivered (or Read)',
					value: 'delivered',
					description: 'Continue as soon as the message is delivered',
				},
				{ name: 'Read', value: 'read', description: 'Continue when the contact has read the message' },
			],
			default: 'read',
			description: 'The status that sends the item to Reached. Rejected or undeliverable sends it to Failed.',
		},
	];
}

function readWait(
	context: Parameters<Operation['read']>[0],
	itemIndex: number,
	awaitable: readonly AwaitedStatus[],
): WaitSettings {
	const awaited = (
		awaitable.length < 2 ? awaitable[0] : parameter(context, 'waitFor', itemIndex, 'read')
	) as AwaitedStatus;
	if (!awaitable.includes(awaited))
		throw new InvalidField('Wait For', `Wait For "${String(awaited)}" is not one of: ${awaitable.join(', ')}`);
	const amount = Number(parameter(context, 'timeLimitAmount', itemIndex, 24));
	const unit = String(parameter(context, 'timeLimitUnit', itemIndex, 'hours')) as TimeUnit;
	if (!(unit in TIME_UNITS))
		throw new InvalidField('Time Limit Unit', `Time Limit Unit "${unit}" is not minutes, hours or days`);
	const limitMs = amount * TIME_UNITS[unit];
	if (!Number.isFinite(amount) || amount <= 0) {
		throw new InvalidField('Time Limit', `Time Limit must be a positive number, got "${String(amount)}"`);
	}
	if (limitMs > MAX_WAIT_MS) throw new InvalidField('Time Limit', 'Time Limit can be at most 31 days');
	const outputs = String(parameter(context, 'waitOutputs', itemIndex, 'branches')) as WaitOutputs;
	return { awaited, limitMs, outputs: outputs === 'single' ? 'single' : 'branches' };
}

/** The waiting twin of `start`: its fields but the status URL, plus the wait's fields. */
export function waitingVariant<Values>(
	start: Operation<Values>,
	spec: {
		option: WaitingOperation['option'];
		subtitle: string;
		awaitable: readonly AwaitedStatus[];
		/** Shown above the wait's fields, e.g. what a voice wait can and cannot know. */
		notice?: string;
	},
): WaitingOperation<Values> {
	const notice: INodeProperties[] = spec.notice
		? [{ displayName: spec.notice, name: 'waitNotice', type: 'notice', default: '' }]
		: [];
	return {
		resource: start.resource,
		option: spec.option,
		subtitle: spec.subtitle,
		properties: [
			...notice,
			...start.properties.filter((property) => property.name !== 'statusUrl'),
			...waitForField(spec.awaitable),
			...timeLimitFields,
		],
		read: (context, itemIndex) => start.read(context, itemIndex),
		prepare: (values) => start.prepare(values),
		wait: { read: (context, itemIndex) => readWait(context, itemIndex, spec.awaitable) },
	};
}
