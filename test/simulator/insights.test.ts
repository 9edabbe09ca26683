// The simulator's Insights API keeps Studio's documented rules, so the package's reads are tested against them:
// every accepted session searchable, a scripted conversation per number, the 60-day range, raw JSON braces finding
// nothing, 401 for a key or a parameter it cannot use, 404 for parameters it has not got, and pages.
import { Agent, request } from 'undici';

import { conversationOutcome, OUTCOME_PARAMETER } from '../../simulator/insights';
import { CONTROL_PATHS, startSimulator, type StudioSimulator } from '../../simulator/simulator';

const KEY = 'sim-key';
const DAY = 24 * 3_600_000;
const client = new Agent();
afterAll(() => client.close());

let sim: StudioSimulator;
beforeEach(async () => {
	sim = await startSimulator({ callbacks: false, tier: 5, insights: { conversationMs: 0 } });
});
afterEach(() => sim.close());

/** A GET sent exactly as written (undici sends the path as given, raw braces included). */
async function get(pathAndQuery: string, key = KEY) {
	const response = await request(`${sim.url}${pathAndQuery}`, {
		method: 'GET',
		headers: { 'x-vgai-key': key },
		dispatcher: client,
	});
	const text = await response.body.text();
	return { status: response.statusCode, headers: response.headers, json: JSON.parse(text) as unknown };
}

const query = (parameters: Record<string, unknown>) =>
	Object.entries(parameters)
		.map(([name, value]) => `${name}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`)
		.join('&');

const lastDays = (days: number) => ({
	from_date: new Date(Date.now() - days * DAY).toISOString(),
	to_date: new Date(Date.now() + 60_000).toISOString(),
});

async function startWhatsApp(to: string) {
	const response = await request(`${sim.url}/messaging/conversation`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-vgai-key': KEY },
		body: JSON.stringify({
			namespace: 'ns',
			template: 't',
			locale: 'en',
			to,
			agent_id: 'agent-1',
			channel: 'whatsapp',
			status_url: 'http://127.0.0.1:9/status',
			session_parameters: [{ name: 'CONTACT_ID', value: `c-${to}` }],
		}),
		dispatcher: client,
	});
	return ((await response.body.json()) as { session_id: string }).session_id;
}

type Page = { sessions: Array<Record<string, unknown>>; total: number };

it('scripts the answer by the last digit', () => {
	expect(['447700900301', '447700900304', '447700900307'].map(conversationOutcome)).toEqual([
		'confirms',
		'confirms',
		'confirms',
	]);
	expect(['447700900302', '447700900305', '447700900308'].map(conversationOutcome)).toEqual([
		'declines',
		'declines',
		'declines',
	]);
	expect(['447700900300', '447700900303', '447700900309'].map(conversationOutcome)).toEqual([
		'noAnswer',
		'noAnswer',
		'noAnswer',
	]);
});

it('an accepted session is searchable, its parameters read by its start time, its answer set once the conversation is over', async () => {
	sim.configure({ insights: { conversationMs: 400 } });
	const id = await startWhatsApp('447700900301');
	const filter = { must: [{ term: { id } }] };
	const before = (
		await get(`/insights/sessions?${query({ ...lastDays(1), page_number: 0, page_size: 10, filter_by: filter })}`)
	).json as Page;
	expect(before.sessions).toHaveLength(1);
	const session = before.sessions[0];
	expect(session).toMatchObject({ id, channel: 'Whatsapp', source: '447700900301', session_end_time: null });
	const parametersPath = `/insights/sessions/${id}/parameters?session_start_time=${encodeURIComponent(String(session.session_start_time))}`;
	expect((await get(parametersPath)).json).toEqual({
		session_id: id,
		parameters: [
			{ name: 'CONVERSATION_ID', value: expect.any(String) },
			{ name: 'CONTACT_ID', value: 'c-447700900301' },
		],
	});
	await new Promise((resolve) => setTimeout(resolve, 450));
	expect((await get(parametersPath)).json).toMatchObject({
		parameters: expect.arrayContaining([{ name: OUTCOME_PARAMETER, value: 'yes' }]),
	});
	// Another day's start time does not find it.
	const otherDay = new Date(Date.parse(String(session.session_start_time)) - 2 * DAY).toISOString();
	expect((await get(`/insights/sessions/${id}/parameters?session_start_time=${otherDay}`)).status).toBe(404);
	expect(sim.requests).toHaveLength(1);
});

it('JSON with raw braces finds nothing (200, empty), the same JSON encoded finds the session', async () => {
	await startWhatsApp('447700900302');
	const raw = `/insights/sessions?${query(lastDays(1))}&page_number=0&page_size=10&filter_by={"must":[{"term":{"source":"447700900302"}}]}`;
	expect(await get(raw)).toMatchObject({ status: 200, json: { sessions: [], total: 0 } });
	const encoded = `/insights/sessions?${query({ ...lastDays(1), page_number: 0, page_size: 10, filter_by: { must: [{ term: { source: '447700900302' } }] } })}`;
	expect(((await get(encoded)).json as Page).total).toBe(1);
});

