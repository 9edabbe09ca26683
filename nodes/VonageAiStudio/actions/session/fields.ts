// What the Session operations share: their filter fields (contact number, channel, agent, words said), how an
// item's values are read and checked, and the item a session becomes (parameters as one flat object, so that
// `$json.parameters.APPOINTMENT_CONFIRMED` is all a workflow needs).
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InvalidField } from '../../../../core/errors';
import {
	isoOf,
	parseInstant,
	type InsightsSession,
	type SessionChannel,
	type TranscriptTurn,
} from '../../../../core/insights';
import { normalisePhoneNumber, parameter } from '../fields';

export const LABELS = {
	sessionId: 'Session ID',
	contact: 'Contact Number',
	since: 'Since',
	until: 'Until',
	startedAfter: 'Started After',
	startedBefore: 'Started Before',
	startedAround: 'Started Around',
	channel: 'Channel',
	agentId: 'Agent ID',
	saidByContact: 'Said by Contact',
	limit: 'Limit',
	recordingWait: 'Wait for Recording (Seconds)',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Fields

/** The contact's number field; an operation may set it required and give it a default expression. */
export function contactField(description: string): INodeProperties {
	return {
		displayName: LABELS.contact,
		name: 'contact',
		type: 'string',
		default: '',
		placeholder: '+44 7700 900000',
		description,
	};
}

export const channelField: INodeProperties = {
	displayName: LABELS.channel,
	name: 'channel',
	type: 'options',
	options: [
		{ name: 'Any', value: '' },
		{ name: 'HTTP', value: 'http' },
		{ name: 'SMS', value: 'sms' },
		{ name: 'Voice', value: 'voice' },
		{ name: 'WhatsApp', value: 'whatsapp' },
	] satisfies Array<{ name: string; value: SessionChannel | '' }>,
	default: '',
	description: 'Only sessions on this channel',
};

export const agentIdFilterField: INodeProperties = {
	displayName: LABELS.agentId,
	name: 'agentId',
	type: 'string',
	default: '',
	placeholder: '64f1c2d3e4a5b6c7d8e9f012',
	description: 'Only sessions of this AI Studio agent (its ID from the agent settings)',
};

export const saidByContactField: INodeProperties = {
	displayName: LABELS.saidByContact,
	name: 'saidByContact',
	type: 'string',
	default: '',
	placeholder: 'cancel',
	description: "Only sessions where the contact's words match this text (a word search, not an exact phrase)",
};

export const includeTranscriptField: INodeProperties = {
	displayName: 'Include Transcript',
	name: 'includeTranscript',
	type: 'boolean',
	default: false,
	description:
		"Whether to add the conversation's turns as transcript: [{from: 'contact' or 'agent', text}]. One more request per session, to an endpoint Vonage does not document: null when Studio does not answer it.",
};

// ---------------------------------------------------------------------------------------------------------------
// Reading an item

/** Trimmed text, or undefined when empty. */
export function optionalText(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const text = (typeof value === 'string' ? value : String(value)).trim();
	return text === '' ? undefined : text;
}

export function requiredText(value: unknown, field: string, example: string): string {
	const text = optionalText(value);
	if (text === undefined) throw new InvalidField(field, `${field} is empty: ${example}`);
	return text;
}

/** A contact's number, as E.164 digits, from what people paste (the rules of the send's To field). */
export function contactNumber(value: unknown, field: string = LABELS.contact): string {
	const text = requiredText(value, field, 'give the number with its country code, e.g. +44 7700 900000');
	const result = normalisePhoneNumber(text);
	if (!result.ok) throw new InvalidField(field, `${field} ${result.reason}`);
	return result.digits;
}

export function optionalContactNumber(value: unknown, field: string = LABELS.contact): string | undefined {
	return optionalText(value) === undefined ? undefined : contactNumber(value, field);
}

/** An instant, checked; `fallback` when empty, or an error saying what to give when there is none. */
export function instant(value: unknown, field: string, fallback?: number): number {
	const parsed = parseInstant(value, field);
	if (parsed !== undefined) return parsed;
	if (fallback !== undefined) return fallback;
	throw new InvalidField(field, `${field} is empty: give a date and time such as 2025-03-01T09:00:00Z`);
}

/** The optional end of a time range: undefined when empty, else an instant not before `from` (read from `fromField`). */
export function rangeEnd(value: unknown, field: string, from: number, fromField: string): number | undefined {
	if (optionalText(value) === undefined) return undefined;
	const end = instant(value, field);
	if (end < from) throw new InvalidField(field, `${field} (${isoOf(end)}) is before ${fromField} (${isoOf(from)})`);
	return end;
}

export function channelValue(value: unknown): string | undefined {
	const text = optionalText(value)?.toLowerCase();
	if (text === undefined) return undefined;
	if (!(channelField.options ?? []).some((option) => 'value' in option && option.value === text)) {
		throw new InvalidField(LABELS.channel, `Channel "${text}" is not one of: whatsapp, sms, voice, http`);
	}
	return text;
}

/** The Options collection of the operation, for one item. */
export function optionsOf(context: IExecuteFunctions, itemIndex: number): IDataObject {
	return (parameter(context, 'options', itemIndex, {}) as IDataObject | undefined) ?? {};
}

// ---------------------------------------------------------------------------------------------------------------
// Output

/** The item of one session: every field present (null when Studio did not say), parameters flat. */
export function sessionJson(session: InsightsSession): IDataObject {
	return {
		sessionId: session.sessionId,
		channel: session.channel,
		contact: session.contact,
		agentId: session.agentId,
		agentName: session.agentName,
		agentNumber: session.agentNumber,
		startedAt: session.startedAt,
		endedAt: session.endedAt,
		durationSeconds: session.durationSeconds,
		parameters: session.parameters as IDataObject,
		recordingUrl: session.recordingUrl,
	};
}

/** A transcript as item data; null when Studio gave none. */
export function transcriptJson(turns: TranscriptTurn[] | null): IDataObject[] | null {
	return turns === null ? null : turns.map((turn) => ({ ...turn }));
}
