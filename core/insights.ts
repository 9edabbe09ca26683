// The rules of reading Studio's Insights API (docs/insights.md), free of I/O: time ranges split into the windows
// Studio accepts, the search query (filter built and URL-encoded), and Studio's answers read tolerantly into
// sessions a workflow can use. Only the query parameters and the filter's field names are documented; the shape of
// the answers is not, so every reader here accepts several shapes and ignores what it does not know.
import { InvalidField } from './errors';
import { INSIGHTS_FIELDS, INSIGHTS_MAX_RANGE_MS, INSIGHTS_PATHS, INSIGHTS_QUERY } from './studioApi';

// ---------------------------------------------------------------------------------------------------------------
// Time

/** A closed range of session start times, in milliseconds since the epoch. */
export interface TimeWindow {
	from: number;
	to: number;
}

/**
 * Covers [from, to] with windows Studio accepts (at most 60 days each), newest first and without overlap, so a
 * search over a year is six searches whose results, each newest first, follow each other in order.
 */
export function splitWindows(from: number, to: number, maxSpanMs = INSIGHTS_MAX_RANGE_MS): TimeWindow[] {
	if (!(from <= to)) return [];
	const windows: TimeWindow[] = [];
	for (let end = to; end >= from; end -= maxSpanMs + 1) {
		windows.push({ from: Math.max(from, end - maxSpanMs), to: end });
	}
	return windows;
}

/** An instant as an item gives it: ISO text, a date, Luxon's DateTime ($now), or epoch milliseconds or seconds. */
export function parseInstant(value: unknown, field: string): number | undefined {
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
	let instant = Number.NaN;
	if (typeof value === 'number') instant = value < 1e12 ? value * 1000 : value;
	else if (value instanceof Date) instant = value.getTime();
	else if (typeof value === 'string') instant = Date.parse(value.trim());
	else if (typeof value === 'object' && typeof (value as { toMillis?: unknown }).toMillis === 'function') {
		instant = (value as { toMillis(): number }).toMillis();
	}
	if (!Number.isFinite(instant)) {
		throw new InvalidField(
			field,
			`${field} "${typeof value === 'object' ? JSON.stringify(value) : String(value)}" is not a date: use ISO 8601 such as 2025-03-01T09:00:00Z`,
		);
	}
	return instant;
}

/** An instant as ISO 8601 text (UTC, milliseconds), the form the Insights API's dates take. */
export const isoOf = (instant: number): string => new Date(instant).toISOString();

// ---------------------------------------------------------------------------------------------------------------
// The search query

/** What a search narrows sessions down to, in the user's terms (numbers already E.164 digits). */
export interface SessionFilter {
	sessionId?: string;
	/** The contact's number, E.164 digits without + (447700900000). */
	contact?: string;
	/** One of CHANNELS' keys, or Studio's own value. */
	channel?: string;
	agentId?: string;
	/** Words the contact said. */
	saidByContact?: string;
}

/**
 * Studio's `channel` values for the channels this package starts sessions on. `Whatsapp`, `Telephony` and `http`
 * are documented; the value for SMS is not, `SMS` is assumed (docs/insights.md).
 */
export const CHANNELS = { whatsapp: 'Whatsapp', sms: 'SMS', voice: 'Telephony', http: 'http' } as const;
export type SessionChannel = keyof typeof CHANNELS;

type Clause = Record<string, Record<string, string>>;

/** An Elasticsearch bool query, the form `filter_by` takes. */
export interface BoolQuery {
	must?: Clause[];
	should?: Clause[];
}

/**
 * The `filter_by` of a search, or undefined when nothing narrows it. The contact's number is looked for in
 * `source` and in `destination`, with and without +, as `should` clauses: which of the two holds the contact of an
 * outbound session, and in which form, is not documented. With other conditions in `must`, Elasticsearch treats
 * `should` as optional, so the reader also checks the number itself (matchesContact).
 */
