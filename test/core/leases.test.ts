// Claims that die with their owner, and batches that stop at the first sign, in virtual time with the dispatcher,
// the in-process gate and ledger, and a model of Studio that counts sessions per contact.
// - A run that dies mid-campaign (a killed worker): within a lease its waiting claims are free again and its sending
//   claim becomes "possibly sent", so a re-run sends every contact that certainly did not go, fails at once the one
//   that may have, and replays the ones that went.
// - A live run keeps its claims however long it waits at the gate.
// - A rejected key, a missing agent, a template every item shares refused: the items not sent yet stop at once,
//   none recorded as possibly sent, so a corrected run sends them all.
import { BatchStoppedError, PossiblySentError, StudioHttpError } from '../../core/errors';
import { LocalRateGate } from '../../core/rateGate';
import { LEASE, MemorySendLedger, type SendLedger } from '../../core/sendLedger';
import type { DispatchJob, DispatchResult } from '../../core/dispatcher';
import type { Clock } from '../../core/ports';
import { dispatch } from '../../harness/dispatch';
import { VirtualClock } from '../../harness/virtualClock';

/** Studio as far as these tests need: sessions per contact, an answer after `latencyMs`. */
class Studio {
	readonly sessions = new Map<string, number>();
	requests = 0;
	constructor(private readonly clock: VirtualClock) {}
	send(contact: string, latencyMs = 100, answer: () => unknown = () => ({ ok: true })): Promise<unknown> {
		this.requests++;
		return new Promise((resolve, reject) => {
			this.clock.setTimer(() => {
				try {
					const result = answer();
					this.sessions.set(contact, (this.sessions.get(contact) ?? 0) + 1);
					resolve(result);
				} catch (error) {
					reject(error);
				}
			}, latencyMs);
		});
	}
	sessionsOf(contact: string): number {
		return this.sessions.get(contact) ?? 0;
	}
}

/** A ledger that a dead process stops talking to: after `cut`, its calls never return. */
class Severable implements SendLedger {
	cut = false;
	constructor(private readonly inner: SendLedger) {}
	private call<T>(work: () => Promise<T>): Promise<T> {
		return this.cut ? new Promise<T>(() => undefined) : work();
	}
	claim(...args: Parameters<SendLedger['claim']>) {
		return this.call(() => this.inner.claim(...args));
	}
	mark(...args: Parameters<SendLedger['mark']>) {
		return this.call(() => this.inner.mark(...args));
	}
	renew(...args: Parameters<SendLedger['renew']>) {
		return this.call(() => this.inner.renew(...args));
	}
	complete(...args: Parameters<SendLedger['complete']>) {
		return this.call(() => this.inner.complete(...args));
	}
	release(...args: Parameters<SendLedger['release']>) {
		return this.call(() => this.inner.release(...args));
	}
}

const NEVER = new AbortController().signal;
const contact = (index: number) => `44770090${String(index).padStart(4, '0')}`;
const unauthorized = () => new StudioHttpError(401, { message: 'Unauthorized' });

function campaign(
	studio: Studio,
	count: number,
	options: { answer?: (index: number) => unknown; groups?: (index: number) => DispatchJob<unknown>['groups'] } = {},
): Array<DispatchJob<unknown>> {
	return Array.from({ length: count }, (_, index) => ({
		index,
		ledgerKey: `campaign:${contact(index)}`,
		groups: options.groups?.(index),
		send: () =>
			studio.send(contact(index), 100, () => {
				const answer = options.answer?.(index);
				if (answer instanceof Error) throw answer;
				return answer ?? { session: contact(index) };
			}),
	}));
}

