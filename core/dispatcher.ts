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

/** The options with every default filled in, read once per batch. */
interface Settings {
	ledgerTtlMs: number;
	claimTtlMs: number;
	inFlightWaitMs: number;
	rateLimitBaseDelayMs: number;
	notSentMaxTries: number;
	maxInFlight: number;
	leaseMs: number;
	renewEveryMs: number;
	/** The signal a started request listens to (by default none: a started request finishes). */
	sendSignal: AbortSignal;
}

function settingsOf(options: DispatchOptions): Settings {
	const ledgerTtlMs = options.policy.rememberForMs;
	const { leaseMs, renewEveryMs } = options.lease ?? LEASE;
	return {
		ledgerTtlMs,
		claimTtlMs: options.claimTtlMs ?? ledgerTtlMs,
		inFlightWaitMs: options.inFlightWaitMs ?? DISPATCH_DEFAULTS.inFlightWaitMs,
		rateLimitBaseDelayMs: options.rateLimitBaseDelayMs ?? DISPATCH_DEFAULTS.rateLimitBaseDelayMs,
		notSentMaxTries: options.notSentMaxTries ?? DISPATCH_DEFAULTS.notSentMaxTries,
		maxInFlight: Math.max(1, Math.floor(options.maxInFlight ?? DISPATCH_DEFAULTS.maxInFlight)),
		leaseMs,
		renewEveryMs,
		sendSignal: options.abortStartedSends && options.signal ? options.signal : NEVER_ABORTED,
	};
}

/** How many times one item has been refused so far, and how long it has waited between tries. */
interface TryCounts {
	rateLimited: number;
	notSent: number;
	waitedMs: number;
}

/**
 * How long to wait before trying an item again after `error`, or undefined to give up on it. A 429 waits for its
 * Retry-After (when it fits the item's budget) or backs off with full jitter; a failure known to be before sending
 * (connection refused, DNS) is tried again a few times; everything else is final.
 */
export function retryDelay(
	verdict: Verdict,
	error: unknown,
	counts: TryCounts,
	policy: SendPolicy,
	settings: Pick<Settings, 'rateLimitBaseDelayMs' | 'notSentMaxTries'>,
): number | undefined {
	if (verdict === 'rate-limited') {
		const retryAfterMs = (error as StudioHttpError).retryAfterMs;
		const budget = policy.rateLimitMaxWaitMs - counts.waitedMs;
		if (counts.rateLimited > policy.rateLimitRetries || budget <= 0) return undefined;
		if (retryAfterMs !== undefined && retryAfterMs >= 0) return retryAfterMs <= budget ? retryAfterMs : undefined;
		const ceiling = Math.min(budget, settings.rateLimitBaseDelayMs * 2 ** (counts.rateLimited - 1));
		return Math.random() * ceiling;
	}
	if (verdict === 'not-sent-retryable' && counts.notSent < settings.notSentMaxTries) {
		return Math.random() * DISPATCH_DEFAULTS.notSentBaseDelayMs * 2 ** (counts.notSent - 1);
	}
	return undefined;
}

/**
 * The batch's side of the send ledger: the claims this run holds (under its owner token), renewed while it works so
 * that, if the process dies, they outlive it by one lease only (sendLedger.ts).
 */
class Claims {
	readonly owner = randomBytes(8).toString('hex');
	private readonly held = new Set<string>();
	private renewal: unknown;

	constructor(
		private readonly ledger: SendLedger,
		private readonly settings: Settings,
		private readonly clock: Clock,
	) {}

	startRenewing(): void {
		this.renewal = this.clock.setTimer(() => {
			if (this.held.size > 0)
				void this.ledger.renew([...this.held], this.owner, this.settings.leaseMs).catch(() => undefined);
			this.startRenewing();
		}, this.settings.renewEveryMs);
	}

	stopRenewing(): void {
		if (this.renewal !== undefined) this.clock.clearTimer(this.renewal);
	}

	/** Takes `key`, waiting (up to inFlightWaitMs) while another run holds it; 'done' when it was sent before. */
	async take(key: string, signal: AbortSignal): Promise<Exclude<ClaimResult, { state: 'in-flight' }>> {
		const { inFlightWaitMs, leaseMs, claimTtlMs } = this.settings;
		const started = this.clock.now();
		for (;;) {
			const claimed = await this.ledger.claim(key, this.owner, leaseMs, claimTtlMs);
			if (claimed.state !== 'in-flight') {
				if (claimed.state === 'claimed') this.held.add(key);
				return claimed;
			}
			const waited = this.clock.now() - started;
			if (waited >= inFlightWaitMs) throw new SendInProgressError(waited);
			await sleep(this.clock, Math.min(DISPATCH_DEFAULTS.inFlightPollMs, inFlightWaitMs - waited), signal);
		}
	}

	/** Marks the claim: 'sending' the moment a request leaves, 'waiting' between tries. False: the claim was lost. */
	async mark(key: string, state: 'sending' | 'waiting'): Promise<boolean> {
		return await this.ledger.mark(key, this.owner, state, this.settings.leaseMs);
	}

