// The simulator answers like Studio: key check, body validation per channel, agent lookup, rate tier, success.
import { Agent, request } from 'undici';
import {
	startSimulator,
	TOO_MANY_REQUESTS_BODY,
	type SimulatorOptions,
	type StudioSimulator,
} from '../../simulator/simulator';
import { maxInAnyWindow } from '../../simulator/windows';

jest.setTimeout(20_000);

const client = new Agent();
afterAll(() => client.close());

const KEY = 'sim-key';
const STATUS_URL = 'http://127.0.0.1:9/status?vgai_ref=r1';

function whatsappBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		namespace: 'ns-1',
		template: 'order_update',
		locale: 'en_US',
		to: '447700900000',
		agent_id: 'agent-1',
		channel: 'whatsapp',
		status_url: STATUS_URL,
		components: [
			{ type: 'header', parameters: [{ type: 'text', text: 'Hi' }] },
			{
				type: 'body',
				parameters: [
					{ type: 'text', text: 'Ana' },
					{ type: 'text', text: '42' },
				],
			},
		],
		session_parameters: [{ name: 'CUSTOMER_ID', value: '42' }],
		...overrides,
	};
}

function smsBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return { to: '447700900001', agent_id: 'agent-1', channel: 'sms', status_url: STATUS_URL, ...overrides };
}

function callBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return { agent_id: 'agent-1', to: '447700900002', ...overrides };
}

function without(body: Record<string, unknown>, field: string): Record<string, unknown> {
	const copy = { ...body };
	delete copy[field];
	return copy;
}

interface Reply {
	status: number;
	text: string;
	json: unknown;
	headers: Record<string, string | string[] | undefined>;
}

async function send(
	sim: StudioSimulator,
	path: string,
	body: unknown,
	{ key = KEY, method = 'POST', raw }: { key?: string | null; method?: 'POST' | 'GET' | 'PUT'; raw?: string } = {},
): Promise<Reply> {
	const headers: Record<string, string> = { 'content-type': 'application/json' };
	if (key !== null) headers['x-vgai-key'] = key;
	const response = await request(`${sim.url}${path}`, {
		method,
		headers,
		body: method === 'GET' ? undefined : (raw ?? JSON.stringify(body)),
		dispatcher: client,
	});
	const text = await response.body.text();
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: response.statusCode, text, json, headers: response.headers };
}

const started: StudioSimulator[] = [];
async function simulator(options: SimulatorOptions = {}): Promise<StudioSimulator> {
	const sim = await startSimulator({ callbacks: false, ...options });
	started.push(sim);
	return sim;
}
afterEach(async () => {
	await Promise.all(started.splice(0).map((sim) => sim.close()));
});

/** A clock the test moves by hand, so the rate window can be probed at exact instants. */
function manualClock(start = 1_000_000) {
	let now = start;
	return { clock: () => now, set: (offset: number) => (now = start + offset) };
}

describe('API key', () => {
	it('answers 401 Unauthorized to a missing or wrong X-Vgai-Key and records the refusal', async () => {
		const sim = await simulator();
		const missing = await send(sim, '/messaging/conversation', whatsappBody(), { key: null });
		const wrong = await send(sim, '/messaging/conversation', whatsappBody(), { key: 'nope' });
		expect(missing.status).toBe(401);
		expect(wrong.status).toBe(401);
		expect(wrong.json).toEqual({ message: 'Unauthorized' });
		expect(sim.sessions).toHaveLength(0);
		expect(sim.requests.map((r) => r.status)).toEqual([401, 401]);
	});

	it('checks the key before the body', async () => {
		const sim = await simulator();
		const reply = await send(sim, '/messaging/conversation', {}, { key: 'nope' });
		expect(reply.status).toBe(401);
	});

	it('uses the configured key', async () => {
		const sim = await simulator({ apiKey: 'other' });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(401);
		expect((await send(sim, '/telephony/make-call', callBody(), { key: 'other' })).status).toBe(200);
	});
});

