// The Insights reader's rules in virtual time, against scripted answers (what Studio's cloud would say, which
// cannot run here): its own 429 handling (Retry-After, bounded backoff, a clear end), what is tried again and what
// is not, cancellation, paging that survives a server capping or ignoring pages, and the join by number and time.
import { isError, ReadRetriesExhausted, StudioHttpError, StudioNetworkError } from '../../core/errors';
import { InsightsReader, READ_POLICY } from '../../core/insightsReader';
import type { StudioResponse, StudioTransport } from '../../core/ports';
import { VirtualClock } from '../../harness/virtualClock';

const DAY = 24 * 3_600_000;
const NOW = Date.parse('2025-06-01T12:00:00Z');

/** A transport answering each GET with the next scripted answer (an error to throw, or a body for 200). */
function scripted(answers: Array<unknown>, clock: VirtualClock) {
	const calls: Array<{ path: string; at: number }> = [];
	const transport: StudioTransport = {
		post: () => Promise.reject(new Error('reads never POST')),
		get: async (path) => {
			calls.push({ path, at: clock.now() });
			const answer = answers.shift();
			if (answer instanceof Error) throw answer;
			return { statusCode: 200, body: answer ?? '' } satisfies StudioResponse;
		},
	};
	return { transport, calls };
}

const tooMany = (retryAfterMs?: number) => new StudioHttpError(429, { message: 'Too Many Requests' }, retryAfterMs);

describe('one request', () => {
	it('waits exactly the Retry-After Studio asks for, then succeeds', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted([tooMany(3_000), tooMany(500), { ok: true }], clock);
		const reader = new InsightsReader(transport, clock);
		const response = await clock.runUntil(reader.get('/insights/sessions'));
		expect(response.body).toEqual({ ok: true });
		expect(calls.map((call) => call.at)).toEqual([0, 3_000, 3_500]);
	});

	it('without Retry-After backs off doubling (half fixed, half jitter) and gives up after maxTries, saying how often', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted(
			Array.from({ length: 9 }, () => tooMany()),
			clock,
		);
		const reader = new InsightsReader(transport, clock, { random: () => 1 });
		const error = await clock.runUntil(reader.get('/x').catch((failure: unknown) => failure));
		expect(error).toBeInstanceOf(ReadRetriesExhausted);
		expect(error).toMatchObject({ attempts: READ_POLICY.maxTries, last: { statusCode: 429 } });
		const gaps = calls.slice(1).map((call, index) => call.at - calls[index].at);
		expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000]);

		const low = new VirtualClock();
		const again = scripted([tooMany(), tooMany(), { ok: 1 }], low);
		await low.runUntil(new InsightsReader(again.transport, low, { random: () => 0 }).get('/x'));
		expect(again.calls.map((call) => call.at)).toEqual([0, 500, 1_500]);
	});

	it('a Retry-After beyond what a read may wait fails at once instead of sleeping for it', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted([tooMany(READ_POLICY.maxWaitMs + 1), { ok: true }], clock);
		const error = await clock.runUntil(
			new InsightsReader(transport, clock).get('/x').catch((failure: unknown) => failure),
		);
		expect(error).toBeInstanceOf(StudioHttpError);
		expect(error).toMatchObject({ statusCode: 429, retryAfterMs: READ_POLICY.maxWaitMs + 1 });
		expect(calls).toHaveLength(1);
	});

	it('an answer not tried again, after one that was, is thrown as it is: a 404 after a 503 still means nothing there', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted([new StudioHttpError(503, ''), new StudioHttpError(404, '')], clock);
		const reader = new InsightsReader(transport, clock);
		expect(await clock.runUntil(reader.getIfFound('/insights/sessions/s/parameters'))).toBeUndefined();
		expect(calls).toHaveLength(2);
	});

	it('the total wait is bounded: backoff stops once maxWaitMs is spent', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted(
			Array.from({ length: 9 }, () => tooMany()),
			clock,
		);
		const reader = new InsightsReader(transport, clock, { random: () => 1, policy: { maxTries: 9, maxWaitMs: 5_000 } });
		await clock.runUntil(reader.get('/x').catch(() => undefined));
		expect(calls.at(-1)!.at).toBeLessThanOrEqual(5_000);
	});

	it.each([
		['a 5xx', new StudioHttpError(503, '')],
		['a reset connection', new StudioNetworkError('socket hang up', 'ECONNRESET', true)],
		['a refused connection', new StudioNetworkError('connect ECONNREFUSED', 'ECONNREFUSED', false)],
	])('%s is tried again (a read changes nothing)', async (_name, failure) => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted([failure, { ok: true }], clock);
		await clock.runUntil(new InsightsReader(transport, clock).get('/x'));
		expect(calls).toHaveLength(2);
	});

	it.each([400, 401, 403, 404])('%i is not tried again', async (status) => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted([new StudioHttpError(status, ''), { ok: true }], clock);
		const error = await clock.runUntil(
			new InsightsReader(transport, clock).get('/x').catch((failure: unknown) => failure),
		);
		expect(error).toMatchObject({ statusCode: status });
		expect(calls).toHaveLength(1);
	});

	it('a cancelled execution stops the wait between tries', async () => {
		const clock = new VirtualClock();
		const { transport } = scripted([tooMany(10_000), { ok: true }], clock);
		const controller = new AbortController();
		const reader = new InsightsReader(transport, clock, { signal: controller.signal });
		const pending = reader.get('/x').catch((failure: unknown) => failure);
		const error = await clock.runUntil(
			Promise.all([pending, Promise.resolve().then(() => controller.abort())]).then(([failure]) => failure),
		);
		expect(isError(error, 'ReadCancelledError')).toBe(true);
	});
});

