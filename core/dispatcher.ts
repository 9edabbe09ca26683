// Drives a batch of prepared sends through the rate gate: bounded in-flight requests, the 429 policy, the send
// ledger (no second session for the same item) and cancellation. Free of n8n types.
import { randomBytes } from 'node:crypto';

import { BatchStopRule, stops, type BatchStop, type StopGroups } from './batchStop';
import {
	BatchStoppedError,
	PossiblySentError,
	SendCancelledError,
	SendInProgressError,
	isError,
	isRateLimited,
	type StudioHttpError,
} from './errors';
import { sleepOn, type Clock } from './ports';
import type { Admission, RateGate } from './rateGate';
import { LEASE, type ClaimResult, type LedgerResult, type SendLedger } from './sendLedger';

export interface DispatchJob<T> {
	/** The item's index, returned as is. */
	index: number;
	/** Identifies this send across runs (the user's idempotency key, the duplicate guard's content, or execution + node + item). */
	ledgerKey?: string;
	/** How long `ledgerKey` remembers the outcome. Default: policy.rememberForMs. */
	ledgerTtlMs?: number;
	/** The groups this item belongs to, so that a stop for one agent or template stops only its items. */
	groups?: StopGroups;
	/**
	 * More keys to record the outcome under (accepted or possibly sent), without claiming them: a later run that
	 * looks the send up another way (a retried execution, by item and body) then finds it too.
	 */
	alsoRecordAs?: ReadonlyArray<string | { key: string; ttlMs?: number }>;
	/** Starts the request. Called only after the gate admitted it; throw the errors from ./errors. */
	send: (signal: AbortSignal) => Promise<T>;
}

export type DispatchResult<T> =
	| { index: number; outcome: 'sent'; result: T; attempts: number }
	/** Sent before: `at` is when the first send was accepted. */
	| { index: number; outcome: 'replayed'; result: T; at: number }
	| { index: number; outcome: 'failed'; error: unknown; attempts: number };

/** What the user decides about sending (the node's options; their defaults live there, once). */
export interface SendPolicy {
	/** How long accepted (and possibly accepted) sends are remembered. */
	rememberForMs: number;
	/** More tries for an item Studio refused with 429, the first try not counted. */
	rateLimitRetries: number;
	/** Most time one item may spend waiting between 429 retries. */
	rateLimitMaxWaitMs: number;
}

export interface DispatchOptions {
	gate: RateGate;
	ledger?: SendLedger;
	policy: SendPolicy;
	/** How long an unfinished claim holds its key if its process dies mid-send. Default: policy.rememberForMs. */
	claimTtlMs?: number;
	/** How long a claim outlives this run if it stops renewing it, and how often it renews. Default: LEASE. */
	lease?: { leaseMs: number; renewEveryMs: number };
	/**
	 * Stop sending the items an earlier answer shows cannot succeed (a rejected key, a missing agent, a template
	 * every item shares refused): see batchStop.ts. Default true.
	 */
	stopOnBatchFailure?: boolean;
	/** Longest wait for another execution that holds the same key right now. Default 5 min. */
	inFlightWaitMs?: number;
	/** Sends started but not answered, at most. Default 16. */
	maxInFlight?: number;
	/** First backoff ceiling after a 429 without Retry-After; doubles per 429 (full jitter). Default 1 s. */
	rateLimitBaseDelayMs?: number;
	/** Attempts in all for connection failures known to be before sending (refused, DNS). Default 3. */
	notSentMaxTries?: number;
	signal?: AbortSignal;
	/**
	 * Also abort requests already started when `signal` aborts. Default false: a started request is allowed to
	 * finish (bounded by the transport's timeout) so its outcome is known and recorded in the ledger.
	 */
	abortStartedSends?: boolean;
	onProgress?(done: number, total: number): void;
	/** Extra errors to treat as "certainly not sent" (for example a validation error thrown before the request). */
	isDefinitelyNotSent?(error: unknown): boolean;
	/** Timers for the waits between retries (the edition's; virtual time in tests). */
	clock: Clock;
}

