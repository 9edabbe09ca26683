// Many CRM contacts dropped into Start Session and Wait for Status at once, in real n8n 2.41.1 queue mode (main, 2
// workers and an `n8n webhook` process, PostgreSQL, Redis, the queue edition): the scenario of `npm run
// bench:waiting` (a thousand) and, small, of e2e/manyWaiting.e2e.test.ts. Every contact is posted to the webhook
// process at once; the sessions go out at the tier; Studio's statuses come as they would:
// - as soon as an execution is saved as waiting: `undeliverable` for one contact in ten (Failed), `delivered` for
//   the others (intermediate: keeps it waiting), while the other contacts are still being sent;
// - one in twenty hears nothing more and has a one-minute limit (Timed Out, fired by n8n's wait tracker);
// - once every contact is sent and waiting, `read` for all the others, in random order, many at once (Reached).
// Then it checks, exactly: one session per contact, each execution resumed once into the right output with its own
// contact and status, every status posted to a waiting execution accepted, every execution finished; and measures
// how long each phase took, the n8n processes' peak memory, and PostgreSQL's execution rows and sizes.
import { randomInt } from 'node:crypto';
import type { RateTier } from '../../core/studioApi';
import { Deployment } from '../n8n/deployment';
import { startRecorder } from '../n8n/recorder';
import { studioCredential, waitNode, waitWorkflow } from '../n8n/workflows';
import { inParallel } from '../parallel';
import type { Stack } from '../processes';
import { MemoryWatch, type MemoryPeak } from '../processMemory';
import { until } from '../until';
import { startSimulator, type AcceptedSession } from '../../simulator/simulator';
import { executionRows, executionStatuses, type ExecutionRows } from './postgresFigures';
import { countBy } from './report';

export const WAITING_WORKFLOW = 'vgaiScaleWaiting';
const PATH = 'crm-start-and-wait';
const BRANCHES = ['reached', 'failed', 'timedOut'] as const;
/** Long enough for the biggest run: only the contacts meant to time out may. */
const LONG_LIMIT_MINUTES = 180;

export interface ManyWaitingOptions {
	executions: number;
	tier: RateTier;
	workers: number;
	/** CRM posts in flight at once. */
	postConcurrency: number;
	/** Status posts in flight at once. */
	statusConcurrency: number;
	/** Print n8n's own output. */
	echo?: boolean;
	/** Progress lines. */
	log?: (line: string) => void;
}

type Plan = 'failsEarly' | 'timesOut' | 'readLate';

const planOf = (index: number): Plan => {
	const slot = index % 20;
	return slot < 2 ? 'failsEarly' : slot === 2 ? 'timesOut' : 'readLate';
};
const EXPECTED: Record<Plan, { branch: (typeof BRANCHES)[number]; status: string | null }> = {
	failsEarly: { branch: 'failed', status: 'undeliverable' },
	timesOut: { branch: 'timedOut', status: null },
	readLate: { branch: 'reached', status: 'read' },
};

export interface Contact {
	index: number;
	to: string;
	ref: string;
	minutes: number;
	plan: Plan;
}

export function contactOf(index: number): Contact {
	const plan = planOf(index);
	return {
		index,
		to: `4477${String(10_000_000 + index).slice(1)}`,
		ref: `wait-${index}`,
		minutes: plan === 'timesOut' ? 1 : LONG_LIMIT_MINUTES,
		plan,
	};
}

export interface ManyWaitingResult {
	/** Empty when every check held; each entry says what did not. */
	problems: string[];
	counts: {
		contacts: number;
		sessions: number;
		tooManyRequests: number;
		resumed: Record<(typeof BRANCHES)[number], number>;
		statusesPosted: number;
		statusesRefused: number;
		executions: Record<string, number>;
		mostWaitingAtOnce: number;
	};
	/** Seconds from the first CRM post. */
	seconds: {
		crmPostsAnswered: number;
		lastSessionSent: number;
		allWaiting: number;
		/** When the first read was posted, the last, and when the last execution it resumed had continued. */
		readsFrom: number;
		lastReadPosted: number;
		allReadContinued: number;
		allResumed: number;
	};
	memory: Map<string, MemoryPeak>;
	rows: { whileWaiting: ExecutionRows; atEnd: ExecutionRows };
}

