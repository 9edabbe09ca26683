// The simulator's stand-in for Studio's Insights API (docs/studio-api.md, "Insights"): every accepted outbound
// session becomes a searchable session whose scripted conversation sets parameters, decided by the contact's last
// digit. It keeps the documented rules (the 60-day range, page_number from 0, JSON that must be URL-encoded: raw
// braces give an empty result, 401 for a key or a parameter it cannot use, 404 for parameters it has not got) and
// answers in shapes chosen to be plausible, not known: clients must not depend on them (listShape varies them).
import { randomUUID } from 'node:crypto';

import { INSIGHTS_FIELDS, INSIGHTS_MAX_RANGE_MS, INSIGHTS_QUERY } from '../core/studioApi';

/** How the contact answers the agent in the scripted conversation. */
export type ConversationOutcome = 'confirms' | 'declines' | 'noAnswer';

/** The parameter the scripted agent sets from the contact's answer, and its values. */
export const OUTCOME_PARAMETER = 'APPOINTMENT_CONFIRMED';
export const OUTCOME_VALUES: Record<Exclude<ConversationOutcome, 'noAnswer'>, string> = {
	confirms: 'yes',
	declines: 'no',
};

/**
 * The scripted answer of a number, by its last digit: 1, 4, 7 confirm; 2, 5, 8 decline; 0, 3, 6, 9 never answer
 * (nor does a number whose messages fail or get no callbacks).
 */
export function conversationOutcome(number: string): ConversationOutcome {
	const last = Number(number.replace(/\D/g, '').slice(-1));
	if ([1, 4, 7].includes(last)) return 'confirms';
	if ([2, 5, 8].includes(last)) return 'declines';
	return 'noAnswer';
}

const SCRIPT = {
	opener: 'Hello, this is your appointment assistant. Can you confirm your appointment?',
	confirms: { client: 'Yes, I confirm. See you then!', agent: 'Thank you, your appointment is confirmed.' },
	declines: { client: 'No, I need to cancel it.', agent: 'Understood, we will cancel it for you.' },
};

export interface InsightsOptions {
	/** How long after the session starts the conversation is over (the answer given, the end time set). Default 1000. */
	conversationMs?: number;
	/** How long after a call ends its audio_url appears (null until then). Default 2000. */
	recordingDelayMs?: number;
	/**
	 * The shape of a search's answer (real Studio's is not documented): `sessions` `{sessions, total, page_number,
	 * page_size}` (default), `hits` (Elasticsearch's `{hits: {total: {value}, hits: [{_id, _source}]}}`), or `array`
	 * (a bare list, no total).
	 */
	listShape?: 'sessions' | 'hits' | 'array';
	/** The largest page returned, whatever page_size asks. Default 100. */
	maxPageSize?: number;
	/** Answer the endpoints seen only in Vonage's samples (details, transcript). Default true. */
	undocumented?: boolean;
	/** The next Insights requests are answered with these, in order (then normally), e.g. [{ status: 429, retryAfterSeconds: 1 }]. */
	failNext?: Array<{ status: number; retryAfterSeconds?: number }>;
}

const DEFAULTS = {
	conversationMs: 1000,
	recordingDelayMs: 2000,
	listShape: 'sessions',
	maxPageSize: 100,
	undocumented: true,
} as const;

export function validateInsightsOptions(options: InsightsOptions | undefined): void {
	if (options === undefined) return;
	if (typeof options !== 'object' || options === null) throw new TypeError('insights must be an object');
	for (const name of ['conversationMs', 'recordingDelayMs', 'maxPageSize'] as const) {
		const value = options[name];
		if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
			throw new TypeError(`insights.${name} must be a number >= 0`);
		}
	}
	if (options.listShape !== undefined && !['sessions', 'hits', 'array'].includes(options.listShape)) {
		throw new TypeError('insights.listShape must be sessions, hits or array');
	}
	if (
		options.failNext !== undefined &&
		!(Array.isArray(options.failNext) && options.failNext.every((each) => Number.isInteger(each?.status)))
	) {
		throw new TypeError('insights.failNext must be a list of { status, retryAfterSeconds? }');
	}
}

