// The queue edition's clock: Node's timers, made punctual to a few tens of microseconds for the rate gate.
import type { Clock } from '../../core/ports';

interface PreciseTimer {
	timeout?: NodeJS.Timeout;
	immediate?: NodeJS.Immediate;
}

/**
 * Calls back at `ms` from now, on time to a few tens of microseconds: a plain timeout usually fires about 1 ms
 * late, and under the window rule that lateness carries from one start to the next, costing throughput. So the
 * timeout is set 1 ms short and the last stretch is waited out with setImmediate (at most ~1 ms of polling).
 */
export function preciseTimer(callback: () => void, ms: number): PreciseTimer {
	const target = performance.now() + ms;
	const timer: PreciseTimer = {};
	const check = () => {
		timer.timeout = timer.immediate = undefined;
		const left = target - performance.now();
		if (left <= 0) callback();
		else if (left > 2) timer.timeout = setTimeout(check, Math.floor(left - 1));
		else timer.immediate = setImmediate(check);
	};
	if (ms > 2) timer.timeout = setTimeout(check, Math.floor(ms - 1));
	else timer.immediate = setImmediate(check);
	return timer;
}

export function clearPreciseTimer(timer: PreciseTimer): void {
	if (timer.timeout) clearTimeout(timer.timeout);
	if (timer.immediate) clearImmediate(timer.immediate);
	timer.timeout = timer.immediate = undefined;
}

export const preciseClock: Clock = {
	now: () => performance.now(),
	setTimer: preciseTimer,
	clearTimer: (handle) => clearPreciseTimer(handle as PreciseTimer),
	wallNow: () => performance.timeOrigin + performance.now(),
};
