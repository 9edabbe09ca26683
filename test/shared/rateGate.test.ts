// The in-process rate gate: the window rule over many random schedules (virtual time, exact), the same rule and a
// loose throughput floor in real time, cancellation, slowing down after 429s, and one shared gate per account.
import { SendCancelledError } from '../../nodes/shared/errors';
import {
	DEFAULT_MARGIN_MS,
	LocalRateGate,
	SPACING_TOLERANCE_MS,
	WINDOW_MS,
	accountId,
	closeAllRateGates,
	getRateGate,
	type GateClock,
} from '../../nodes/shared/rateGate';
import { maxInAnyWindow } from '../simulator/windows';

/** Discrete-event time: timers run in time order, and promise callbacks settle before time moves on. */
class VirtualClock implements GateClock {
	private time = 0;
	private sequence = 0;
	private timers: Array<{ at: number; seq: number; callback: () => void }> = [];

	now(): number {
		return this.time;
	}
	setTimer(callback: () => void, ms: number): unknown {
		const timer = { at: this.time + ms, seq: this.sequence++, callback };
		this.timers.push(timer);
		return timer;
	}
	clearTimer(handle: unknown): void {
		this.timers = this.timers.filter((timer) => timer !== handle);
	}
	get pendingTimers(): number {
		return this.timers.length;
	}
	/** Runs timers and the given events (time, action) in order until both are exhausted. */
	async run(events: Array<{ at: number; action: () => void }>): Promise<void> {
		const queue = [...events].sort((a, b) => a.at - b.at);
		for (;;) {
			await settle();
			this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
			const timer = this.timers[0];
			const event = queue[0];
			if (!timer && !event) return;
			if (event && (!timer || event.at <= timer.at)) {
				queue.shift();
				this.time = Math.max(this.time, event.at);
				event.action();
			} else {
				this.timers.shift();
				this.time = Math.max(this.time, timer.at);
				timer.callback();
			}
		}
	}
}

/** Sustained starts per second: tier over the mean time between starts `tier` places apart (bursts or not). */
function sustainedRate(times: number[], tier: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let total = 0;
	for (let i = 0; i + tier < sorted.length; i++) total += sorted[i + tier] - sorted[i];
	return (tier * 1000) / (total / (sorted.length - tier));
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Small reproducible generator so a failing schedule can be replayed from its seed. */
function random(seed: number): () => number {
	let state = seed >>> 0 || 1;
	return () => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return state / 0x100000000;
	};
}

interface Request {
	requestedAt: number;
	grantedAt?: number;
	cancelledAt?: number;
	rejectedAt?: number;
	error?: unknown;
}

describe('LocalRateGate window rule over random schedules (virtual time)', () => {
	it('never lets any window of 1000 + margin ms hold more than the tier, and starts as early as the rule allows', async () => {
		for (let seed = 1; seed <= 150; seed++) {
			const rand = random(seed);
			const tier = 1 + Math.floor(rand() * 6);
			const marginMs = [0, 10, DEFAULT_MARGIN_MS, 50][Math.floor(rand() * 4)];
			const windowMs = WINDOW_MS + marginMs;
			const clock = new VirtualClock();
			const gate = new LocalRateGate({ tier, marginMs }, clock);
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
		const gate = new LocalRateGate({ tier: 1, marginMs: 0 }, clock);
		const log: string[] = [];
		const controller = new AbortController();
		await clock.run([
			{ at: 0, action: () => void gate.acquire().then(() => log.push(`a@${clock.now()}`)) },
			{
				at: 10,
				action: () =>
					void gate.acquire(controller.signal).catch((e: Error) => log.push(`b-${e.name}@${clock.now()}`)),
			},
			{ at: 20, action: () => void gate.acquire().then(() => log.push(`c@${clock.now()}`)) },
			{ at: 500, action: () => controller.abort() },
		]);
		expect(log).toEqual(['a@0', 'b-SendCancelledError@500', 'c@1000']);
	});

	it('an already aborted signal rejects without taking a place', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1, marginMs: 0 }, clock);
		const controller = new AbortController();
		controller.abort();
		await expect(gate.acquire(controller.signal)).rejects.toBeInstanceOf(SendCancelledError);
		const log: number[] = [];
		await clock.run([{ at: 5, action: () => void gate.acquire().then(() => log.push(clock.now())) }]);
		expect(log).toEqual([5]);
	});
});

