// The rules every rate gate promises, whichever store keeps its state: one suite that each store's test file runs
// (the in-process gate in test/core/rateGate.test.ts, the Redis gate in test/editions/queue/redisRateGate.test.ts),
// so a rule broken in one store fails the same test as in the other.
//
// Real time, for both: the Redis gate times its starts by the Redis server's clock, which virtual time cannot drive.
// So the assertions are the rules themselves (never more than the tier in a window, never a start before a pause
// has passed: bounds a busy machine cannot break) and what the store says the account's gate is doing (its
// slowdown level and learnt margin), never a rate. How far apart starts are is read from the store's own record
// of them (`startedAt`), not from when this process got to stamp them: a busy machine can stamp one start tens of
// ms late and the next on time, which looks like a gap shorter than the rule (a CI run failed so, 30 ms short).
// The exact schedules (every start as early as the rule allows, the spacing after each kind of 429, over many
// random schedules) are proven in virtual time for the in-process gate in its own file; what only Redis does
// (processes, Redis going away, late admissions) in the Redis gate's.
import { SendCancelledError } from '../../core/errors';
import {
	WINDOW_MS,
	type Admission,
	type PenaltyOptions,
	type RateGate,
	type RateGateSettings,
} from '../../core/rateGate';
import { SPACING_RULE } from '../../core/spacing';
import { REAL_TIME_MARGIN_MS } from '../../harness/fixtures';
import { until } from '../../harness/until';
import { maxInAnyWindow } from '../../simulator/windows';

/** What the store says the account's gate goes by now (every gate of the account goes by the same). */
export interface GateView {
	/** 0 = the full tier; each level doubles the window. */
	slowdownLevel: number;
	marginMs: number;
}

/** The gates of one new account in one store. */
export interface GateAccount {
	first: RateGate;
	/** The account's gate as another n8n process gets it (in memory, the same gate: one per account per process). */
	another(): RateGate;
	view(): Promise<GateView>;
	/** Resolves once the store has recorded every outcome settled so far (Redis writes them in the background). */
	written(): Promise<void>;
	/**
	 * Every start of the account the store still holds, oldest first: when it counted each (ms, by the store's own
	 * clock), as the window rule reads them. Redis also holds an admission its gate left unused (it came back late).
	 */
	startedAt(): Promise<number[]>;
}

export interface GateStore {
	name: string;
	account(settings: RateGateSettings, penalty?: Partial<PenaltyOptions>): GateAccount;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Timer and clock granularity between the store's clock and this process's: 1 ms would do, 5 is safe. */
const SLACK_MS = 5;

/** Starts `count` sends through `gate` one after another; returns when each started. */
async function startsOf(gate: RateGate, count: number, settle?: (admission: Admission) => void): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const admission = await gate.acquire();
		times.push(now());
		settle?.(admission);
	}
	return times;
}

/** Four sends answered at once: the gate knows its link (trips barely vary), so it can tell 429s apart. */
async function warmUp(gate: RateGate): Promise<void> {
	await startsOf(gate, 4, (admission) => admission.settle({ kind: 'accepted' }));
}

const viewOnce = (account: GateAccount, what: string, done: (view: GateView) => boolean) =>
	until(
		what,
		async () => {
			const view = await account.view();
			return done(view) ? view : undefined;
		},
		5_000,
		20,
	);

