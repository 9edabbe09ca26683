// Thirty CRM contacts dropped into Start Session and Wait for Status at once, in real n8n 2.41.1 queue mode (main, 2
// workers, an `n8n webhook` process, PostgreSQL, Redis, the queue edition): the scenario of `npm run bench:waiting`
// (harness/scale/manyWaiting.ts), small. Statuses come while other contacts are still being sent (undeliverable and
// delivered as soon as each execution waits), one-minute limits pass for some, and read comes for the rest in
// random order, many at once. Each execution continues once, by the right output, with its own contact; no status
// posted to a waiting execution is refused; every execution finishes; no contact gets two sessions.
import { Stack } from '../harness/processes';
import { runManyWaiting } from '../harness/scale/manyWaiting';

const stack = new Stack();
afterAll(() => stack.stopAll());

test(
	'30 waiting executions in queue mode: each continues once, by its own status, with its own contact',
	async () => {
		const result = await runManyWaiting(stack, {
			executions: 30,
			tier: 5,
			workers: 2,
			postConcurrency: 30,
			statusConcurrency: 10,
		});
		expect(result.problems).toEqual([]);
		expect(result.counts).toMatchObject({
			contacts: 30,
			sessions: 30,
			resumed: { reached: 24, failed: 4, timedOut: 2 },
			statusesRefused: 0,
			executions: { success: 30 },
		});
	},
	15 * 60_000,
);