/** A tiny Studio search over `docs`: windows, page_number and page_size honoured (or not), as asked. */
function searchServer(
	docs: Array<Record<string, unknown>>,
	clock: VirtualClock,
	behaviour: { maxPageSize?: number; ignorePages?: boolean; unsorted?: boolean; noTotal?: boolean } = {},
) {
	const calls: URLSearchParams[] = [];
	const transport: StudioTransport = {
		post: () => Promise.reject(new Error('reads never POST')),
		get: async (path) => {
			const query = new URLSearchParams(path.split('?')[1]);
			calls.push(query);
			const from = Date.parse(query.get('from_date')!);
			const to = Date.parse(query.get('to_date')!);
			const size = Math.min(Number(query.get('page_size')), behaviour.maxPageSize ?? Infinity);
			const page = behaviour.ignorePages ? 0 : Number(query.get('page_number'));
			const inRange = docs.filter((doc) => {
				const time = Date.parse(String(doc.session_start_time));
				return time >= from && time <= to;
			});
			if (!behaviour.unsorted) {
				inRange.sort((a, b) => String(b.session_start_time).localeCompare(String(a.session_start_time)));
			}
			const sessions = inRange.slice(page * size, page * size + size);
			return { statusCode: 200, body: behaviour.noTotal ? sessions : { sessions, total: inRange.length } };
		},
	};
	return { reader: new InsightsReader(transport, clock, { now: () => NOW }), calls };
}

const doc = (index: number, ageMs: number, contact = `4477009${String(10000 + index).slice(-5)}`) => ({
	id: `s${index}`,
	session_start_time: new Date(NOW - ageMs).toISOString(),
	source: contact,
});

describe('paging', () => {
	const docs = Array.from({ length: 95 }, (_, index) => doc(index, (index + 1) * DAY * 1.3));

	it.each([
		['Studio paging as asked', {}],
		['a page size capped at 30, no total', { maxPageSize: 30, noTotal: true }],
		['a page size capped at 7 with a total', { maxPageSize: 7 }],
	])('%s: every session once, newest first, across the 60-day windows', async (_name, behaviour) => {
		const clock = new VirtualClock();
		const { reader } = searchServer(docs, clock, behaviour);
		const found = await clock.runUntil(reader.search({ from: NOW - 200 * DAY, to: NOW }, {}));
		expect(found.map((session) => session.sessionId)).toEqual(
			docs.filter((each) => NOW - Date.parse(each.session_start_time) <= 200 * DAY).map((each) => each.id),
		);
	});

	it('a server that ignores page_number is read once per window, not forever', async () => {
		const clock = new VirtualClock();
		const { reader, calls } = searchServer(docs, clock, { maxPageSize: 10, ignorePages: true });
		const found = await clock.runUntil(reader.search({ from: NOW - 50 * DAY, to: NOW }, {}));
		expect(found).toHaveLength(10);
		expect(calls).toHaveLength(2);
	});

	it('Limit stops reading once enough sessions came', async () => {
		const clock = new VirtualClock();
		const { reader, calls } = searchServer(docs, clock, { maxPageSize: 10 });
		const found = await clock.runUntil(reader.search({ from: NOW - 200 * DAY, to: NOW }, {}, { limit: 12 }));
		expect(found.map((session) => session.sessionId)).toEqual(docs.slice(0, 12).map((each) => each.id));
		expect(calls).toHaveLength(2);
	});
});

