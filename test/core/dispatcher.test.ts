// The dispatcher against the Studio simulator over real HTTP: starts paced at the tier with bounded in-flight
// requests, the 429 policy (storms with and without Retry-After), what is and is not retried, and cancellation.
import { SendCancelledError, StudioHttpError, StudioNetworkError } from '../../core/errors';
import { preciseClock } from '../../editions/queue/clock';
import { dispatch } from '../../harness/dispatch';
import { type DispatchJob, type DispatchResult } from '../../core/dispatcher';
import { LocalRateGate, WINDOW_MS } from '../../core/rateGate';
import { STUDIO_PATHS } from '../../core/studioApi';
import { closeAllPools, postToStudio } from '../../editions/queue/transport';
import type { StudioResponse } from '../../core/ports';
import { startSimulator, type StudioSimulator } from '../../simulator/simulator';
import { maxInAnyWindow } from '../../simulator/windows';
import { REAL_TIME_MARGIN_MS, whatsappSessionBody } from '../../harness/fixtures';

const API_KEY = 'dispatcher-test-key';

function toFor(index: number): string {
	return `4477009${String(index).padStart(5, '0')}`;
}

const whatsappBody = (index: number) => whatsappSessionBody(toFor(index));

function jobs(baseUrl: string, count: number, onSend?: () => () => void): Array<DispatchJob<StudioResponse>> {
	return Array.from({ length: count }, (_, index) => ({
		index,
		send: async () => {
			const done = onSend?.();
			try {
				return await postToStudio(baseUrl, STUDIO_PATHS.messagingConversation, whatsappBody(index), API_KEY);
			} finally {
				done?.();
			}
		},
	}));
}

function sessionsPerContact(sim: StudioSimulator): Map<string, number> {
	const counts = new Map<string, number>();
	for (const session of sim.sessions) {
		const to = session.body.to as string;
		counts.set(to, (counts.get(to) ?? 0) + 1);
	}
	return counts;
}

/** Sustained starts per second: tier over the mean time between starts `tier` places apart (bursts or not). */
function sustainedRate(times: number[], tier: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let total = 0;
	for (let i = 0; i + tier < sorted.length; i++) total += sorted[i + tier] - sorted[i];
	return (tier * 1000) / (total / (sorted.length - tier));
}

jest.setTimeout(60_000);

let sim: StudioSimulator;

beforeAll(async () => {
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false });
});

afterEach(() => {
	sim.configure({
		tier: undefined,
		latencyMs: undefined,
		arrivalDelayMs: undefined,
		throttle: undefined,
		dropConnectionRatio: undefined,
		seed: undefined,
	});
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
});

describe('dispatchSends pacing', () => {
	it('paces starts, not completions: at tier 5 with 600 ms latency every window holds at most 5 and the rate nears the tier', async () => {
		const tier = 5;
		sim.configure({ tier, latencyMs: 600 });
		const gate = new LocalRateGate({ tier, floorMs: REAL_TIME_MARGIN_MS }, preciseClock);
		const progress: number[] = [];
		const results = await dispatch(jobs(sim.url, 25), {
			gate,
			maxInFlight: 16,
			onProgress: (done) => progress.push(done),
		});

		expect(results.map((r) => [r.index, r.outcome])).toEqual(Array.from({ length: 25 }, (_, i) => [i, 'sent']));
		expect(results.every((r) => r.outcome === 'sent' && r.attempts === 1)).toBe(true);
		expect(sim.tooManyRequests).toBe(0);
		const arrivals = sim.sessions.map((s) => s.arrivedAt);
		expect(arrivals).toHaveLength(25);
		expect(maxInAnyWindow(arrivals, WINDOW_MS)).toBeLessThanOrEqual(tier);
		// Loose floor (at most 0.91 × tier with this margin); pacing completions would give 1.7/s.
		expect(sustainedRate(arrivals, tier)).toBeGreaterThanOrEqual(0.7 * tier);
		expect(progress).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
	});

	it('never has more than maxInFlight requests open', async () => {
		sim.configure({ tier: 10, latencyMs: 400 });
		let open = 0;
		let most = 0;
		const track = () => {
			most = Math.max(most, ++open);
			return () => open--;
		};
		const results = await dispatch(jobs(sim.url, 12, track), {
			gate: new LocalRateGate({ tier: 10, floorMs: REAL_TIME_MARGIN_MS }, preciseClock),
			maxInFlight: 3,
		});
		expect(results.every((r) => r.outcome === 'sent')).toBe(true);
		expect(most).toBe(3);
	});
});

