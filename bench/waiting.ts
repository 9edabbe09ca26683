// A thousand executions waiting for their statuses, in real n8n 2.41.1 queue mode (harness/scale/manyWaiting.ts has
// the scenario and its checks):
//   npm run bench:waiting                         1 000 CRM contacts at tier 5 (about 6 minutes)
//   npm run bench:waiting -- --executions 50      a small run
// Exits non-zero when a check fails: a contact sent twice or not at all, an execution resumed twice or by the wrong
// output or with another contact, a status refused although its execution was waiting, an execution not finished.
import { parseArgs } from 'node:util';
import { Stack } from '../harness/processes';
import { megabytes } from '../harness/processMemory';
import { runManyWaiting } from '../harness/scale/manyWaiting';
import { describeMachine, positiveNumber, tierOf } from '../harness/scale/report';

const HELP = `npm run bench:waiting -- [options]
  --executions N          CRM contacts, one start-and-wait execution each (default 1000)
  --tier 1|3|5            the credential's and the simulator's sessions per second (default 5)
  --workers N             n8n worker processes (default 2)
  --post-concurrency N    CRM posts in flight at once (default 100)
  --status-concurrency N  status posts in flight at once (default 20)
  --echo                  print n8n's own output
`;

async function main(): Promise<number> {
	const { values } = parseArgs({
		options: {
			help: { type: 'boolean', short: 'h' },
			executions: { type: 'string', default: '1000' },
			tier: { type: 'string', default: '5' },
			workers: { type: 'string', default: '2' },
			'post-concurrency': { type: 'string', default: '100' },
			'status-concurrency': { type: 'string', default: '20' },
			echo: { type: 'boolean', default: false },
		},
	});
	if (values.help) {
		process.stdout.write(HELP);
		return 0;
	}
	const say = (line = '') => process.stdout.write(`${line}\n`);
	const stack = new Stack();
	const stop = () => void stack.stopAll().finally(() => process.exit(130));
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	say(`Machine at the start: ${describeMachine()}`);
	try {
		const result = await runManyWaiting(stack, {
			executions: positiveNumber(values.executions, 'executions'),
			tier: tierOf(values.tier),
			workers: positiveNumber(values.workers, 'workers'),
			postConcurrency: positiveNumber(values['post-concurrency'], 'post-concurrency'),
			statusConcurrency: positiveNumber(values['status-concurrency'], 'status-concurrency'),
			echo: values.echo,
			log: (line) => say(`• ${line}`),
		});
		const { counts, seconds, rows } = result;
		say();
		say(`Machine at the end: ${describeMachine()}`);
		say(
			`Contacts ${counts.contacts}: sessions ${counts.sessions} (429 answers, each retried: ${counts.tooManyRequests})`,
		);
		say(
			`Continued: Reached ${counts.resumed.reached}, Failed ${counts.resumed.failed}, Timed Out ${counts.resumed.timedOut}; most executions waiting at once ${counts.mostWaitingAtOnce}`,
		);
		say(`Statuses posted ${counts.statusesPosted}, refused ${counts.statusesRefused}`);
		say(`Executions by status: ${JSON.stringify(counts.executions)}`);
		say('Seconds from the first CRM post:');
		say(`  every CRM post answered      ${seconds.crmPostsAnswered.toFixed(1)}`);
		say(`  last session sent            ${seconds.lastSessionSent.toFixed(1)}`);
		say(`  every execution waiting      ${seconds.allWaiting.toFixed(1)}`);
		say(`  first read posted            ${seconds.readsFrom.toFixed(1)}`);
		say(`  last read posted             ${seconds.lastReadPosted.toFixed(1)}`);
		say(`  every read execution resumed ${seconds.allReadContinued.toFixed(1)}`);
		say(`  every execution continued    ${seconds.allResumed.toFixed(1)} (the last one-minute limits)`);
		const reads = counts.resumed.reached;
		say(
			`Sending ${(counts.sessions / Math.max(seconds.lastSessionSent, 1)).toFixed(2)} per second from the first post; resuming ${(reads / Math.max(seconds.allReadContinued - seconds.readsFrom, 0.1)).toFixed(1)} executions per second on read`,
		);
		say('Memory (RSS) of each n8n process after start-up → its peak; the peak of its largest child (task runner):');
		for (const [name, peak] of result.memory) {
			say(
				`  ${name.padEnd(16)} ${megabytes(peak.startBytes).padStart(8)} → ${megabytes(peak.ownBytes).padStart(8)}  child ${megabytes(peak.childBytes)}`,
			);
		}
		for (const [when, figures] of Object.entries(rows)) {
			say(
				`PostgreSQL ${when === 'whileWaiting' ? 'with every execution waiting' : 'at the end'}: ${figures.executions} executions, ${figures.executionData} execution_data rows, database ${megabytes(figures.databaseBytes)}`,
			);
			say(
				`  ${Object.entries(figures.tableBytes)
					.map(([table, bytes]) => `${table} ${megabytes(bytes)}`)
					.join(', ')}`,
			);
		}
		say();
		if (result.problems.length > 0) {
			say(`FAILED: ${result.problems.length} problem(s)`);
			for (const problem of result.problems.slice(0, 50)) say(`  - ${problem}`);
			return 1;
		}
		say('PASSED: every check held');
		return 0;
	} finally {
		await stack.stopAll();
	}
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	},
);
