// The example examples/campaign-in-batches.json as shipped, in real n8n 2.41.1 (regular mode, the main edition),
// run from the editor's Execute Workflow: Loop Over Items hands the contacts, 50 at a time, to the same workflow as
// sub-executions. Every contact gets one session, every batch execution succeeds, and the editor opens the campaign's
// execution and shows the batches' summary of every contact. Run again (after a failure, or by mistake), it sends
// nothing: every contact's Idempotency Key is recognised. The scenario of `npm run bench:campaign -- --shapes batches
// --again` (harness/scale/bigCampaign.ts), small.
import { Stack } from '../harness/processes';
import { runBigCampaign } from '../harness/scale/bigCampaign';

const stack = new Stack();
afterAll(() => stack.stopAll());

test(
	'a campaign in batches of sub-executions: every contact once, every batch done, the editor opens it; run again, it sends nothing',
	async () => {
		const result = await runBigCampaign(stack, {
			mode: 'regular',
			shape: 'batches',
			contacts: 150,
			tier: 5,
			batchSize: 50,
			runAgain: true,
		});
		expect(result.problems).toEqual([]);
		expect(result.counts.sessions).toBe(150);
		expect(result.counts.executions).toEqual({ 'manual:success': 1, 'integrated:success': 3 });
		expect(result.editor).toMatchObject({ contactsShown: 150, alreadySentShown: 0 });
		expect(result.again).toMatchObject({ newSessions: 0, editor: { contactsShown: 150, alreadySentShown: 150 } });
	},
	10 * 60_000,
);