export function filterQuery(filter: SessionFilter): BoolQuery | undefined {
	const must: Clause[] = [];
	if (filter.sessionId) must.push({ term: { [INSIGHTS_FIELDS.id]: filter.sessionId } });
	if (filter.channel) {
		const channel = CHANNELS[filter.channel as SessionChannel] ?? filter.channel;
		must.push({ term: { [INSIGHTS_FIELDS.channel]: channel } });
	}
	if (filter.agentId) must.push({ term: { [INSIGHTS_FIELDS.agentId]: filter.agentId } });
	if (filter.saidByContact) must.push({ match: { [INSIGHTS_FIELDS.saidByContact]: filter.saidByContact } });
	const should: Clause[] = [];
	if (filter.contact) {
		for (const field of [INSIGHTS_FIELDS.source, INSIGHTS_FIELDS.destination]) {
			for (const form of [filter.contact, `+${filter.contact}`]) should.push({ term: { [field]: form } });
		}
	}
	if (must.length === 0 && should.length === 0) return undefined;
	return { ...(must.length ? { must } : {}), ...(should.length ? { should } : {}) };
}

/** Newest first: the order every search asks for. */
export const NEWEST_FIRST = `${INSIGHTS_FIELDS.startTime}:desc`;

/**
 * Sessions asked for per page. Studio's largest page is not documented: the reader does not rely on getting this
 * many (a shorter page is not taken for the last one).
 */
export const PAGE_SIZE = 100;

/**
 * A query string with every value percent-encoded (encodeURIComponent: braces, quotes, colons, commas and spaces
 * included). Studio answers JSON sent with raw braces with an empty result instead of an error.
 */
export function encodeQuery(parameters: Record<string, string | number | undefined>): string {
	return Object.entries(parameters)
		.filter(([, value]) => value !== undefined)
		.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
		.join('&');
}

/** The path and query of one page of a search. */
export function searchPath(window: TimeWindow, page: number, filter: SessionFilter, pageSize = PAGE_SIZE): string {
	const query = filterQuery(filter);
	return `${INSIGHTS_PATHS.sessions}?${encodeQuery({
		[INSIGHTS_QUERY.from]: isoOf(window.from),
		[INSIGHTS_QUERY.to]: isoOf(window.to),
		[INSIGHTS_QUERY.page]: page,
		[INSIGHTS_QUERY.pageSize]: pageSize,
		[INSIGHTS_QUERY.sort]: NEWEST_FIRST,
		[INSIGHTS_QUERY.filter]: query === undefined ? undefined : JSON.stringify(query),
	})}`;
}