describe('body validation', () => {
	const whatsappMandatory = ['namespace', 'template', 'locale', 'to', 'agent_id', 'channel', 'status_url'];
	it.each(whatsappMandatory)('WhatsApp without %s gets 400 naming it', async (field) => {
		const sim = await simulator();
		const reply = await send(sim, '/messaging/conversation', without(whatsappBody(), field));
		expect(reply.status).toBe(400);
		expect((reply.json as { message: string }).message).toContain(field);
		expect(sim.sessions).toHaveLength(0);
	});

	it.each(['to', 'agent_id', 'status_url'])('SMS without %s gets 400 naming it', async (field) => {
		const sim = await simulator();
		const reply = await send(sim, '/messaging/conversation', without(smsBody(), field));
		expect(reply.status).toBe(400);
		expect((reply.json as { message: string }).message).toContain(field);
	});

	it.each(['agent_id', 'to'])('a call without %s gets 400 naming it', async (field) => {
		const sim = await simulator();
		const reply = await send(sim, '/telephony/make-call', without(callBody(), field));
		expect(reply.status).toBe(400);
		expect((reply.json as { message: string }).message).toContain(field);
	});

	it.each<[string, string, Record<string, unknown>, string]>([
		['to with +', '/messaging/conversation', whatsappBody({ to: '+447700900000' }), 'to'],
		['to too short', '/messaging/conversation', smsBody({ to: '123456' }), 'to'],
		['to too long', '/messaging/conversation', smsBody({ to: '1234567890123456' }), 'to'],
		['to as a number', '/messaging/conversation', smsBody({ to: 447700900000 }), 'to'],
		['SIP address on SMS', '/messaging/conversation', smsBody({ to: 'sip:ana@example.com' }), 'to'],
		['unknown channel', '/messaging/conversation', smsBody({ channel: 'viber' }), 'channel'],
		['relative status_url', '/messaging/conversation', smsBody({ status_url: '/status' }), 'status_url'],
		['components not a list', '/messaging/conversation', whatsappBody({ components: {} }), 'components'],
		[
			'component of unknown type',
			'/messaging/conversation',
			whatsappBody({ components: [{ type: 'footer', parameters: [] }] }),
			'components[0].type',
		],
		[
			'parameter without text',
			'/messaging/conversation',
			whatsappBody({ components: [{ type: 'body', parameters: [{ type: 'text' }] }] }),
			'components[0].parameters[0].text',
		],
		[
			'parameter of type image',
			'/messaging/conversation',
			whatsappBody({ components: [{ type: 'body', parameters: [{ type: 'image', text: 'x' }] }] }),
			'components[0].parameters[0].type',
		],
		[
			'header text over 60',
			'/messaging/conversation',
			whatsappBody({ components: [{ type: 'header', parameters: [{ type: 'text', text: 'h'.repeat(61) }] }] }),
			'header',
		],
		[
			'body text over 1024',
			'/messaging/conversation',
			whatsappBody({
				components: [
					{
						type: 'body',
						parameters: [
							{ type: 'text', text: 'b'.repeat(600) },
							{ type: 'text', text: 'b'.repeat(425) },
						],
					},
				],
			}),
			'body',
		],
		[
			'session_parameters not a list',
			'/messaging/conversation',
			smsBody({ session_parameters: { a: '1' } }),
			'session_parameters',
		],
		[
			'session parameter value not a string',
			'/messaging/conversation',
			smsBody({ session_parameters: [{ name: 'A', value: 1 }] }),
			'session_parameters[0].value',
		],
		['call to an invalid number', '/telephony/make-call', callBody({ to: 'abc' }), 'to'],
		[
			'hangup flag not boolean',
			'/telephony/make-call',
			callBody({ hangup_on_answer_machine: 'yes' }),
			'hangup_on_answer_machine',
		],
		['call status_url not a URL', '/telephony/make-call', callBody({ status_url: 'nope' }), 'status_url'],
	])('%s gets 400 naming the field', async (_name, path, body, field) => {
		const sim = await simulator();
		const reply = await send(sim, path, body);
		expect(reply.status).toBe(400);
		expect((reply.json as { message: string }).message).toContain(field);
		expect(sim.sessions).toHaveLength(0);
	});

	it('accepts texts exactly at the WhatsApp limits, a SIP call and a full call body', async () => {
		const sim = await simulator({ tier: 10 });
		const atLimits = whatsappBody({
			components: [
				{ type: 'header', parameters: [{ type: 'text', text: 'h'.repeat(60) }] },
				{ type: 'body', parameters: [{ type: 'text', text: 'b'.repeat(1024) }] },
			],
		});
		expect((await send(sim, '/messaging/conversation', atLimits)).status).toBe(200);
		expect((await send(sim, '/telephony/make-call', callBody({ to: 'sip:ana@example.com' }))).status).toBe(200);
		const full = callBody({
			status_url: STATUS_URL,
			hangup_on_answer_machine: true,
			session_parameters: [{ name: 'A', value: '' }],
		});
		expect((await send(sim, '/telephony/make-call', full)).status).toBe(200);
	});

	it('answers 400 to a body that is not JSON or not an object', async () => {
		const sim = await simulator();
		expect((await send(sim, '/messaging/conversation', null, { raw: 'to=447700900000' })).status).toBe(400);
		expect((await send(sim, '/messaging/conversation', null, { raw: '' })).status).toBe(400);
		expect((await send(sim, '/messaging/conversation', [whatsappBody()])).status).toBe(400);
		expect(sim.requests.map((r) => r.body)).toEqual(['to=447700900000', undefined, [whatsappBody()]]);
	});

	it('answers 404 to an unknown path and 405 to a wrong method', async () => {
		const sim = await simulator();
		expect((await send(sim, '/messaging/conversations', whatsappBody())).status).toBe(404);
		const get = await send(sim, '/messaging/conversation', undefined, { method: 'GET' });
		expect(get.status).toBe(405);
		expect(get.headers.allow).toBe('POST');
		expect((await send(sim, '/telephony/make-call', callBody(), { method: 'PUT' })).status).toBe(405);
	});

	it('answers 413 past maxBodyBytes', async () => {
		const sim = await simulator({ maxBodyBytes: 200 });
		const reply = await send(sim, '/messaging/conversation', whatsappBody({ padding: 'x'.repeat(500) }));
		expect(reply.status).toBe(413);
		expect(sim.sessions).toHaveLength(0);
	});
});

