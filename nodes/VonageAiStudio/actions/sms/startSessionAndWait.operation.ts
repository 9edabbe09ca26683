// SMS → Start Session and Wait for Status: the SMS session of Start Outbound Session, then the execution waits until
// the SMS was delivered, it failed, or the time limit passed (SMS has no "read").
import { waitingVariant } from '../wait';
import { startSmsSession } from './startOutboundSession.operation';

export const startSmsSessionAndWait = waitingVariant(startSmsSession, {
	option: {
		name: 'Start Session and Wait for Status',
		value: 'startSessionAndWait',
		action: 'Start an SMS session and wait for its status',
		description: 'Start the SMS conversation, then continue when it is delivered, failed, or time ran out',
	},
	subtitle: 'Start and Wait',
	awaitable: ['delivered'],
});