/** How the dispatcher works, not what the user decides: these are not options of the node. */
export const DISPATCH_DEFAULTS = {
	inFlightWaitMs: 5 * 60 * 1000,
	inFlightPollMs: 250,
	maxInFlight: 16,
	rateLimitBaseDelayMs: 1000,
	notSentMaxTries: 3,
	notSentBaseDelayMs: 200,
} as const;

type Verdict = 'rate-limited' | 'not-sent-retryable' | 'not-sent' | 'maybe-sent';

/** What an error says about whether Studio may have started the session. */
function classify(error: unknown, extraNotSent?: (error: unknown) => boolean): Verdict {
	if (isRateLimited(error)) return 'rate-limited';
	if (isError(error, 'StudioNetworkError')) return error.mayHaveReachedStudio ? 'maybe-sent' : 'not-sent-retryable';
	if (isError(error, 'StudioHttpError')) {
		const status = error.statusCode;
		// A 4xx is Studio refusing the request; 408 (timeout) and 409 (conflict) leave it open whether it started.
		return status >= 400 && status < 500 && status !== 408 && status !== 409 ? 'not-sent' : 'maybe-sent';
	}
	if (isError(error, 'SendCancelledError') || extraNotSent?.(error)) return 'not-sent';
	return 'maybe-sent';
}

function describe(error: unknown): string {
	if (isError(error, 'StudioHttpError')) return `Studio answered HTTP ${error.statusCode}`;
	return error instanceof Error ? error.message : String(error);
}

/** Waits `ms` on `clock`, or rejects with SendCancelledError as soon as `signal` aborts. */
const sleep = (clock: Clock, ms: number, signal?: AbortSignal) =>
	sleepOn(clock, ms, signal, () => new SendCancelledError());

const NEVER_ABORTED = new AbortController().signal;

