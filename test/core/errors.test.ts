// Errors are recognised one way (isError, by class or by name), so that an error raised by another loaded copy of
// the package (n8n can load the package twice: the main edition beside the queue edition, or two versions during an
// update; jest.isolateModules stands in for that here) is reported for what it is, not as "nothing is known".
import { NodeApiError, type INode } from 'n8n-workflow';

import { dispatch } from '../../harness/dispatch';
import { SendCancelledError, StudioHttpError, isError, isRateLimited } from '../../core/errors';
import type * as RateGateModule from '../../core/rateGate';
import type * as ErrorsModule from '../../core/errors';
import { preciseClock } from '../../editions/queue/clock';
import { LocalRateGate } from '../../core/rateGate';
import { MemorySendLedger } from '../../core/sendLedger';
import { toNodeApiError } from '../../nodes/VonageAiStudio/apiErrors';

const node: INode = {
	id: 'n1',
	name: 'Vonage AI Studio',
	type: 'n8n-nodes-vonage-ai-studio.vonageAiStudio',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const context = { itemIndex: 3, tier: 1, agentId: 'agent-1', host: 'http://127.0.0.1:1', apiKey: 'secret-key' };

function otherCopy(): { rateGate: typeof RateGateModule; errors: typeof ErrorsModule } {
	let loaded: { rateGate: typeof RateGateModule; errors: typeof ErrorsModule } | undefined;
	jest.isolateModules(() => {
		loaded = {
			rateGate: require('../../core/rateGate') as typeof RateGateModule,
			errors: require('../../core/errors') as typeof ErrorsModule,
		};
	});
	return loaded!;
}

describe('errors raised by another loaded copy of the package', () => {
	it('a cancellation from a gate built by the other copy is reported as a cancellation: nothing was sent', async () => {
		const other = otherCopy();
		const gate = new other.rateGate.LocalRateGate({ tier: 1, floorMs: 0 }, preciseClock);
		await gate.acquire(); // takes the second: the next waits
		const controller = new AbortController();
		const waiting = gate.acquire(controller.signal);
		controller.abort();
		const error = await waiting.catch((e: unknown) => e);

		expect(error).not.toBeInstanceOf(SendCancelledError); // a different class object...
		expect(isError(error, 'SendCancelledError')).toBe(true); // ...recognised all the same

		const reported = toNodeApiError(node, error, context);
		expect(reported).toBeInstanceOf(NodeApiError);
		expect(reported.message).toBe('The execution was stopped before this item was sent');
		expect(reported.description).toBe('Nothing was sent for this item.');
		expect(reported.description).not.toMatch(/Nothing is known/);
		await gate.close();
	});

	it('the dispatcher counts the other copy\'s cancellation as "not sent": a later run sends the item', async () => {
		const other = otherCopy();
		const ledger = new MemorySendLedger();
		const cancelled = await dispatch([{ index: 0, ledgerKey: 'item-0', send: async () => 'first' }], {
			gate: {
				acquire: () => Promise.reject(new other.errors.SendCancelledError()),
				configure: () => undefined,
				close: async () => undefined,
			},
			ledger,
		});
		expect(cancelled[0].outcome).toBe('failed');
		expect(cancelled[0].outcome === 'failed' && isError(cancelled[0].error, 'SendCancelledError')).toBe(true);

		const gate = new LocalRateGate({ tier: 5, floorMs: 0 }, preciseClock);
		const rerun = await dispatch([{ index: 0, ledgerKey: 'item-0', send: async () => 'second' }], { gate, ledger });
		expect(rerun[0]).toMatchObject({ outcome: 'sent', result: 'second' });
		await gate.close();
	});

	it('a 429 from the other copy is still a 429 (retried by the dispatcher, reported as over the tier)', () => {
		const other = otherCopy();
		const refused = new other.errors.StudioHttpError(429, { message: 'Too Many Requests' });
		expect(refused).not.toBeInstanceOf(StudioHttpError);
		expect(isRateLimited(refused)).toBe(true);
		expect(toNodeApiError(node, refused, context).message).toMatch(/^Over the rate tier/);
	});

	it("an error that is nobody's is reported as unknown, not as a cancellation", () => {
		const reported = toNodeApiError(node, new Error('boom'), context);
		expect(reported.message).toBe('Sending failed: boom');
		expect(reported.description).toBe('Nothing is known about whether the session started.');
	});
});
