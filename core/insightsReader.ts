// Reads Studio's Insights API through an edition's transport: its own handling of 429s and server errors (these
// reads start no session, so they never go through the send gate or the send ledger and never slow a campaign),
// the pages and 60-day windows of a search, and the join of a contact to their newest session. Free of n8n.
import { NoSessionFound, ReadCancelledError, ReadRetriesExhausted, isError, type StudioHttpError } from './errors';
import {
	isoOf,
	matchesContact,
	normaliseSession,
	parametersFrom,
	parametersPath,
	searchPath,
	sessionsFrom,
	splitWindows,
	transcriptFrom,
	unwrapSession,
	type InsightsSession,
	type ParameterValue,
	type SessionFilter,
	type TimeWindow,
	type TranscriptTurn,
} from './insights';
import { sleepOn, type Clock, type StudioResponse, type StudioTransport } from './ports';
import { INSIGHTS_PATHS } from './studioApi';

/** How a read copes with Studio's refusals; not options of the node (docs/insights.md, "Limits"). */
export interface ReadPolicy {
	/** Tries in all for one request (429, 5xx and failures below HTTP are tried again; a GET changes nothing). */
	maxTries: number;
	/** Most time one request may spend waiting between its tries; a longer Retry-After fails at once. */
	maxWaitMs: number;
	/** First backoff without Retry-After; doubles per try (with jitter). */
	baseDelayMs: number;
	responseTimeoutMs: number;
	/** Pages one 60-day window may take at most: a guard against a server that ignores page_number. */
	maxPagesPerWindow: number;
}

export const READ_POLICY: ReadPolicy = {
	maxTries: 5,
	maxWaitMs: 60_000,
	baseDelayMs: 1_000,
	responseTimeoutMs: 30_000,
	maxPagesPerWindow: 1_000,
};

/**
 * Waits between looks for a call's recording (its audio_url stays null for a while after the call ends; Vonage's
 * sample waits 5, 5, 10, 20 and 40 s). The last wait repeats until the caller's time is up.
 */
export const RECORDING_POLL_MS = [2_000, 3_000, 5_000, 10_000, 20_000] as const;

/**
 * The join's slack for clocks: a session counts as started after `since` if Studio dates it at most this much
 * before (n8n's clock and Studio's may differ a little; a send's sentAt is taken just before the request).
 */
export const SINCE_SLACK_MS = 30_000;

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

export interface ReaderOptions {
	signal?: AbortSignal;
	policy?: Partial<ReadPolicy>;
	/** Jitter source (tests make it fixed). */
	random?: () => number;
	/** Milliseconds since the epoch: "now" for searches without an end. Default: the clock's wall time. */
	now?: () => number;
}

export interface SearchOptions {
	/** Most sessions returned; undefined: all of them. */
	limit?: number;
	/** Only the newest session of each contact. */
	latestPerContact?: boolean;
}

export class InsightsReader {
	private readonly policy: ReadPolicy;
	private readonly random: () => number;

	constructor(
		private readonly transport: StudioTransport,
		private readonly clock: Clock,
		private readonly options: ReaderOptions = {},
	) {
		this.policy = { ...READ_POLICY, ...options.policy };
		this.random = options.random ?? Math.random;
	}

	now(): number {
		return this.options.now?.() ?? this.clock.wallNow();
	}

