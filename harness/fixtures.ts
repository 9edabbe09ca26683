// Hand-written sample Studio bodies: a request that starts a WhatsApp session, and status callbacks shaped like the
// ones AI Studio posts to a status URL (Messages API fields; for a call, the voice fields). Numbers are from
// Ofcom's range for drama (447700900xxx), like the simulator's.

/**
 * Real-time checks of the window set a floor under the learnt margin: on a starved CPU (two cores shared with the
 * other test files, some of which start worker processes) the loopback arrival, or the moment a caller records its
 * start, can lag by tens of milliseconds before the gate has seen enough answers to learn it. The rule itself is
 * proven in virtual time (rateGate.test.ts, learning.test.ts) and measured by the benchmark.
 */
export const REAL_TIME_MARGIN_MS = 100;

/** A status URL for sends whose callbacks no test reads (port 9 is discard; those simulators post none anyway). */
export const UNREAD_STATUS_URL = 'http://127.0.0.1:9/status';

/** Starts a WhatsApp template session (POST /messaging/conversation) whose status callbacks go to statusUrl. */
export function whatsappSessionBody(to: string, statusUrl = UNREAD_STATUS_URL): Record<string, unknown> {
	return {
		namespace: 'ns',
		template: 'order_update',
		locale: 'en',
		to,
		agent_id: 'agent-1',
		channel: 'whatsapp',
		status_url: statusUrl,
	};
}

/** A WhatsApp message delivered, with its price and the WhatsApp conversation it opened. */
export const deliveredWithUsage = {
	to: '447700900000',
	from: '447700900100',
	channel: 'whatsapp',
	message_uuid: 'aaaaaaaa-1356-4540-9f3b-ddb1564dc008',
	timestamp: '2025-03-05T22:51:41Z',
	usage: { price: '0.04', currency: 'EUR' },
	status: 'delivered',
	client_ref: 'AI Studio',
	whatsapp: { conversation: { id: 'c1', origin: { type: 'utility' } } },
	internal_message_uuid: 'bbbbbbbb-b51a-4e96-a82b-275dfec7877e',
};

/** The same message read: Studio sends no usage with it. */
export const readWithoutUsage = {
	to: '447700900000',
	from: '447700900100',
	channel: 'whatsapp',
	message_uuid: 'aaaaaaaa-1356-4540-9f3b-ddb1564dc008',
	timestamp: '2025-03-05T22:53:02Z',
	status: 'read',
	client_ref: 'AI Studio',
};

/** A message that could not be delivered; the error title is a number, as Vonage sends it. */
export const undeliverableNumericTitle = {
	to: '447700900001',
	from: '447700900100',
	channel: 'whatsapp',
	message_uuid: 'cccccccc-0000-4000-8000-000000000001',
	timestamp: '2025-03-05T22:51:45Z',
	status: 'undeliverable',
	client_ref: 'AI Studio',
	error: {
		type: 'https://developer.vonage.com/api-errors/messages#1050',
		title: 1050,
		detail: 'The number is barred',
		instance: 'dddddddd-0000-4000-8000-000000000001',
	},
};

/** A call the callee did not pick up: no channel, no message UUID, the conversation UUID and the agent instead. */
export const voiceBusy = {
	agent_id: 'agent-123',
	to: '447700900002',
	conversation_uuid: 'CON-eeeeeeee-0000-4000-8000-000000000001',
	status: 'busy',
	timestamp: '2025-03-05T22:55:00.000Z',
};
