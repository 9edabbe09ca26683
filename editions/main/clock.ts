// The main edition's clock: n8n-workflow's sleep, so the package uses no timer of its own (n8n's verification
// rules). A cancelled timer simply does nothing when its sleep ends; the gate re-checks the time whenever a timer
// fires, so one that fires a little early or late only costs a re-check.
import { sleep } from 'n8n-workflow';

import type { Clock } from '../../core/ports';

interface SleepTimer {
	cancelled: boolean;
}

export const n8nClock: Clock = {
	now: () => performance.now(),
	setTimer(callback, ms) {
		const timer: SleepTimer = { cancelled: false };
		void sleep(Math.max(0, ms)).then(() => {
			if (!timer.cancelled) callback();
		});
		return timer;
	},
	clearTimer(handle) {
		(handle as SleepTimer).cancelled = true;
	},
	wallNow: () => performance.timeOrigin + performance.now(),
};
