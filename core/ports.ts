// What the core needs from the world around it, and what differs between the two editions (docs/architecture.md):
// time and timers, HTTP to Studio, and where per-process state lives. The main edition (editions/main) implements
// these with n8n's own helpers; the queue edition (editions/queue) with undici, Node's timers and Redis.

/** Monotonic time and timers; replaceable so the rules can be checked over many schedules in virtual time. */
export interface Clock {
	/** Milliseconds, monotonic (sub-millisecond where the platform allows). */
	now(): number;
	/** Calls back once after `ms`; the handle cancels it. A timer may fire late, never early. */
	setTimer(callback: () => void, ms: number): unknown;
	clearTimer(handle: unknown): void;
	/** Milliseconds since the epoch (wall-clock time, the same for every process on the machine). */
	wallNow(): number;
}

/**
 * A value kept for the whole n8n process under `name`, created on first use: the rate gates, send ledgers and
 * callback memories every execution must share.
 */
export type ProcessStore = <T>(name: string, create: () => T) => T;

export interface StudioResponse {
	statusCode: number;
	/** Parsed JSON when the body was JSON, the text otherwise, '' when empty. */
	body: unknown;
}

/**
 * Sends one request to Studio. Resolves for any 2xx; throws StudioHttpError for other statuses and
 * StudioNetworkError below HTTP (saying whether the request may have reached Studio). Never retries by itself.
 */
export interface StudioTransport {
	/** Starts a session (the outbound API). */
	post(path: string, body: unknown, responseTimeoutMs: number): Promise<StudioResponse>;
	/**
	 * Reads (the Insights API). `pathAndQuery` is sent exactly as given: its query is already encoded
	 * (core/insights.ts), since Studio answers a query with raw JSON braces with an empty result.
	 */
	get(pathAndQuery: string, responseTimeoutMs: number): Promise<StudioResponse>;
}

/** Waits `ms` on `clock`; with `signal`, rejects with `onAbort()` as soon as it aborts. */
export function sleepOn(
	clock: Clock,
	ms: number,
	signal: AbortSignal | undefined,
	onAbort: () => unknown,
): Promise<void> {
	if (signal?.aborted) return Promise.reject(onAbort());
	return new Promise<void>((resolve, reject) => {
		const abort = () => {
			clock.clearTimer(timer);
			reject(onAbort());
		};
		const timer = clock.setTimer(() => {
			signal?.removeEventListener('abort', abort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', abort, { once: true });
	});
}