describe('dispatchSends over a link whose trips vary (real HTTP)', () => {
	it('learns the link: every contact gets exactly one session, 429s stay rare, and the margin grows to what the trips need', async () => {
		const tier = 5;
		// Requests take 20 to 120 ms to reach the simulator's limiter, as over an ordinary internet path.
		sim.configure({ tier, latencyMs: 100, arrivalDelayMs: { min: 20, max: 120 } });
		const gate = new LocalRateGate({ tier }, preciseClock);
		const results = await dispatch(jobs(sim.url, 80), { gate });

		expect(results.every((r) => r.outcome === 'sent')).toBe(true);
		expect([...sessionsPerContact(sim).values()]).toEqual(Array.from({ length: 80 }, () => 1));
		const arrivals = sim.sessions.map((s) => s.arrivedAt);
		expect(maxInAnyWindow(arrivals, WINDOW_MS)).toBeLessThanOrEqual(tier);
		// Loosely (the benchmark measures it): at most one send in ten refused, the first learning included.
		expect(sim.tooManyRequests).toBeLessThanOrEqual(8);
		// Trips vary by ~100 ms: the margin stays near that, where on loopback it falls towards 0.
		expect(gate.marginMs).toBeGreaterThanOrEqual(60);
	});
});

describe.each([
	['without Retry-After', undefined],
	['with Retry-After 0.2 s', 0.2],
])('dispatchSends in a 429 storm (30 %% refused) %s', (_label, retryAfterSeconds) => {
	it('sends every item exactly once or fails it with the 429 after the bounded tries', async () => {
		const tier = 10;
		const maxTries = 4;
		sim.configure({ tier, seed: 7, throttle: { rejectRatio: 0.3, retryAfterSeconds } });
		const gate = new LocalRateGate({ tier, floorMs: REAL_TIME_MARGIN_MS }, preciseClock, {
			maxLevel: 1,
			recoveryMs: 1000,
		});
		const results = await dispatch(jobs(sim.url, 24), {
			gate,
			policy: { rateLimitRetries: maxTries - 1, rateLimitMaxWaitMs: 20_000 },
			rateLimitBaseDelayMs: 200,
		});

		expect(sim.tooManyRequests).toBeGreaterThan(0);
		const perContact = sessionsPerContact(sim);
		for (const result of results) {
			const sessions = perContact.get(toFor(result.index)) ?? 0;
			if (result.outcome === 'sent') {
				expect(sessions).toBe(1);
			} else if (result.outcome === 'failed') {
				expect(sessions).toBe(0);
				expect(result.error).toBeInstanceOf(StudioHttpError);
				expect((result.error as StudioHttpError).statusCode).toBe(429);
				expect(result.attempts).toBe(maxTries);
			} else {
				throw new Error(`unexpected outcome ${result.outcome}`);
			}
		}
		// Each attempt is one request at Studio, no more.
		const attempts = results.reduce((sum, r) => sum + ('attempts' in r ? r.attempts : 0), 0);
		expect(sim.requests).toHaveLength(attempts);
		expect(
			maxInAnyWindow(
				sim.sessions.map((s) => s.arrivedAt),
				WINDOW_MS,
			),
		).toBeLessThanOrEqual(tier);

		if (retryAfterSeconds !== undefined) {
			// Retry-After honoured: a retry of the same contact never arrives sooner than it asked.
			const byContact = new Map<string, number[]>();
			for (const request of sim.requests) {
				const to = (request.body as { to: string }).to;
				byContact.set(to, [...(byContact.get(to) ?? []), request.arrivedAt]);
			}
			for (const times of byContact.values()) {
				for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(200);
			}
		}
	});
});

