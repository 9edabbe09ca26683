// The in-process rate gate: the window rule over many random schedules (virtual time, exact), the spacing after
// each kind of 429, and the rules every gate promises (test/contracts/rateGate.contract.ts, real time). The
// learning itself (how wide the window must be for a link) is in spacing.test.ts and learning.test.ts; one gate per
// account in accounts.test.ts.
import { SendCancelledError } from '../../core/errors';
import { preciseClock } from '../../editions/queue/clock';
import { LocalRateGate, SPACING_TOLERANCE_MS, WINDOW_MS, type Admission, type RateGate } from '../../core/rateGate';
import { SPACING_RULE } from '../../core/spacing';
import { maxInAnyWindow } from '../../simulator/windows';
import { VirtualClock, random } from '../../harness/virtualClock';
import { rateGateContract } from '../contracts/rateGate.contract';

interface Request {
	requestedAt: number;
	grantedAt?: number;
	cancelledAt?: number;
	rejectedAt?: number;
	error?: unknown;
}

describe('LocalRateGate window rule over random schedules (virtual time)', () => {
	it('never lets any window of 1000 ms + the margin hold more than the tier, and starts as early as the rule allows', async () => {
		for (let seed = 1; seed <= 150; seed++) {
			const rand = random(seed);
			const tier = 1 + Math.floor(rand() * 6);
			// Without answers the gate learns nothing: the margin stays at the safe start, or the floor above it.
			const floorMs = [0, 10, 50, 300][Math.floor(rand() * 4)];
			const clock = new VirtualClock();
			const gate = new LocalRateGate({ tier, floorMs }, clock);
			const marginMs = gate.marginMs;
			expect(marginMs).toBe(Math.max(floorMs, SPACING_RULE.startMs));
			const windowMs = WINDOW_MS + marginMs;
			const requests: Request[] = [];
			const events: Array<{ at: number; action: () => void }> = [];

			// Bursts of acquires at random moments, some cancelled at a random later moment.
			let at = 0;
			const bursts = 3 + Math.floor(rand() * 6);
			for (let b = 0; b < bursts; b++) {
				at += Math.floor(rand() * 3000);
				const size = 1 + Math.floor(rand() * 3 * tier);
				for (let i = 0; i < size; i++) {
					const request: Request = { requestedAt: at + Math.floor(rand() * 50) };
					const controller = new AbortController();
					requests.push(request);
					events.push({
						at: request.requestedAt,
						action: () => {
							gate.acquire(controller.signal).then(
								() => (request.grantedAt = clock.now()),
								(error) => {
									request.rejectedAt = clock.now();
									request.error = error;
								},
							);
						},
					});
					if (rand() < 0.2) {
						const cancelAt = request.requestedAt + Math.floor(rand() * 4000);
						events.push({
							at: cancelAt,
							action: () => {
								if (request.grantedAt === undefined) request.cancelledAt = clock.now();
								controller.abort();
							},
						});
					}
				}
			}
			await clock.run(events);

			const starts = requests.filter((r) => r.grantedAt !== undefined).map((r) => r.grantedAt!);
			const context = `seed ${seed}, tier ${tier}, margin ${marginMs}`;
			expect([context, maxInAnyWindow(starts, windowMs) <= tier]).toEqual([context, true]);

			for (const request of requests) {
				if (request.cancelledAt !== undefined) {
					// Cancelled while waiting: rejected at that very moment, never started.
					expect(request.grantedAt).toBeUndefined();
					expect(request.error).toBeInstanceOf(SendCancelledError);
					expect(request.rejectedAt).toBe(request.cancelledAt);
				} else {
					expect(request.grantedAt).toBeDefined();
				}
			}

			// Starts are spread evenly: never closer than window / tier, less the small timer tolerance.
			const sortedStarts = [...starts].sort((a, b) => a - b);
			for (let i = 1; i < sortedStarts.length; i++) {
				const gap = sortedStarts[i] - sortedStarts[i - 1];
				expect([context, i, gap >= windowMs / tier - SPACING_TOLERANCE_MS]).toEqual([context, i, true]);
			}

			// Work-conserving: each start happens as soon as the window rule and the spread schedule allow (FIFO),
			// at most 1 ms late (timers have millisecond resolution), so no slot is wasted.
			const granted = requests
				.filter((r) => r.grantedAt !== undefined)
				.sort((a, b) => a.grantedAt! - b.grantedAt! || a.requestedAt - b.requestedAt);
			let schedule = -Infinity;
			for (let i = 0; i < granted.length; i++) {
				let earliest = Math.max(granted[i].requestedAt, schedule);
				if (i > 0) earliest = Math.max(earliest, sortedStarts[i - 1]);
				if (i >= tier) earliest = Math.max(earliest, sortedStarts[i - tier] + windowMs);
				// A cancelled request ahead in the queue may have been the one waiting; the next moves up at once.
				expect([context, i, sortedStarts[i] - earliest <= 1]).toEqual([context, i, true]);
				schedule = (sortedStarts[i] - schedule <= SPACING_TOLERANCE_MS ? schedule : sortedStarts[i]) + windowMs / tier;
			}
			expect(clock.pendingTimers).toBe(0);
		}
	});

	it('a cancelled waiter frees its place for the next one', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1 }, clock);
		const log: string[] = [];
		const controller = new AbortController();
		await clock.run([
			{ at: 0, action: () => void gate.acquire().then(() => log.push(`a@${clock.now()}`)) },
			{
				at: 10,
				action: () => void gate.acquire(controller.signal).catch((e: Error) => log.push(`b-${e.name}@${clock.now()}`)),
			},
			{ at: 20, action: () => void gate.acquire().then(() => log.push(`c@${clock.now()}`)) },
			{ at: 500, action: () => controller.abort() },
		]);
		expect(log).toEqual(['a@0', 'b-SendCancelledError@500', `c@${WINDOW_MS + SPACING_RULE.startMs}`]);
	});

	it('an already aborted signal rejects without taking a place', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1 }, clock);
		const controller = new AbortController();
		controller.abort();
		await expect(gate.acquire(controller.signal)).rejects.toBeInstanceOf(SendCancelledError);
		const log: number[] = [];
		await clock.run([{ at: 5, action: () => void gate.acquire().then(() => log.push(clock.now())) }]);
		expect(log).toEqual([5]);
	});
});

