// The Insights rules alone: time ranges split into windows Studio accepts, the search query built and encoded, and
// Studio's undocumented answers read tolerantly (several list shapes, parameters in several forms, transcripts).
import { InvalidField } from '../../core/errors';
import {
	encodeQuery,
	filterQuery,
	matchesContact,
	normaliseSession,
	parametersFrom,
	parseInstant,
	searchPath,
	sessionsFrom,
	splitWindows,
	transcriptFrom,
	unwrapSession,
} from '../../core/insights';
import { INSIGHTS_MAX_RANGE_MS } from '../../core/studioApi';

const DAY = 24 * 3_600_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('windows', () => {
	it('a range within 60 days is one window', () => {
		expect(splitWindows(T0, T0 + 60 * DAY)).toEqual([{ from: T0, to: T0 + 60 * DAY }]);
		expect(splitWindows(T0, T0)).toEqual([{ from: T0, to: T0 }]);
	});

	it.each([61, 120, 121, 365, 1000])(
		'%i days: newest first, each at most 60 days, covering the range without overlap',
		(days) => {
			const from = T0;
			const to = T0 + days * DAY;
			const windows = splitWindows(from, to);
			expect(windows[0].to).toBe(to);
			expect(windows.at(-1)!.from).toBe(from);
			for (const window of windows) {
				expect(window.to - window.from).toBeLessThanOrEqual(INSIGHTS_MAX_RANGE_MS);
				expect(window.from).toBeLessThanOrEqual(window.to);
			}
			for (let i = 1; i < windows.length; i++) expect(windows[i].to).toBe(windows[i - 1].from - 1);
			expect(windows).toHaveLength(Math.ceil((days * DAY + 1) / (INSIGHTS_MAX_RANGE_MS + 1)));
		},
	);

	it('an empty or reversed range has no window', () => {
		expect(splitWindows(T0 + 1, T0)).toEqual([]);
	});
});

describe('instants', () => {
	it.each([
		['2025-03-01T09:00:00Z', Date.parse('2025-03-01T09:00:00Z')],
		['2025-03-01', Date.parse('2025-03-01T00:00:00Z')],
		[1_740_819_600, 1_740_819_600_000],
		[1_740_819_600_000, 1_740_819_600_000],
		[new Date(5_000), 5_000],
		[{ toMillis: () => 7_000 }, 7_000],
	])('%p', (value, expected) => {
		expect(parseInstant(value, 'Since')).toBe(expected);
	});

	it('empty is undefined; text that is no date names the field', () => {
		expect(parseInstant('  ', 'Since')).toBeUndefined();
		expect(() => parseInstant('next tuesday', 'Since')).toThrow(
			new InvalidField('Since', 'Since "next tuesday" is not a date: use ISO 8601 such as 2025-03-01T09:00:00Z'),
		);
	});
});

