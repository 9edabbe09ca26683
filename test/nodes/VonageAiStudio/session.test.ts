// The Session resource run by n8n's real execution engine against the simulator's Insights API over loopback, in
// both editions (n8n's HTTP helper and undici): the join from a send's own output items with the default
// expressions, searches over many pages and 60-day windows, the query's encoding, and every error a user can meet.
import type { IDataObject } from 'n8n-workflow';

import { resetNodeState, runStudioNode, type NodeRun } from '../../../harness/engine';
import { OUTCOME_PARAMETER } from '../../../simulator/insights';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';

const API_KEY = 'sk-insights-5e1f0a9c';
const DAY = 24 * 3_600_000;
let simulator: StudioSimulator;

const credentials = (overrides: Record<string, unknown> = {}) => ({
	apiKey: API_KEY,
	region: 'eu',
	sessionsPerSecond: 5,
	baseUrl: simulator.url,
	redisUrl: '',
	...overrides,
});

const json = (run: NodeRun, output = 0) => run.outputs[output].map((item) => item.json);

beforeEach(async () => {
	simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false, insights: { conversationMs: 0 } });
});

afterEach(async () => {
	await simulator.close();
	await resetNodeState();
});

/** Sessions in the simulator's Insights API, `count` of them, one every `everyMs`, newest `newest` ms ago. */
function seed(count: number, options: { everyMs: number; newest?: number; contact?: (index: number) => string }) {
	const now = Date.now();
	for (let index = 0; index < count; index++) {
		simulator.insights.add({
			id: `seeded-${String(index).padStart(4, '0')}`,
			startedAt: now - (options.newest ?? 60_000) - index * options.everyMs,
			channel: index % 3 === 0 ? 'voice' : 'whatsapp',
			contact: options.contact?.(index) ?? `4477009${String(10000 + index).slice(-5)}`,
			agentId: 'agent-a',
			parameters: [{ name: 'ROW', value: String(index) }],
		});
	}
}

