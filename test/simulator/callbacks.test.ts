// After accepting a session the simulator posts Messages-API-shaped status callbacks to the status_url as sent.
import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Agent, request } from 'undici';
import { whatsappSessionBody } from '../../harness/fixtures';
import { startCallbackReceiver, waitFor, type CallbackReceiver } from '../../simulator/receiver';
import {
	SIMULATOR_SENDER_NUMBER,
	startSimulator,
	type SimulatorOptions,
	type StudioSimulator,
} from '../../simulator/simulator';

jest.setTimeout(20_000);

const client = new Agent();
afterAll(() => client.close());

let receiver: CallbackReceiver;
const started: StudioSimulator[] = [];
beforeEach(async () => {
	receiver = await startCallbackReceiver();
});
afterEach(async () => {
	await Promise.all(started.splice(0).map((sim) => sim.close()));
	await receiver.close();
});

async function simulator(options: SimulatorOptions = {}): Promise<StudioSimulator> {
	const sim = await startSimulator({ tier: 50, callbackDelayMs: 5, ...options });
	started.push(sim);
	return sim;
}

async function post(sim: StudioSimulator, path: string, body: Record<string, unknown>): Promise<number> {
	const response = await request(`${sim.url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-vgai-key': 'sim-key' },
		body: JSON.stringify(body),
		dispatcher: client,
	});
	await response.body.dump();
	return response.statusCode;
}

const statusPath = '/webhook/vgai/status?vgai_ref=order-7&vgai_token=s%2Fecret&x=1&x=2';

function whatsapp(to = '447700900000'): Record<string, unknown> {
	return whatsappSessionBody(to, `${receiver.url}${statusPath}`);
}

function sms(to = '447700900001'): Record<string, unknown> {
	return { to, agent_id: 'agent-1', channel: 'sms', status_url: `${receiver.url}${statusPath}` };
}

type Callback = Record<string, unknown>;
const bodies = () => receiver.received.map((c) => c.body as Callback);
const statuses = () => bodies().map((b) => b.status);

describe('status callbacks', () => {
	it('posts submitted, delivered, read in order to the status URL with its query string intact', async () => {
		const sim = await simulator();
		expect(await post(sim, '/messaging/conversation', whatsapp())).toBe(200);
		await waitFor(() => receiver.received.length === 3, 'three callbacks');
		expect(statuses()).toEqual(['submitted', 'delivered', 'read']);
		for (const callback of receiver.received) {
			expect(callback.method).toBe('POST');
			expect(callback.url).toBe(statusPath);
			expect(callback.headers['content-type']).toBe('application/json');
			expect(callback.headers.authorization).toBeUndefined();
		}
		const [submitted, , read] = bodies();
		expect(submitted).toMatchObject({
			to: '447700900000',
			from: SIMULATOR_SENDER_NUMBER,
			channel: 'whatsapp',
			message_uuid: sim.sessions[0].messageUuid,
			status: 'submitted',
			client_ref: 'AI Studio',
			usage: { price: expect.any(String), currency: 'EUR' },
			whatsapp: { conversation: { id: expect.any(String), origin: { type: 'utility' } } },
		});
		expect(submitted.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
		expect(read.usage).toBeUndefined();
		expect(submitted.error).toBeUndefined();
		expect(new Set(bodies().map((b) => b.message_uuid)).size).toBe(1);
		await waitFor(() => sim.callbacksSent.length === 3, 'callbacks recorded');
		expect(sim.callbacksSent.map((c) => [c.url, c.status, (c.body as Callback).status])).toEqual([
			[`${receiver.url}${statusPath}`, 200, 'submitted'],
			[`${receiver.url}${statusPath}`, 200, 'delivered'],
			[`${receiver.url}${statusPath}`, 200, 'read'],
		]);
	});

	it('posts SMS callbacks without the whatsapp block and keeps sessions apart by message_uuid', async () => {
		const sim = await simulator({ callbackStatuses: ['submitted', 'delivered'] });
		await post(sim, '/messaging/conversation', sms('447700900011'));
		await post(sim, '/messaging/conversation', sms('447700900012'));
		await waitFor(() => receiver.received.length === 4, 'four callbacks');
		for (const body of bodies()) {
			expect(body.channel).toBe('sms');
			expect(body.whatsapp).toBeUndefined();
		}
		for (const session of sim.sessions) {
			const mine = bodies().filter((b) => b.message_uuid === session.messageUuid);
			expect(mine.map((b) => [b.to, b.status])).toEqual([
				[session.body.to, 'submitted'],
				[session.body.to, 'delivered'],
			]);
		}
	});

	it('posts every callback twice when asked', async () => {
		const sim = await simulator({ duplicateCallbacks: true });
		await post(sim, '/messaging/conversation', whatsapp());
		await waitFor(() => receiver.received.length === 6, 'six callbacks');
		expect(statuses()).toEqual(['submitted', 'submitted', 'delivered', 'delivered', 'read', 'read']);
		expect(receiver.received[0].raw).toBe(receiver.received[1].raw);
	});

	it('sends read before delivered when asked', async () => {
		const sim = await simulator({ outOfOrderCallbacks: true });
		await post(sim, '/messaging/conversation', whatsapp());
		await waitFor(() => receiver.received.length === 3, 'three callbacks');
		expect(statuses()).toEqual(['submitted', 'read', 'delivered']);
	});

	it('ends a failing number with the failing status and an error object, and nothing after it', async () => {
		const sim = await simulator({ failNumbers: { '+44 7700 900999': 'undeliverable', '447700900998': 'rejected' } });
		await post(sim, '/messaging/conversation', whatsapp('447700900999'));
		await waitFor(() => receiver.received.length === 2, 'two callbacks');
		await post(sim, '/messaging/conversation', sms('447700900998'));
		await waitFor(() => receiver.received.length === 4, 'four callbacks');
		// Give a wrongly scheduled later status the chance to show up.
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(statuses()).toEqual(['submitted', 'undeliverable', 'submitted', 'rejected']);
		const failed = bodies()[1];
		expect(failed.error).toEqual({
			type: 'https://developer.vonage.com/api-errors/messages#1050',
			title: 1050,
			detail: expect.any(String),
			instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
		});
		expect(bodies()[3].error).toMatchObject({ title: 1050 });
		expect(bodies()[0].error).toBeUndefined();
	});

	it('signs callbacks with an HS256 JWT whose payload_hash matches the raw body', async () => {
		const secret = 'signature-secret-of-the-account';
		const sim = await simulator({ signatureSecret: secret, duplicateCallbacks: true });
		await post(sim, '/messaging/conversation', whatsapp());
		await waitFor(() => receiver.received.length === 6, 'six callbacks');
		const jtis = new Set<string>();
		for (const callback of receiver.received) {
			const header = callback.headers.authorization ?? '';
			expect(header).toMatch(/^Bearer /);
			const claims = jwt.verify(header.slice('Bearer '.length), secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
			expect(claims.iss).toBe('Vonage');
			expect(claims.api_key).toBe('sim-account');
			expect(Number.isInteger(claims.iat)).toBe(true);
			expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(600);
			expect(claims.payload_hash).toBe(createHash('sha256').update(callback.raw).digest('hex'));
			jtis.add(claims.jti as string);
		}
		expect(jtis.size).toBe(6);
		expect(() => jwt.verify(receiver.received[0].headers.authorization!.slice(7), 'other-secret')).toThrow();
	});

	it('calls a voice status_url only when the callee does not pick up', async () => {
		const sim = await simulator({ failNumbers: { '447700900997': 'rejected', '447700900996': 'undeliverable' } });
		const statusUrl = `${receiver.url}${statusPath}`;
		await post(sim, '/telephony/make-call', { agent_id: 'agent-1', to: '447700900000', status_url: statusUrl });
		await post(sim, '/telephony/make-call', { agent_id: 'agent-1', to: '447700900997', status_url: statusUrl });
		await post(sim, '/telephony/make-call', { agent_id: 'agent-1', to: '447700900996', status_url: statusUrl });
		await post(sim, '/telephony/make-call', { agent_id: 'agent-1', to: '447700900996' });
		await waitFor(() => receiver.received.length === 2, 'two call statuses');
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(receiver.received).toHaveLength(2);
		const byTo = Object.fromEntries(bodies().map((b) => [b.to, b]));
		expect(byTo['447700900997']).toEqual({
			agent_id: 'agent-1',
			to: '447700900997',
			conversation_uuid: sim.sessions[1].messageUuid,
			status: 'busy',
			timestamp: expect.stringMatching(/Z$/),
		});
		expect(byTo['447700900996'].status).toBe('unanswered');
		expect(receiver.received[0].url).toBe(statusPath);
	});

	it('sends nothing when callbacks are off', async () => {
		const sim = await simulator({ callbacks: false });
		await post(sim, '/messaging/conversation', whatsapp());
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(receiver.received).toHaveLength(0);
		expect(sim.callbacksSent).toHaveLength(0);
	});

	it('sends nothing for a silent number, and the usual statuses for the others', async () => {
		const sim = await simulator({ silentNumbers: ['+44 7700 900001'] });
		await post(sim, '/messaging/conversation', whatsapp('447700900001'));
		await post(sim, '/messaging/conversation', whatsapp('447700900002'));
		await waitFor(() => receiver.received.length >= 3, 'three callbacks', 5_000);
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(receiver.received.map((callback) => (callback.body as { to: string }).to)).toEqual([
			'447700900002',
			'447700900002',
			'447700900002',
		]);
	});

	it('retries a callback once after a 5xx', async () => {
		receiver.answer = (index) => (index === 0 ? 503 : 200);
		const sim = await simulator({ callbackStatuses: ['submitted'] });
		await post(sim, '/messaging/conversation', whatsapp());
		await waitFor(() => sim.callbacksSent.length === 2, 'a retry');
		expect(sim.callbacksSent.map((c) => [c.status, c.attempt])).toEqual([
			[503, 1],
			[200, 2],
		]);
		expect(receiver.received[0].raw).toBe(receiver.received[1].raw);
	});

	it('records an unreachable callback target as an error and keeps serving', async () => {
		const sim = await simulator({ callbackStatuses: ['submitted', 'delivered'] });
		const closed = await startCallbackReceiver();
		await closed.close();
		await post(sim, '/messaging/conversation', { ...whatsapp(), status_url: `${closed.url}/gone` });
		await waitFor(() => sim.callbacksSent.length === 2, 'two failed attempts');
		expect(sim.callbacksSent.map((c) => c.status)).toEqual(['error', 'error']);
		expect(await post(sim, '/messaging/conversation', whatsapp())).toBe(200);
		await waitFor(() => receiver.received.length === 2, 'callbacks to the live receiver');
	});

	it('posts a chosen status of a session on demand, once, with the answer (an error when nobody listens)', async () => {
		const sim = await simulator({ callbacks: false });
		await post(sim, '/messaging/conversation', whatsapp('447700900999'));
		const [session] = sim.sessions;
		receiver.answer = () => 409;
		expect(await sim.postStatus(session, 'undeliverable')).toBe(409);
		expect(bodies()).toEqual([
			expect.objectContaining({
				to: '447700900999',
				message_uuid: session.messageUuid,
				status: 'undeliverable',
				error: expect.objectContaining({ title: 1050 }),
			}),
		]);
		receiver.answer = () => 200;
		expect(await sim.postStatus(session, 'read')).toBe(200);
		expect(bodies()[1]).toMatchObject({ status: 'read', message_uuid: session.messageUuid });
		expect(bodies()[1].error).toBeUndefined();
		expect(receiver.received[0].url).toBe(statusPath);

		await receiver.close();
		expect(await sim.postStatus(session, 'read')).toBe('error');
		expect(sim.callbacksSent.map((c) => c.status)).toEqual([409, 200, 'error']);
		receiver = await startCallbackReceiver();
	});

	it('reset cancels callbacks not yet sent', async () => {
		const sim = await simulator({ callbackDelayMs: 300 });
		await post(sim, '/messaging/conversation', whatsapp());
		sim.reset();
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(receiver.received).toHaveLength(0);
		expect(sim.callbacksSent).toHaveLength(0);
	});
});
