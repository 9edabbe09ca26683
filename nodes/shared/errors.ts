// Transport-level failures, free of n8n types so the dispatcher and the rate gate can reason about them.

/** Studio answered with a non-2xx status. The request reached Studio. */
export class StudioHttpError extends Error {
	readonly name = 'StudioHttpError';
	constructor(
		readonly statusCode: number,
		/** Parsed JSON body when it was JSON, the raw text otherwise ('' when empty). */
		readonly body: unknown,
		/** Milliseconds from a Retry-After header, when Studio sent one. */
		readonly retryAfterMs?: number,
	) {
		super(`Studio answered HTTP ${statusCode}`);
	}
}

/**
 * The request failed below HTTP. `mayHaveReachedStudio` is false only when we know the request never left
 * (connection refused, DNS failure, connect timeout): only then is resending safe.
 */
export class StudioNetworkError extends Error {
	readonly name = 'StudioNetworkError';
	constructor(
		message: string,
		readonly code: string | undefined,
		readonly mayHaveReachedStudio: boolean,
	) {
		super(message);
	}
}

/** Thrown when the execution was cancelled while a send was waiting. */
export class SendCancelledError extends Error {
	readonly name = 'SendCancelledError';
	constructor() {
		super('The execution was stopped before this item was sent');
	}
}