/** A session as the simulator keeps it; its document is derived from it at the time of each request. */
export interface InsightsRecord {
	id: string;
	/** Milliseconds since the epoch. */
	startedAt: number;
	channel: 'whatsapp' | 'sms' | 'voice';
	/** The contact's number, E.164 digits. */
	contact: string;
	agentId: string;
	/** The session parameters the sender seeded. */
	parameters: Array<{ name: string; value: string }>;
	outcome: ConversationOutcome;
}

const STUDIO_CHANNEL: Record<InsightsRecord['channel'], string> = {
	whatsapp: 'Whatsapp',
	sms: 'SMS',
	voice: 'Telephony',
};

type Doc = Record<string, unknown>;

interface Answer {
	status: number;
	body: string;
	headers?: Record<string, string>;
}

export interface InsightsRequest {
	method: string;
	path: string;
	/** The query exactly as it arrived (still encoded). */
	query: string;
	arrivedAt: number;
	status: number;
}

const json = (status: number, value: unknown, headers?: Record<string, string>): Answer => ({
	status,
	body: JSON.stringify(value),
	headers,
});
/** What the simulator answers for a key or a parameter it cannot use: one text for both, as the 401 is one code. */
const UNAUTHORIZED = () => json(401, { message: 'Unauthorized' });
const NOT_FOUND = (what: string) => json(404, { message: `${what} not found` });

const iso = (time: number) => new Date(time).toISOString();

