// The margin rule on its own (spacing.ts): what response times say about the link (more room while there are few
// answers), the first answers setting the margin directly, narrowing after a 429 and probing while sends are
// accepted, widening at once on a 429 the trips' variation explains, and telling 429s apart.
import {
	ResponseTimes,
	SPACING_RULE,
	afterAccepted,
	afterRefusal,
	classifyRefusal,
	initialSpacing,
	isLearning,
	lateByMs,
	type LinkEstimate,
	type SpacingState,
} from '../../core/spacing';

function times(values: number[]): ResponseTimes {
	const responses = new ResponseTimes();
	for (const value of values) responses.add(value);
	return responses;
}

const evenly = (from: number, to: number, count: number) =>
	Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));

describe('ResponseTimes', () => {
	it('says nothing until it has seen a few answers', () => {
		expect(times([100, 110, 120]).estimate()).toBeUndefined();
		expect(times([100, 110, 120, 130]).estimate()).toBeDefined();
	});

	it('estimates how much trips vary from the usual answers, leaving rare long ones out', () => {
		const usual = evenly(100, 200, 63);
		const link = times([...usual, 700]).estimate()!;
		// The answers' spread, plus a little for what 64 answers cannot show.
		expect(link.spreadMs - SPACING_RULE.unseenSpreadMs).toBeGreaterThan(95);
		expect(link.spreadMs - SPACING_RULE.unseenSpreadMs).toBeLessThan(101);
		expect(link.outlierAboveMs).toBeLessThan(700);
		expect(link.usualSlowMs).toBeLessThanOrEqual(200);
		// Only the long one arrived late, by about what it took beyond the usual slow answers.
		expect(lateByMs(700, link)).toBeCloseTo(700 - link.usualSlowMs, 6);
		expect(lateByMs(200, link)).toBe(0);
	});

	it('a slow answer among the first few is still an outlier', () => {
		const link = times([100, 101, 102, 100, 700]).estimate()!;
		expect(link.outlierAboveMs).toBeLessThan(700);
		expect(link.spreadMs - SPACING_RULE.unseenSpreadMs).toBeLessThan(5);
	});

	it('one long trip in the first four answers, or two in the first eight, are outliers and not the spread', () => {
		// The spread is that of the others (with the room few answers get), nowhere near the long trips'.
		const four = times([168, 557, 174, 171]).estimate()!;
		expect(four.outlierAboveMs).toBeLessThan(557);
		expect(four.spreadMs - SPACING_RULE.unseenSpreadMs).toBeLessThan(20);
		const eight = times([178, 172, 702, 651, 173, 167, 176, 178]).estimate()!;
		expect(eight.outlierAboveMs).toBeLessThan(651);
		expect(eight.spreadMs - SPACING_RULE.unseenSpreadMs).toBeLessThan(30);
		// Answers that are merely spread out (a link whose trips vary by 100 ms) are no outliers.
		expect(times([175, 190, 240, 265]).estimate()!.outlierAboveMs).toBeGreaterThan(265);
	});

	it('few answers count for what they let one be sure of: their spread is scaled up, less and less as more come', () => {
		const scaled = (count: number) =>
			(times(evenly(100, 110, count)).estimate()!.spreadMs - SPACING_RULE.unseenSpreadMs) / 10;
		// Evenly spread trips show at least this share of their spread 7 times in 10: 4 answers about half of it.
		expect(scaled(4)).toBeCloseTo(2.0, 1);
		expect(scaled(10)).toBeCloseTo(1.27, 1);
		expect(scaled(19)).toBeCloseTo(1.12, 1);
		// From 20 answers on, what they show (between their 1st and 99th percentiles) is the estimate.
		expect(scaled(20)).toBeLessThanOrEqual(1);
		expect(scaled(40)).toBeLessThanOrEqual(1);
		// Answers that agree give a small estimate at once; answers that vary a wide one.
		expect(times([150, 151, 150, 152]).estimate()!.spreadMs).toBeLessThan(SPACING_RULE.unseenSpreadMs + 5);
		expect(times([150, 200, 175, 230]).estimate()!.spreadMs).toBeGreaterThan(SPACING_RULE.startMs);
		expect(times([150, 151, 150, 152]).estimate()!.answers).toBe(4);
	});

	it('a slow mode one answer in five belongs to is part of the link, not an outlier', () => {
		const answers = Array.from({ length: 60 }, (_, i) => (i % 5 === 0 ? 220 : 100 + (i % 3)));
		const link = times(answers).estimate()!;
		expect(link.outlierAboveMs).toBeGreaterThan(220);
		expect(link.spreadMs).toBeGreaterThan(115);
	});

	it('keeps the latest answers only, so a link that changes is relearnt', () => {
		const responses = times(evenly(100, 400, 64));
		expect(responses.estimate()!.spreadMs).toBeGreaterThan(250);
		for (let i = 0; i < SPACING_RULE.samples; i++) responses.add(100 + (i % 10));
		expect(responses.estimate()!.spreadMs - SPACING_RULE.unseenSpreadMs).toBeLessThan(10);
	});
});

