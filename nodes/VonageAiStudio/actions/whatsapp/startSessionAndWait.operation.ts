// WhatsApp → Start Session and Wait for Status: the template session of Start Outbound Session, then the execution
// waits until the contact has read it (or it was delivered), it failed, or the time limit passed.
import { waitingVariant } from '../wait';
import { startWhatsAppSession } from './startOutboundSession.operation';

export const startWhatsAppSessionAndWait = waitingVariant(startWhatsAppSession, {
	option: {
		name: 'Start Session and Wait for Status',
		value: 'startSessionAndWait',
		action: 'Start a WhatsApp session and wait for its status',
		description: 'Send the template, then continue when it is read or delivered, failed, or time ran out',
	},
	subtitle: 'Start and Wait',
	awaitable: ['delivered', 'read'],
});