/** The path and query of a session's parameters (Studio finds them by the session's start time). */
export function parametersPath(sessionId: string, startedAt: string): string {
	return `${INSIGHTS_PATHS.parameters(sessionId)}?${encodeQuery({ [INSIGHTS_QUERY.sessionStartTime]: startedAt })}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading answers

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a dotted path (`channel_data.audio_url`), nested or as a flat key (as projections may give it). */
function at(record: Json, path: string): unknown {
	if (path in record) return record[path];
	let current: unknown = record;
	for (const key of path.split('.')) {
		if (!isObject(current)) return undefined;
		current = current[key];
	}
	return current;
}

/** The first of `paths` that holds something other than undefined, null or ''. */
function first(record: Json, paths: readonly string[]): unknown {
	for (const path of paths) {
		const value = at(record, path);
		if (value !== undefined && value !== null && value !== '') return value;
	}
	return undefined;
}

const textOf = (value: unknown): string | null =>
	typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;

/** A time Studio gives as ISO text or epoch seconds or milliseconds, as ISO text; null when there is none. */
function timeOf(value: unknown): string | null {
	if (value === undefined || value === null || value === '') return null;
	try {
		const instant = parseInstant(value, 'time');
		return instant === undefined ? null : isoOf(instant);
	} catch {
		return typeof value === 'string' ? value : null;
	}
}

// Where the list of sessions may be in a search's answer, and its total: neither is documented.
const LIST_KEYS = ['sessions', 'data', 'results', 'items', 'content', 'records', 'hits.hits', 'hits'];
const TOTAL_KEYS = ['total', 'total_count', 'totalCount', 'total_elements', 'totalElements', 'count', 'hits.total'];

/** The sessions of one page of a search, and the total when Studio says it. Elasticsearch hits are unwrapped. */
export function sessionsFrom(body: unknown): { sessions: Json[]; total?: number } {
	let list: unknown;
	let holder: Json | undefined;
	if (Array.isArray(body)) list = body;
	else if (isObject(body)) {
		holder = body;
		list = LIST_KEYS.map((key) => at(body, key)).find(Array.isArray);
		if (list === undefined) {
			// One list under a name of its own: take it; an object that is itself a session: a page of one.
			const arrays = Object.values(body).filter(Array.isArray);
			if (arrays.length === 1) list = arrays[0];
			else if (sessionIdOf(body)) list = [body];
		}
	}
	const sessions = (Array.isArray(list) ? list : [])
		.map((entry) => (isObject(entry) && isObject(entry._source) ? { _id: entry._id, ...entry._source } : entry))
		.filter(isObject);
	let total: number | undefined;
	if (holder) {
		for (const key of TOTAL_KEYS) {
			const value = at(holder, key);
			const number = isObject(value) ? Number(value.value) : typeof value === 'string' ? Number(value) : value;
			if (typeof number === 'number' && Number.isInteger(number) && number >= 0) {
				total = number;
				break;
			}
		}
	}
	return { sessions, total };
}

/** What a session's answer may be wrapped in (the details endpoint is not documented). */
export function unwrapSession(body: unknown): Json | undefined {
	if (!isObject(body)) return undefined;
	for (const key of ['session', 'data', 'result', '_source']) {
		if (isObject(body[key]) && sessionIdOf(body[key] as Json)) return body[key] as Json;
	}
	return body;
}

function sessionIdOf(record: Json): string | undefined {
	return textOf(first(record, ['id', 'session_id', 'sessionId', '_id'])) ?? undefined;
}

export type ParameterValue = string | number | boolean | null | Json | unknown[];

/**
 * Parameters as one flat object, `{ APPOINTMENT_CONFIRMED: "yes" }`, from any of the shapes seen or described: an
 * object of names and values, a list of `{name, value}` (or `value_text`), either under `parameters`, or the steps
 * of the Models article's document (`flow_path[].context.execution_parameters`, later steps winning).
 */
export function parametersFrom(body: unknown): Record<string, ParameterValue> {
	const found: Record<string, ParameterValue> = {};
	const take = (source: unknown) => {
		if (Array.isArray(source)) {
			for (const entry of source) {
				if (!isObject(entry)) continue;
				const name = textOf(entry.name ?? entry.key ?? entry.parameter);
				if (!name) continue;
				const value = entry.value !== undefined ? entry.value : entry.value_text;
				if (value !== undefined) found[name] = value as ParameterValue;
			}
		} else if (isObject(source)) {
			for (const [name, value] of Object.entries(source)) {
				// {NAME: {value: …}} as well as {NAME: …}
				found[name] = (isObject(value) && 'value' in value ? value.value : value) as ParameterValue;
			}
		}
	};
	if (Array.isArray(body)) take(body);
	else if (isObject(body)) {
		if (Array.isArray(body.flow_path)) {
			for (const step of body.flow_path) {
				if (isObject(step)) take(at(step, 'context.execution_parameters'));
			}
		}
		const direct = first(body, ['parameters', 'session_parameters', 'data.parameters', 'data']);
		if (direct !== undefined) take(direct);
		else if (!Array.isArray(body.flow_path) && !sessionIdOf(body)) take(body);
	}
	return found;
}

/** A session's channel in this package's words (whatsapp, sms, voice, http), or Studio's own word in lower case. */
export function channelOf(value: unknown): string | null {
	const text = textOf(value)?.trim().toLowerCase();
	if (!text) return null;
	if (text === 'telephony' || text === 'voice' || text === 'phone' || text === 'call') return 'voice';
	if (text === 'whatsapp') return 'whatsapp';
	if (text === 'sms') return 'sms';
	return text;
}

/** A number's digits (for comparing numbers written with or without +, spaces or a prefix such as whatsapp:). */
export const digitsOf = (value: unknown): string => (textOf(value) ?? '').replace(/\D/g, '');

/** A session, as the node's items show it. Absent values are null so every field can be mapped in the editor. */
export interface InsightsSession {
	sessionId: string;
	channel: string | null;
	agentId: string | null;
	agentName: string | null;
	/** The contact's number (E.164 digits when it is a number). */
	contact: string | null;
	/** The agent's number. */
	agentNumber: string | null;
	startedAt: string | null;
	endedAt: string | null;
	durationSeconds: number | null;
	parameters: Record<string, ParameterValue>;
	/** A voice session's recording (null while Studio has not made it available, and for other channels). */
	recordingUrl: string | null;
}

/**
 * A session from a search result or the details endpoint, or undefined when it has no ID. `contact`: the number
 * searched for, when it is the session's `destination` rather than its `source` (see filterQuery); else `source`,
 * the contact's number in Vonage's description of the document.
 */
export function normaliseSession(raw: Json, contact?: string): InsightsSession | undefined {
	const sessionId = sessionIdOf(raw);
	if (!sessionId) return undefined;
	const source = textOf(first(raw, ['source', 'from', 'user_id', 'user.phone']));
	const destination = textOf(first(raw, ['destination', 'to']));
	const contactIsDestination =
		contact !== undefined && digitsOf(destination) === contact && digitsOf(source) !== contact;
	const startedAt = timeOf(first(raw, ['session_start_time', 'start_time', 'startTime', 'started_at', 'created_at']));
	const endedAt = timeOf(first(raw, ['session_end_time', 'end_time', 'endTime', 'ended_at']));
	const spanned = startedAt && endedAt ? (Date.parse(endedAt) - Date.parse(startedAt)) / 1000 : undefined;
	const given = Number(first(raw, ['channel_data.duration', 'duration']));
	return {
		sessionId,
		channel: channelOf(first(raw, ['channel', 'channel_type', 'channel_data.channel'])),
		agentId: textOf(first(raw, ['agent_information.id', 'agent_id', 'agentId', 'agent.id'])),
		agentName: textOf(first(raw, ['agent_information.name', 'agent_name', 'agent.name'])),
		contact: normaliseNumber(contactIsDestination ? destination : source),
		agentNumber: normaliseNumber(contactIsDestination ? source : destination),
		startedAt,
		endedAt,
		durationSeconds: spanned !== undefined && spanned >= 0 ? spanned : Number.isFinite(given) ? given : null,
		parameters: parametersFrom(raw),
		recordingUrl: textOf(first(raw, ['channel_data.audio_url', 'audio_url', 'recording_url'])),
	};
}

/** A number as E.164 digits when it is one (+44 7700 900000, whatsapp:447700900000), else as given. */
function normaliseNumber(value: string | null): string | null {
	if (value === null) return null;
	const digits = digitsOf(value);
	return digits.length >= 7 && /^[\s+()\-.\d]*$/.test(value.replace(/^[a-z]+:/i, '')) ? digits : value;
}

/** Whether the session is with that contact (E.164 digits), as source or destination. */
export function matchesContact(raw: Json, contact: string): boolean {
	return [first(raw, ['source', 'from', 'user_id']), first(raw, ['destination', 'to'])].some(
		(value) => digitsOf(value) === contact,
	);
}

/** One turn of a conversation. */
export interface TranscriptTurn {
	/** 'contact' or 'agent' when recognised, else the speaker's own label. */
	from: string;
	text: string;
	at: string | null;
}

const SPEAKERS: Record<string, string> = {
	client: 'contact',
	user: 'contact',
	customer: 'contact',
	contact: 'contact',
	agent: 'agent',
	bot: 'agent',
	assistant: 'agent',
	virtual_agent: 'agent',
};

/**
 * The turns of a transcript (`transcription[]`, not documented): each turn either `{client: "…"}`/`{user: "…"}`/
 * `{agent: "…"}` or `{speaker|role|from, text|message}`; anything else is skipped.
 */
export function transcriptFrom(body: unknown): TranscriptTurn[] {
	const source = isObject(body) ? unwrapSession(body) : undefined;
	const list = Array.isArray(body)
		? body
		: source
			? first(source, ['transcription', 'transcript', 'messages', 'turns'])
			: undefined;
	if (!Array.isArray(list)) return [];
	const turns: TranscriptTurn[] = [];
	for (const entry of list) {
		if (!isObject(entry)) continue;
		const at = timeOf(first(entry, ['timestamp', 'time', 'at', 'created_at']));
		const labelled = textOf(first(entry, ['speaker', 'role', 'from', 'type']));
		const said = textOf(first(entry, ['text', 'message', 'content', 'value']));
		if (labelled && said !== null) {
			turns.push({ from: SPEAKERS[labelled.toLowerCase()] ?? labelled, text: said, at });
			continue;
		}
		const speaker = Object.keys(entry).find((key) => key.toLowerCase() in SPEAKERS && textOf(entry[key]) !== null);
		if (speaker) turns.push({ from: SPEAKERS[speaker.toLowerCase()], text: textOf(entry[speaker])!, at });
	}
	return turns;
}
