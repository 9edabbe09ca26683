// Virtual time for the rate gate and the dispatcher: timers run in time order, promise callbacks settle before
// time moves on, so a schedule of minutes runs in milliseconds and the rules can be checked exactly.
import { StudioHttpError } from '../core/errors';
import type { Clock } from '../core/ports';
import { TOO_MANY_REQUESTS_BODY } from '../simulator/simulator';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Discrete-event time: timers run in time order, and promise callbacks settle before time moves on. */
export class VirtualClock implements Clock {
	private time = 0;
	private sequence = 0;
	private timers: Array<{ at: number; seq: number; callback: () => void }> = [];

	now(): number {
		return this.time;
	}
	/** Virtual time starts at the epoch. */
	wallNow(): number {
		return this.time;
	}
	setTimer(callback: () => void, ms: number): unknown {
		const timer = { at: this.time + Math.max(0, ms), seq: this.sequence++, callback };
		this.timers.push(timer);
		return timer;
	}
	clearTimer(handle: unknown): void {
		this.timers = this.timers.filter((timer) => timer !== handle);
	}
	get pendingTimers(): number {
		return this.timers.length;
	}
	/** Runs timers and the given events (time, action) in order until both are exhausted. */
	async run(events: Array<{ at: number; action: () => void }> = []): Promise<void> {
		const queue = [...events].sort((a, b) => a.at - b.at);
		for (;;) {
			await settle();
			this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
			const timer = this.timers[0];
			const event = queue[0];
			if (!timer && !event) return;
			if (event && (!timer || event.at <= timer.at)) {
				queue.shift();
				this.time = Math.max(this.time, event.at);
				event.action();
			} else {
				this.timers.shift();
				this.time = Math.max(this.time, timer.at);
				timer.callback();
			}
		}
	}
	/** Runs until `work` settles (its timers included) and returns its value. */
	async runUntil<T>(work: Promise<T>): Promise<T> {
		let done = false;
		const watched = work.finally(() => (done = true));
		while (!done) {
			await this.run();
			if (!done) await settle();
		}
		return watched;
	}
}

/** Small reproducible generator so a failing schedule can be replayed from its seed. */
export function random(seed: number): () => number {
	let state = seed >>> 0 || 1;
	return () => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return state / 0x100000000;
	};
}

export interface LinkModel {
	/** The trip to Studio's limiter, drawn per request. */
	tripMs(): number;
	/** Studio's answer time after the arrival, drawn per request. */
	latencyMs(): number;
}

/**
 * Studio's rate limiter in virtual time, for property tests of the gate's learning: each request arrives after
 * its trip, is accepted when fewer than `tier` accepted arrivals lie in the second before it, and is answered
 * after the latency. Over HTTP, the simulator plays the same part (simulator.ts, `arrivalDelayMs`).
 */
export class VirtualStudio {
	readonly arrivals: number[] = [];
	readonly sessionsPerContact = new Map<string, number>();
	requests = 0;
	refused = 0;

	constructor(
		private readonly clock: VirtualClock,
		private readonly tier: number,
		private readonly link: LinkModel,
	) {}

	/** Another system sending with the same key: one accepted-if-room arrival at `at`. */
	foreignArrival(): void {
		this.admit(this.clock.now());
	}

	send(contact: string): Promise<{ statusCode: number }> {
		this.requests++;
		return new Promise((resolve, reject) => {
			this.clock.setTimer(() => {
				const accepted = this.admit(this.clock.now());
				if (accepted) this.sessionsPerContact.set(contact, (this.sessionsPerContact.get(contact) ?? 0) + 1);
				else this.refused++;
				this.clock.setTimer(() => {
					if (accepted) resolve({ statusCode: 200 });
					else reject(new StudioHttpError(429, JSON.parse(TOO_MANY_REQUESTS_BODY) as unknown));
				}, this.link.latencyMs());
			}, this.link.tripMs());
		});
	}

	private admit(at: number): boolean {
		let inWindow = 0;
		for (let i = this.arrivals.length - 1; i >= 0 && this.arrivals[i] > at - 1000; i--) inWindow++;
		if (inWindow >= this.tier) return false;
		this.arrivals.push(at);
		return true;
	}
}