it.each([
	['a range over 60 days', { ...lastDays(61), page_number: 0, page_size: 10 }],
	['no range', { page_number: 0, page_size: 10 }],
	['a filter that is not JSON', { ...lastDays(1), filter_by: 'source=447700900302' }],
	['a clause Elasticsearch would not take', { ...lastDays(1), filter_by: { must: [{ wildcard: { source: '44*' } }] } }],
	['terms without a list', { ...lastDays(1), filter_by: { filter: [{ terms: { source: '447700900302' } }] } }],
	[
		'a bad clause in a nested bool',
		{ ...lastDays(1), filter_by: { must: [{ bool: { should: [{ range: { a: 1 } }] } }] } },
	],
	['a key a bool query has not', { ...lastDays(1), filter_by: { must: [], where: [] } }],
	['a negative page', { ...lastDays(1), page_number: -1 }],
])('%s: 401, as Studio answers invalid parameters', async (_name, parameters) => {
	expect((await get(`/insights/sessions?${query(parameters)}`)).status).toBe(401);
});

it('a wrong key: 401 with the same words', async () => {
	expect(await get(`/insights/sessions?${query(lastDays(1))}`, 'wrong')).toMatchObject({
		status: 401,
		json: { message: 'Unauthorized' },
	});
});

it('pages from 0, newest first, capped at maxPageSize; the answer shape can be varied', async () => {
	for (let index = 0; index < 25; index++) {
		sim.insights.add({
			id: `s${index}`,
			startedAt: Date.now() - (index + 1) * 60_000,
			channel: 'sms',
			contact: '447700900400',
			agentId: 'a',
			parameters: [],
		});
	}
	sim.configure({ insights: { maxPageSize: 10 } });
	const page = (number: number) =>
		get(`/insights/sessions?${query({ ...lastDays(1), page_number: number, page_size: 50 })}`);
	const pages = await Promise.all([0, 1, 2, 3].map(async (number) => (await page(number)).json as Page));
	expect(pages.map((each) => each.sessions.length)).toEqual([10, 10, 5, 0]);
	expect(pages.flatMap((each) => each.sessions.map((session) => session.id))).toEqual(
		Array.from({ length: 25 }, (_, index) => `s${index}`),
	);
	sim.configure({ insights: { maxPageSize: 10, listShape: 'hits' } });
	const hits = (await page(0)).json as { hits: { total: unknown; hits: Array<Record<string, unknown>> } };
	expect(hits.hits.total).toEqual({ value: 25, relation: 'eq' });
	expect(hits.hits.hits[0]).toMatchObject({ _id: 's0', _source: { id: 's0' } });
	sim.configure({ insights: { maxPageSize: 10, listShape: 'array' } });
	expect(((await page(0)).json as unknown[])[0]).toMatchObject({ id: 's0' });
});

it('the undocumented details and transcript answer, unless switched off; scripted failures come first, with Retry-After', async () => {
	const id = await startWhatsApp('447700900302');
	expect((await get(`/insights/sessions/${id}`)).json).toMatchObject({
		id,
		parameters: { CONTACT_ID: 'c-447700900302', [OUTCOME_PARAMETER]: 'no' },
		channel_data: { audio_url: null },
	});
	expect((await get(`/insights/sessions/search/${id}`)).json).toMatchObject({
		transcription: [
			{ agent: expect.any(String) },
			{ client: 'No, I need to cancel it.' },
			{ agent: expect.any(String) },
		],
	});
	sim.configure({ insights: { undocumented: false, failNext: [{ status: 429, retryAfterSeconds: 2 }] } });
	const refused = await get(`/insights/sessions/${id}`);
	expect(refused.status).toBe(429);
	expect(refused.headers['retry-after']).toBe('2');
	expect((await get(`/insights/sessions/${id}`)).status).toBe(404);
	expect((await get(`/insights/sessions/search/${id}`)).status).toBe(404);
});

it('the control state lists Insights requests apart from the outbound ones; reset forgets both', async () => {
	await startWhatsApp('447700900301');
	await get(`/insights/sessions?${query(lastDays(1))}`);
	const state = (await (await fetch(`${sim.url}${CONTROL_PATHS.state}`)).json()) as Record<string, unknown[]>;
	expect(state.requests).toHaveLength(1);
	expect(state.insightsRequests).toEqual([expect.objectContaining({ path: '/insights/sessions', status: 200 })]);
	expect(state.insightsSessions).toHaveLength(1);
	sim.reset();
	expect(sim.insights.sessions).toHaveLength(0);
	expect(sim.insights.requests).toHaveLength(0);
});