const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);

describe('LocalRateGate and 429s (virtual time)', () => {
	const RESPONSE_MS = 100;

	/** Starts `count` sends from `from` on; each answer is given `answer(index)` ms later (undefined: never). */
	async function starts(
		gate: LocalRateGate,
		clock: VirtualClock,
		count: number,
		from: number,
		outcome: (index: number) => Parameters<Admission['settle']>[0] = () => ({ kind: 'other' }),
		answerAfterMs: (index: number) => number = () => RESPONSE_MS,
	): Promise<number[]> {
		const times: number[] = [];
		const events = Array.from({ length: count }, (_, index) => ({
			at: from,
			action: () =>
				void gate.acquire().then((admission) => {
					times[index] = clock.now();
					clock.setTimer(() => admission.settle(outcome(index)), answerAfterMs(index));
				}),
		}));
		await clock.run(events);
		return times;
	}

	/**
	 * A gate that has seen four sends answered in 100 ms each: it knows its link (trips do not vary). Its floor of
	 * 100 ms keeps its starts further apart than trips vary, so a 429 is not one more spacing would cure.
	 */
	async function gateWithKnownLink(tier: number, clock: VirtualClock, penalty = {}): Promise<LocalRateGate> {
		const gate = new LocalRateGate({ tier, floorMs: 100 }, clock, {
			maxLevel: 3,
			recoveryMs: 10_000,
			graceMs: 30_000,
			...penalty,
		});
		await starts(gate, clock, 4, 0, () => ({ kind: 'accepted' }));
		return gate;
	}

	it('429s at starts further apart than trips vary slow the gate: a lone one only pauses for Retry-After, a second within the grace period doubles the window, once per window; recovers without them', async () => {
		const clock = new VirtualClock();
		const gate = await gateWithKnownLink(2, clock);
		const window = WINDOW_MS + gate.marginMs;
		const before = await starts(gate, clock, 2, clock.now());
		expect(gaps(before)).toEqual([window / 2]);

		// A lone 429 (none in the 30 s before) answered with Retry-After 3 s holds every start until then and
		// keeps the full tier afterwards.
		const [lone] = await starts(gate, clock, 1, clock.now(), () => ({ kind: 'refused', retryAfterMs: 3000 }));
		expect(gate.slowdownLevel).toBe(0);
		const afterLone = await starts(gate, clock, 3, clock.now());
		expect(afterLone[0]).toBe(lone + RESPONSE_MS + 3000);
		expect(gaps(afterLone)).toEqual([window / 2, window / 2]);
		expect(gate.marginMs).toBe(window - WINDOW_MS); // such 429s do not widen the margin

		// Two more within 30 s, answered together: they count once, level 1: the window doubles.
		await starts(gate, clock, 2, clock.now(), () => ({ kind: 'refused' }));
		expect(gate.slowdownLevel).toBe(1);
		const slowed = await starts(gate, clock, 4, clock.now());
		expect(gaps(slowed)).toEqual([window, window, window]);

		// Another a window later: level 2.
		await starts(gate, clock, 1, clock.now(), () => ({ kind: 'refused' }));
		expect(gate.slowdownLevel).toBe(2);
		const slower = await starts(gate, clock, 3, clock.now());
		expect(gaps(slower)).toEqual([2 * window, 2 * window]);

		// 30 s without one: back to the full tier.
		const quietFrom = clock.now() + 30_000;
		await clock.run([{ at: quietFrom, action: () => undefined }]);
		expect(gate.slowdownLevel).toBe(0);
		const recovered = await starts(gate, clock, 4, quietFrom);
		expect(recovered[0]).toBe(quietFrom);
		expect(gaps(recovered)).toEqual([window / 2, window / 2, window / 2]);
	});

	it('lone such 429s further apart than the grace period never slow the gate', async () => {
		const clock = new VirtualClock();
		const gate = await gateWithKnownLink(2, clock);
		const window = WINDOW_MS + gate.marginMs;
		for (let minute = 0; minute < 5; minute++) {
			await clock.run([{ at: clock.now() + 31_000, action: () => undefined }]);
			await starts(gate, clock, 1, clock.now(), () => ({ kind: 'refused' }));
			expect(gate.slowdownLevel).toBe(0);
			expect(gaps(await starts(gate, clock, 6, clock.now()))).toEqual([1, 2, 3, 4, 5].map(() => window / 2));
		}
	});

	it('caps the slowdown at maxLevel', async () => {
		const clock = new VirtualClock();
		const gate = await gateWithKnownLink(1, clock, { maxLevel: 2, recoveryMs: 60_000 });
		for (let i = 0; i < 6; i++) await starts(gate, clock, 1, clock.now(), () => ({ kind: 'refused' }));
		expect(gate.slowdownLevel).toBe(2);
	});

	it('a margin learnt from an answer applies to the very next start', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1 }, clock);
		// Every answer 100 ms after its start: four that agree tell the gate its link (trips do not vary).
		const times = await starts(gate, clock, 6, 0, () => ({ kind: 'accepted' }));
		const window = WINDOW_MS + SPACING_RULE.startMs;
		expect(gaps(times).slice(0, 3)).toEqual([window, window, window]);
		expect(gate.marginMs).toBeLessThan(SPACING_RULE.startMs / 5);
		// The fourth answer came 100 ms after the fourth start: the fifth start keeps only the learnt margin (it was
		// fixed by the margin in force at the fourth start before).
		expect(gaps(times).slice(3)).toEqual([WINDOW_MS + gate.marginMs, WINDOW_MS + gate.marginMs]);
	});

	it("a 429 within the trips' variation widens the margin at once and does not slow the gate", async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1 }, clock);
		// Answers in 50, 100, 150 and 200 ms: trips may vary by up to ~150 ms.
		await starts(
			gate,
			clock,
			4,
			0,
			() => ({ kind: 'accepted' }),
			(index) => 50 * (index + 1),
		);
		const before = gate.marginMs;
		const [refusedAt] = await starts(gate, clock, 1, clock.now(), () => ({ kind: 'refused' }));
		expect(gate.slowdownLevel).toBe(0);
		expect(gate.marginMs).toBe(before * SPACING_RULE.widenFactor + SPACING_RULE.widenAddMs);
		const [next] = await starts(gate, clock, 1, clock.now());
		expect(next - refusedAt).toBe(WINDOW_MS + gate.marginMs);
	});

	it('a send that took far longer than usual counts as arriving that much later: the next start keeps a window from its arrival, and the 429 it may cause changes nothing', async () => {
		const clock = new VirtualClock();
		const gate = await gateWithKnownLink(1, clock);
		const margin = gate.marginMs;
		// One long trip: answered after 700 ms instead of 100, so it reached Studio about 600 ms late.
		const [straggler] = await starts(
			gate,
			clock,
			1,
			clock.now(),
			() => ({ kind: 'accepted' }),
			() => 700,
		);
		const [next] = await starts(gate, clock, 1, clock.now());
		expect(next - straggler).toBeCloseTo(600 + WINDOW_MS + gate.marginMs, 6);

		// When its answer comes too late to hold the next start back, the 429 that follows is the straggler's
		// doing: retried, but neither the margin nor the speed changes.
		const slowAnswer = await starts(
			gate,
			clock,
			2,
			clock.now(),
			(index) => ({ kind: index === 0 ? 'accepted' : 'refused' }),
			(index) => (index === 0 ? 2000 : RESPONSE_MS),
		);
		expect(slowAnswer).toHaveLength(2);
		expect(gate.slowdownLevel).toBe(0);
		expect(gate.marginMs).toBeLessThanOrEqual(margin);
	});
});

const gates: LocalRateGate[] = [];
afterEach(async () => {
	for (const gate of gates.splice(0)) await gate.close();
});

rateGateContract(() => ({
	name: 'in process',
	account(settings, penalty) {
		// In one process every execution shares the account's one gate (core/accounts.ts).
		const gate = new LocalRateGate(settings, preciseClock, penalty);
		gates.push(gate);
		// The gate records a start and lets its send go in the same turn of the event loop, so the moment the
		// send is let go is the record (the gate keeps no more of its log than the window rule needs).
		const started: number[] = [];
		const stamped: RateGate = {
			acquire: async (signal) => {
				const admission = await gate.acquire(signal);
				started.push(preciseClock.now());
				return admission;
			},
			configure: (next) => gate.configure(next),
			close: () => gate.close(),
		};
		return {
			first: stamped,
			another: () => stamped,
			view: async () => ({ slowdownLevel: gate.slowdownLevel, marginMs: gate.marginMs }),
			written: async () => undefined,
			startedAt: async () => [...started],
		};
	},
}));