const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);

describe('LocalRateGate penalize (virtual time)', () => {
	async function startsAfter(gate: LocalRateGate, clock: VirtualClock, count: number, from: number): Promise<number[]> {
		const starts: number[] = [];
		const events = Array.from({ length: count }, () => ({
			at: from,
			action: () => void gate.acquire().then(() => starts.push(clock.now())),
		}));
		await clock.run(events);
		return starts;
	}

	it('pauses all starts for Retry-After; a second 429 within the grace period doubles the window, once per window; recovers without 429s', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 2, marginMs: 0 }, clock, { maxLevel: 3, recoveryMs: 10_000, graceMs: 30_000 });
		const before = await startsAfter(gate, clock, 2, 0);
		expect(before).toEqual([0, 500]); // tier 2: one start every 500 ms

		// Three 429s answered together are one; Retry-After 3 s holds everything until 3000. A lone 429 (none in the
		// 30 s before) keeps the full tier afterwards.
		const penalizedAt = clock.now();
		gate.penalize(3000);
		gate.penalize();
		gate.penalize();
		expect(gate.slowdownLevel).toBe(0);
		const afterLone = await startsAfter(gate, clock, 3, clock.now());
		expect(afterLone[0]).toBe(penalizedAt + 3000);
		expect(gaps(afterLone)).toEqual([500, 500]);

		// Another within 30 s (again two replies together): level 1, the window is 2000 ms, starts 1000 ms apart.
		gate.penalize();
		gate.penalize();
		expect(gate.slowdownLevel).toBe(1);
		const slowed = await startsAfter(gate, clock, 4, clock.now());
		expect(gaps(slowed)).toEqual([1000, 1000, 1000]);

		// Another 429 a window later: level 2, starts 2000 ms apart.
		gate.penalize();
		expect(gate.slowdownLevel).toBe(2);
		const slower = await startsAfter(gate, clock, 3, clock.now());
		expect(slower[0] - slowed[slowed.length - 1]).toBeGreaterThanOrEqual(2000);
		expect(gaps(slower)).toEqual([2000, 2000]);
		expect(maxInAnyWindow([...slowed, ...slower].slice(-4), 4000)).toBeLessThanOrEqual(2);

		// 20 s without a 429: back to the full tier.
		const quietFrom = clock.now() + 20_000;
		await clock.run([{ at: quietFrom, action: () => undefined }]);
		expect(gate.slowdownLevel).toBe(0);
		const recovered = await startsAfter(gate, clock, 4, quietFrom);
		expect(recovered[0]).toBe(quietFrom);
		expect(gaps(recovered)).toEqual([500, 500, 500]);
	});

	it('lone 429s further apart than the grace period never slow the gate', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 2, marginMs: 0 }, clock, { maxLevel: 3, recoveryMs: 10_000, graceMs: 30_000 });
		const starts: number[] = [];
		for (let minute = 0; minute < 5; minute++) {
			starts.push(...(await startsAfter(gate, clock, 6, clock.now())));
			await clock.run([{ at: clock.now() + 31_000, action: () => undefined }]);
			gate.penalize();
			expect(gate.slowdownLevel).toBe(0);
		}
		// Each burst of six ran at the full tier: 500 ms apart.
		for (let burst = 0; burst < 5; burst++) expect(gaps(starts.slice(burst * 6, burst * 6 + 6))).toEqual([500, 500, 500, 500, 500]);
	});

	it('caps the slowdown at maxLevel', async () => {
		const clock = new VirtualClock();
		const gate = new LocalRateGate({ tier: 1, marginMs: 0 }, clock, { maxLevel: 2, recoveryMs: 60_000 });
		for (let i = 0; i < 6; i++) {
			gate.penalize();
			await clock.run([{ at: clock.now() + 1000, action: () => undefined }]);
		}
		expect(gate.slowdownLevel).toBe(2);
	});
});

