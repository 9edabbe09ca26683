// A separate process (an e2e test against a real n8n) can read and steer the simulator over HTTP.
import { Agent, request } from 'undici';
import { CONTROL_PATHS, startSimulator, type StudioSimulator } from '../../simulator/simulator';

jest.setTimeout(20_000);

const client = new Agent();
afterAll(() => client.close());

let sim: StudioSimulator;
beforeEach(async () => {
	sim = await startSimulator({ callbacks: false });
});
afterEach(() => sim.close());

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
	const response = await request(`${sim.url}${path}`, {
		method,
		headers: { 'content-type': 'application/json', ...headers },
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
		dispatcher: client,
	});
	const text = await response.body.text();
	return { status: response.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const makeCall = (to = '447700900000') =>
	call('POST', '/telephony/make-call', { agent_id: 'agent-1', to }, { 'x-vgai-key': 'sim-key' });

describe('control API', () => {
	it('GET /_simulator/state reports sessions, request count, 429s and callbacks without an API key', async () => {
		await makeCall();
		await makeCall();
		const state = await call('GET', CONTROL_PATHS.state);
		expect(state.status).toBe(200);
		expect(state.json).toMatchObject({
			url: sim.url,
			requestCount: 2,
			tooManyRequests: 1,
			callbacksSent: [],
		});
		const sessions = state.json!.sessions as Array<Record<string, unknown>>;
		expect(sessions).toHaveLength(1);
		expect(sessions[0]).toMatchObject({ channel: 'voice', body: { agent_id: 'agent-1', to: '447700900000' } });
		expect((state.json!.options as Record<string, unknown>).tier).toBe(1);
		// The control API itself is not a Studio request.
		expect(sim.requests).toHaveLength(2);
	});

	it('POST /_simulator/configure patches options at run time', async () => {
		const configured = await call('POST', CONTROL_PATHS.configure, {
			tier: 5,
			agents: ['agent-1'],
			failNumbers: { '447700900999': 'rejected' },
		});
		expect(configured.status).toBe(200);
		expect(configured.json!.options).toMatchObject({ tier: 5, agents: ['agent-1'] });
		for (let i = 0; i < 5; i++) expect((await makeCall()).status).toBe(200);
		const ghost = await call(
			'POST',
			'/telephony/make-call',
			{ agent_id: 'ghost', to: '447700900000' },
			{ 'x-vgai-key': 'sim-key' },
		);
		expect(ghost.status).toBe(404);
		// null restores a default.
		expect((await call('POST', CONTROL_PATHS.configure, { agents: null })).status).toBe(200);
		sim.reset();
		expect(
			(
				await call(
					'POST',
					'/telephony/make-call',
					{ agent_id: 'ghost', to: '447700900000' },
					{ 'x-vgai-key': 'sim-key' },
				)
			).status,
		).toBe(200);
	});

	it('refuses an invalid patch without changing anything', async () => {
		const bad = await call('POST', CONTROL_PATHS.configure, { tier: 0 });
		expect(bad.status).toBe(400);
		expect(String(bad.json!.message)).toContain('tier');
		expect((await call('POST', CONTROL_PATHS.configure, 'not json')).status).toBe(400);
		expect((await call('POST', CONTROL_PATHS.configure, { failNumbers: { '1': 'lost' } })).status).toBe(400);
		const state = await call('GET', CONTROL_PATHS.state);
		expect((state.json!.options as Record<string, unknown>).tier).toBe(1);
	});

	it('POST /_simulator/reset forgets everything', async () => {
		await makeCall();
		await makeCall();
		expect((await call('POST', CONTROL_PATHS.reset)).status).toBe(200);
		const state = await call('GET', CONTROL_PATHS.state);
		expect(state.json).toMatchObject({ sessions: [], requestCount: 0, tooManyRequests: 0, callbacksSent: [] });
		expect((await makeCall()).status).toBe(200);
	});

	it('answers 404 and 405 on the control paths', async () => {
		expect((await call('GET', '/_simulator/nothing')).status).toBe(404);
		expect((await call('POST', CONTROL_PATHS.state)).status).toBe(405);
		expect((await call('GET', CONTROL_PATHS.reset)).status).toBe(405);
	});
});
