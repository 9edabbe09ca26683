// The rules of the trigger's callback memory, whichever store keeps it: one suite that each store's test file runs
// (this process's memory in test/nodes/VonageAiStudioTrigger/repeats.test.ts, the memory shared through Redis in
// test/editions/queue/redisRepeats.test.ts), so a rule broken in one store fails the same test as in the other.
// Real time, for both (Redis expires its keys by its own clock): the waits are far longer than the slack they need.
// What only one store does stays in its file (bounded entries and one memory per trigger node in process; three
// receiving processes and Redis out of reach on Redis).
import { dedupeKey } from '../../nodes/VonageAiStudioTrigger/repeats';

/** One receiving process's view of the memory: true when (scope, key) was seen within the window. */
export interface RepeatsView {
	isRepeat(scope: string, key: string): Promise<boolean>;
}

export interface RepeatsStore {
	name: string;
	/**
	 * A memory with this window: `first`, and `another()` as another receiver of callbacks has it (another process
	 * for Redis; in memory, another request to the same process).
	 */
	memory(windowMs: number): { first: RepeatsView; another(): RepeatsView };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let scopes = 0;
/** A trigger node's scope (workflow and node) no other test uses. */
const scope = (name = 'node') => `wf-contract-${Date.now()}-${++scopes}/${name}`;

const key = (messageUuid: string, status: string) => dedupeKey({ messageUuid, conversationUuid: null, status })!;

export function repeatsContract(store: () => RepeatsStore): void {
	describe(`the callback memory's rules (${store().name})`, () => {
		it('lets the first sighting of a status through and drops its repeats within the window, wherever they arrive', async () => {
			const { first, another } = store().memory(60_000);
			const node = scope();
			expect(await first.isRepeat(node, key('m1', 'read'))).toBe(false);
			expect(await first.isRepeat(node, key('m1', 'read'))).toBe(true);
			expect(await another().isRepeat(node, key('m1', 'read'))).toBe(true);
		});

		it('another status of the same message, or the same status of another message, is not a repeat', async () => {
			const { first, another } = store().memory(60_000);
			const node = scope();
			expect(await first.isRepeat(node, key('m2', 'delivered'))).toBe(false);
			expect(await another().isRepeat(node, key('m2', 'read'))).toBe(false);
			expect(await another().isRepeat(node, key('m3', 'delivered'))).toBe(false);
			expect(await first.isRepeat(node, key('m2', 'read'))).toBe(true);
		});

		it('each trigger node keeps its own memory: the same status to another node is not a repeat', async () => {
			const { first, another } = store().memory(60_000);
			const workflow = scope();
			expect(await first.isRepeat(workflow, key('m4', 'read'))).toBe(false);
			expect(await another().isRepeat(`${workflow}-other`, key('m4', 'read'))).toBe(false);
		});

		it('counts the window from the first sighting: a status repeated all along passes again once the window has passed', async () => {
			const windowMs = 3000;
			const { first, another } = store().memory(windowMs);
			const node = scope();
			expect(await first.isRepeat(node, key('m5', 'read'))).toBe(false);
			await sleep(600);
			// Well within the window: dropped, and the window does not start again from here.
			expect(await another().isRepeat(node, key('m5', 'read'))).toBe(true);
			await sleep(windowMs - 600 + 100);
			expect(await first.isRepeat(node, key('m5', 'read'))).toBe(false);
			expect(await another().isRepeat(node, key('m5', 'read'))).toBe(true);
		});
	});
}