/** The values at a dotted path, through lists (Elasticsearch's view of a document). */
function valuesAt(doc: unknown, path: string): unknown[] {
	let current: unknown[] = [doc];
	for (const key of path.split('.')) {
		const next: unknown[] = [];
		for (const value of current) {
			const items = Array.isArray(value) ? value : [value];
			for (const item of items) {
				if (item && typeof item === 'object' && key in item) next.push((item as Doc)[key]);
			}
		}
		current = next;
	}
	return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

class InvalidQuery extends Error {}

const CLAUSES = new Set(['bool', 'term', 'terms', 'match']);

/** Throws InvalidQuery unless the query is a bool query of the clauses matchesBool knows, whatever the documents. */
function checkBool(query: unknown): void {
	if (!query || typeof query !== 'object' || Array.isArray(query)) throw new InvalidQuery('a bool query is an object');
	for (const [key, value] of Object.entries(query)) {
		if (key === 'minimum_should_match') continue;
		if (!['must', 'filter', 'must_not', 'should'].includes(key)) throw new InvalidQuery(`unknown key ${key}`);
		for (const clause of Array.isArray(value) ? value : [value]) {
			const entries = clause && typeof clause === 'object' ? Object.entries(clause as Doc) : [];
			if (entries.length !== 1 || !CLAUSES.has(entries[0][0])) throw new InvalidQuery('unsupported clause');
			const [kind, body] = entries[0];
			if (kind === 'bool') checkBool(body);
			else if (!body || typeof body !== 'object' || Object.keys(body).length !== 1) {
				throw new InvalidQuery(`${kind} needs one field`);
			} else if (kind === 'terms' && !Array.isArray(Object.values(body)[0])) {
				throw new InvalidQuery('terms needs a list');
			}
		}
	}
}

/**
 * Whether a document matches an Elasticsearch bool query (the subset `filter_by` uses: term, terms, match, bool),
 * one that checkBool accepted.
 */
function matchesBool(doc: Doc, query: unknown): boolean {
	const bool = query as Record<string, unknown>;
	const list = (key: string) => {
		const value = bool[key];
		if (value === undefined) return [];
		return Array.isArray(value) ? value : [value];
	};
	const required = [...list('must'), ...list('filter')];
	if (!required.every((clause) => matchesClause(doc, clause))) return false;
	if (list('must_not').some((clause) => matchesClause(doc, clause))) return false;
	const should = list('should');
	if (should.length === 0) return true;
	const minimum = bool.minimum_should_match !== undefined ? Number(bool.minimum_should_match) : required.length ? 0 : 1;
	return should.filter((clause) => matchesClause(doc, clause)).length >= minimum;
}

function matchesClause(doc: Doc, clause: unknown): boolean {
	const [[kind, body]] = Object.entries(clause as Doc);
	if (kind === 'bool') return matchesBool(doc, body);
	const [[field, value]] = Object.entries(body as Doc);
	const found = valuesAt(doc, field);
	if (kind === 'term') return found.some((each) => String(each) === String(value));
	if (kind === 'terms') return found.some((each) => (value as unknown[]).map(String).includes(String(each)));
	// match: any of the words
	const wanted = words(String(typeof value === 'object' && value ? (value as Doc).query : value));
	const present = new Set(found.flatMap((each) => words(String(each))));
	return wanted.some((word) => present.has(word));
}

/** Studio's Insights API over the simulator's sessions. */
export class InsightsStandIn {
	readonly requests: InsightsRequest[] = [];
	private readonly records: InsightsRecord[] = [];
	private options: InsightsOptions = {};
	private failures: Array<{ status: number; retryAfterSeconds?: number }> = [];

	constructor(
		private readonly now: () => number,
		private readonly agentNumber: string,
	) {}

	configure(options: InsightsOptions | undefined): void {
		validateInsightsOptions(options);
		this.options = { ...(options ?? {}) };
		this.failures = [...(options?.failNext ?? [])];
	}

	reset(): void {
		this.records.length = 0;
		this.requests.length = 0;
		this.failures = [...(this.options.failNext ?? [])];
	}

	/** Every session, oldest first. */
	get sessions(): readonly InsightsRecord[] {
		return this.records;
	}

	/** Records a session Studio accepted (or one a test seeds): searchable at once, its conversation scripted. */
	add(record: Omit<InsightsRecord, 'id' | 'outcome'> & { id?: string; outcome?: ConversationOutcome }): InsightsRecord {
		const full: InsightsRecord = {
			...record,
			id: record.id ?? randomUUID(),
			outcome: record.outcome ?? conversationOutcome(record.contact),
		};
		this.records.push(full);
		return full;
	}

	private setting<K extends keyof typeof DEFAULTS>(name: K): NonNullable<InsightsOptions[K]> {
		return (this.options[name] ?? DEFAULTS[name]) as NonNullable<InsightsOptions[K]>;
	}

	/** The session's document now: the Models article's shape, with the conversation as far as it has got. */
	document(record: InsightsRecord, now = this.now()): Doc {
		const endsAt = record.startedAt + this.setting('conversationMs');
		const over = now >= endsAt;
		const answered = over && record.outcome !== 'noAnswer';
		const transcription: Doc[] = [{ agent: SCRIPT.opener }];
		const collected: Doc[] = [];
		if (answered) {
			const turn = SCRIPT[record.outcome as 'confirms' | 'declines'];
			transcription.push({ client: turn.client }, { agent: turn.agent });
			const value = OUTCOME_VALUES[record.outcome as 'confirms' | 'declines'];
			collected.push({ name: OUTCOME_PARAMETER, value, value_text: turn.client, entity: 'yes_no', completed: true });
		}
		const recordingAt = endsAt + this.setting('recordingDelayMs');
		const conversationId = record.id.replace(/-/g, '').slice(0, 24);
		return {
			id: record.id,
			account_id: 'sim-account',
			session_start_time: iso(record.startedAt),
			session_end_time: over ? iso(endsAt) : null,
			channel: STUDIO_CHANNEL[record.channel],
			source: record.contact,
			destination: this.agentNumber,
			agent_id: record.agentId,
			agent_information: { id: record.agentId, name: 'Simulated agent' },
			channel_data: {
				duration: over ? Math.round((endsAt - record.startedAt) / 1000) : null,
				audio_url:
					record.channel === 'voice' && now >= recordingAt
						? `https://recordings.simulator.invalid/${record.id}.mp3`
						: null,
			},
			transcription,
			flow_path: [
				{
					type: 'start',
					node_id: 'start',
					request_id: `${conversationId}-0`,
					execution_time: 1,
					context: {
						execution_parameters: [
							{ name: 'CONVERSATION_ID', value: conversationId, completed: true },
							...record.parameters.map(({ name, value }) => ({ name, value, completed: true })),
						],
					},
				},
				...(collected.length
					? [
							{
								type: 'collect_input',
								node_id: 'ask-confirmation',
								request_id: `${conversationId}-1`,
								execution_time: 12,
								context: { execution_parameters: collected },
							},
						]
					: []),
			],
		};
	}

	/** The parameters of a document as a list of {name, value}, later steps winning. */
	private parameterList(doc: Doc): Array<{ name: string; value: unknown }> {
		const byName = new Map<string, unknown>();
		for (const step of doc.flow_path as Doc[]) {
			for (const entry of ((step.context as Doc).execution_parameters as Doc[]) ?? []) {
				byName.set(String(entry.name), entry.value);
			}
		}
		return [...byName].map(([name, value]) => ({ name, value }));
	}

	/** Answers a request to a path under /insights/ (`rawQuery` as it arrived, still encoded). */
	answer(method: string, path: string, rawQuery: string, apiKeyOk: boolean): Answer {
		const answer = this.decide(method, path, rawQuery, apiKeyOk);
		this.requests.push({ method, path, query: rawQuery, arrivedAt: this.now(), status: answer.status });
		return answer;
	}

	private decide(method: string, path: string, rawQuery: string, apiKeyOk: boolean): Answer {
		const failure = this.failures.shift();
		if (failure) {
			const headers =
				failure.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(failure.retryAfterSeconds) };
			return json(
				failure.status,
				{ message: failure.status === 429 ? 'Too Many Requests' : 'Simulated failure' },
				headers,
			);
		}
		if (method !== 'GET') return json(405, { message: `Method ${method} not allowed on ${path}` }, { Allow: 'GET' });
		if (!apiKeyOk) return UNAUTHORIZED();
		const query = new URLSearchParams(rawQuery);
		const parts = path.split('/').filter(Boolean).map(decodeURIComponent); // insights, sessions, ...
		if (parts.length === 2) return this.search(query, rawQuery);
		if (parts.length === 4 && parts[2] === 'search') {
			return this.setting('undocumented') ? this.transcript(parts[3]) : NOT_FOUND('Route');
		}
		if (parts.length === 3) return this.setting('undocumented') ? this.details(parts[2]) : NOT_FOUND('Route');
		if (parts.length === 4 && parts[3] === 'parameters') return this.parameters(parts[2], query);
		return NOT_FOUND('Route');
	}

	private find(id: string): InsightsRecord | undefined {
		return this.records.find((record) => record.id === id);
	}

	private search(query: URLSearchParams, rawQuery: string): Answer {
		const from = Date.parse(query.get(INSIGHTS_QUERY.from) ?? '');
		const to = Date.parse(query.get(INSIGHTS_QUERY.to) ?? '');
		if (!Number.isFinite(from) || !Number.isFinite(to) || from > to || to - from > INSIGHTS_MAX_RANGE_MS) {
			return UNAUTHORIZED();
		}
		const page = Number(query.get(INSIGHTS_QUERY.page) ?? 0);
		const asked = Number(query.get(INSIGHTS_QUERY.pageSize) ?? 10);
		if (!Number.isInteger(page) || page < 0 || !Number.isInteger(asked) || asked < 1) return UNAUTHORIZED();
		const size = Math.min(asked, this.setting('maxPageSize'));
		// As Studio: JSON sent with raw braces finds nothing, and is not an error.
		if (/[{}]/.test(rawQuery)) return this.list([], 0, page, size);
		let filter: unknown;
		const filterText = query.get(INSIGHTS_QUERY.filter);
		let fields: string[] | undefined;
		try {
			if (filterText !== null) filter = JSON.parse(filterText);
			const projection = query.get(INSIGHTS_QUERY.fields);
			if (projection !== null) {
				const parsed = JSON.parse(projection) as unknown;
				if (!Array.isArray(parsed)) return UNAUTHORIZED();
				fields = parsed.map(String);
			}
		} catch {
			return UNAUTHORIZED();
		}
		try {
			if (filter !== undefined) checkBool(filter);
		} catch (error) {
			if (error instanceof InvalidQuery) return UNAUTHORIZED();
			throw error;
		}
		const now = this.now();
		const matching = this.records
			.filter((record) => record.startedAt >= from && record.startedAt <= to)
			.map((record) => this.document(record, now))
			.filter((doc) => filter === undefined || matchesBool(doc, filter));
		matching.sort(comparator(query.get(INSIGHTS_QUERY.sort) ?? `${INSIGHTS_FIELDS.startTime}:desc`));
		const slice = matching.slice(page * size, page * size + size).map((doc) => project(doc, fields));
		return this.list(slice, matching.length, page, size);
	}

	private list(docs: Doc[], total: number, page: number, size: number): Answer {
		switch (this.setting('listShape')) {
			case 'array':
				return json(200, docs);
			case 'hits':
				return json(200, {
					took: 3,
					hits: { total: { value: total, relation: 'eq' }, hits: docs.map((doc) => ({ _id: doc.id, _source: doc })) },
				});
			default:
				return json(200, { sessions: docs, total, page_number: page, page_size: size });
		}
	}

	private parameters(id: string, query: URLSearchParams): Answer {
		const start = Date.parse(query.get(INSIGHTS_QUERY.sessionStartTime) ?? '');
		if (!Number.isFinite(start)) return UNAUTHORIZED();
		const record = this.find(id);
		// Studio finds a session's parameters by the day it started.
		if (!record || iso(record.startedAt).slice(0, 10) !== iso(start).slice(0, 10)) return NOT_FOUND('Session');
		const parameters = this.parameterList(this.document(record));
		if (parameters.length === 0) return NOT_FOUND('Parameters');
		return json(200, { session_id: id, parameters });
	}

	private details(id: string): Answer {
		const record = this.find(id);
		if (!record) return NOT_FOUND('Session');
		const doc = this.document(record);
		const parameters = Object.fromEntries(this.parameterList(doc).map(({ name, value }) => [name, value]));
		const { flow_path: _steps, transcription: _turns, ...rest } = doc;
		return json(200, { ...rest, parameters });
	}

	private transcript(id: string): Answer {
		const record = this.find(id);
		if (!record) return NOT_FOUND('Session');
		const doc = this.document(record);
		return json(200, { id, transcription: doc.transcription, channel_data: doc.channel_data });
	}
}

/** `sort_by`: `field:asc|desc` pairs, comma separated. */
function comparator(sortBy: string): (a: Doc, b: Doc) => number {
	const keys = sortBy
		.split(',')
		.map((part) => part.trim().split(':'))
		.filter(([field]) => field);
	return (a, b) => {
		for (const [field, direction] of keys) {
			const [x] = valuesAt(a, field);
			const [y] = valuesAt(b, field);
			const order = String(x ?? '') < String(y ?? '') ? -1 : String(x ?? '') > String(y ?? '') ? 1 : 0;
			if (order !== 0) return direction === 'desc' ? -order : order;
		}
		return 0;
	};
}

/** Only the fields `project_fields` names (the ID always). */
function project(doc: Doc, fields: string[] | undefined): Doc {
	if (!fields) return doc;
	const out: Doc = { id: doc.id };
	for (const field of fields) {
		const path = field.split('.');
		let source: unknown = doc;
		for (const key of path) source = source && typeof source === 'object' ? (source as Doc)[key] : undefined;
		if (source === undefined) continue;
		let target = out;
		for (const key of path.slice(0, -1)) target = (target[key] ??= {}) as Doc;
		target[path.at(-1)!] = source;
	}
	return out;
}
