// dispatchSends as the tests call it: the node's default policy and the queue edition's punctual clock unless a
// test says otherwise (the real policy comes from the node's options, the clock from the edition).
import {
	dispatchSends,
	type DispatchJob,
	type DispatchOptions,
	type DispatchResult,
	type SendPolicy,
} from '../core/dispatcher';
import { preciseClock } from '../editions/queue/clock';

/** The node's option defaults (nodes/VonageAiStudio/options.ts), as the dispatcher takes them. */
export const DEFAULT_POLICY: SendPolicy = {
	rememberForMs: 24 * 3_600_000,
	rateLimitRetries: 5,
	rateLimitMaxWaitMs: 60_000,
};

export type TestDispatchOptions = Omit<DispatchOptions, 'policy' | 'clock'> & {
	policy?: Partial<SendPolicy>;
	clock?: DispatchOptions['clock'];
};

export function dispatch<T>(
	jobs: ReadonlyArray<DispatchJob<T>>,
	options: TestDispatchOptions,
): Promise<Array<DispatchResult<T>>> {
	return dispatchSends(jobs, {
		...options,
		policy: { ...DEFAULT_POLICY, ...options.policy },
		clock: options.clock ?? preciseClock,
	});
}
