// A big campaign in one n8n execution, in real n8n 2.41.1, regular mode and queue mode side by side (each against
// its own simulator at the tier; harness/scale/bigCampaign.ts has the scenario and its checks):
//   npm run bench:campaign                               10 000 contacts at tier 5: 2 000 s of sending, ~35 minutes
//   npm run bench:campaign -- --contacts 1000            the same checks in about 4 minutes
//   npm run bench:campaign -- --shapes batches           the example examples/campaign-in-batches.json instead
// The credential offers Vonage's tiers only (1, 3, 5), so 10 000 sends take 2 000 s at the fastest: the figures
// that grow with the campaign (memory, stored size, the editor's read) are measured at that size.
// Exits non-zero when a check fails.
import { parseArgs } from 'node:util';
import type { DeploymentMode } from '../harness/n8n/deployment';
import { Stack } from '../harness/processes';
import { megabytes } from '../harness/processMemory';
import { runBigCampaign, type CampaignResult, type CampaignShape } from '../harness/scale/bigCampaign';
import { describeMachine, positiveNumber, tierOf } from '../harness/scale/report';

const HELP = `npm run bench:campaign -- [options]
  --contacts N        contacts in the campaign (default 10000)
  --tier 1|3|5        the credential's and the simulator's sessions per second (default 5)
  --modes LIST        regular,queue (default both, side by side)
  --shapes LIST       one-execution,batches (default one-execution)
  --batch-size N      contacts per sub-execution in the batches shape (default 500)
  --again             run each campaign a second time once done: it must send nothing
  --sequential        one run after the other instead of side by side
  --echo              print n8n's own output
`;

function report(name: string, result: CampaignResult): string[] {
	const { counts, seconds, stored, editor } = result;
	return [
		`${name}:`,
		`  sessions ${counts.sessions} (429 answers, each retried: ${counts.tooManyRequests}); executions ${JSON.stringify(counts.executions)}`,
		`  ran on ${result.ranOn}: ${seconds.run.toFixed(0)} s, first to last session ${seconds.firstToLastSession.toFixed(0)} s (${(counts.sessions / Math.max(seconds.firstToLastSession, 1)).toFixed(2)} per second)`,
		`  memory (RSS) after start-up → peak (largest child): ${[...result.memory]
			.map(
				([process, peak]) =>
					`${process} ${megabytes(peak.startBytes)} → ${megabytes(peak.ownBytes)} (${megabytes(peak.childBytes)})`,
			)
			.join('; ')}`,
		`  stored: the campaign's execution ${megabytes(stored.campaignExecutionBytes)}${stored.largestBatchBytes === undefined ? '' : `, the largest batch execution ${megabytes(stored.largestBatchBytes)}`}, database ${megabytes(stored.databaseBytes)}`,
		`  the editor opening the campaign's execution: ${editor.seconds.toFixed(2)} s for ${megabytes(editor.responseBytes)}, ${editor.contactsShown} contacts shown`,
		...(result.again
			? [
					`  run again: ${result.again.newSessions} new sessions, ${result.again.editor.alreadySentShown} of ${result.again.editor.contactsShown} contacts shown as already sent`,
				]
			: []),
		...(result.problems.length === 0
			? ['  every check held']
			: [
					`  FAILED: ${result.problems.length} problem(s)`,
					...result.problems.slice(0, 20).map((line) => `   - ${line}`),
				]),
	];
}

async function main(): Promise<number> {
	const { values } = parseArgs({
		options: {
			help: { type: 'boolean', short: 'h' },
			contacts: { type: 'string', default: '10000' },
			tier: { type: 'string', default: '5' },
			modes: { type: 'string', default: 'regular,queue' },
			shapes: { type: 'string', default: 'one-execution' },
			'batch-size': { type: 'string', default: '500' },
			again: { type: 'boolean', default: false },
			sequential: { type: 'boolean', default: false },
			echo: { type: 'boolean', default: false },
		},
	});
	if (values.help) {
		process.stdout.write(HELP);
		return 0;
	}
	const list = <T extends string>(text: string, allowed: readonly T[], name: string): T[] =>
		text.split(',').map((part) => {
			if (!allowed.includes(part.trim() as T))
				throw new Error(`--${name}: "${part}" is not one of ${allowed.join(', ')}`);
			return part.trim() as T;
		});
	const modes = list<DeploymentMode>(values.modes, ['regular', 'queue'], 'modes');
	const shapes = list<CampaignShape>(values.shapes, ['one-execution', 'batches'], 'shapes');
	const contacts = positiveNumber(values.contacts, 'contacts');
	const tier = tierOf(values.tier);
	const batchSize = positiveNumber(values['batch-size'], 'batch-size');
	const say = (line = '') => process.stdout.write(`${line}\n`);
	// Each n8n process, Postgres and Redis a run starts listens for this process's exit, so as to die with it.
	process.setMaxListeners(100);

	const stacks: Stack[] = [];
	const stopAll = () => Promise.allSettled(stacks.map((stack) => stack.stopAll()));
	const interrupt = () => void stopAll().finally(() => process.exit(130));
	process.once('SIGINT', interrupt);
	process.once('SIGTERM', interrupt);
	say(`Machine at the start: ${describeMachine()}`);
	const runs = modes.flatMap((mode) => shapes.map((shape) => ({ mode, shape, name: `${mode} mode, ${shape}` })));
	const one = async (run: (typeof runs)[number]) => {
		const stack = new Stack();
		stacks.push(stack);
		try {
			return await runBigCampaign(stack, {
				mode: run.mode,
				shape: run.shape,
				contacts,
				tier,
				batchSize,
				runAgain: values.again,
				echo: values.echo,
				log: (line) => say(`• ${run.name}: ${line}`),
			});
		} finally {
			await stack.stopAll();
		}
	};
	const results: CampaignResult[] = [];
	if (values.sequential) for (const run of runs) results.push(await one(run));
	else results.push(...(await Promise.all(runs.map(one))));
	say();
	say(`Machine at the end: ${describeMachine()}`);
	say(`${contacts} contacts at tier ${tier}${runs.length > 1 && !values.sequential ? ', the runs side by side' : ''}`);
	runs.forEach((run, index) => report(run.name, results[index]).forEach((line) => say(line)));
	return results.some((result) => result.problems.length > 0) ? 1 : 0;
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	},
);