	/**
	 * One GET, tried again after a 429 (waiting Retry-After when Studio sends one, else a doubling backoff), a 5xx or
	 * a failure below HTTP, within maxTries and maxWaitMs. Other answers are thrown as they are, also after a retry.
	 */
	async get(pathAndQuery: string): Promise<StudioResponse> {
		let waitedMs = 0;
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.transport.get(pathAndQuery, this.policy.responseTimeoutMs);
			} catch (error) {
				const delay = this.retryDelay(error, attempt, waitedMs);
				if (delay === undefined)
					throw attempt > 1 && isRetried(error) ? new ReadRetriesExhausted(error, attempt) : error;
				await sleepOn(this.clock, delay, this.options.signal, () => new ReadCancelledError());
				waitedMs += delay;
			}
		}
	}

	/** The answer's body, or undefined when Studio answers 404 (nothing there, or an endpoint it does not have). */
	async getIfFound(pathAndQuery: string): Promise<unknown> {
		try {
			return (await this.get(pathAndQuery)).body;
		} catch (error) {
			if (isError(error, 'StudioHttpError') && error.statusCode === 404) return undefined;
			throw error;
		}
	}

	/**
	 * An endpoint seen only in Vonage's samples: its body, or undefined when Studio refuses it with any 4xx, so
	 * that the caller falls back to a documented one (whose error, if any, is the one worth showing).
	 */
	async getUndocumented(path: string): Promise<unknown> {
		try {
			return (await this.get(path)).body;
		} catch (error) {
			if (isError(error, 'StudioHttpError') && error.statusCode >= 400 && error.statusCode < 500) return undefined;
			throw error;
		}
	}

	private retryDelay(error: unknown, attempt: number, waitedMs: number): number | undefined {
		if (!isRetried(error) || attempt >= this.policy.maxTries) return undefined;
		const budget = this.policy.maxWaitMs - waitedMs;
		const retryAfterMs = isError(error, 'StudioHttpError') ? error.retryAfterMs : undefined;
		if (retryAfterMs !== undefined) return retryAfterMs <= budget ? retryAfterMs : undefined;
		const ceiling = Math.min(budget, this.policy.baseDelayMs * 2 ** (attempt - 1));
		if (ceiling <= 0) return undefined;
		// Half fixed, half random: never a retry at once, and two readers refused together drift apart.
		return ceiling / 2 + (this.random() * ceiling) / 2;
	}

	/**
	 * Every session of a search, newest first: each 60-day window in turn (newest first), each page of it, each
	 * session once. With a contact in the filter, only sessions with that number (see filterQuery).
	 */
	async *sessions(window: TimeWindow, filter: SessionFilter): AsyncGenerator<InsightsSession> {
		const seen = new Set<string>();
		for (const part of splitWindows(window.from, window.to)) {
			let received = 0;
			for (let page = 0; page < this.policy.maxPagesPerWindow; page++) {
				const { sessions, total } = sessionsFrom((await this.get(searchPath(part, page, filter))).body);
				let novel = 0;
				for (const raw of sessions) {
					const session = normaliseSession(raw, filter.contact);
					if (!session || seen.has(session.sessionId)) continue;
					seen.add(session.sessionId);
					novel++;
					if (filter.contact === undefined || matchesContact(raw, filter.contact)) yield session;
				}
				received += sessions.length;
				// The end of a window: an empty page, the total reached, or a page with nothing new (a server that
				// ignores page_number). A short page is not the end: Studio may cap the page size below ours.
				if (sessions.length === 0 || novel === 0 || (total !== undefined && received >= total)) break;
			}
		}
	}

	/** A search's sessions, newest first (see sessions()), up to `limit`, optionally the newest per contact only. */
	async search(window: TimeWindow, filter: SessionFilter, options: SearchOptions = {}): Promise<InsightsSession[]> {
		const found: InsightsSession[] = [];
		const contacts = new Set<string>();
		if (options.limit !== undefined && options.limit <= 0) return found;
		for await (const session of this.sessions(window, filter)) {
			if (options.latestPerContact) {
				const key = session.contact ?? `session:${session.sessionId}`;
				if (contacts.has(key)) continue;
				contacts.add(key);
			}
			found.push(session);
			if (options.limit !== undefined && found.length >= options.limit) break;
		}
		// Each window came newest first; sorting keeps that order and mends it if Studio did not sort.
		return options.limit === undefined ? newestFirst(found) : found;
	}

	/**
	 * The join: the newest session with `contact` that started after `since` (less SINCE_SLACK_MS) and before
	 * `until`, or undefined when there is none yet. The newest window holding any is read whole, so the answer does
	 * not depend on Studio's order.
	 */
	async latestFor(
		contact: string,
		since: number,
		until: number,
		filter: Omit<SessionFilter, 'contact'> = {},
	): Promise<InsightsSession | undefined> {
		for (const part of splitWindows(since - SINCE_SLACK_MS, until)) {
			const found: InsightsSession[] = [];
			for await (const session of this.sessions(part, { ...filter, contact })) found.push(session);
			if (found.length > 0) return newestFirst(found)[0];
		}
		return undefined;
	}

	/** A session's parameters (the documented endpoint, found by the session's start time); {} when it has none. */
	async parameters(session: Pick<InsightsSession, 'sessionId' | 'startedAt'>): Promise<Record<string, ParameterValue>> {
		if (!session.startedAt) return {};
		const body = await this.getIfFound(parametersPath(session.sessionId, session.startedAt));
		return body === undefined ? {} : parametersFrom(body);
	}

	/**
	 * A session by its ID: the details endpoint Vonage's samples use (not documented), else a search for the ID over
	 * `lookBack` (documented). Its parameters come with the details, else from the parameters endpoint.
	 */
	async session(
		sessionId: string,
		lookBack: TimeWindow,
	): Promise<{ session: InsightsSession; detailsAvailable: boolean }> {
		const details = unwrapSession(await this.getUndocumented(INSIGHTS_PATHS.session(sessionId)));
		let session = details ? normaliseSession({ id: sessionId, ...details }) : undefined;
		if (!session) {
			for await (const each of this.sessions(lookBack, { sessionId })) {
				if (each.sessionId === sessionId) {
					session = each;
					break;
				}
			}
		}
		if (!session) {
			throw new NoSessionFound(
				`No session with ID ${sessionId} between ${isoOf(lookBack.from)} and ${isoOf(lookBack.to)}`,
				"Check the session ID (AI Studio's Reports, or an earlier Search), that the credential is the agent's account and region, and the time range (Started Around).",
			);
		}
		if (Object.keys(session.parameters).length === 0) {
			session = { ...session, parameters: await this.parameters(session) };
		}
		return { session, detailsAvailable: details !== undefined };
	}

	/** The transcript (an endpoint seen only in Vonage's samples); null when Studio refuses it or has no such endpoint. */
	async transcript(sessionId: string): Promise<TranscriptTurn[] | null> {
		const body = await this.getUndocumented(INSIGHTS_PATHS.transcript(sessionId));
		return body === undefined ? null : transcriptFrom(body);
	}

	/**
	 * A call's recording URL, looking again (RECORDING_POLL_MS) while Studio has none yet, for at most `waitMs`;
	 * null when none appeared in time or the details endpoint is not there. `lookedJustNow`: the caller has just
	 * read the session's details (and found no recording), so the first look waits its pause.
	 */
	async recordingUrl(sessionId: string, waitMs: number, lookedJustNow = false): Promise<string | null> {
		const deadline = this.clock.now() + waitMs;
		let pauses = 0;
		for (let wait = lookedJustNow; ; wait = true) {
			if (wait) {
				const left = deadline - this.clock.now();
				if (left <= 0) return null;
				const pause = Math.min(left, RECORDING_POLL_MS[Math.min(pauses++, RECORDING_POLL_MS.length - 1)]);
				await sleepOn(this.clock, pause, this.options.signal, () => new ReadCancelledError());
			}
			const details = unwrapSession(await this.getUndocumented(INSIGHTS_PATHS.session(sessionId)));
			if (!details) return null;
			const url = normaliseSession({ id: sessionId, ...details })?.recordingUrl;
			if (url) return url;
		}
	}
}

function isRetried(error: unknown): boolean {
	if (isError(error, 'StudioNetworkError')) return true;
	return isError(error, 'StudioHttpError') && RETRIED_STATUSES.has((error as StudioHttpError).statusCode);
}

/** Newest first by start time (sessions without one last), keeping the order of equal ones. */
export function newestFirst(sessions: InsightsSession[]): InsightsSession[] {
	const time = (session: InsightsSession) => (session.startedAt ? Date.parse(session.startedAt) : -Infinity);
	return sessions
		.map((session, order) => ({ session, order }))
		.sort((a, b) => time(b.session) - time(a.session) || a.order - b.order)
		.map(({ session }) => session);
}