const executionIdOf = (session: AcceptedSession) =>
	new URL(String(session.body.status_url)).pathname.split('/')[2] ?? '';

export async function runManyWaiting(stack: Stack, options: ManyWaitingOptions): Promise<ManyWaitingResult> {
	const log = options.log ?? (() => undefined);
	const problems: string[] = [];
	const contacts = Array.from({ length: options.executions }, (_, index) => contactOf(index));
	const byTo = new Map(contacts.map((contact) => [contact.to, contact]));

	const simulator = await startSimulator({ tier: options.tier, apiKey: 'scale-key', callbacks: false });
	stack.defer('simulator', () => simulator.close());
	const recorder = await startRecorder();
	stack.defer('recorder', () => recorder.close());
	const n8n = await Deployment.prepare(stack, {
		mode: 'queue',
		workers: options.workers,
		credentials: (redisUrl) => [
			studioCredential({ baseUrl: simulator.url, apiKey: 'scale-key', sessionsPerSecond: options.tier, redisUrl }),
		],
		workflows: [
			waitWorkflow(
				WAITING_WORKFLOW,
				PATH,
				waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: '={{ $json.body.minutes }}' }),
				recorder.url,
				[...BRANCHES],
			),
		],
		publish: [WAITING_WORKFLOW],
		webhookPaths: [PATH],
		echo: options.echo,
	});
	log('starting n8n in queue mode (main, webhook process, workers)');
	await n8n.start();
	const postgres = n8n.postgres!;
	const memory = new MemoryWatch(() => n8n.processes.map((each) => ({ name: each.name, pid: each.child.pid })));

	const started = Date.now();
	const since = () => (Date.now() - started) / 1000;
	let statusesPosted = 0;
	const refused: string[] = [];
	const postStatus = async (session: AcceptedSession, status: string) => {
		statusesPosted++;
		const answer = await simulator.postStatus(session, status);
		if (answer !== 200) refused.push(`${status} for ${String(session.body.to)}: ${answer}`);
	};

	// Studio's first statuses, as soon as each execution is saved as waiting (n8n refuses any earlier: 409).
	const heard = new Set<string>();
	let mostWaitingAtOnce = 0;
	let listening = true;
	const earlyStatuses = (async () => {
		while (listening && heard.size < contacts.length) {
			const waiting = new Set(
				await postgres.query(
					`select id from execution_entity where "workflowId" = '${WAITING_WORKFLOW}' and status = 'waiting'`,
				),
			);
			mostWaitingAtOnce = Math.max(mostWaitingAtOnce, waiting.size);
			const fresh = simulator.sessions.filter(
				(session) => waiting.has(executionIdOf(session)) && !heard.has(String(session.body.to)),
			);
			for (const session of fresh) heard.add(String(session.body.to));
			await inParallel(fresh, options.statusConcurrency, (session) =>
				postStatus(session, byTo.get(String(session.body.to))?.plan === 'failsEarly' ? 'undeliverable' : 'delivered'),
			);
			if (fresh.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
		}
	})();

	log(`posting ${contacts.length} CRM contacts, ${options.postConcurrency} at a time`);
	await inParallel(contacts, options.postConcurrency, async (contact) => {
		const answer = await fetch(n8n.webhookUrl(PATH), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ to: contact.to, ref: contact.ref, minutes: contact.minutes }),
		}).then(
			async (response) => {
				await response.arrayBuffer();
				return response.status;
			},
			(error: Error) => error.message,
		);
		if (answer !== 200) problems.push(`the CRM post for ${contact.to} got ${answer}`);
	});
	const crmPostsAnswered = since();
	log(`all CRM posts answered after ${crmPostsAnswered.toFixed(1)} s; sending at ${options.tier} per second`);

	const expectedSendSeconds = contacts.length / options.tier;
	await until(
		'a session for every contact',
		() => simulator.sessions.length >= contacts.length,
		(expectedSendSeconds * 3 + 120) * 1000,
		500,
	);
	const lastSessionSent = (simulator.sessions.at(-1)!.arrivedAt - started) / 1000;
	await until('every execution to be saved as waiting', () => heard.size >= contacts.length, 5 * 60_000, 500).catch(
		(error: Error) => problems.push(`${error.message}: ${heard.size} of ${contacts.length}`),
	);
	listening = false;
	await earlyStatuses;
	const allWaiting = since();
	const whileWaiting = await executionRows(postgres);
	log(`all ${contacts.length} executions waited by ${allWaiting.toFixed(1)} s (at most ${mostWaitingAtOnce} at once)`);

	// Read, for every contact meant to read, in random order.
	const late = simulator.sessions.filter((session) => byTo.get(String(session.body.to))?.plan === 'readLate');
	for (let index = late.length - 1; index > 0; index--) {
		const other = randomInt(index + 1);
		[late[index], late[other]] = [late[other], late[index]];
	}
	log(`posting read for ${late.length} executions in random order, ${options.statusConcurrency} at a time`);
	const readsFrom = since();
	await inParallel(late, options.statusConcurrency, (session) => postStatus(session, 'read'));
	const lastReadPosted = since();
	const reached = () => recorder.bodies.filter((body) => body.branch === 'reached').length;
	await until('every read execution to continue', () => reached() >= late.length, 5 * 60_000, 200).catch(() => {
		// told below, with every other count
	});
	const allReadContinued = since();

	await until(
		'every execution to continue',
		() => recorder.bodies.length >= contacts.length,
		// The one-minute limits of the last contacts sent may still be running.
		3 * 60_000 + contacts.length * 200,
		500,
	).catch((error: Error) => problems.push(`${error.message}: ${recorder.bodies.length} of ${contacts.length}`));
	const allResumed = since();
	// Any second resume of an execution would show by now.
	await new Promise((resolve) => setTimeout(resolve, 3_000));
	const peaks = memory.stop();
	const atEnd = await executionRows(postgres);
	const executions = await executionStatuses(postgres, WAITING_WORKFLOW);

	// --- the checks --------------------------------------------------------------------------------------
	const sessionsPer = countBy(simulator.sessions, (session) => String(session.body.to));
	for (const contact of contacts) {
		const count = sessionsPer.get(contact.to) ?? 0;
		if (count !== 1) problems.push(`${contact.to} got ${count} sessions`);
	}

	const byBranch = countBy(recorder.bodies, (body) => String(body.branch));
	const resumed = Object.fromEntries(BRANCHES.map((branch) => [branch, byBranch.get(branch) ?? 0])) as Record<
		(typeof BRANCHES)[number],
		number
	>;
	const bodiesPer = new Map<string, Array<Record<string, unknown>>>();
	for (const body of recorder.bodies) bodiesPer.set(String(body.to), [...(bodiesPer.get(String(body.to)) ?? []), body]);
	for (const contact of contacts) {
		const bodies = bodiesPer.get(contact.to) ?? [];
		if (bodies.length !== 1) {
			problems.push(`${contact.to} continued ${bodies.length} times`);
			continue;
		}
		const [body] = bodies;
		const expected = EXPECTED[contact.plan];
		const wrong = [
			body.branch !== expected.branch && `by ${String(body.branch)} instead of ${expected.branch}`,
			body.outcome !== expected.branch && `with outcome ${String(body.outcome)}`,
			body.status !== expected.status && `with status ${String(body.status)} instead of ${expected.status}`,
			body.reference !== contact.ref && `with the reference ${String(body.reference)} instead of ${contact.ref}`,
		].filter(Boolean);
		if (wrong.length > 0) problems.push(`${contact.to} continued ${wrong.join(', ')}`);
	}
	const strangers = [...bodiesPer.keys()].filter((to) => !byTo.has(to));
	if (strangers.length > 0) problems.push(`items for contacts nobody posted: ${strangers.join(', ')}`);
	problems.push(...refused.map((line) => `a status posted to a waiting execution was refused: ${line}`));
	const unfinished = Object.entries(executions).filter(([status]) => status !== 'success');
	if (unfinished.length > 0 || executions.success !== contacts.length) {
		problems.push(`executions by status: ${JSON.stringify(executions)}, expected ${contacts.length} success`);
	}

	return {
		problems,
		counts: {
			contacts: contacts.length,
			sessions: simulator.sessions.length,
			tooManyRequests: simulator.tooManyRequests,
			resumed,
			statusesPosted,
			statusesRefused: refused.length,
			executions,
			mostWaitingAtOnce,
		},
		seconds: { crmPostsAnswered, lastSessionSent, allWaiting, readsFrom, lastReadPosted, allReadContinued, allResumed },
		memory: peaks,
		rows: { whileWaiting, atEnd },
	};
}