describe.each(['main', 'queue'] as const)('%s edition', (edition) => {
	it("Get Latest for Contact, fed the output items of a send, returns each contact's answer by the default expressions", async () => {
		const contacts = [
			{ phone: '+44 7700 900301', crmId: 'crm-301' }, // confirms
			{ phone: '+44 7700 900302', crmId: 'crm-302' }, // declines
			{ phone: '+44 7700 900303', crmId: 'crm-303' }, // no answer
		];
		const sent = await runStudioNode({
			edition,
			parameters: {
				resource: 'whatsapp',
				operation: 'startOutboundSession',
				agentId: 'agent-a',
				to: '={{ $json.phone }}',
				namespace: 'ns',
				template: 'appointment_confirmation',
				locale: 'en_GB',
				statusUrl: 'https://hooks.example.com/status',
				reference: '={{ $json.crmId }}',
				sessionParameters: { values: [{ name: 'CONTACT_ID', value: '={{ $json.crmId }}' }] },
			},
			items: contacts,
			credentials: credentials(),
		});
		expect(sent.error).toBeUndefined();
		// An older session with the same contact (before sentAt) must not be the one found.
		simulator.insights.add({
			startedAt: Date.now() - DAY,
			channel: 'whatsapp',
			contact: '447700900302',
			agentId: 'agent-a',
			parameters: [],
			outcome: 'confirms',
		});

		const latest = await runStudioNode({
			edition,
			parameters: { resource: 'session', operation: 'getLatestForContact' },
			items: json(sent) as IDataObject[],
			credentials: credentials(),
		});
		expect(latest.error).toBeUndefined();
		const items = json(latest);
		expect(items.map((item) => (item.parameters as IDataObject)[OUTCOME_PARAMETER])).toEqual(['yes', 'no', undefined]);
		expect(items.map((item) => item.reference)).toEqual(['crm-301', 'crm-302', 'crm-303']);
		expect(items.map((item) => item.sessionId)).toEqual(simulator.sessions.map((session) => session.id));
		expect(items[0]).toMatchObject({
			found: true,
			channel: 'whatsapp',
			contact: '447700900301',
			agentId: 'agent-a',
			parameters: { CONTACT_ID: 'crm-301', [OUTCOME_PARAMETER]: 'yes' },
		});
		expect(latest.outputs[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		// Reads start nothing: no request reached the outbound API.
		expect(simulator.requests).toHaveLength(3);
	});

	it('Get Latest for Contact before any session: an item with found false, or none, or an error, as chosen', async () => {
		const item = { to: '+44 7700 900444', sentAt: new Date().toISOString(), reference: 'crm-444' };
		const parameters = { resource: 'session', operation: 'getLatestForContact' };
		const empty = await runStudioNode({ edition, parameters, items: [item], credentials: credentials() });
		expect(json(empty)).toEqual([
			expect.objectContaining({ found: false, reference: 'crm-444', contact: '447700900444', parameters: {} }),
		]);
		const none = await runStudioNode({
			edition,
			parameters: { ...parameters, options: { whenNone: 'noItem' } },
			items: [item],
			credentials: credentials(),
		});
		expect(none.outputs[0]).toEqual([]);
		const failed = await runStudioNode({
			edition,
			parameters: { ...parameters, options: { whenNone: 'error' } },
			items: [item],
			credentials: credentials(),
		});
		expect(failed.error).toMatchObject({ message: expect.stringContaining('No session with +447700900444 since') });
	});

	it('Search over 250 sessions in 150 days returns each once, newest first, paging and splitting for the user', async () => {
		seed(250, { everyMs: (150 * DAY) / 250 });
		const run = await runStudioNode({
			edition,
			parameters: {
				resource: 'session',
				operation: 'search',
				startedAfter: new Date(Date.now() - 151 * DAY).toISOString(),
				returnAll: true,
				filters: { agentId: 'agent-a' },
			},
			items: [{}],
			credentials: credentials(),
		});
		expect(run.error).toBeUndefined();
		const ids = json(run).map((item) => item.sessionId);
		expect(ids).toEqual(Array.from({ length: 250 }, (_, index) => `seeded-${String(index).padStart(4, '0')}`));
		expect(run.outputs[0].every((item) => JSON.stringify(item.pairedItem) === '{"item":0}')).toBe(true);
		// Three windows of at most 60 days, each read page by page, every query encoded.
		const searches = simulator.insights.requests.filter((request) => request.path === '/insights/sessions');
		const windows = new Set(searches.map((request) => new URLSearchParams(request.query).get('from_date')));
		expect(windows.size).toBe(3);
		for (const request of searches) {
			const query = new URLSearchParams(request.query);
			expect(Date.parse(query.get('to_date')!) - Date.parse(query.get('from_date')!)).toBeLessThanOrEqual(60 * DAY);
			expect(request.query).not.toMatch(/[{}"]/);
			expect(JSON.parse(query.get('filter_by')!)).toEqual({ must: [{ term: { 'agent_information.id': 'agent-a' } }] });
		}
	});

	it('Search filters by a number in any format, keeps the latest session per contact, and stops at the limit', async () => {
		seed(30, { everyMs: 3_600_000, contact: (index) => `44770090050${index % 3}` });
		const base = {
			resource: 'session',
			operation: 'search',
			startedAfter: new Date(Date.now() - 2 * DAY).toISOString(),
		};
		const byNumber = await runStudioNode({
			edition,
			parameters: { ...base, returnAll: true, filters: { contact: '0044 (7700) 900-501' } },
			items: [{}],
			credentials: credentials(),
		});
		expect(json(byNumber)).toHaveLength(10);
		expect(json(byNumber).every((item) => item.contact === '447700900501')).toBe(true);

		const latest = await runStudioNode({
			edition,
			parameters: { ...base, returnAll: true, options: { latestPerContact: true } },
			items: [{}],
			credentials: credentials(),
		});
		expect(json(latest).map((item) => item.sessionId)).toEqual(['seeded-0000', 'seeded-0001', 'seeded-0002']);

		const limited = await runStudioNode({
			edition,
			parameters: { ...base, returnAll: false, limit: 7 },
			items: [{}],
			credentials: credentials(),
		});
		expect(json(limited).map((item) => item.sessionId)).toEqual(
			Array.from({ length: 7 }, (_, index) => `seeded-000${index}`),
		);
	});

	it("Get returns parameters, transcript and a call's recording once it appears; without the undocumented endpoints it searches by ID", async () => {
		simulator.configure({ insights: { conversationMs: 0, recordingDelayMs: 1_500 } });
		const call = simulator.insights.add({
			startedAt: Date.now(),
			channel: 'voice',
			contact: '447700900331',
			agentId: 'agent-v',
			parameters: [],
		});
		const run = await runStudioNode({
			edition,
			parameters: {
				resource: 'session',
				operation: 'get',
				sessionId: '={{ $json.id }}',
				options: { includeTranscript: true, recordingWaitSeconds: 30 },
			},
			items: [{ id: call.id }],
			credentials: credentials(),
		});
		expect(run.error).toBeUndefined();
		expect(json(run)[0]).toMatchObject({
			sessionId: call.id,
			channel: 'voice',
			contact: '447700900331',
			parameters: { [OUTCOME_PARAMETER]: 'yes' },
			recordingUrl: expect.stringContaining(call.id),
			transcript: [
				{ from: 'agent', text: expect.any(String), at: null },
				{ from: 'contact', text: 'Yes, I confirm. See you then!', at: null },
				{ from: 'agent', text: expect.any(String), at: null },
			],
		});

		// The details read found no recording (it appears 1.5 s after the call); the next look waits its pause (2 s)
		// instead of asking again at once.
		const detailReads = simulator.insights.requests.filter(
			(request) => request.path === `/insights/sessions/${call.id}`,
		);
		expect(detailReads).toHaveLength(2);
		expect(detailReads[1].arrivedAt - detailReads[0].arrivedAt).toBeGreaterThanOrEqual(1_900);

		simulator.configure({ insights: { conversationMs: 0, undocumented: false } });
		const fallback = await runStudioNode({
			edition,
			parameters: { resource: 'session', operation: 'get', sessionId: call.id, options: { includeTranscript: true } },
			items: [{}],
			credentials: credentials(),
		});
		expect(json(fallback)[0]).toMatchObject({
			sessionId: call.id,
			parameters: { [OUTCOME_PARAMETER]: 'yes' },
			transcript: null,
		});
		// Refused the details (404), it found the session by a search for its ID, whose result carried the parameters.
		const paths = simulator.insights.requests.slice(-3).map((request) => `${request.status} ${request.path}`);
		expect(paths).toEqual([
			`404 /insights/sessions/${call.id}`,
			'200 /insights/sessions',
			`404 /insights/sessions/search/${call.id}`,
		]);
	});
});

describe('errors', () => {
	const latest = (items: IDataObject[], extra: Record<string, unknown> = {}) =>
		runStudioNode({
			parameters: { resource: 'session', operation: 'getLatestForContact' },
			items,
			credentials: credentials(),
			...extra,
		});
	const item = () => ({ to: '447700900301', sentAt: new Date(Date.now() - 60_000).toISOString() });

	it('401 says bad key or invalid parameters, with the http code, and never shows the key', async () => {
		simulator.configure({ apiKey: 'another-key' });
		const run = await latest([item()]);
		expect(run.error).toMatchObject({
			httpCode: '401',
			message: expect.stringMatching(/bad API key, or invalid parameters such as the date range or filter/),
		});
		expect(JSON.stringify(run.run)).not.toContain(API_KEY);
	});

	it('429 with Retry-After is waited out and the read succeeds; refused on every try, it fails saying so', async () => {
		simulator.insights.add({
			startedAt: Date.now(),
			channel: 'whatsapp',
			contact: '447700900301',
			agentId: 'a',
			parameters: [],
		});
		simulator.configure({ insights: { conversationMs: 0, failNext: [{ status: 429, retryAfterSeconds: 1 }] } });
		const ok = await latest([item()]);
		expect(json(ok)[0]).toMatchObject({ found: true, parameters: { [OUTCOME_PARAMETER]: 'yes' } });
		const [refused, retried] = simulator.insights.requests;
		expect(refused.status).toBe(429);
		// Retry-After: 1 s, measured on the simulator's own arrival stamps.
		expect(retried.arrivedAt - refused.arrivedAt).toBeGreaterThanOrEqual(990);

		simulator.configure({
			insights: {
				conversationMs: 0,
				failNext: Array.from({ length: 5 }, () => ({ status: 429, retryAfterSeconds: 0 })),
			},
		});
		const failed = await latest([item()]);
		expect(failed.error).toMatchObject({
			httpCode: '429',
			message: expect.stringContaining('refusing Insights reads'),
			description: expect.stringContaining('Refused 5 times'),
		});
	});

	it('a server error is tried again, then named with its code', async () => {
		simulator.configure({
			insights: { failNext: Array.from({ length: 5 }, () => ({ status: 503, retryAfterSeconds: 0 })) },
		});
		const run = await latest([item()]);
		expect(run.error).toMatchObject({ httpCode: '503', message: expect.stringContaining('server error') });
		expect(simulator.insights.requests).toHaveLength(5);
	});

	it('Get of an unknown session says so; parameters Studio has none of are an empty object, not an error', async () => {
		const unknown = await runStudioNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'no-such-session' },
			items: [{}],
			credentials: credentials(),
		});
		expect(unknown.error).toMatchObject({ message: expect.stringContaining('No session with ID no-such-session') });

		const silent = simulator.insights.add({
			startedAt: Date.now(),
			channel: 'sms',
			contact: '447700900303',
			agentId: 'a',
			parameters: [],
		});
		simulator.configure({ insights: { conversationMs: 0, undocumented: false } });
		const run = await runStudioNode({
			parameters: { resource: 'session', operation: 'get', sessionId: silent.id },
			items: [{}],
			credentials: credentials(),
		});
		// The CONVERSATION_ID the agent always sets, nothing else: the contact never answered.
		expect(Object.keys(json(run)[0].parameters as IDataObject)).toEqual(['CONVERSATION_ID']);
	});

	it('with Continue On Fail, each item fails alone, naming its field, and the others still read', async () => {
		simulator.insights.add({
			startedAt: Date.now(),
			channel: 'whatsapp',
			contact: '447700900301',
			agentId: 'a',
			parameters: [],
		});
		const run = await latest(
			[
				item(),
				{ to: '07700 900301', sentAt: item().sentAt },
				{ to: '447700900301', sentAt: 'next tuesday' },
				{ to: '447700900301', status: 'read' },
				item(),
			],
			{ onError: 'continueRegularOutput' },
		);
		const items = run.outputs[0];
		expect(items.map((each) => each.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(items[0].json).toMatchObject({ found: true });
		expect(items[1].json.error).toMatch(/Item 1: Contact Number .* looks like a national number/);
		expect(items[2].json.error).toMatch(/Item 2: Since "next tuesday" is not a date/);
		// A trigger's status item has no sentAt: the error says what to put instead.
		expect(items[3].json.error).toMatch(/Item 3: Since is empty: .*after the Vonage AI Studio Trigger/);
		expect(items[4].json).toMatchObject({ found: true });
	});
});