/** Sends every job at or under the gate's rate; returns one result per job, in job order. */
export async function dispatchSends<T>(
	jobs: ReadonlyArray<DispatchJob<T>>,
	options: DispatchOptions,
): Promise<Array<DispatchResult<T>>> {
	const { gate, ledger, signal, onProgress } = options;
	const { policy } = options;
	const ledgerTtlMs = policy.rememberForMs;
	const claimTtlMs = options.claimTtlMs ?? ledgerTtlMs;
	const inFlightWaitMs = options.inFlightWaitMs ?? DISPATCH_DEFAULTS.inFlightWaitMs;
	const rateLimitBaseDelayMs = options.rateLimitBaseDelayMs ?? DISPATCH_DEFAULTS.rateLimitBaseDelayMs;
	const notSentMaxTries = options.notSentMaxTries ?? DISPATCH_DEFAULTS.notSentMaxTries;
	const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? DISPATCH_DEFAULTS.maxInFlight));
	const sendSignal = options.abortStartedSends && signal ? signal : NEVER_ABORTED;
	const { leaseMs, renewEveryMs } = options.lease ?? LEASE;
	const { clock } = options;

	const results: Array<DispatchResult<T>> = new Array(jobs.length);
	let done = 0;
	const finish = (position: number, result: DispatchResult<T>) => {
		results[position] = result;
		done++;
		try {
			onProgress?.(done, jobs.length);
		} catch {
			// Progress reporting must never change an outcome.
		}
	};

	// Claims are held by this run (its owner token) and renewed while it works: if the process dies, they outlive
	// it by one lease only (sendLedger.ts).
	const owner = randomBytes(8).toString('hex');
	const held = new Set<string>();
	let renewal: unknown;
	const scheduleRenewal = () => {
		renewal = clock.setTimer(() => {
			if (held.size > 0) void ledger?.renew([...held], owner, leaseMs).catch(() => undefined);
			scheduleRenewal();
		}, renewEveryMs);
	};

	// Stops: what an answer showed about the items not sent yet (batchStop.ts).
	const stopRule = options.stopOnBatchFailure === false ? undefined : new BatchStopRule();
	const stopsSoFar: Array<{ stop: BatchStop; sourceIndex: number; source: unknown }> = [];
	const running = new Map<DispatchJob<T>, AbortController>();
	const stopFor = (job: DispatchJob<T>) => stopsSoFar.find((entry) => stops(entry.stop, job.groups));
	const stoppedError = (job: DispatchJob<T>) => {
		const entry = stopFor(job);
		return entry ? new BatchStoppedError(entry.stop.reason, entry.sourceIndex, entry.source) : undefined;
	};
	const observe = (job: DispatchJob<T>, error: unknown) => {
		const stop = stopRule?.observe(error, job.groups ?? {});
		if (!stop) return;
		stopsSoFar.push({ stop, sourceIndex: job.index, source: error });
		for (const [other, controller] of running) if (other !== job && stops(stop, other.groups)) controller.abort();
	};

	async function claim(key: string, jobSignal: AbortSignal): Promise<Exclude<ClaimResult, { state: 'in-flight' }>> {
		const started = clock.now();
		for (;;) {
			const claimed = await ledger!.claim(key, owner, leaseMs, claimTtlMs);
			if (claimed.state !== 'in-flight') return claimed;
			const waited = clock.now() - started;
			if (waited >= inFlightWaitMs) throw new SendInProgressError(waited);
			await sleep(clock, Math.min(DISPATCH_DEFAULTS.inFlightPollMs, inFlightWaitMs - waited), jobSignal);
		}
	}

	async function release(key: string | undefined): Promise<void> {
		if (!key) return;
		held.delete(key);
		// Best effort: a claim that cannot be released only blocks a later resend until its lease ends.
		await ledger!.release(key, owner).catch(() => undefined);
	}

	async function record(job: DispatchJob<T>, key: string | undefined, result: LedgerResult): Promise<void> {
		if (!ledger) return;
		if (key !== undefined) held.delete(key);
		const entries: Array<[string, number]> = [
			...(key === undefined ? [] : [[key, job.ledgerTtlMs ?? ledgerTtlMs] as [string, number]]),
			...(job.alsoRecordAs ?? []).map((each) =>
				typeof each === 'string'
					? ([each, ledgerTtlMs] as [string, number])
					: ([each.key, each.ttlMs ?? ledgerTtlMs] as [string, number]),
			),
		];
		// The session exists whether or not the ledger could write it down; the send stays 'sent'.
		await Promise.all(entries.map(async ([each, ttl]) => ledger.complete(each, result, ttl).catch(() => undefined)));
	}

	/** The job was interrupted while it waited: stopped by another item's answer, or the execution was cancelled. */
	const interrupted = (job: DispatchJob<T>, caught: unknown) => stoppedError(job) ?? caught;

	async function run(job: DispatchJob<T>, jobSignal: AbortSignal): Promise<DispatchResult<T>> {
		const key = ledger && job.ledgerKey !== undefined ? job.ledgerKey : undefined;
		const notStarted = stoppedError(job);
		if (notStarted) return { index: job.index, outcome: 'failed', error: notStarted, attempts: 0 };
		if (signal?.aborted) return { index: job.index, outcome: 'failed', error: new SendCancelledError(), attempts: 0 };
		if (key !== undefined) {
			let claimed: Exclude<ClaimResult, { state: 'in-flight' }>;
			try {
				claimed = await claim(key, jobSignal);
			} catch (error) {
				return { index: job.index, outcome: 'failed', error: interrupted(job, error), attempts: 0 };
			}
			if (claimed.state === 'done') {
				const earlier = claimed.result;
				return earlier.kind === 'accepted'
					? { index: job.index, outcome: 'replayed', result: earlier.response as T, at: earlier.at }
					: {
							index: job.index,
							outcome: 'failed',
							error: new PossiblySentError(earlier.reason, earlier.at),
							attempts: 0,
						};
			}
			held.add(key);
		}

		let attempts = 0;
		let rateLimited = 0;
		let notSent = 0;
		let waitedMs = 0;
		for (;;) {
			let admission: Admission;
			try {
				admission = await gate.acquire(jobSignal);
			} catch (error) {
				await release(key); // every earlier attempt was refused or never left: nothing reached Studio
				return { index: job.index, outcome: 'failed', error: interrupted(job, error), attempts };
			}
			// Stopped by another item's answer, or the claim lost (its lease ran out and another run took it): this
			// admission goes unused and nothing is sent.
			const stopped = stoppedError(job);
			let mine = true;
			if (!stopped && key !== undefined) {
				try {
					mine = await ledger!.mark(key, owner, 'sending', leaseMs);
				} catch (error) {
					admission.settle({ kind: 'other' });
					await release(key);
					return { index: job.index, outcome: 'failed', error, attempts };
				}
			}
			if (stopped || !mine) {
				admission.settle({ kind: 'other' });
				if (stopped) await release(key);
				else if (key !== undefined) held.delete(key);
				return { index: job.index, outcome: 'failed', error: stopped ?? new SendInProgressError(), attempts };
			}
			attempts++;
			let error: unknown;
			try {
				const result = await job.send(sendSignal);
				admission.settle({ kind: 'accepted' });
				observe(job, undefined);
				await record(job, key, { kind: 'accepted', response: result, at: clock.wallNow() });
				return { index: job.index, outcome: 'sent', result, attempts };
			} catch (caught) {
				error = caught;
			}
			admission.settle(
				isRateLimited(error)
					? { kind: 'refused', retryAfterMs: (error as StudioHttpError).retryAfterMs }
					: { kind: 'other' },
			);
			observe(job, error);

			const verdict = classify(error, options.isDefinitelyNotSent);
			let delayMs: number | undefined;
			if (verdict === 'rate-limited') {
				const retryAfterMs = (error as StudioHttpError).retryAfterMs;
				rateLimited++;
				const budget = policy.rateLimitMaxWaitMs - waitedMs;
				if (rateLimited <= policy.rateLimitRetries && budget > 0) {
					if (retryAfterMs !== undefined && retryAfterMs >= 0) {
						delayMs = retryAfterMs <= budget ? retryAfterMs : undefined;
					} else {
						const ceiling = Math.min(budget, rateLimitBaseDelayMs * 2 ** (rateLimited - 1));
						delayMs = Math.random() * ceiling;
					}
				}
			} else if (verdict === 'not-sent-retryable') {
				notSent++;
				if (notSent < notSentMaxTries) {
					delayMs = Math.random() * DISPATCH_DEFAULTS.notSentBaseDelayMs * 2 ** (notSent - 1);
				}
			} else if (verdict === 'maybe-sent') {
				// Keep the key taken: a re-run must not start a second session that Studio may already have.
				await record(job, key, { kind: 'maybe-sent', reason: describe(error), at: clock.wallNow() });
				return { index: job.index, outcome: 'failed', error, attempts };
			}

			if (delayMs === undefined) {
				await release(key);
				return { index: job.index, outcome: 'failed', error, attempts };
			}
			// Nothing started: if this run dies while it waits to try again, a re-run may send the item.
			if (key !== undefined) await ledger!.mark(key, owner, 'waiting', leaseMs).catch(() => undefined);
			try {
				await sleep(clock, delayMs, jobSignal);
			} catch (cancelled) {
				await release(key);
				return { index: job.index, outcome: 'failed', error: interrupted(job, cancelled), attempts };
			}
			waitedMs += delayMs;
		}
	}

	let next = 0;
	async function worker(): Promise<void> {
		while (next < jobs.length) {
			const position = next++;
			const job = jobs[position];
			const controller = new AbortController();
			const jobSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
			running.set(job, controller);
			try {
				finish(position, await run(job, jobSignal));
			} finally {
				running.delete(job);
			}
		}
	}

	// When cancelled, jobs nobody has picked up yet fail at once instead of waiting for a free worker.
	const onAbort = () => {
		while (next < jobs.length) {
			const position = next++;
			finish(position, {
				index: jobs[position].index,
				outcome: 'failed',
				error: new SendCancelledError(),
				attempts: 0,
			});
		}
	};
	if (signal?.aborted) onAbort();
	else signal?.addEventListener('abort', onAbort, { once: true });
	if (ledger) scheduleRenewal();
	try {
		await Promise.all(Array.from({ length: Math.min(maxInFlight, jobs.length) }, () => worker()));
	} finally {
		signal?.removeEventListener('abort', onAbort);
		if (renewal !== undefined) clock.clearTimer(renewal);
	}
	return results;
}