describe('the search query', () => {
	it('encodes every character of the JSON: no raw brace, quote, colon, comma or space', () => {
		const path = searchPath({ from: T0, to: T0 + DAY }, 2, {
			contact: '447700900000',
			channel: 'whatsapp',
			agentId: 'agent 1',
			saidByContact: 'call me back',
		});
		const [route, query] = path.split('?');
		expect(route).toBe('/insights/sessions');
		expect(query).not.toMatch(/[{}":, [\]]/);
		const parameters = new URLSearchParams(query);
		expect(Object.fromEntries(parameters)).toEqual({
			from_date: '2025-01-01T00:00:00.000Z',
			to_date: '2025-01-02T00:00:00.000Z',
			page_number: '2',
			page_size: '100',
			sort_by: 'session_start_time:desc',
			filter_by: expect.any(String),
		});
		expect(JSON.parse(parameters.get('filter_by')!)).toEqual({
			must: [
				{ term: { channel: 'Whatsapp' } },
				{ term: { 'agent_information.id': 'agent 1' } },
				{ match: { 'transcription.client': 'call me back' } },
			],
			should: [
				{ term: { source: '447700900000' } },
				{ term: { source: '+447700900000' } },
				{ term: { destination: '447700900000' } },
				{ term: { destination: '+447700900000' } },
			],
		});
	});

	it('no filter, no filter_by; channels this package does not name pass as given', () => {
		expect(new URLSearchParams(searchPath({ from: T0, to: T0 }, 0, {}).split('?')[1]).has('filter_by')).toBe(false);
		expect(filterQuery({ channel: 'voice' })).toEqual({ must: [{ term: { channel: 'Telephony' } }] });
		expect(filterQuery({ channel: 'Messenger' })).toEqual({ must: [{ term: { channel: 'Messenger' } }] });
	});

	it('encodeQuery leaves out undefined values', () => {
		expect(encodeQuery({ a: '{"x":1}', b: undefined, c: 0 })).toBe('a=%7B%22x%22%3A1%7D&c=0');
	});
});

describe('lists of sessions, whatever their shape', () => {
	const one = { id: 's1', session_start_time: '2025-01-01T10:00:00Z' };
	it.each([
		['a bare list', [one], undefined],
		['sessions and total', { sessions: [one], total: 7 }, 7],
		['data and total_count', { data: [one], total_count: '7' }, 7],
		['results and count', { results: [one], count: 7 }, 7],
		['Elasticsearch hits', { hits: { total: { value: 7 }, hits: [{ _id: 's1', _source: { ...one } }] } }, 7],
		['hits with a number total', { hits: { total: 7, hits: [{ _source: one }] } }, 7],
		['a list under a name of its own', { conversations: [one], page: 0 }, undefined],
	])('%s', (_name, body, total) => {
		const page = sessionsFrom(body);
		expect(page.sessions.map((session) => session.id ?? session._id)).toEqual(['s1']);
		expect(page.total).toBe(total);
	});

	it('an empty answer, an error-looking object or text is an empty page', () => {
		for (const body of ['', 'nothing', { message: 'ok' }, null]) expect(sessionsFrom(body).sessions).toEqual([]);
	});
});

describe('a session', () => {
	const raw = {
		id: 'sess-1',
		session_start_time: '2025-01-01T10:00:00Z',
		session_end_time: '2025-01-01T10:02:30Z',
		channel: 'Telephony',
		source: '+44 7700 900123',
		destination: '447700900100',
		agent_information: { id: 'agent-1', name: 'Booking' },
		channel_data: { duration: 999, audio_url: 'https://example.com/a.mp3' },
		flow_path: [
			{
				context: {
					execution_parameters: [
						{ name: 'STEP', value: 'one' },
						{ name: 'CONTACT_ID', value: 'c-1' },
					],
				},
			},
			{
				context: {
					execution_parameters: [
						{ name: 'STEP', value: 'two' },
						{ name: 'NOTE', value_text: 'said so' },
					],
				},
			},
		],
	};

	it('is read into the fields a workflow uses, the duration from start and end, later parameters winning', () => {
		expect(normaliseSession(raw)).toEqual({
			sessionId: 'sess-1',
			channel: 'voice',
			agentId: 'agent-1',
			agentName: 'Booking',
			contact: '447700900123',
			agentNumber: '447700900100',
			startedAt: '2025-01-01T10:00:00.000Z',
			endedAt: '2025-01-01T10:02:30.000Z',
			durationSeconds: 150,
			parameters: { STEP: 'two', CONTACT_ID: 'c-1', NOTE: 'said so' },
			recordingUrl: 'https://example.com/a.mp3',
		});
	});

	it('the contact is the searched number where it is the destination; otherwise the source', () => {
		const outbound = { id: 's', source: '447700900100', destination: '447700900555' };
		expect(normaliseSession(outbound, '447700900555')).toMatchObject({
			contact: '447700900555',
			agentNumber: '447700900100',
		});
		expect(normaliseSession(outbound)).toMatchObject({ contact: '447700900100' });
		expect(matchesContact(outbound, '447700900555')).toBe(true);
		expect(matchesContact({ source: 'whatsapp:+447700900555' }, '447700900555')).toBe(true);
		expect(matchesContact(outbound, '447700900556')).toBe(false);
	});

	it('other names, epoch times, flat projected keys and missing values are tolerated', () => {
		expect(
			normaliseSession({
				session_id: 42,
				start_time: 1_735_725_600,
				'channel_data.duration': 12,
				agent_id: 'a',
				channel: 'Whatsapp',
			}),
		).toEqual({
			sessionId: '42',
			channel: 'whatsapp',
			agentId: 'a',
			agentName: null,
			contact: null,
			agentNumber: null,
			startedAt: '2025-01-01T10:00:00.000Z',
			endedAt: null,
			durationSeconds: 12,
			parameters: {},
			recordingUrl: null,
		});
		expect(normaliseSession({ channel: 'sms' })).toBeUndefined();
	});

	it('a details answer may be wrapped', () => {
		expect(unwrapSession({ data: { id: 'x', channel: 'sms' } })).toEqual({ id: 'x', channel: 'sms' });
		expect(unwrapSession({ id: 'x' })).toEqual({ id: 'x' });
		expect(unwrapSession('')).toBeUndefined();
	});
});

describe('parameters, whatever their form', () => {
	it.each([
		['an object', { APPOINTMENT_CONFIRMED: 'yes', 'USER.RECORD_ID': 7 }],
		['under parameters', { parameters: { APPOINTMENT_CONFIRMED: 'yes', 'USER.RECORD_ID': 7 } }],
		[
			'a list of name and value',
			[
				{ name: 'APPOINTMENT_CONFIRMED', value: 'yes' },
				{ name: 'USER.RECORD_ID', value: 7 },
			],
		],
		[
			'a list under parameters',
			{
				session_id: 's',
				parameters: [
					{ name: 'APPOINTMENT_CONFIRMED', value: 'yes' },
					{ name: 'USER.RECORD_ID', value: 7 },
				],
			},
		],
		[
			'values wrapped in objects',
			{ parameters: { APPOINTMENT_CONFIRMED: { value: 'yes' }, 'USER.RECORD_ID': { value: 7 } } },
		],
	])('%s', (_name, body) => {
		expect(parametersFrom(body)).toEqual({ APPOINTMENT_CONFIRMED: 'yes', 'USER.RECORD_ID': 7 });
	});

	it('nothing usable is an empty object', () => {
		for (const body of ['', null, [], [{ value: 'no name' }], { id: 's1', channel: 'sms' }]) {
			expect(parametersFrom(body)).toEqual({});
		}
	});
});

describe('transcripts, whatever their form', () => {
	it('speaker keys, or speaker and text fields; unknown entries skipped', () => {
		expect(
			transcriptFrom({
				transcription: [
					{ agent: 'Hello' },
					{ client: 'Hi' },
					{ user: 'Call me back', timestamp: '2025-01-01T10:00:05Z' },
					{ role: 'assistant', text: 'Sure' },
					{ speaker: 'supervisor', message: 'Noted' },
					{ noise: true },
				],
			}),
		).toEqual([
			{ from: 'agent', text: 'Hello', at: null },
			{ from: 'contact', text: 'Hi', at: null },
			{ from: 'contact', text: 'Call me back', at: '2025-01-01T10:00:05.000Z' },
			{ from: 'agent', text: 'Sure', at: null },
			{ from: 'supervisor', text: 'Noted', at: null },
		]);
		expect(transcriptFrom('')).toEqual([]);
		expect(transcriptFrom([{ bot: 'Hi' }])).toEqual([{ from: 'agent', text: 'Hi', at: null }]);
	});
});