describe('accepting a session', () => {
	it('answers 200 and records the exact body, channel, headers and arrival', async () => {
		const sim = await simulator({ tier: 5 });
		const bodies = [whatsappBody({ extra_field: { kept: true } }), smsBody(), callBody({ to: 'sip:bob@example.com' })];
		const before = performance.timeOrigin + performance.now();
		const replies = [
			await send(sim, '/messaging/conversation', bodies[0]),
			await send(sim, '/messaging/conversation', bodies[1]),
			await send(sim, '/telephony/make-call', bodies[2]),
		];
		const after = performance.timeOrigin + performance.now();
		expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
		expect(sim.sessions.map((s) => s.body)).toEqual(bodies);
		expect(sim.sessions.map((s) => s.channel)).toEqual(['whatsapp', 'sms', 'voice']);
		expect(sim.sessions.map((s) => s.path)).toEqual([
			'/messaging/conversation',
			'/messaging/conversation',
			'/telephony/make-call',
		]);
		expect(replies.map((r) => (r.json as { session_id: string }).session_id)).toEqual(sim.sessions.map((s) => s.id));
		for (const session of sim.sessions) {
			expect(session.arrivedAt).toBeGreaterThanOrEqual(before);
			expect(session.arrivedAt).toBeLessThanOrEqual(after);
			expect(session.messageUuid).toMatch(/^[0-9a-f-]{36}$/);
		}
		expect(sim.requests[0].headers['x-vgai-key']).toBe(KEY);
		expect(sim.requests[0].body).toEqual(bodies[0]);
	});

	it('records the arrival before the latency and answers only after it', async () => {
		const sim = await simulator({ latencyMs: 150 });
		const reply = send(sim, '/telephony/make-call', callBody());
		await reply;
		const answeredAt = performance.timeOrigin + performance.now();
		// A lower bound only: timers never fire early by more than clock rounding.
		expect(answeredAt - sim.sessions[0].arrivedAt).toBeGreaterThanOrEqual(149);
	});
});

describe('the trip to the limiter', () => {
	it('counts a request as arriving after its trip: a request sent first but travelling longer arrives second and is the one refused', async () => {
		// Tier 1: two requests 40 ms apart; the first takes 200 ms to reach the limiter, the second 20 ms.
		const sim = await simulator({ arrivalDelayMs: 200 });
		const first = send(sim, '/messaging/conversation', whatsappBody({ to: '447700900010' }));
		await new Promise((resolve) => setTimeout(resolve, 40));
		sim.configure({ arrivalDelayMs: 20 });
		const second = send(sim, '/messaging/conversation', whatsappBody({ to: '447700900011' }));
		const [a, b] = await Promise.all([first, second]);
		expect([a.status, b.status]).toEqual([429, 200]);
		expect(sim.sessions.map((s) => s.body.to)).toEqual(['447700900011']);
		expect(sim.requests.map((r) => r.status)).toEqual([200, 429]);
	});

	it('draws each trip from the shape: a range, and rare long trips in their share', async () => {
		const sim = await simulator({
			tier: 1000,
			arrivalDelayMs: { min: 20, max: 40, spikes: { share: 0.25, min: 200, max: 220 } },
			seed: 7,
		});
		const trips: number[] = [];
		for (let i = 0; i < 40; i++) {
			const sentAt = performance.timeOrigin + performance.now();
			await send(sim, '/messaging/conversation', whatsappBody({ to: `4477009000${String(i).padStart(2, '0')}` }));
			trips.push(sim.requests[i].arrivedAt - sentAt);
		}
		const long = trips.filter((ms) => ms >= 195);
		const usual = trips.filter((ms) => ms < 195);
		expect(long.length).toBeGreaterThanOrEqual(4);
		expect(long.length).toBeLessThanOrEqual(18);
		for (const ms of usual) expect(ms).toBeGreaterThanOrEqual(19);
		for (const ms of usual) expect(ms).toBeLessThan(120); // 40 ms and loopback noise
		for (const ms of long) expect(ms).toBeLessThan(300);
	});

	it('refuses a shape that cannot be drawn', async () => {
		await expect(simulator({ arrivalDelayMs: { min: 50, max: 10 } })).rejects.toThrow(/arrivalDelayMs/);
		await expect(
			simulator({ arrivalDelayMs: { min: 1, max: 2, spikes: { share: 2, min: 1, max: 2 } } }),
		).rejects.toThrow(/share/);
	});
});

