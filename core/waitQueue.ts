// The sends waiting at a rate gate, in item order: each can be cancelled on its own, and the gate lets them
// start one by one. Shared by the in-process and the Redis gate.
import { SendCancelledError } from './errors';

interface Waiter {
	resolve(): void;
	/** Runs at the moment this waiter is let through, before its promise settles. */
	onStart?: () => void;
	reject(error: unknown): void;
	signal?: AbortSignal;
	onAbort?: () => void;
}

export class WaitQueue {
	private readonly waiters: Waiter[] = [];

	/** `onCancelled` runs after a waiting send left the queue because its signal aborted. */
	constructor(private readonly onCancelled: () => void) {}

	get length(): number {
		return this.waiters.length;
	}

	/**
	 * Resolves when the gate lets this send start (after `onStart` ran); rejects with SendCancelledError at once
	 * when `signal` aborts.
	 */
	wait(signal?: AbortSignal, onStart?: () => void): Promise<void> {
		if (signal?.aborted) return Promise.reject(new SendCancelledError());
		return new Promise<void>((resolve, reject) => {
			const waiter: Waiter = { resolve, reject, signal, onStart };
			if (signal) {
				waiter.onAbort = () => {
					const at = this.waiters.indexOf(waiter);
					if (at === -1) return;
					this.waiters.splice(at, 1);
					reject(new SendCancelledError());
					this.onCancelled();
				};
				signal.addEventListener('abort', waiter.onAbort, { once: true });
			}
			this.waiters.push(waiter);
		});
	}

	/** Lets the oldest waiting send start; false when nobody waits. */
	startNext(): boolean {
		const waiter = this.waiters.shift();
		if (!waiter) return false;
		this.settle(waiter);
		return true;
	}

	/** Fails every waiting send with `error`. */
	failAll(error: unknown): void {
		for (const waiter of this.waiters.splice(0)) this.settle(waiter, error);
	}

	private settle(waiter: Waiter, error?: unknown): void {
		if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
		if (error !== undefined) return waiter.reject(error);
		waiter.onStart?.();
		waiter.resolve();
	}
}