export function rateGateContract(store: () => GateStore): void {
	describe(`the rate gate's rules (${store().name})`, () => {
		it('never lets the gates of one account start more than the tier in any second, together', async () => {
			const tier = 4;
			const account = store().account({ tier, floorMs: REAL_TIME_MARGIN_MS });
			const take = (gate: RateGate, count: number) => Promise.all(Array.from({ length: count }, () => gate.acquire()));
			await Promise.all([take(account.first, 8), take(account.another(), 8)]);
			const recorded = await account.startedAt();
			expect(recorded.length).toBeGreaterThanOrEqual(16);
			expect(maxInAnyWindow(recorded, WINDOW_MS)).toBeLessThanOrEqual(tier);
		});

		it('holds every start of the account until a Retry-After has passed; a lone 429 more spacing would not cure does not slow the gate', async () => {
			// A floor keeps the starts further apart than the (barely varying) trips: a 429 here is not one more spacing
			// would cure.
			const account = store().account({ tier: 3, floorMs: 100 });
			await warmUp(account.first);
			const refused = await account.first.acquire();
			const refusedAt = now();
			refused.settle({ kind: 'refused', retryAfterMs: 700 });
			await account.written();
			const [next] = await startsOf(account.another(), 1);
			expect(next - refusedAt).toBeGreaterThanOrEqual(700 - SLACK_MS);
			expect((await account.view()).slowdownLevel).toBe(0);
		});

		it('a second such 429 within the grace period slows every gate of the account, once per window, and it recovers without them', async () => {
			const tier = 3;
			const floorMs = 100;
			const account = store().account({ tier, floorMs }, { recoveryMs: 3000 });
			const other = account.another();
			// Each process learns its link from its own answers: both know theirs.
			await warmUp(account.first);
			await warmUp(other);
			(await account.first.acquire()).settle({ kind: 'refused' });
			await account.written();
			expect((await account.view()).slowdownLevel).toBe(0);
			// A window later, from another gate of the account: the level rises for all of them.
			await sleep(WINDOW_MS + floorMs + 100);
			(await other.acquire()).settle({ kind: 'refused' });
			await viewOnce(account, 'slowdown level 1', (view) => view.slowdownLevel === 1);
			// Its companion within the same window counts once.
			(await account.first.acquire()).settle({ kind: 'refused' });
			await account.written();
			expect((await account.view()).slowdownLevel).toBe(1);
			// Slowed (for 3 s): starts twice as far apart as at the full tier (a bound a busy machine cannot break).
			await startsOf(other, 2);
			const slowed = (await account.startedAt()).slice(-2);
			for (let i = 1; i < slowed.length; i++) {
				expect(slowed[i] - slowed[i - 1]).toBeGreaterThanOrEqual((2 * (WINDOW_MS + floorMs)) / tier - SLACK_MS);
			}
			await viewOnce(account, 'the slowdown to pass', (view) => view.slowdownLevel === 0);
		});

		/**
		 * Four sends answered `answerMs` after their start, then a 429 for a fifth: the margin the account's gate went
		 * by before the 429 (asserted to be where it started) and after it.
		 */
		async function widenedAfter(answerMs: number[]): Promise<{ before: number; widened: number }> {
			const account = store().account({ tier: 1 });
			for (const ms of answerMs) {
				const admission = await account.first.acquire();
				setTimeout(() => admission.settle({ kind: 'accepted' }), ms);
			}
			await sleep(Math.max(...answerMs) + 50);
			await account.written();
			const before = (await account.view()).marginMs;
			expect(before).toBe(SPACING_RULE.startMs);
			const refused = await account.first.acquire();
			setTimeout(() => refused.settle({ kind: 'refused' }), 50);
			const widened = (await viewOnce(account, 'a wider margin', (view) => view.marginMs > before)).marginMs;
			// Another gate of the account, which saw none of it, starts a second plus that margin apart.
			await startsOf(account.another(), 2);
			const [a, b] = (await account.startedAt()).slice(-2);
			expect(b - a).toBeGreaterThanOrEqual(WINDOW_MS + widened - SLACK_MS);
			return { before, widened };
		}

		it('a 429 the trips explain widens the learnt margin at once, and every gate of the account paces by it', async () => {
			// Trips may vary by ~300 ms, more than the margin the gate starts with.
			const { before, widened } = await widenedAfter([50, 150, 250, 350]);
			expect(widened).toBeCloseTo(before * SPACING_RULE.widenFactor + SPACING_RULE.widenAddMs, 3);
		});

		it('a 429 just below what the answers show widens the margin only to their estimate, for every gate of the account', async () => {
			// The trips may vary by about 130 ms (a spread of 60 ms, scaled up for so few answers), a little more than
			// the margin the gate starts with, which stays where it started.
			const { before, widened } = await widenedAfter([40, 60, 80, 100]);
			// Not the usual step (× 1.5 + 20 ms): the estimate is all the answers say the link can need.
			expect(widened).toBeLessThan(before * SPACING_RULE.widenFactor + SPACING_RULE.widenAddMs);
		});

		it('the first answers set the margin for every gate of the account: four that agree take it far below the start at once', async () => {
			const account = store().account({ tier: 5 });
			expect((await account.view()).marginMs).toBe(SPACING_RULE.startMs);
			await warmUp(account.first);
			const learnt = await viewOnce(account, 'the learnt margin', (view) => view.marginMs < SPACING_RULE.startMs);
			// A few ms of spread, doubled for so few answers, plus what answers cannot show: far below the start (the
			// bound leaves room for a busy machine's event loop).
			expect(learnt.marginMs).toBeLessThan(SPACING_RULE.startMs / 2);
		});

		it('cancelling a wait rejects it at once and takes no start: the next send gets its place', async () => {
			const floorMs = 100;
			const account = store().account({ tier: 1, floorMs });
			const [first] = await startsOf(account.first, 1);
			const controller = new AbortController();
			const waiting = account.first.acquire(controller.signal);
			const next = account.another().acquire();
			await sleep(50);
			const abortedAt = now();
			controller.abort();
			await expect(waiting).rejects.toBeInstanceOf(SendCancelledError);
			expect(now() - abortedAt).toBeLessThan(500);
			await next;
			// One window after the first start, not two: the cancelled wait took none.
			expect(now() - first).toBeLessThan(2 * (WINDOW_MS + floorMs) - 300);
		});

		it('an already aborted signal rejects without taking a place', async () => {
			const floorMs = 100;
			const account = store().account({ tier: 1, floorMs });
			const [first] = await startsOf(account.first, 1);
			const controller = new AbortController();
			controller.abort();
			await expect(account.first.acquire(controller.signal)).rejects.toBeInstanceOf(SendCancelledError);
			await account.first.acquire();
			// One window after the first start, not two: the aborted send took no place.
			expect(now() - first).toBeLessThan(2 * (WINDOW_MS + floorMs) - 300);
		});

		it('close rejects the sends still waiting', async () => {
			const account = store().account({ tier: 1 });
			await account.first.acquire();
			const waiting = account.first.acquire();
			await account.first.close();
			await expect(waiting).rejects.toThrow('closed');
		});

		it('an edited tier applies from the next start, and never more than the new tier in any second', async () => {
			const floorMs = 100;
			const account = store().account({ tier: 1, floorMs });
			await startsOf(account.first, 1);
			account.first.configure({ tier: 4, floorMs });
			const after = await startsOf(account.first, 4);
			expect(maxInAnyWindow(await account.startedAt(), WINDOW_MS)).toBeLessThanOrEqual(4);
			// Four starts at tier 1 would take three windows; at tier 4 they take less than one.
			expect(after[3] - after[0]).toBeLessThan(2 * (WINDOW_MS + floorMs));
		});
	});
}