describe('agents', () => {
	it("answers an unknown agent with Studio's not-found text, after validation and before the tier", async () => {
		const { clock } = manualClock();
		const sim = await simulator({ agents: ['agent-1'], clock });
		const unknown = await send(sim, '/telephony/make-call', callBody({ agent_id: 'ghost' }));
		expect(unknown.status).toBe(404);
		expect(unknown.json).toEqual({ message: 'ID ghost is not an ID to any agent or published version' });
		const invalid = await send(sim, '/telephony/make-call', callBody({ agent_id: 'ghost', to: 'x' }));
		expect(invalid.status).toBe(400);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		// The tier is full now, yet an unknown agent still gets 404, not 429.
		expect((await send(sim, '/telephony/make-call', callBody({ agent_id: 'ghost' }))).status).toBe(404);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(429);
	});
});

describe('templates', () => {
	it('answers a WhatsApp template it does not know with a 400 naming the template; SMS has none to check', async () => {
		const sim = await simulator({ templates: ['welcome'] });
		const unknown = await send(
			sim,
			'/messaging/conversation',
			whatsappBody({ template: 'promo_v2', namespace: 'ns-1' }),
		);
		expect(unknown.status).toBe(400);
		expect(unknown.json).toEqual({ message: 'template promo_v2 does not exist in namespace ns-1' });
		expect((await send(sim, '/messaging/conversation', whatsappBody({ template: 'welcome' }))).status).toBe(200);
	});
});

describe('rate tier', () => {
	it('uses a sliding second (now - 1000, now] and does not count refusals', async () => {
		const time = manualClock();
		const sim = await simulator({ tier: 1, clock: time.clock });
		const at = async (offset: number) => {
			time.set(offset);
			return (await send(sim, '/telephony/make-call', callBody())).status;
		};
		expect(await at(0)).toBe(200);
		expect(await at(0)).toBe(429);
		expect(await at(999.9)).toBe(429);
		// 0 has left the window; the refusal at 999.9 does not count.
		expect(await at(1000)).toBe(200);
		expect(await at(1500)).toBe(429);
		expect(await at(1999)).toBe(429);
		expect(await at(2000)).toBe(200);
		expect(sim.tooManyRequests).toBe(4);
		expect(maxInAnyWindow(sim.sessions.map((s) => s.arrivedAt))).toBe(1);
	});

	it('lets tier 3 take three in a second, across channels, then refuses', async () => {
		const time = manualClock();
		const sim = await simulator({ tier: 3, clock: time.clock });
		time.set(0);
		expect((await send(sim, '/messaging/conversation', whatsappBody())).status).toBe(200);
		time.set(300);
		expect((await send(sim, '/messaging/conversation', smsBody())).status).toBe(200);
		time.set(600);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		time.set(900);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(429);
		time.set(1000);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
	});

	it.each([1, 3])('a concurrent burst at tier %i never puts more than the tier in any second', async (tier) => {
		const sim = await simulator({ tier });
		const burst = 12;
		const replies = await Promise.all(
			Array.from({ length: burst }, (_, i) =>
				send(sim, '/messaging/conversation', smsBody({ to: `44770090${1000 + i}` })),
			),
		);
		const accepted = replies.filter((r) => r.status === 200);
		const refused = replies.filter((r) => r.status === 429);
		expect(accepted.length + refused.length).toBe(burst);
		expect(accepted).toHaveLength(sim.sessions.length);
		expect(refused.length).toBeGreaterThan(0);
		expect(sim.tooManyRequests).toBe(refused.length);
		for (const reply of refused) expect(reply.text).toBe(TOO_MANY_REQUESTS_BODY);
		expect(maxInAnyWindow(sim.sessions.map((s) => s.arrivedAt))).toBeLessThanOrEqual(tier);
		expect(maxInAnyWindow(sim.requests.map((r) => r.arrivedAt))).toBeGreaterThan(tier);
	});

	it('sends the real 429 body byte for byte', () => {
		expect(JSON.parse(TOO_MANY_REQUESTS_BODY)).toEqual({
			message: '"Too Many Requests" Please reach studio team to increase rate limit at ai.support@vonage.com.',
		});
	});
});