describe('claims that die with their owner (virtual time)', () => {
	it('a re-run after a worker died mid-campaign: sent ones replay, the one on the wire fails at once, the rest go', async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		const store = new MemorySendLedger({ now: () => clock.wallNow() });
		const dying = new Severable(store);
		// The dying process's timers: none fire once it is dead.
		let dead = false;
		let killedAt = 0;
		const processClock: Clock = {
			now: () => clock.now(),
			wallNow: () => clock.wallNow(),
			setTimer: (callback, ms) => clock.setTimer(() => !dead && callback(), ms),
			clearTimer: (handle) => clock.clearTimer(handle),
		};
		const onTheWire = 6;
		let rerun: Array<DispatchResult<unknown>> = [];
		let rerunDoneAt = 0;
		const first = campaign(studio, 20).map((job) => ({
			...job,
			send: () => {
				if (job.index !== onTheWire) return job.send(NEVER);
				// Killed while this request is on its way: its answer never comes back, nothing more is written.
				dead = true;
				dying.cut = true;
				killedAt = clock.now();
				// The same contacts posted again a second later, on another worker.
				clock.setTimer(() => {
					void dispatch(campaign(studio, 20), {
						gate: new LocalRateGate({ tier: 1, floorMs: 0 }, clock),
						ledger: store,
						clock,
					}).then((results) => {
						rerun = results;
						rerunDoneAt = clock.now();
					});
				}, 1_000);
				return new Promise<unknown>(() => undefined);
			},
		}));
		void dispatch(first, {
			gate: new LocalRateGate({ tier: 1, floorMs: 0 }, processClock),
			ledger: dying,
			clock: processClock,
		});
		await clock.run();

		for (let index = 0; index < onTheWire; index++) expect(rerun[index]).toMatchObject({ outcome: 'replayed' });
		expect(rerun[onTheWire]).toMatchObject({ outcome: 'failed', attempts: 0 });
		expect((rerun[onTheWire] as { error: unknown }).error).toBeInstanceOf(PossiblySentError);
		for (let index = onTheWire + 1; index < 20; index++) expect(rerun[index]).toMatchObject({ outcome: 'sent' });
		// One session per contact, but none for the one on the wire (in this model Studio never got it).
		for (let index = 0; index < 20; index++) {
			expect(studio.sessionsOf(contact(index))).toBe(index === onTheWire ? 0 : 1);
		}
		// The stranded claims were free within a lease of the kill, then 13 sends at tier 1.
		expect(rerunDoneAt - killedAt).toBeLessThan(1_000 + LEASE.leaseMs + LEASE.renewEveryMs + 13 * 1_200);
	});

	it('a live run keeps its claims while it waits at the gate far longer than a lease: a second run only replays', async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		const ledger = new MemorySendLedger({ now: () => clock.wallNow() });
		const gate = new LocalRateGate({ tier: 1, floorMs: 0 }, clock);
		const results = await clock.runUntil(
			Promise.all([
				dispatch(campaign(studio, 40), { gate, ledger, clock }),
				(async () => {
					await new Promise<void>((resolve) => clock.setTimer(resolve, 1_000));
					return await dispatch(campaign(studio, 40), { gate, ledger, clock });
				})(),
			]),
		);
		expect(results[0].every((result) => result.outcome === 'sent')).toBe(true);
		expect(results[1].filter((result) => result.outcome === 'replayed')).toHaveLength(40);
		for (let index = 0; index < 40; index++) expect(studio.sessionsOf(contact(index))).toBe(1);
	});
});

