// Repeats of (message UUID, status) are dropped within the window, in one place: this process's memory (the rules
// every callback memory keeps: test/contracts/repeats.contract.ts), bounded, kept per trigger node in the edition's
// process store; then, with a shared memory (queue edition), the first sighting across processes; a shared memory
// that fails lets the callback through.
import { processWide } from '../../../editions/queue/processWide';
import { moduleStore } from '../../../editions/main';
import { CallbackDeduper, dedupeKey, localMemory, repeatMemory } from '../../../nodes/VonageAiStudioTrigger/repeats';
import type { NormalisedCallback } from '../../../core/callbacks';
import type { SharedRepeats } from '../../../editions/edition';
import type { ProcessStore } from '../../../core/ports';
import { repeatsContract } from '../../contracts/repeats.contract';

function clock(start = 1_000_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

const callback = (messageUuid: string, status: string) =>
	({ messageUuid, conversationUuid: null, status }) as unknown as NormalisedCallback;

repeatsContract(() => ({
	name: 'in process',
	memory(windowMs) {
		// A process store of its own, as a fresh n8n process has; every request to it finds the same memories.
		const values = new Map<string, unknown>();
		const store: ProcessStore = <T>(name: string, create: () => T): T => {
			if (!values.has(name)) values.set(name, create());
			return values.get(name) as T;
		};
		const view = {
			isRepeat: async (scope: string, key: string) => localMemory(store, scope, { windowMs }).isRepeat(key),
		};
		return { first: view, another: () => view };
	},
}));

describe('CallbackDeduper', () => {
	it('counts the window from the first sighting, so endless repeats pass once per window (exactly, on its own clock)', () => {
		const time = clock();
		const deduper = new CallbackDeduper({ windowMs: 1000, now: time.now });
		const passed: number[] = [];
		for (let t = 0; t < 3000; t += 400) {
			if (!deduper.isRepeat('k')) passed.push(t);
			time.advance(400);
		}
		expect(passed).toEqual([0, 1200, 2400]);
	});

	it('keys calls by conversation UUID and never dedupes a callback without an id', () => {
		expect(dedupeKey({ messageUuid: null, conversationUuid: 'CON-1', status: 'busy' })).toContain('CON-1');
		expect(dedupeKey({ messageUuid: null, conversationUuid: null, status: 'busy' })).toBeUndefined();
	});

	it('forgets expired keys and never holds more than maxEntries', () => {
		const time = clock();
		const deduper = new CallbackDeduper({ windowMs: 1000, maxEntries: 3, now: time.now });
		for (const key of ['a', 'b', 'c', 'd']) deduper.isRepeat(key);
		expect(deduper.size).toBe(3);
		expect(deduper.isRepeat('a')).toBe(false); // the oldest was evicted
		time.advance(1000);
		deduper.isRepeat('e');
		expect(deduper.size).toBe(1);
	});
});

describe('localMemory', () => {
	it('returns the same memory for the same workflow and node, and another for another node', () => {
		const first = localMemory(moduleStore, 'wf-shared/node-1', { windowMs: 60_000 });
		first.isRepeat('m9|read');
		expect(localMemory(moduleStore, 'wf-shared/node-1', { windowMs: 60_000 }).isRepeat('m9|read')).toBe(true);
		expect(localMemory(moduleStore, 'wf-shared/node-2', { windowMs: 60_000 }).isRepeat('m9|read')).toBe(false);
	});

	it("in the queue edition's store, a second copy of the module finds the same memory", () => {
		localMemory(processWide, 'wf-global/node-1', { windowMs: 60_000 }).isRepeat('m1|read');
		jest.isolateModules(() => {
			const fresh =
				require('../../../nodes/VonageAiStudioTrigger/repeats') as typeof import('../../../nodes/VonageAiStudioTrigger/repeats');
			const store = (
				require('../../../editions/queue/processWide') as typeof import('../../../editions/queue/processWide')
			).processWide;
			expect(fresh.localMemory(store, 'wf-global/node-1', { windowMs: 60_000 }).isRepeat('m1|read')).toBe(true);
		});
	});
});

describe('repeatMemory', () => {
	function shared(claims: Map<string, boolean> | 'down'): SharedRepeats & { asked: number } {
		const memory = {
			location: '127.0.0.1:6379',
			asked: 0,
			async claimFirstSighting(scope: string, key: string) {
				memory.asked++;
				if (claims === 'down') throw new Error('no answer within 1000 ms');
				const first = !claims.has(`${scope}|${key}`);
				claims.set(`${scope}|${key}`, true);
				return first;
			},
		};
		return memory;
	}

	it('answers from this process first, then asks the shared memory, which drops what another process saw', async () => {
		const claims = new Map<string, boolean>();
		const sharedMemory = shared(claims);
		const here = repeatMemory({
			scope: 's',
			windowMs: 60_000,
			local: new CallbackDeduper({ windowMs: 60_000 }),
			shared: sharedMemory,
		});
		const there = repeatMemory({
			scope: 's',
			windowMs: 60_000,
			local: new CallbackDeduper({ windowMs: 60_000 }),
			shared: sharedMemory,
		});
		expect(await here.isRepeat(callback('m1', 'read'))).toBe(false);
		expect(await here.isRepeat(callback('m1', 'read'))).toBe(true);
		expect(sharedMemory.asked).toBe(1); // the second answer came from this process's memory
		expect(await there.isRepeat(callback('m1', 'read'))).toBe(true); // another process saw it first
		expect(await there.isRepeat(callback('m1', 'delivered'))).toBe(false);
	});

	it('lets the callback through when the shared memory fails, and says so', async () => {
		const failures: string[] = [];
		const memory = repeatMemory({
			scope: 's',
			windowMs: 60_000,
			local: new CallbackDeduper({ windowMs: 60_000 }),
			shared: shared('down'),
			onSharedFailure: (error, location) => failures.push(`${location}: ${(error as Error).message}`),
		});
		expect(await memory.isRepeat(callback('m2', 'read'))).toBe(false);
		expect(failures).toEqual(['127.0.0.1:6379: no answer within 1000 ms']);
		// This process still remembers it.
		expect(await memory.isRepeat(callback('m2', 'read'))).toBe(true);
	});

	it('never drops a callback without a message or call id', async () => {
		const memory = repeatMemory({ scope: 's', windowMs: 60_000, local: new CallbackDeduper({ windowMs: 60_000 }) });
		const anonymous = callback(null as unknown as string, 'read');
		expect(await memory.isRepeat(anonymous)).toBe(false);
		expect(await memory.isRepeat(anonymous)).toBe(false);
	});
});
