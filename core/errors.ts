// Every error the package's own code raises, in one place, free of n8n types: the core and the editions throw
// these, and the node turns each one into a NodeApiError or NodeOperationError a no-code user can act on
// (nodes/VonageAiStudio/apiErrors.ts). They are recognised one way, `isError(error, 'Name')`, by name and not by
// class: n8n may load this package more than once (an update while executions run), giving two copies of each
// class, and an error raised by one copy must still be recognised by the other.

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

/** A re-run found this send recorded as possibly accepted, so it was not sent again. */
export class PossiblySentError extends Error {
	readonly name = 'PossiblySentError';
	constructor(
		readonly reason: string,
		readonly at: number,
	) {
		super(
			`An earlier run may already have started this session (${reason}, at ${new Date(at).toISOString()}). ` +
				'It was not sent again, to avoid a second session for the same contact. Check the contact in Studio; ' +
				'to send anyway, use a new idempotency key or wait until the send history forgets it.',
		);
	}
}

/** Another execution held the same key for longer than the wait allows; nothing was sent to avoid a duplicate. */
export class SendInProgressError extends Error {
	readonly name = 'SendInProgressError';
	/** `waitedMs`: how long this item waited for the other execution; undefined when its own claim was taken over. */
	constructor(waitedMs?: number) {
		super(
			waitedMs === undefined
				? 'Another execution took over this item while this one was held up for longer than its claim lasts. It was not sent here, to avoid a second session for the same contact.'
				: `Another execution has been sending this item (the same idempotency key, or an identical session) for over ${Math.round(waitedMs / 1000)} s, ` +
						'or stopped while sending it. It was not sent again, to avoid a second session for the same contact.',
		);
	}
}

/**
 * Not sent: an earlier item's answer showed that this one could not succeed either (the key was rejected, the agent
 * does not exist, or the template every item shares was refused), so it was not tried.
 */
export class BatchStoppedError extends Error {
	readonly name = 'BatchStoppedError';
	constructor(
		/** What the earlier item met, in a user's words: "Studio rejected the API key". */
		readonly reason: string,
		/** The item whose answer stopped the batch. */
		readonly sourceIndex: number,
		/** That item's error, for its HTTP status and Studio's own words. */
		readonly source: unknown,
	) {
		super(`Not sent: ${reason} for item ${sourceIndex}, so this item was not tried`);
	}
}

/** Why a store shared between n8n processes (Redis) could not be used. */
export type RedisFailure =
	/** No answer for longer than the credential's Redis Outage Tolerance (stopped, restarting, failing over, network). */
	| { kind: 'unreachable'; waitedMs: number; toleranceMs: number }
	/** Redis answered and refused (user or password, ACL permissions, its certificate): waiting would not help. */
	| { kind: 'refused'; advice: string };

const seconds = (ms: number) => String(Math.round(ms / 100) / 10);

/** A store shared between n8n processes (Redis) could not be used; the item was not sent. */
export class RedisUnavailableError extends Error {
	readonly name = 'RedisUnavailableError';
	/** One line for the item's error title. */
	readonly headline: string;
	constructor(
		/** Host and port, never the URL (it may carry a password). */
		readonly location: string,
		readonly purpose: 'rate gate' | 'send ledger',
		readonly cause?: unknown,
		readonly failure: RedisFailure = { kind: 'unreachable', waitedMs: 0, toleranceMs: 0 },
	) {
		const why = cause instanceof Error && cause.message ? `: ${cause.message.replace(/[.\s]+$/, '')}` : '';
		const unsent = 'This item was not sent.';
		let message: string;
		if (failure.kind === 'refused') {
			message = `Redis (${location}) refused the shared ${purpose}${why}. ${unsent} ${failure.advice}`;
		} else {
			const waited =
				failure.toleranceMs > 0
					? `has not answered for ${seconds(failure.waitedMs)} s, longer than the credential's Redis Outage Tolerance (${seconds(failure.toleranceMs)} s)`
					: 'could not be reached';
			message =
				`The shared ${purpose} in Redis (${location}) ${waited}${why}. ${unsent} Once Redis answers again, send ` +
				'these contacts again (retry the execution, or post them again with the Duplicate Guard on): those ' +
				'already sent are recognised and not sent twice. Check that Redis is running and that every n8n process ' +
				`reaches it${failure.toleranceMs > 0 ? '' : ', or set a Redis Outage Tolerance so that sends wait for Redis'}.`;
		}
		super(message);
		this.headline =
			failure.kind === 'refused'
				? `Not sent: Redis (${location}) refused the shared ${purpose}`
				: `Not sent: the shared ${purpose} in Redis (${location}) could not be reached`;
	}
}

/** One of an item's values cannot be sent; says which field (as the user sees it in the node) and why. */
export class InvalidField extends Error {
	readonly name = 'InvalidField';
	constructor(
		/** The parameter as the user sees it in the node, e.g. "To". */
		readonly field: string,
		message: string,
	) {
		super(message);
	}
}

/**
 * A read from Studio's Insights API still failed after its retries: Studio kept answering 429 or a server error, or
 * could not be reached. `last` is the last failure (a StudioHttpError or a StudioNetworkError).
 */
export class ReadRetriesExhausted extends Error {
	readonly name = 'ReadRetriesExhausted';
	constructor(
		readonly last: unknown,
		readonly attempts: number,
	) {
		super(`Studio's Insights API still failed after ${attempts} tries`);
	}
}

/** Thrown when the execution was cancelled while a read was waiting to try again. */
export class ReadCancelledError extends Error {
	readonly name = 'ReadCancelledError';
	constructor() {
		super('The execution was stopped while reading from Vonage AI Studio');
	}
}

/** No session matched: no session with that ID, or none with that contact in the time range. */
export class NoSessionFound extends Error {
	readonly name = 'NoSessionFound';
	constructor(
		message: string,
		/** What to check, in a user's words. */
		readonly hint: string,
	) {
		super(message);
	}
}

const ERRORS = {
	StudioHttpError,
	StudioNetworkError,
	SendCancelledError,
	PossiblySentError,
	SendInProgressError,
	BatchStoppedError,
	RedisUnavailableError,
	InvalidField,
	ReadRetriesExhausted,
	ReadCancelledError,
	NoSessionFound,
};

export type PackageErrorName = keyof typeof ERRORS;

/** Whether `error` is one of ours of that kind, whichever loaded copy of this package created it. */
export function isError<Name extends PackageErrorName>(
	error: unknown,
	name: Name,
): error is InstanceType<(typeof ERRORS)[Name]> {
	return (
		error instanceof ERRORS[name] ||
		(typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name)
	);
}

/** A 429: Studio refused the session because the second held the tier already. */
export function isRateLimited(error: unknown): error is StudioHttpError {
	return isError(error, 'StudioHttpError') && error.statusCode === 429;
}

/** Removes every occurrence of the API key, in case a proxy or Studio echoes the request back. */
export function redact(text: string, apiKey: string): string {
	if (!apiKey) return text;
	return text.split(apiKey).join('[redacted]');
}