describe('a doomed batch stops at the first sign (virtual time)', () => {
	it('a rejected key: one request reaches Studio, the other 49 fail at once, none recorded as possibly sent', async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		const ledger = new MemorySendLedger({ now: () => clock.wallNow() });
		const started = clock.now();
		const results = await clock.runUntil(
			dispatch(campaign(studio, 50, { answer: unauthorized }), {
				gate: new LocalRateGate({ tier: 1, floorMs: 0 }, clock),
				ledger,
				clock,
			}),
		);
		expect(studio.requests).toBe(1);
		expect(clock.now() - started).toBeLessThan(1_000);
		expect((results[0] as { error: unknown }).error).toBeInstanceOf(StudioHttpError);
		for (const result of results.slice(1)) {
			expect(result).toMatchObject({ outcome: 'failed', attempts: 0 });
			const error = (result as { error: BatchStoppedError }).error;
			expect(error).toBeInstanceOf(BatchStoppedError);
			expect(error.message).toBe(
				'Not sent: Studio rejected the API key (HTTP 401) for item 0, so this item was not tried',
			);
		}
		// A corrected key then sends all 50: nothing was left claimed or "possibly sent".
		const corrected = await clock.runUntil(
			dispatch(campaign(studio, 50), { gate: new LocalRateGate({ tier: 5, floorMs: 0 }, clock), ledger, clock }),
		);
		expect(corrected.every((result) => result.outcome === 'sent')).toBe(true);
	});

	it('requests already on their way finish with their own outcome when the batch stops', async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		// Tier 5: five requests leave within a second; the first answer (401) comes after they all left.
		const results = await clock.runUntil(
			dispatch(
				campaign(studio, 30, { answer: (index) => (index === 0 ? unauthorized() : undefined) }).map((job) => ({
					...job,
					send: () =>
						studio.send(contact(job.index), job.index === 0 ? 900 : 1_500, () =>
							job.index === 0
								? (() => {
										throw unauthorized();
									})()
								: { ok: true },
						),
				})),
				{ gate: new LocalRateGate({ tier: 5, floorMs: 0 }, clock), clock },
			),
		);
		const sent = results.filter((result) => result.outcome === 'sent').map((result) => result.index);
		expect(sent.length).toBeGreaterThanOrEqual(3);
		expect(sent.length).toBeLessThanOrEqual(5);
		expect(studio.requests).toBe(sent.length + 1);
		const stopped = results.filter(
			(result) => result.outcome === 'failed' && (result as { error: unknown }).error instanceof BatchStoppedError,
		);
		expect(stopped).toHaveLength(30 - 1 - sent.length);
	});

	it("an agent that does not exist stops only that agent's items", async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		const agentOf = (index: number) => (index % 2 === 0 ? 'gone' : 'live');
		const results = await clock.runUntil(
			dispatch(
				campaign(studio, 12, {
					groups: (index) => ({ agent: agentOf(index) }),
					answer: (index) =>
						agentOf(index) === 'gone'
							? new StudioHttpError(404, { message: 'ID gone is not an ID to any agent or published version' })
							: undefined,
				}),
				{ gate: new LocalRateGate({ tier: 5, floorMs: 0 }, clock), clock },
			),
		);
		const live = results.filter((result) => agentOf(result.index) === 'live');
		const gone = results.filter((result) => agentOf(result.index) === 'gone');
		expect(live.every((result) => result.outcome === 'sent')).toBe(true);
		expect(gone.every((result) => result.outcome === 'failed')).toBe(true);
		const stoppedGone = gone.filter((result) => (result as { error: unknown }).error instanceof BatchStoppedError);
		expect(stoppedGone.length).toBeGreaterThanOrEqual(3);
		expect((stoppedGone[0] as { error: BatchStoppedError }).error.reason).toBe(
			'agent gone was not found or has no published version',
		);
	});

	it('the same 400 naming the shared template three items in a row stops that template; a 400 about one number does not', async () => {
		const clock = new VirtualClock();
		const studio = new Studio(clock);
		const badTemplate = new StudioHttpError(400, { message: 'template promo_v2 does not exist in namespace ns-1' });
		const results = await clock.runUntil(
			dispatch(
				campaign(studio, 20, {
					groups: () => ({ agent: 'a1', template: 'a1|ns-1|promo_v2|en' }),
					answer: () => badTemplate,
				}),
				{ gate: new LocalRateGate({ tier: 1, floorMs: 0 }, clock), maxInFlight: 1, clock },
			),
		);
		expect(studio.requests).toBe(3);
		expect(results.filter((result) => (result as { error?: unknown }).error instanceof BatchStoppedError)).toHaveLength(
			17,
		);

		const numbers = new Studio(clock);
		const perNumber = await clock.runUntil(
			dispatch(
				campaign(numbers, 8, {
					groups: () => ({ agent: 'a1', template: 'a1|ns-1|order|en' }),
					answer: (index) =>
						index < 5 ? new StudioHttpError(400, { message: 'to must be an E.164 number' }) : undefined,
				}),
				{ gate: new LocalRateGate({ tier: 5, floorMs: 0 }, clock), clock },
			),
		);
		expect(numbers.requests).toBe(8);
		expect(perNumber.filter((result) => result.outcome === 'sent')).toHaveLength(3);
	});
});