	/** Gives the key up: nothing reached Studio, a later run may send the item. */
	async release(key: string | undefined): Promise<void> {
		if (key === undefined) return;
		this.held.delete(key);
		// Best effort: a claim that cannot be released only blocks a later resend until its lease ends.
		await this.ledger.release(key, this.owner).catch(() => undefined);
	}

	/** Stops holding a key that another run took over (its lease ran out). */
	forget(key: string | undefined): void {
		if (key !== undefined) this.held.delete(key);
	}

	/** Writes the outcome down under the key and the job's other keys. */
	async record(job: DispatchJob<unknown>, key: string | undefined, result: LedgerResult): Promise<void> {
		const { ledgerTtlMs } = this.settings;
		this.forget(key);
		const entries: Array<[string, number]> = [
			...(key === undefined ? [] : [[key, job.ledgerTtlMs ?? ledgerTtlMs] as [string, number]]),
			...(job.alsoRecordAs ?? []).map((each) =>
				typeof each === 'string'
					? ([each, ledgerTtlMs] as [string, number])
					: ([each.key, each.ttlMs ?? ledgerTtlMs] as [string, number]),
			),
		];
		// The session exists whether or not the ledger could write it down; the send stays 'sent'.
		await Promise.all(
			entries.map(async ([each, ttl]) => this.ledger.complete(each, result, ttl).catch(() => undefined)),
		);
	}
}

/** What earlier answers showed about the items not sent yet (batchStop.ts), and the sends running now. */
class Stops<T> {
	private readonly rule: BatchStopRule | undefined;
	private readonly seen: Array<{ stop: BatchStop; sourceIndex: number; source: unknown }> = [];
	readonly running = new Map<DispatchJob<T>, AbortController>();

	constructor(enabled: boolean) {
		this.rule = enabled ? new BatchStopRule() : undefined;
	}

	/** The error for a job an earlier answer stopped, or undefined. */
	errorFor(job: DispatchJob<T>): BatchStoppedError | undefined {
		const entry = this.seen.find((each) => stops(each.stop, job.groups));
		return entry ? new BatchStoppedError(entry.stop.reason, entry.sourceIndex, entry.source) : undefined;
	}

	/** Learns from one answer (undefined: accepted); a new stop aborts the other running jobs it covers. */
	observe(job: DispatchJob<T>, error: unknown): void {
		const stop = this.rule?.observe(error, job.groups ?? {});
		if (!stop) return;
		this.seen.push({ stop, sourceIndex: job.index, source: error });
		for (const [other, controller] of this.running) if (other !== job && stops(stop, other.groups)) controller.abort();
	}
}

/** One batch: its jobs, the gate, the ledger's claims and what stops it. */
class Batch<T> {
	private readonly settings: Settings;
	private readonly claims: Claims | undefined;
	private readonly stops: Stops<T>;
	private readonly clock: Clock;

	constructor(
		private readonly jobs: ReadonlyArray<DispatchJob<T>>,
		private readonly options: DispatchOptions,
	) {
		this.settings = settingsOf(options);
		this.clock = options.clock;
		this.claims = options.ledger ? new Claims(options.ledger, this.settings, this.clock) : undefined;
		this.stops = new Stops(options.stopOnBatchFailure !== false);
	}

