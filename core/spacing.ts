// How much wider than a second the rate gate's window must be for the link it is on, learnt while sending.
//
// Studio counts request *arrivals*; the gate controls *starts*. Each request spends a different time on the way
// (network, a busy event loop, TLS, a proxy), so two starts a window apart can arrive closer than a second. The
// extra width (the margin) must cover how much those trips vary, and no more: every millisecond of margin is
// throughput lost. Nothing here does I/O or keeps time itself; the gates feed it what they observe.
//
// What is learnt and from what:
// - The response times of accepted sends (a ring of recent ones, per process). Their spread, outliers left out,
//   is an upper estimate of how much trips vary (response time = trip + Studio's work, which only adds spread).
//   While fewer than 20 answers came back, their spread is scaled up for what so few cannot show yet (× 2 for 4
//   answers, × 1.1 for 19): answers that agree give a small estimate at once, answers that vary a wide one.
// - The first answers set the margin directly: until the first 429 the trips explain and until probing starts,
//   each answer sets the margin to the estimate, down or back up (never above where it started: answers alone
//   never slow the gate below its start). So a steady link is at full speed after 4 answers, and an estimate that
//   the next answers show was too low is corrected before it costs a 429.
// - After a 429 the trips explain: above the estimate the margin narrows quickly (5 % per send); nothing can need
//   more.
// - 429s. Each one is classified:
//   · straggler: a send started just before it took unusually long (an outlier response, or still on the way):
//     one late trip crowded the next send; or the refused send's own trip was that long, and sends started after
//     it overtook it. It costs a retry; the margin stays.
//   · foreign: the starts were already further apart than any trip variation seen: more spacing would not cure
//     it (another system sends with the same key). The rate gate's penalty handles these, as before.
//   · jitter: anything else. The margin widens at once (× 1.5 + 20 ms, or only up to the estimate when that is
//     above the margin) and remembers the level it failed at.
//   · unknown: fewer than a handful of answers came back yet, so nothing can be told apart. The margin widens as
//     for jitter (the safe side) but remembers no level: it was as likely one early long trip.
// - Long runs of accepted sends: below the estimate the margin stays put for a while, then probes lower, slowly
//   and faster the longer nothing is refused (the estimate overstates when Studio's own work varies), but not
//   below a small spread (25 ms), where there is little to win.
// - Outliers are also compensated at once: a send whose response came back far later than usual is treated, in
//   the gate's window, as having arrived that much later (see `lateByMs`).

/** The rule's numbers, in one place. */
export const SPACING_RULE = {
	/**
	 * Margin before anything is known about the link: safe for trips varying by up to this much. While the gate
	 * learns its first answers, answers alone never take the margin above it (429s do). Where Studio's own answer
	 * time varies more than this, its answers cannot show how much of that is the trip (only a 429 can), so the
	 * margin stays here: 100 ms covers an ordinary internet path (trips of 20–120 ms) and costs 9 % of the tier;
	 * a link that needs more is found by its first 429, which widens the margin.
	 */
	startMs: 100,
	/** The margin never grows beyond this (a window of two seconds). */
	capMs: 1000,
	/**
	 * With fewer than `outlierFence.fewAnswers` answers, their spread is divided by the share of the whole spread
	 * that so many evenly spread trips show at least 7 times in 10 (4 answers: × 2.0, 10: × 1.3, 19: × 1.1): the
	 * estimate is too low only 3 times in 10, and the next answers raise it.
	 * Even spread is the widest common shape: a link whose few answers agree is known at once, one whose answers
	 * vary is given room until more answers have shown how far they go.
	 */
	fewAnswersDoubt: 0.3,
	/** After a 429: share of the margin (above the floor) dropped per accepted send while above the estimate. */
	fastNarrowing: 0.05,
	/** Below that: accepted sends in a row before probing lower starts. */
	probeAfterSends: 50,
	/** First probing step (share per accepted send), doubled every `probeDoublingSends`, at most `probeMax`. */
	probeStart: 0.001,
	probeDoublingSends: 30,
	probeMax: 0.01,
	/**
	 * Probing stops at the trips' spread when that is under this: there at most 2.5 % of the tier is to be won,
	 * and refusals to lose. (A larger spread is often Studio's own work varying, which probing looks past.)
	 */
	probeFloorMs: 25,
	/** A jitter 429 widens the margin to margin × factor + addMs; 429s less than a window apart count once. */
	widenFactor: 1.5,
	widenAddMs: 20,
	/** The level a jitter 429 came at is remembered, fading by this factor per accepted send (half after ~1400). */
	failedLevelDecay: 0.9995,
	/** Fast narrowing stops this far above the remembered level. */
	failedLevelHeadroom: 1.25,
	/** A refused start further apart than the trip variation plus this is not cured by more spacing. */
	foreignSlackMs: 25,
	/** Response times kept per process, and how many are needed before they are trusted. */
	samples: 64,
	minSamples: 4,
	/** Trip variation estimate: between these quantiles of the response times, outliers left out, … */
	spreadQuantiles: [0.01, 0.99] as const,
	/** … plus what 64 answers cannot show: timer and event-loop granularity, a trip just beyond the 99th percentile. */
	unseenSpreadMs: 10,
	/**
	 * Outlier: beyond q90 + 3 × (q90 − q10), so rare slow trips (under 10 % of sends) stand out; with fewer than
	 * 20 answers, beyond q50 + 4 × (q50 − q10), which the one or two slow answers among the first few cannot distort.
	 */
	outlierFence: { high: 0.9, low: 0.1, fences: 3, fewAnswers: 20, fewHigh: 0.5, fewLow: 0.1, fewFences: 4 },
} as const;