describe('the join', () => {
	const contact = '447700900777';
	const docs = [
		doc(1, 10 * DAY, contact), // before the send
		doc(2, 40 * 60_000, contact), // the session the send started
		doc(3, 20 * 60_000, '447700900778'), // someone else, later
		doc(4, 10 * 60_000, contact), // a later one with the same contact: the newest
	];

	it('the newest session with the number since the time, whatever order Studio lists them in', async () => {
		for (const unsorted of [false, true]) {
			const clock = new VirtualClock();
			const { reader } = searchServer(unsorted ? [...docs].reverse() : docs, clock, { unsorted });
			const session = await clock.runUntil(reader.latestFor(contact, NOW - 60 * 60_000, NOW));
			expect(session?.sessionId).toBe('s4');
		}
	});

	it('none since the time: undefined, even with older sessions for the contact', async () => {
		const clock = new VirtualClock();
		const { reader } = searchServer(docs, clock);
		expect(await clock.runUntil(reader.latestFor(contact, NOW - 5 * 60_000, NOW))).toBeUndefined();
	});

	it('a session dated a little before the send (clocks differ) still counts', async () => {
		const clock = new VirtualClock();
		const { reader } = searchServer(docs, clock);
		const session = await clock.runUntil(reader.latestFor(contact, NOW - 10 * 60_000 + 20_000, NOW));
		expect(session?.sessionId).toBe('s4');
	});

	it('a server that ignores the number filter: sessions of other contacts are never taken', async () => {
		const clock = new VirtualClock();
		const { reader } = searchServer(docs, clock);
		expect(await clock.runUntil(reader.latestFor('447700900999', NOW - 60 * 60_000, NOW))).toBeUndefined();
	});
});

describe("a call's recording", () => {
	it('is looked for again until it appears, within the time given', async () => {
		const clock = new VirtualClock();
		const answers = [
			{ id: 'c', channel_data: { audio_url: null } },
			{ id: 'c' },
			{ id: 'c', channel_data: { audio_url: 'https://r/1.mp3' } },
		];
		const { transport, calls } = scripted(answers, clock);
		const url = await clock.runUntil(new InsightsReader(transport, clock).recordingUrl('c', 60_000));
		expect(url).toBe('https://r/1.mp3');
		expect(calls.map((call) => call.at)).toEqual([0, 2_000, 5_000]);
		expect(calls[0].path).toBe('/insights/sessions/c');
	});

	it('after a details read that found none (the Get operation), the first look waits its pause', async () => {
		const clock = new VirtualClock();
		const answers = [{ id: 'c' }, { id: 'c', channel_data: { audio_url: 'https://r/1.mp3' } }];
		const { transport, calls } = scripted(answers, clock);
		const url = await clock.runUntil(new InsightsReader(transport, clock).recordingUrl('c', 60_000, true));
		expect(url).toBe('https://r/1.mp3');
		expect(calls.map((call) => call.at)).toEqual([2_000, 5_000]);
	});

	it('null once the time is up, and at once when Studio has no details endpoint', async () => {
		const clock = new VirtualClock();
		const { transport, calls } = scripted(
			Array.from({ length: 20 }, () => ({ id: 'c' })),
			clock,
		);
		expect(await clock.runUntil(new InsightsReader(transport, clock).recordingUrl('c', 12_000))).toBeNull();
		expect(calls.at(-1)!.at).toBe(12_000);

		const none = scripted([new StudioHttpError(404, '')], clock);
		expect(await clock.runUntil(new InsightsReader(none.transport, clock).recordingUrl('c', 12_000))).toBeNull();
		expect(none.calls).toHaveLength(1);
	});
});
