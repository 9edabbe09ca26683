// n8n processes that send with one account without a shared store (the conservative mode), in virtual time, as
// separate gates (separate processes have their own) against one model of Studio's limiter: a whole share of the
// tier each where there is one, never more than the tier in a second whatever their timing; else turns by the
// clock, where, once the processes have found distinct turns, no second holds more than the tier either. Every
// contact gets exactly one session.
import { WINDOW_MS } from '../../core/rateGate';
import { TURN_MARGIN_MS, TurnRateGate, localState, splitTier } from '../../core/turnGate';
import { maxInAnyWindow } from '../../simulator/windows';
import { dispatch } from '../../harness/dispatch';
import { VirtualClock, VirtualStudio, random } from '../../harness/virtualClock';

async function processesSending(options: {
	processes: number;
	tier: number;
	perProcess: number;
	seed: number;
	foreignEveryMs?: number;
}) {
	const clock = new VirtualClock();
	const studio = new VirtualStudio(clock, options.tier, { tripMs: () => 40, latencyMs: () => 150 });
	const rand = random(options.seed);
	const starts: number[][] = [];
	const refusedAt: number[] = [];
	const gates = Array.from(
		{ length: options.processes },
		() => new TurnRateGate({ tier: options.tier, processes: options.processes }, clock, rand),
	);
	const initialTurns = gates.map((gate) => gate.schedule.turn);
	const runs = gates.map((gate, p) => {
		starts[p] = [];
		const jobs = Array.from({ length: options.perProcess }, (_, index) => ({
			index,
			send: async () => {
				starts[p].push(clock.now());
				try {
					return await studio.send(`44770${p}${String(index).padStart(5, '0')}`);
				} catch (error) {
					refusedAt.push(clock.now());
					throw error;
				}
			},
		}));
		return dispatch(jobs, { gate, clock });
	});
	const results = await clock.runUntil(Promise.all(runs));
	return { results, starts, refusedAt, studio, gates, initialTurns, clock };
}

describe('splitTier', () => {
	it('gives each process a whole share of the tier where there is one, else turns', () => {
		expect(splitTier(5, 1)).toEqual({ kind: 'share', tier: 5 });
		expect(splitTier(5, 2)).toEqual({ kind: 'share', tier: 2 });
		expect(splitTier(3, 2)).toEqual({ kind: 'share', tier: 1 });
		expect(splitTier(3, 3)).toEqual({ kind: 'share', tier: 1 });
		expect(splitTier(1, 2)).toEqual({ kind: 'turns' });
		expect(splitTier(3, 4)).toEqual({ kind: 'turns' });
	});
});

describe('whole shares (virtual time)', () => {
	it('tier 5 over 2 processes, 2 each, started at any moment: never more than the tier in a second, no refusal', async () => {
		for (const seed of [1, 2, 3]) {
			const clock = new VirtualClock();
			const studio = new VirtualStudio(clock, 5, { tripMs: () => 40, latencyMs: () => 150 });
			const rand = random(seed);
			const starts: number[] = [];
			const runs = [0, 1].map((p) => {
				const [, settings, create] = localState({ region: 'eu', apiKey: `k${p}`, tier: 5, processes: 2 }, clock);
				expect(settings.tier).toBe(2);
				const { gate } = create();
				const jobs = Array.from({ length: 20 }, (_, index) => ({
					index,
					send: () => {
						starts.push(clock.now());
						return studio.send(`44770${p}${String(index).padStart(5, '0')}`);
					},
				}));
				// The second process starts at an unrelated moment.
				return new Promise<void>((resolve) => clock.setTimer(resolve, p * rand() * 3000)).then(() =>
					dispatch(jobs, { gate, clock }),
				);
			});
			await clock.runUntil(Promise.all(runs));
			expect(studio.refused).toBe(0);
			expect(maxInAnyWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(4);
			expect(studio.sessionsPerContact.size).toBe(40);
		}
	});
});

describe('TurnRateGate (virtual time)', () => {
	it.each([
		[2, 1],
		[3, 1],
		[4, 3],
	])(
		'%i processes at tier %i: after finding their turns, never more than the tier in a second, each at tier ÷ processes',
		async (processes, tier) => {
			for (const seed of [1, 2, 3, 4, 5]) {
				const run = await processesSending({ processes, tier, perProcess: 12 * tier, seed });
				// Every contact exactly one session.
				expect(run.results.flat().every((result) => result.outcome === 'sent')).toBe(true);
				expect([...run.studio.sessionsPerContact.values()].every((count) => count === 1)).toBe(true);
				expect(run.studio.sessionsPerContact.size).toBe(processes * 12 * tier);
				// Clashes only while turns are found: a few refused sends (each retried), then none.
				expect(run.refusedAt.length).toBeLessThanOrEqual(4 * processes * tier);
				const settled = Math.max(0, ...run.refusedAt);
				const afterwards = run.starts.flat().filter((at) => at > settled + WINDOW_MS);
				expect(maxInAnyWindow(afterwards, WINDOW_MS + TURN_MARGIN_MS)).toBeLessThanOrEqual(tier);
				// Distinct turns in the end.
				expect(new Set(run.gates.map((gate) => gate.schedule.turn)).size).toBe(processes);
				// Each process at tier ÷ processes: `tier` starts in one frame of `processes`.
				const frame = WINDOW_MS + TURN_MARGIN_MS;
				for (const times of run.starts) {
					const steady = times.filter((at) => at > settled + WINDOW_MS);
					expect(maxInAnyWindow(steady, processes * frame - 1)).toBeLessThanOrEqual(tier);
				}
			}
		},
	);

	it('processes that drew different turns never clash at all', async () => {
		let checked = 0;
		for (let seed = 1; seed <= 20 && checked < 3; seed++) {
			const run = await processesSending({ processes: 2, tier: 1, perProcess: 10, seed });
			if (run.initialTurns[0] === run.initialTurns[1]) continue;
			checked++;
			expect(run.refusedAt).toEqual([]);
			expect(maxInAnyWindow(run.starts.flat(), WINDOW_MS + TURN_MARGIN_MS)).toBeLessThanOrEqual(1);
		}
		expect(checked).toBe(3);
	});

	it('refusals that moving turns does not cure (another system sending) slow the process down', async () => {
		const clock = new VirtualClock();
		const gate = new TurnRateGate({ tier: 1, processes: 2 }, clock, random(9), {
			graceMs: 600_000,
			recoveryMs: 600_000,
		});
		let refusals = 0;
		const jobs = Array.from({ length: 12 }, (_, index) => ({
			index,
			send: async () => {
				refusals++;
				throw Object.assign(new Error('Studio answered HTTP 429'), {
					name: 'StudioHttpError',
					statusCode: 429,
					body: {},
				});
			},
		}));
		await clock.runUntil(dispatch(jobs, { gate, clock, policy: { rateLimitRetries: 1, rateLimitMaxWaitMs: 60_000 } }));
		expect(refusals).toBeGreaterThan(3);
		expect(gate.slowdownLevel).toBeGreaterThanOrEqual(1);
	});
});