describe('dispatchSends retry policy', () => {
	it('gives up after maxTries when every call is refused, with the last 429', async () => {
		sim.configure({ tier: 5, throttle: { rejectRatio: 1 } });
		const results = await dispatch(jobs(sim.url, 3), {
			gate: new LocalRateGate({ tier: 5 }, preciseClock, { maxLevel: 0 }),
			policy: { rateLimitRetries: 2 - 1, rateLimitMaxWaitMs: 5000 },
			rateLimitBaseDelayMs: 50,
		});
		expect(results.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed']);
		expect(results.map((r) => (r as { attempts: number }).attempts)).toEqual([2, 2, 2]);
		expect(sim.requests).toHaveLength(6);
		expect(sim.sessions).toHaveLength(0);
	});

	it('stops retrying when the wait budget is spent (Retry-After longer than maxWaitMs)', async () => {
		sim.configure({ tier: 5, throttle: { rejectRatio: 1, retryAfterSeconds: 30 } });
		const results = await dispatch(jobs(sim.url, 1), {
			gate: new LocalRateGate({ tier: 5 }, preciseClock),
			policy: { rateLimitRetries: 5 - 1, rateLimitMaxWaitMs: 1000 },
		});
		expect(results[0]).toMatchObject({ outcome: 'failed', attempts: 1 });
		expect((results[0] as { error: StudioHttpError }).error.retryAfterMs).toBe(30_000);
	});

	it('retries a connection that was refused (never sent), a bounded number of times', async () => {
		const closed = await startSimulator({ apiKey: API_KEY });
		const url = closed.url;
		await closed.close();
		const results = await dispatch(jobs(url, 2), {
			gate: new LocalRateGate({ tier: 50 }, preciseClock),
			notSentMaxTries: 3,
		});
		for (const result of results) {
			expect(result).toMatchObject({ outcome: 'failed', attempts: 3 });
			const error = (result as { error: StudioNetworkError }).error;
			expect(error).toBeInstanceOf(StudioNetworkError);
			expect(error.mayHaveReachedStudio).toBe(false);
		}
	});

	it('never retries a request that may have reached Studio (dropped connection)', async () => {
		sim.configure({ tier: 5, dropConnectionRatio: 1 });
		const results = await dispatch(jobs(sim.url, 3), { gate: new LocalRateGate({ tier: 5 }, preciseClock) });
		for (const result of results) {
			expect(result).toMatchObject({ outcome: 'failed', attempts: 1 });
			expect((result as { error: StudioNetworkError }).error.mayHaveReachedStudio).toBe(true);
		}
		expect(sim.requests).toHaveLength(3);
		expect([...sessionsPerContact(sim).values()]).toEqual([1, 1, 1]);
	});

	it('never retries a 5xx and never retries a 400', async () => {
		let calls = 0;
		const failing = (error: unknown): DispatchJob<string> => ({
			index: 0,
			send: async () => {
				calls++;
				throw error;
			},
		});
		const results = await dispatch(
			[
				failing(new StudioHttpError(503, '')),
				{ ...failing(new StudioHttpError(400, { message: 'to is required' })), index: 1 },
			],
			{ gate: new LocalRateGate({ tier: 50 }, preciseClock) },
		);
		expect(results.map((r) => [r.outcome, (r as { attempts: number }).attempts])).toEqual([
			['failed', 1],
			['failed', 1],
		]);
		expect(calls).toBe(2);
	});
});

describe('dispatchSends cancellation', () => {
	it('when the execution stops mid-wait, waiting items fail at once and nothing more is sent', async () => {
		sim.configure({ tier: 1 });
		const controller = new AbortController();
		let abortedAt = 0;
		const results: Array<DispatchResult<StudioResponse>> = await dispatch(jobs(sim.url, 5), {
			gate: new LocalRateGate({ tier: 1 }, preciseClock),
			signal: controller.signal,
			onProgress: (done) => {
				if (done === 1) {
					// The second item is now waiting ~1 s for its slot.
					setTimeout(() => {
						abortedAt = performance.now();
						controller.abort();
					}, 100);
				}
			},
		});
		const finishedAt = performance.now();
		expect(finishedAt - abortedAt).toBeLessThan(500);
		expect(results[0].outcome).toBe('sent');
		for (const result of results.slice(1)) {
			expect(result.outcome).toBe('failed');
			expect((result as { error: unknown }).error).toBeInstanceOf(SendCancelledError);
		}
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(sim.requests).toHaveLength(1);
	});

	it('an execution stopped before it starts sends nothing', async () => {
		const controller = new AbortController();
		controller.abort();
		const results = await dispatch(jobs(sim.url, 3), {
			gate: new LocalRateGate({ tier: 5 }, preciseClock),
			signal: controller.signal,
		});
		expect(results.every((r) => r.outcome === 'failed' && r.error instanceof SendCancelledError)).toBe(true);
		expect(sim.requests).toHaveLength(0);
	});

	it('cancels a 429 backoff at once', async () => {
		sim.configure({ tier: 5, throttle: { rejectRatio: 1, retryAfterSeconds: 10 } });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 300);
		const began = performance.now();
		const results = await dispatch(jobs(sim.url, 1), {
			gate: new LocalRateGate({ tier: 5 }, preciseClock),
			signal: controller.signal,
			policy: { rateLimitRetries: 5 - 1, rateLimitMaxWaitMs: 60_000 },
		});
		expect(performance.now() - began).toBeLessThan(2000);
		expect(results[0]).toMatchObject({ outcome: 'failed', attempts: 1 });
		expect((results[0] as { error: unknown }).error).toBeInstanceOf(SendCancelledError);
		expect(sim.requests).toHaveLength(1);
	});
});