describe('LocalRateGate in real time', () => {
	it('shares one budget between concurrent callers: no 1 s window over the tier, throughput near the tier', async () => {
		const tier = 8;
		// Wide margin: a starved CPU can delay the moment a caller records its start by tens of milliseconds.
		const gate = new LocalRateGate({ tier, marginMs: 100 });
		const starts: number[] = [];
		const caller = async (count: number) => {
			for (let i = 0; i < count; i++) {
				await gate.acquire();
				starts.push(performance.now());
			}
		};
		await Promise.all([caller(10), caller(10), caller(8)]);
		expect(starts).toHaveLength(28);
		expect(maxInAnyWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(tier);
		// Loose floor only (at most 0.91 × tier with this margin).
		expect(sustainedRate(starts, tier)).toBeGreaterThanOrEqual(0.7 * tier);
	});

	it('cancelling a waiting acquire rejects it before its slot comes, and the next caller gets the place', async () => {
		const gate = new LocalRateGate({ tier: 1 });
		await gate.acquire();
		const controller = new AbortController();
		const began = performance.now();
		const waiting = gate.acquire(controller.signal);
		const next = gate.acquire();
		setTimeout(() => controller.abort(), 50);
		await expect(waiting).rejects.toBeInstanceOf(SendCancelledError);
		expect(performance.now() - began).toBeLessThan(900); // the slot opens only after 1025 ms
		await next;
		await gate.close();
	});

	it('close rejects the waiters and leaves no timer behind', async () => {
		const gate = new LocalRateGate({ tier: 1 });
		await gate.acquire();
		const waiting = gate.acquire();
		await gate.close();
		await expect(waiting).rejects.toThrow('closed');
	});
});

describe('getRateGate', () => {
	afterEach(() => closeAllRateGates());

	it('returns one gate per region and API key, shared even when the module is loaded twice', () => {
		const a = getRateGate({ region: 'eu', apiKey: 'key-1', tier: 1 });
		expect(getRateGate({ region: 'eu', apiKey: 'key-1', tier: 1 })).toBe(a);
		expect(getRateGate({ region: 'eu', apiKey: 'key-2', tier: 1 })).not.toBe(a);
		expect(getRateGate({ region: 'us', apiKey: 'key-1', tier: 1 })).not.toBe(a);

		let again: typeof import('../../nodes/shared/rateGate') | undefined;
		jest.isolateModules(() => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			again = require('../../nodes/shared/rateGate');
		});
		expect(again!.getRateGate).not.toBe(getRateGate);
		expect(again!.getRateGate({ region: 'eu', apiKey: 'key-1', tier: 1 })).toBe(a);
	});

	it('keys by a hash: the API key itself is not kept in the registry', () => {
		const apiKey = 'super-secret-studio-key';
		getRateGate({ region: 'eu', apiKey, tier: 3 });
		const registry = (globalThis as unknown as Record<symbol, Map<string, unknown>>)[
			Symbol.for('n8n-nodes-vonage-ai-studio.rateGates.v1')
		];
		const keys = [...registry.keys()].join(' ');
		expect(keys).toContain(accountId('eu', apiKey));
		expect(keys).not.toContain(apiKey);
		expect(accountId('eu', apiKey)).toMatch(/^eu:[0-9a-f]{32}$/);
	});

	it('applies an edited tier to the shared gate', async () => {
		const gate = getRateGate({ region: 'eu', apiKey: 'k', tier: 1 });
		getRateGate({ region: 'eu', apiKey: 'k', tier: 3 });
		const starts: number[] = [];
		await Promise.all([1, 2, 3].map(() => gate.acquire().then(() => starts.push(performance.now()))));
		// Three starts within a second are allowed only at tier 3 (tier 1 would need 2050 ms).
		expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(1000);
	});
});