describe('throttle storm', () => {
	it('refuses an exact, evenly spread share of acceptable requests, with Retry-After', async () => {
		const time = manualClock();
		const sim = await simulator({ tier: 100, clock: time.clock, throttle: { rejectRatio: 0.5, retryAfterSeconds: 2 } });
		const replies: Reply[] = [];
		for (let i = 0; i < 6; i++) replies.push(await send(sim, '/telephony/make-call', callBody()));
		expect(replies.map((r) => r.status)).toEqual([200, 429, 200, 429, 200, 429]);
		expect(replies[1].headers['retry-after']).toBe('2');
		expect(replies[1].text).toBe(TOO_MANY_REQUESTS_BODY);
		expect(replies[0].headers['retry-after']).toBeUndefined();
		expect(sim.tooManyRequests).toBe(3);
	});

	it('repeats the same refusals for the same seed', async () => {
		const sim = await simulator({ tier: 100, seed: 7, throttle: { rejectRatio: 0.4 } });
		const run = async () => {
			const statuses: number[] = [];
			for (let i = 0; i < 15; i++) statuses.push((await send(sim, '/telephony/make-call', callBody())).status);
			return statuses;
		};
		const first = await run();
		sim.reset();
		expect(await run()).toEqual(first);
		expect(first).toContain(429);
		expect(first).toContain(200);
	});
});

describe('configure and reset', () => {
	it('changes the tier and failures at run time', async () => {
		const time = manualClock();
		const sim = await simulator({ tier: 1, clock: time.clock });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(429);
		sim.configure({ tier: 3 });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		sim.configure({ apiKey: 'rotated' });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(401);
		sim.configure({ apiKey: undefined });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		expect(() => sim.configure({ tier: 0 })).toThrow(/tier/);
	});

	it('reset forgets sessions, requests, counters and the rate window', async () => {
		const { clock } = manualClock();
		const sim = await simulator({ tier: 1, clock });
		await send(sim, '/telephony/make-call', callBody());
		await send(sim, '/telephony/make-call', callBody());
		expect(sim.tooManyRequests).toBe(1);
		sim.reset();
		expect(sim.sessions).toEqual([]);
		expect(sim.requests).toEqual([]);
		expect(sim.tooManyRequests).toBe(0);
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
	});
});

describe('robustness', () => {
	it('drops the connection after recording the session when asked', async () => {
		const sim = await simulator({ dropConnectionRatio: 1 });
		await expect(send(sim, '/telephony/make-call', callBody())).rejects.toThrow();
		expect(sim.sessions).toHaveLength(1);
		expect(sim.requests[0].status).toBe(0);
		sim.configure({ dropConnectionRatio: 0, tier: 5 });
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
	});

	it('survives garbage on the socket and a client that leaves mid-body', async () => {
		const { connect } = await import('node:net');
		const sim = await simulator();
		await new Promise<void>((resolve) => {
			const socket = connect(sim.port, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
			socket.on('close', () => resolve());
			socket.on('error', () => resolve());
			socket.resume();
		});
		await new Promise<void>((resolve) => {
			const socket = connect(sim.port, '127.0.0.1', () => {
				socket.write('POST /telephony/make-call HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"agent_id":');
				setTimeout(() => socket.destroy(), 20);
			});
			socket.on('close', () => resolve());
			socket.on('error', () => resolve());
		});
		expect((await send(sim, '/telephony/make-call', callBody())).status).toBe(200);
		expect(sim.requests).toHaveLength(1);
	});

	it('close() ends pending answers without answering them', async () => {
		const sim = await startSimulator({ latencyMs: 5_000, callbacks: false });
		const pending = send(sim, '/telephony/make-call', callBody()).then(
			() => 'answered',
			() => 'failed',
		);
		while (sim.sessions.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
		await sim.close();
		expect(await pending).toBe('failed');
	});
});