describe('the margin', () => {
	const link: LinkEstimate = { spreadMs: 40, answers: 64, outlierAboveMs: 400, usualSlowMs: 240 };

	function accepted(
		state: SpacingState,
		count: number,
		floorMs = 0,
		estimate: LinkEstimate | 'unknown' = link,
	): SpacingState {
		for (let i = 0; i < count; i++)
			state = afterAccepted(state, estimate === 'unknown' ? undefined : estimate, floorMs);
		return state;
	}

	it('starts safe, above the floor when the floor is higher', () => {
		expect(initialSpacing(0).marginMs).toBe(SPACING_RULE.startMs);
		expect(initialSpacing(400).marginMs).toBe(400);
	});

	it('does not narrow before anything is known about the link', () => {
		expect(accepted(initialSpacing(0), 200, 0, 'unknown').marginMs).toBe(SPACING_RULE.startMs);
	});

	it('the first answers set the margin directly: one accepted send takes it from the start to the estimate', () => {
		const state = afterAccepted(initialSpacing(0), { ...link, spreadMs: 15, answers: 4 }, 0);
		expect(state.marginMs).toBe(15);
		expect(state.quietSends).toBe(1);
		// Never below the credential's floor.
		expect(afterAccepted(initialSpacing(0), { ...link, spreadMs: 15, answers: 4 }, 30).marginMs).toBe(30);
		// An estimate above the start leaves the start as it is: answers alone do not slow a gate that starts safe.
		expect(afterAccepted(initialSpacing(0), { ...link, spreadMs: 400, answers: 4 }, 0).marginMs).toBe(
			SPACING_RULE.startMs,
		);
	});

	it('while learning, the margin follows the estimate back up as long as the answers are few, never above the start', () => {
		const learnt = afterAccepted(initialSpacing(0), { ...link, spreadMs: 40, answers: 4 }, 0);
		// More answers show a wider link before any 429: the margin goes back up with the estimate…
		expect(afterAccepted(learnt, { ...link, spreadMs: 90, answers: 10 }, 0).marginMs).toBe(90);
		expect(afterAccepted(learnt, { ...link, spreadMs: 400, answers: 10 }, 0).marginMs).toBe(SPACING_RULE.startMs);
		// … but not once there are many (a wider estimate then is rare long trips joining the usual answers), and
		// not after a 429 the trips explained (the gate has stopped learning: the 429 rules take over).
		expect(afterAccepted(learnt, { ...link, spreadMs: 90, answers: 20 }, 0).marginMs).toBe(40);
		expect(afterAccepted({ ...learnt, failedAtMs: 30 }, { ...link, spreadMs: 90, answers: 10 }, 0).marginMs).toBe(40);
		expect(isLearning(learnt)).toBe(true);
		expect(isLearning({ ...learnt, failedAtMs: 30 })).toBe(false);
		expect(isLearning({ ...learnt, quietSends: SPACING_RULE.probeAfterSends + 1 })).toBe(false);
	});

	it('holds what it learnt, then probes lower ever faster while nothing is refused, down to 25 ms', () => {
		const state = accepted(initialSpacing(0), 1);
		expect(state.marginMs).toBe(link.spreadMs);
		const held = accepted(state, SPACING_RULE.probeAfterSends);
		expect(held.marginMs).toBe(state.marginMs);
		const first = accepted(held, SPACING_RULE.probeDoublingSends);
		const second = accepted(first, SPACING_RULE.probeDoublingSends);
		const firstStep = held.marginMs - first.marginMs;
		const secondStep = first.marginMs - second.marginMs;
		expect(firstStep).toBeGreaterThan(0);
		expect(secondStep).toBeGreaterThan(firstStep * 1.5);
		expect(accepted(second, 2000).marginMs).toBe(SPACING_RULE.probeFloorMs);
		// Where trips vary less than that, probing stops at their spread; a floor above it holds.
		const narrow = accepted(second, 2000, 0, { ...link, spreadMs: 8 }).marginMs;
		expect(narrow).toBeLessThanOrEqual(8);
		expect(narrow).toBeGreaterThanOrEqual(8 * (1 - SPACING_RULE.fastNarrowing));
		expect(accepted(second, 2000, 30).marginMs).toBeCloseTo(30, 6);
		// Answers spread over 400 ms (Studio's own work varying) do not keep the margin from probing down.
		const wide = { ...link, spreadMs: 400 };
		expect(accepted({ ...initialSpacing(0), marginMs: 380 }, 400, 0, wide).marginMs).toBeLessThan(60);
	});

	it('after a 429 the trips explain, narrows 5 % per accepted send down to what the link can need', () => {
		const widened = afterRefusal({ ...initialSpacing(0), marginMs: 40, failedAtMs: 1 }, 'jitter', 0, 0);
		const once = accepted(widened, 1);
		expect(once.marginMs).toBeCloseTo(widened.marginMs * (1 - SPACING_RULE.fastNarrowing), 6);
		const state = accepted(widened, 40);
		expect(state.marginMs).toBeLessThan(link.spreadMs * SPACING_RULE.failedLevelHeadroom + 5);
		expect(state.marginMs).toBeGreaterThanOrEqual(link.spreadMs * (1 - SPACING_RULE.fastNarrowing));
	});

	it('a jitter 429 widens at once, by half and 20 ms, and remembers the level it came at; its companions within a window do not widen again', () => {
		const state: SpacingState = { marginMs: 40, failedAtMs: 0, quietSends: 500, widenedAt: -Infinity };
		const widened = afterRefusal(state, 'jitter', 10_000, 0);
		expect(widened).toEqual({ marginMs: 80, failedAtMs: 40, quietSends: 0, widenedAt: 10_000 });
		expect(afterRefusal(widened, 'jitter', 10_500, 0)).toBe(widened);
		expect(afterRefusal(widened, 'jitter', 11_100, 0).marginMs).toBe(140);
		expect(afterRefusal({ ...state, marginMs: 900 }, 'jitter', 0, 0).marginMs).toBe(SPACING_RULE.capMs);
	});

	it('a jitter 429 below what the answers show the trips may vary by widens only up to that estimate', () => {
		const state: SpacingState = { marginMs: 100, failedAtMs: 0, quietSends: 20, widenedAt: -Infinity };
		// The answers say up to 115 ms: the margin goes there, not to 170 (a short campaign pays for every ms).
		const estimate: LinkEstimate = { spreadMs: 115, answers: 20, outlierAboveMs: 400, usualSlowMs: 270 };
		expect(afterRefusal(state, 'jitter', 0, 0, estimate)).toEqual({
			marginMs: 115,
			failedAtMs: 100,
			quietSends: 0,
			widenedAt: 0,
		});
		// At or above the estimate the answers do not explain the 429: the usual step.
		expect(afterRefusal(state, 'jitter', 0, 0, { ...estimate, spreadMs: 90 }).marginMs).toBe(170);
		// A second 429 once there is not explained either.
		const again = afterRefusal(afterRefusal(state, 'jitter', 0, 0, estimate), 'jitter', 5000, 0, estimate);
		expect(again.marginMs).toBeCloseTo(115 * 1.5 + 20, 6);
		// A floor above the estimate still holds.
		expect(afterRefusal(state, 'jitter', 0, 130, estimate).marginMs).toBe(130);
	});

	it('a 429 before the link is known widens the same, but remembers no level: the estimate that follows sets the margin', () => {
		const widened = afterRefusal(initialSpacing(0), 'unknown', 0, 0);
		expect(widened.marginMs).toBe(SPACING_RULE.startMs * SPACING_RULE.widenFactor + SPACING_RULE.widenAddMs);
		expect(widened.failedAtMs).toBe(0);
		expect(accepted(widened, 1).marginMs).toBe(link.spreadMs);
		// After a jitter 429 at the same level, it stops a little above that level instead.
		const jitter = afterRefusal(initialSpacing(0), 'jitter', 0, 0);
		expect(accepted(jitter, 80).marginMs).toBeGreaterThan(SPACING_RULE.startMs);
	});

	it('a straggler or foreign 429 leaves the margin as it is', () => {
		const state: SpacingState = { marginMs: 40, failedAtMs: 0, quietSends: 500, widenedAt: -Infinity };
		expect(afterRefusal(state, 'straggler', 10_000, 0)).toBe(state);
		expect(afterRefusal(state, 'foreign', 10_000, 0)).toBe(state);
	});

	it("narrows quickly only down to a little above the level a 429 came at, however small the trips' spread looks", () => {
		let state = afterRefusal({ marginMs: 100, failedAtMs: 0, quietSends: 0, widenedAt: -Infinity }, 'jitter', 0, 0);
		state = accepted(state, 40, 0, { ...link, spreadMs: 10 });
		expect(state.marginMs).toBeGreaterThan(100);
		expect(state.marginMs).toBeLessThan(100 * SPACING_RULE.failedLevelHeadroom + 1);
	});
});