/** The learnt state. The Redis gate keeps it in Redis, so all workers of one account share one link estimate. */
export interface SpacingState {
	marginMs: number;
	/**
	 * The margin at which the last jitter 429 came, fading with accepted sends (0: none yet, the gate is still
	 * learning its first answers).
	 */
	failedAtMs: number;
	/** Accepted sends since the margin last widened (or since the start). */
	quietSends: number;
	/** When the margin last widened (the gate's clock), so a burst of 429s widens it once. */
	widenedAt: number;
}

export function initialSpacing(floorMs: number): SpacingState {
	return { marginMs: Math.max(floorMs, SPACING_RULE.startMs), failedAtMs: 0, quietSends: 0, widenedAt: -Infinity };
}

/** What recent response times say about the link (one process's view). */
export interface LinkEstimate {
	/**
	 * How much trips vary at most, outliers left out (with a little headroom for what the answers cannot show, and
	 * more while there are few of them).
	 */
	spreadMs: number;
	/** How many answers it rests on (outliers included). */
	answers: number;
	/** Responses slower than this are outliers (a rare long trip). */
	outlierAboveMs: number;
	/** The slow end of the usual responses: an outlier arrived about (its response time − this) late. */
	usualSlowMs: number;
}

function quantile(sorted: readonly number[], q: number): number {
	const position = (sorted.length - 1) * q;
	const below = Math.floor(position);
	const above = Math.min(below + 1, sorted.length - 1);
	return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * How much of the whole spread of evenly spread trips `count` of them show, at least, 7 times in 10: the `x` where
 * the range of `count` uniform draws, as a share of their spread, falls below it with probability
 * `SPACING_RULE.fewAnswersDoubt` (count·x^(count−1) − (count−1)·x^count, solved by bisection).
 */
function shownShare(count: number): number {
	const doubt = SPACING_RULE.fewAnswersDoubt;
	let low = 0;
	let high = 1;
	for (let step = 0; step < 40; step++) {
		const x = (low + high) / 2;
		if (count * x ** (count - 1) - (count - 1) * x ** count < doubt) low = x;
		else high = x;
	}
	return (low + high) / 2;
}

/** `shownShare` for each count of answers below `outlierFence.fewAnswers`, computed once. */
const SHOWN_SHARE = Array.from({ length: SPACING_RULE.outlierFence.fewAnswers }, (_, count) =>
	count < 2 ? 0 : shownShare(count),
);

/** The response times of recent accepted sends, and the estimate they give. */
export class ResponseTimes {
	private readonly ring: number[] = [];
	private next = 0;
	private cached?: LinkEstimate | null;

	add(ms: number): void {
		if (!(ms >= 0) || !Number.isFinite(ms)) return;
		if (this.ring.length < SPACING_RULE.samples) this.ring.push(ms);
		else this.ring[this.next] = ms;
		this.next = (this.next + 1) % SPACING_RULE.samples;
		this.cached = undefined;
	}

	get count(): number {
		return this.ring.length;
	}

	/** Undefined until enough responses were seen. */
	estimate(): LinkEstimate | undefined {
		if (this.cached !== undefined) return this.cached ?? undefined;
		if (this.ring.length < SPACING_RULE.minSamples) {
			this.cached = null;
			return undefined;
		}
		const sorted = [...this.ring].sort((a, b) => a - b);
		const fence = SPACING_RULE.outlierFence;
		const few = sorted.length < fence.fewAnswers;
		const high = quantile(sorted, few ? fence.fewHigh : fence.high);
		const low = quantile(sorted, few ? fence.fewLow : fence.low);
		const outlierAboveMs = high + (few ? fence.fewFences : fence.fences) * Math.max(high - low, 1);
		const usual = sorted.filter((ms) => ms <= outlierAboveMs);
		const [fastest, slowest] = SPACING_RULE.spreadQuantiles;
		const usualSlowMs = quantile(usual, slowest);
		const shown = usualSlowMs - quantile(usual, fastest);
		// Few answers show less of the link than it has: they count for what they let one be sure of.
		const share = usual.length < fence.fewAnswers ? SHOWN_SHARE[usual.length] : 1;
		const spreadMs = (share > 0 ? shown / share : shown) + SPACING_RULE.unseenSpreadMs;
		this.cached = { spreadMs, answers: sorted.length, outlierAboveMs, usualSlowMs };
		return this.cached;
	}
}

/** How much later than usual an accepted send arrived, if it was an outlier: 0 for ordinary ones. */
export function lateByMs(responseMs: number, link: LinkEstimate | undefined): number {
	if (!link || responseMs <= link.outlierAboveMs) return 0;
	return responseMs - link.usualSlowMs;
}

/**
 * The gate is still learning its first answers: no 429 the trips explained yet, and not probing yet. Then each
 * answer sets the margin directly (`afterAccepted`).
 */
export function isLearning(state: SpacingState): boolean {
	return state.failedAtMs === 0 && state.quietSends <= SPACING_RULE.probeAfterSends;
}

/**
 * One accepted send. While learning, the margin is the estimate (down, or back up as more answers show a wider
 * link, but never above the start); after a 429, it narrows while above what the link has shown it needs; after
 * long runs without one, it probes lower.
 */
export function afterAccepted(state: SpacingState, link: LinkEstimate | undefined, floorMs: number): SpacingState {
	const rule = SPACING_RULE;
	const failedAtMs = state.failedAtMs * rule.failedLevelDecay;
	const quietSends = state.quietSends + 1;
	let marginMs = state.marginMs;
	if (link && isLearning(state)) {
		// Down as soon as the answers allow; back up only while they are few (from then on a wider estimate means
		// rare long trips joining the usual answers, which the straggler rules handle better than a wider margin).
		const target = Math.max(floorMs, Math.min(rule.startMs, link.spreadMs));
		if (target < state.marginMs || link.answers < rule.outlierFence.fewAnswers) marginMs = target;
	} else if (link && state.marginMs > Math.max(link.spreadMs, failedAtMs * rule.failedLevelHeadroom)) {
		marginMs = Math.max(floorMs, state.marginMs - (state.marginMs - floorMs) * rule.fastNarrowing);
	} else if (link && quietSends > rule.probeAfterSends) {
		const doublings = Math.floor((quietSends - rule.probeAfterSends) / rule.probeDoublingSends);
		const share = Math.min(rule.probeMax, rule.probeStart * 2 ** doublings);
		const probed = state.marginMs - (state.marginMs - floorMs) * share;
		marginMs = Math.max(floorMs, probed, Math.min(state.marginMs, link.spreadMs, rule.probeFloorMs));
	}
	return { ...state, marginMs, failedAtMs, quietSends };
}

/**
 * A 429, by its kind: jitter widens at once and remembers the level it came at; a 429 before anything is known of
 * the link widens as well but remembers nothing (it may have been one early long trip, and a remembered level would
 * hold the margin up for a thousand sends); stragglers and foreign 429s leave the margin as it is. Replies of one
 * burst (within a window) widen once.
 */
export function afterRefusal(
	state: SpacingState,
	kind: RefusalKind,
	now: number,
	floorMs: number,
	link?: LinkEstimate,
): SpacingState {
	if (!widensMargin(kind)) return state;
	const windowMs = 1000 + state.marginMs;
	if (now - state.widenedAt < windowMs) return state;
	const rule = SPACING_RULE;
	let widened = state.marginMs * rule.widenFactor + rule.widenAddMs;
	// Below what the answers show the trips may vary by, that estimate is all the margin can need: going further
	// would cost a short campaign more than the 429 did. At or above it, the answers do not explain the 429.
	if (link && link.spreadMs > state.marginMs) widened = Math.min(widened, link.spreadMs);
	const marginMs = Math.max(floorMs, Math.min(rule.capMs, widened));
	const failedAtMs = kind === 'jitter' ? Math.max(state.failedAtMs, state.marginMs) : state.failedAtMs;
	return { marginMs, failedAtMs, quietSends: 0, widenedAt: now };
}

/** Whether a 429 of this kind changes the margin (`afterRefusal`): jitter, and a 429 before the link is known. */
export function widensMargin(kind: RefusalKind): boolean {
	return kind === 'jitter' || kind === 'unknown';
}

/** A send as the gate saw it: when it started (the gate's clock) and, once answered, its response time. */
export interface TrackedSend {
	startedAt: number;
	responseMs?: number;
}

/** Why Studio refused a send; `unknown` while too few answers came back to know the link (see `afterRefusal`). */
export type RefusalKind = 'jitter' | 'straggler' | 'foreign' | 'unknown';

export interface Refusal {
	startedAt: number;
	responseMs: number;
	/** How long before this start the `tier`-th previous start was (Infinity when there were fewer). */
	gapMs: number;
}

/**
 * Why Studio refused a send, as far as this process can tell. `earlier` are this process's recent sends (answered
 * or not); `now` is when the 429 came back.
 */
export function classifyRefusal(
	refusal: Refusal,
	earlier: Iterable<TrackedSend>,
	link: LinkEstimate | undefined,
	now: number,
): RefusalKind {
	if (!link) return 'unknown';
	// The refused send itself was late (even a 429, which Studio answers without its usual work, came back after
	// the slowest usual answer): later sends overtook it on the way, and it landed in their second.
	if (refusal.responseMs > link.outlierAboveMs) return 'straggler';
	for (const send of earlier) {
		if (send.startedAt >= refusal.startedAt) continue;
		// A late trip (an outlier answer, or one still on the way for longer than any usual answer) that, arriving
		// that much later, lands within a second of this one.
		const took = send.responseMs ?? now - send.startedAt;
		if (took > link.outlierAboveMs && refusal.startedAt - send.startedAt < 1000 + took - refusal.responseMs) {
			return 'straggler';
		}
	}
	if (refusal.gapMs - 1000 > link.spreadMs + SPACING_RULE.foreignSlackMs) return 'foreign';
	return 'jitter';
}

/**
 * One process's record of its recent sends and their response times: what the margin rule and the 429
 * classification read. Bounded: the last `SPACING_RULE.samples` sends.
 */
export class LinkWatch {
	readonly responses = new ResponseTimes();
	private readonly sends = new Map<number, TrackedSend>();
	private nextId = 0;

	/** A send starts now; returns its id for `answered`/`forget`. */
	started(at: number): number {
		const id = this.nextId++;
		this.sends.set(id, { startedAt: at });
		if (this.sends.size > SPACING_RULE.samples) this.sends.delete(this.sends.keys().next().value as number);
		return id;
	}

	/** The send's answer came; returns its record (undefined if it was forgotten already). */
	private answered(id: number, at: number): TrackedSend | undefined {
		const send = this.sends.get(id);
		if (send && send.responseMs === undefined) send.responseMs = at - send.startedAt;
		return send;
	}

	/**
	 * Studio accepted the send: its response time joins the estimate. Returns the estimate with it (what the margin
	 * rule reads: the fourth answer already sets the margin) and how much later than usual the send counted at
	 * Studio, judged by the answers before it (0 for an ordinary one).
	 */
	accepted(id: number, at: number): { link: LinkEstimate | undefined; lateMs: number } {
		const send = this.answered(id, at);
		if (send?.responseMs === undefined) return { link: this.responses.estimate(), lateMs: 0 };
		const lateMs = lateByMs(send.responseMs, this.responses.estimate());
		this.responses.add(send.responseMs);
		return { link: this.responses.estimate(), lateMs };
	}

	/** Studio answered the send 429; `gapMs` as in `Refusal`. Returns why, as far as this process can tell. */
	refused(id: number, at: number, gapMs: number): RefusalKind {
		const send = this.answered(id, at);
		if (send?.responseMs === undefined) return 'jitter';
		const refusal = { startedAt: send.startedAt, responseMs: send.responseMs, gapMs };
		return classifyRefusal(refusal, this.sends.values(), this.responses.estimate(), at);
	}

	/** The send's outcome teaches nothing (cancelled, a network failure). */
	forget(id: number): void {
		this.sends.delete(id);
	}
}
