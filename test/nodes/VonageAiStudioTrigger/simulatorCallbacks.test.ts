// Proves the trigger handles the status callbacks the Studio simulator really posts over HTTP: signed or carrying
// the status-URL token, repeated, out of order, failing and for calls; forged ones start nothing.
import { request } from 'undici';

import { startSimulator, type SimulatorOptions, type StudioSimulator } from '../../../simulator/simulator';
import { whatsappSessionBody } from '../../../harness/fixtures';
import { startWebhookHarness, type WebhookHarness, type WebhookHarnessOptions } from '../../../harness/webhookHarness';

const token = 'example-status-url-token';
const signatureSecret = 'example-signature-secret';
const credentials = { vonageAiStudioCallbackApi: { token, signatureSecret } };

let sim: StudioSimulator | undefined;
let harness: WebhookHarness | undefined;

afterEach(async () => {
	await sim?.close();
	await harness?.close();
	sim = undefined;
	harness = undefined;
});

async function setUp(trigger: WebhookHarnessOptions, simulator: SimulatorOptions = {}) {
	harness = await startWebhookHarness({ credentials, ...trigger });
	sim = await startSimulator({ tier: 50, callbackDelayMs: 5, ...simulator });
	return { harness, sim };
}

async function startSession(path: string, body: Record<string, unknown>) {
	const response = await request(`${sim!.url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-vgai-key': 'sim-key' },
		body: JSON.stringify(body),
	});
	await response.body.dump();
	expect(response.statusCode).toBe(200);
}

const whatsappSession = (to: string, statusUrl: string) =>
	startSession('/messaging/conversation', whatsappSessionBody(to, statusUrl));

/** Waits until the simulator has finished posting (answers recorded) and the trigger answered each one. */
async function callbacksDone(count: number) {
	await harness!.waitForHandled(count);
	const deadline = Date.now() + 5000;
	while (sim!.callbacksSent.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
	expect(sim!.callbacksSent).toHaveLength(count);
}

describe('callbacks from the Studio simulator', () => {
	it('signed, repeated and out of order: one item per status, the reference kept, ranks to spot the late delivered', async () => {
		await setUp(
			{ parameters: { authentication: 'signature' } },
			{ signatureSecret, duplicateCallbacks: true, outOfOrderCallbacks: true },
		);
		await whatsappSession('447700900000', harness!.statusUrl({ reference: 'crm-42' }));
		await callbacksDone(6);

		expect(sim!.callbacksSent.map((sent) => sent.status)).toEqual([200, 200, 200, 200, 200, 200]);
		expect(harness!.executions).toHaveLength(3);
		const items = harness!.emitted();
		expect(items.map((item) => [item.status, item.statusRank])).toEqual([
			['submitted', 1],
			['read', 3],
			['delivered', 2],
		]);
		for (const item of items) {
			expect(item).toMatchObject({
				reference: 'crm-42',
				channel: 'whatsapp',
				to: '447700900000',
				messageUuid: sim!.sessions[0].messageUuid,
				whatsappOriginType: 'utility',
			});
			expect(item.body).toHaveProperty('internal_message_uuid');
		}
	});

	it('status URL token: an undeliverable send yields one failure item with error 1050 when only failures are selected', async () => {
		await setUp(
			{ parameters: { authentication: 'token', statuses: ['rejected', 'undeliverable'] } },
			{ failNumbers: { '447700900999': 'undeliverable' } },
		);
		await whatsappSession('447700900999', harness!.statusUrl({ reference: 'crm-9', token }));
		await callbacksDone(2);

		expect(harness!.handled.map((handled) => handled.statusCode)).toEqual([200, 200]);
		expect(harness!.emitted()).toEqual([
			expect.objectContaining({
				status: 'undeliverable',
				failed: true,
				errorCode: '1050',
				errorTitle: '1050',
				reference: 'crm-9',
				price: '0.04',
			}),
		]);
	});

	it('a call that is not picked up: busy with the conversation UUID and the reference', async () => {
		await setUp(
			{ parameters: { authentication: 'token', statuses: ['busy', 'unanswered'] } },
			{ failNumbers: { '447700900998': 'rejected' } },
		);
		await startSession('/telephony/make-call', {
			agent_id: 'agent-1',
			to: '447700900998',
			status_url: harness!.statusUrl({ reference: 'lead-5', token }),
		});
		await callbacksDone(1);

		expect(harness!.emitted()).toEqual([
			expect.objectContaining({
				status: 'busy',
				channel: 'voice',
				failed: true,
				agentId: 'agent-1',
				conversationUuid: sim!.sessions[0].messageUuid,
				messageUuid: null,
				reference: 'lead-5',
			}),
		]);
	});

	it('signed with another secret: every callback gets 401, none starts an execution, none is retried', async () => {
		await setUp({ parameters: { authentication: 'signature' } }, { signatureSecret: 'example-other-secret' });
		await whatsappSession('447700900000', harness!.statusUrl({ reference: 'crm-1' }));
		await callbacksDone(3);

		expect(sim!.callbacksSent.map((sent) => sent.status)).toEqual([401, 401, 401]);
		expect(harness!.executions).toHaveLength(0);
	});

	it('unsigned callbacks to a trigger that expects signatures: 401, nothing started', async () => {
		await setUp({ parameters: { authentication: 'signature' } });
		await whatsappSession('447700900000', harness!.statusUrl({ reference: 'crm-1', token }));
		await callbacksDone(3);

		expect(sim!.callbacksSent.map((sent) => sent.status)).toEqual([401, 401, 401]);
		expect(harness!.executions).toHaveLength(0);
	});

	it('a status URL with the wrong token: 401, nothing started', async () => {
		await setUp({ parameters: { authentication: 'token' } });
		await whatsappSession('447700900000', harness!.statusUrl({ reference: 'crm-1', token: 'example-wrong-token' }));
		await callbacksDone(3);

		expect(sim!.callbacksSent.map((sent) => sent.status)).toEqual([401, 401, 401]);
		expect(harness!.executions).toHaveLength(0);
	});
});