describe('classifyRefusal', () => {
	const link: LinkEstimate = { spreadMs: 40, answers: 64, outlierAboveMs: 300, usualSlowMs: 150 };

	it('jitter: refused although started a window (plus what trips vary) after the tier-th start before it', () => {
		expect(classifyRefusal({ startedAt: 5000, responseMs: 120, gapMs: 1040 }, [], link, 5120)).toBe('jitter');
		expect(classifyRefusal({ startedAt: 5000, responseMs: 120, gapMs: 1060 }, [], link, 5120)).toBe('jitter');
	});

	it('foreign: refused although the starts were further apart than any trip variation (another sender)', () => {
		expect(classifyRefusal({ startedAt: 5000, responseMs: 120, gapMs: 1100 }, [], link, 5120)).toBe('foreign');
		expect(classifyRefusal({ startedAt: 5000, responseMs: 120, gapMs: Infinity }, [], link, 5120)).toBe('foreign');
	});

	it('straggler: a send started just before took far longer than usual, answered or still on its way', () => {
		const refusal = { startedAt: 5000, responseMs: 120, gapMs: 1100 };
		expect(classifyRefusal(refusal, [{ startedAt: 3900, responseMs: 500 }], link, 5120)).toBe('straggler');
		expect(classifyRefusal(refusal, [{ startedAt: 3900 }], link, 5120)).toBe('straggler');
		// Long, but started so early that even its late arrival was more than a second before this one.
		expect(classifyRefusal(refusal, [{ startedAt: 3000, responseMs: 500 }], link, 5120)).toBe('foreign');
		// Started after the refused one: it cannot have crowded it.
		expect(classifyRefusal(refusal, [{ startedAt: 5010 }], link, 5120)).toBe('foreign');
		// Usual answers do not explain anything.
		expect(classifyRefusal(refusal, [{ startedAt: 3900, responseMs: 160 }], link, 5120)).toBe('foreign');
	});

	it('straggler: the refused send itself took far longer than usual (sends started after it overtook it)', () => {
		// Started well over a second after the tier-th start before it (it would be foreign), but its own trip was long.
		expect(classifyRefusal({ startedAt: 5000, responseMs: 1450, gapMs: 1100 }, [], link, 6450)).toBe('straggler');
		expect(classifyRefusal({ startedAt: 5000, responseMs: 1450, gapMs: 1030 }, [], link, 6450)).toBe('straggler');
		// An ordinary answer time: as before.
		expect(classifyRefusal({ startedAt: 5000, responseMs: 290, gapMs: 1030 }, [], link, 5290)).toBe('jitter');
	});

	it('with nothing known about the link, a 429 cannot be told apart (the margin widens, no level is remembered)', () => {
		expect(classifyRefusal({ startedAt: 5000, responseMs: 120, gapMs: Infinity }, [], undefined, 5120)).toBe('unknown');
	});
});
