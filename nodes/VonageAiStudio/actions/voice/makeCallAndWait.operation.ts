// Voice → Make Call and Wait: the call of Make Outbound Call, then the execution waits. Studio calls a call's status
// URL only when the callee does not pick up, so a failure (busy, unanswered...) continues by Failed, and a call that
// was answered continues by Timed Out when the time limit passes.
import { waitingVariant } from '../wait';
import { makeOutboundCall } from './makeOutboundCall.operation';

export const makeCallAndWait = waitingVariant(makeOutboundCall, {
	option: {
		name: 'Make Call and Wait',
		value: 'makeCallAndWait',
		action: 'Make a call and wait for its outcome',
		description: 'Call, then continue by Failed if it was not picked up, or by Timed Out once the time limit passes',
	},
	subtitle: 'Call and Wait',
	awaitable: ['call-not-answered'],
	notice:
		'Studio reports a call only when it is not picked up (busy, unanswered, failed...): those continue by Failed. A call that was answered continues by Timed Out when the time limit passes, so keep the limit short (e.g. 5 minutes).',
});