	/** Runs every job with at most maxInFlight at a time; when cancelled, jobs not picked up yet fail at once. */
	async run(): Promise<Array<DispatchResult<T>>> {
		const { jobs } = this;
		const { signal, onProgress } = this.options;
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
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < jobs.length) {
				const position = next++;
				const job = jobs[position];
				const controller = new AbortController();
				const jobSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
				this.stops.running.set(job, controller);
				try {
					finish(position, await this.runJob(job, jobSignal));
				} finally {
					this.stops.running.delete(job);
				}
			}
		};
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
		this.claims?.startRenewing();
		try {
			await Promise.all(Array.from({ length: Math.min(this.settings.maxInFlight, jobs.length) }, () => worker()));
		} finally {
			signal?.removeEventListener('abort', onAbort);
			this.claims?.stopRenewing();
		}
		return results;
	}

	/** One job: not started when stopped or cancelled; replayed when sent before; else sent, tried again as the rules allow. */
	private async runJob(job: DispatchJob<T>, jobSignal: AbortSignal): Promise<DispatchResult<T>> {
		const notStarted =
			this.stops.errorFor(job) ?? (this.options.signal?.aborted ? new SendCancelledError() : undefined);
		if (notStarted) return { index: job.index, outcome: 'failed', error: notStarted, attempts: 0 };
		const key = this.claims && job.ledgerKey !== undefined ? job.ledgerKey : undefined;
		if (key !== undefined) {
			const earlier = await this.claimOrReplay(job, key, jobSignal);
			if (earlier) return earlier;
		}
		return await this.sendWithRetries(job, key, jobSignal);
	}

	/** The job was interrupted while it waited: stopped by another item's answer, or the execution was cancelled. */
	private interrupted(job: DispatchJob<T>, caught: unknown): unknown {
		return this.stops.errorFor(job) ?? caught;
	}

	/** Claims the job's key; a result when the job must not be sent (sent before, possibly sent, or interrupted). */
	private async claimOrReplay(
		job: DispatchJob<T>,
		key: string,
		jobSignal: AbortSignal,
	): Promise<DispatchResult<T> | undefined> {
		let claimed: Exclude<ClaimResult, { state: 'in-flight' }>;
		try {
			claimed = await this.claims!.take(key, jobSignal);
		} catch (error) {
			return { index: job.index, outcome: 'failed', error: this.interrupted(job, error), attempts: 0 };
		}
		if (claimed.state !== 'done') return undefined;
		const earlier = claimed.result;
		return earlier.kind === 'accepted'
			? { index: job.index, outcome: 'replayed', result: earlier.response as T, at: earlier.at }
			: { index: job.index, outcome: 'failed', error: new PossiblySentError(earlier.reason, earlier.at), attempts: 0 };
	}

	/** Tries the job until Studio accepts it, or an answer is final, or the rules give up. */
	private async sendWithRetries(
		job: DispatchJob<T>,
		key: string | undefined,
		jobSignal: AbortSignal,
	): Promise<DispatchResult<T>> {
		const { gate, policy } = this.options;
		const claims = this.claims;
		const counts: TryCounts = { rateLimited: 0, notSent: 0, waitedMs: 0 };
		let attempts = 0;
		const failed = (error: unknown): DispatchResult<T> => ({ index: job.index, outcome: 'failed', error, attempts });
		for (;;) {
			let admission: Admission;
			try {
				admission = await gate.acquire(jobSignal);
			} catch (error) {
				await claims?.release(key); // every earlier attempt was refused or never left: nothing reached Studio
				return failed(this.interrupted(job, error));
			}
			const refusal = await this.mayNotSend(job, key, admission);
			if (refusal) return failed(refusal);

			attempts++;
			let error: unknown;
			try {
				const result = await job.send(this.settings.sendSignal);
				admission.settle({ kind: 'accepted' });
				this.stops.observe(job, undefined);
				await claims?.record(job, key, { kind: 'accepted', response: result, at: this.clock.wallNow() });
				return { index: job.index, outcome: 'sent', result, attempts };
			} catch (caught) {
				error = caught;
			}
			admission.settle(
				isRateLimited(error)
					? { kind: 'refused', retryAfterMs: (error as StudioHttpError).retryAfterMs }
					: { kind: 'other' },
			);
			this.stops.observe(job, error);

			const verdict = classify(error, this.options.isDefinitelyNotSent);
			if (verdict === 'maybe-sent') {
				// Keep the key taken: a re-run must not start a second session that Studio may already have.
				await claims?.record(job, key, { kind: 'maybe-sent', reason: describe(error), at: this.clock.wallNow() });
				return failed(error);
			}
			if (verdict === 'rate-limited') counts.rateLimited++;
			if (verdict === 'not-sent-retryable') counts.notSent++;
			const delayMs = retryDelay(verdict, error, counts, policy, this.settings);
			if (delayMs === undefined) {
				await claims?.release(key);
				return failed(error);
			}
			// Nothing started: if this run dies while it waits to try again, a re-run may send the item.
			if (key !== undefined) await claims!.mark(key, 'waiting').catch(() => undefined);
			try {
				await sleep(this.clock, delayMs, jobSignal);
			} catch (cancelled) {
				await claims?.release(key);
				return failed(this.interrupted(job, cancelled));
			}
			counts.waitedMs += delayMs;
		}
	}

	/**
	 * Why an admitted job may not be sent after all (the admission then goes unused): another item's answer stopped
	 * it, its claim was lost (the lease ran out and another run took it), or the ledger could not be written. Marks
	 * the claim 'sending' otherwise, the moment before the request leaves.
	 */
	private async mayNotSend(job: DispatchJob<T>, key: string | undefined, admission: Admission): Promise<unknown> {
		const stopped = this.stops.errorFor(job);
		if (stopped) {
			admission.settle({ kind: 'other' });
			await this.claims?.release(key);
			return stopped;
		}
		if (key === undefined) return undefined;
		let mine: boolean;
		try {
			mine = await this.claims!.mark(key, 'sending');
		} catch (error) {
			admission.settle({ kind: 'other' });
			await this.claims!.release(key);
			return error;
		}
		if (mine) return undefined;
		admission.settle({ kind: 'other' });
		this.claims!.forget(key);
		return new SendInProgressError();
	}
}

/** Sends every job at or under the gate's rate; returns one result per job, in job order. */
export async function dispatchSends<T>(
	jobs: ReadonlyArray<DispatchJob<T>>,
	options: DispatchOptions,
): Promise<Array<DispatchResult<T>>> {
	return await new Batch(jobs, options).run();
}
