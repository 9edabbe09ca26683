// n8n is redeployed while start-and-wait executions wait for their statuses, in real n8n 2.41.1, in regular mode
// (one `n8n start`, SQLite, the main edition) and in queue mode (main + 2 workers + an `n8n webhook` process,
// PostgreSQL, Redis, the queue edition). Five CRM contacts wait (two with a one-minute limit, three with ten); every
// n8n process is stopped gracefully, as a redeploy does, and started again with the same data more than a minute
// later (in queue mode the workers first, as docs/production-scale.md asks of a redeploy). While n8n is down, a read
// status Studio posts finds nobody and is lost. After the restart:
// - the two whose limit passed during the downtime continue by Timed Out at once (n8n's first look at its waiting
//   executions), each with its own contact, reference, send time and Studio's answer (what a look-up needs), and no
//   status: the one whose read was lost says no more than the other, because n8n never heard it;
// - statuses posted after the restart resume the right executions into Reached and Failed with their own contact;
// - a late status for a finished execution starts nothing, the one nobody answered is still waiting, and no contact
//   was sent a second session.
import { decodeSession, WAIT_PARAMS } from '../core/waitRules';
import { Deployment, type DeploymentMode } from '../harness/n8n/deployment';
import { startRecorder, type Recorder } from '../harness/n8n/recorder';
import { studioCredential, waitNode, waitWorkflow } from '../harness/n8n/workflows';
import { Stack } from '../harness/processes';
import { until } from '../harness/until';
import { startSimulator, type AcceptedSession, type StudioSimulator } from '../simulator/simulator';

const WORKFLOW = 'vgaiE2eRestart01';
const PATH = 'crm-wait-restart';

const CONTACTS = {
	/** No status at all; the limit passes while n8n is down. */
	lapsed: { to: '447700980001', ref: 'rs-lapsed', minutes: 1 },
	/** Read while n8n is down (lost); the limit passes while n8n is down. */
	readWhileDown: { to: '447700980002', ref: 'rs-lost-read', minutes: 1 },
	/** Delivered before the stop, read after the restart. */
	readAfter: { to: '447700980003', ref: 'rs-read', minutes: 10 },
	/** Undeliverable after the restart. */
	failedAfter: { to: '447700980004', ref: 'rs-failed', minutes: 10 },
	/** Nothing before the end of the test: still waiting. */
	silent: { to: '447700980005', ref: 'rs-silent', minutes: 10 },
};

describe.each<DeploymentMode>(['regular', 'queue'])('%s mode: n8n restarted while executions wait', (mode) => {
	const stack = new Stack();
	let simulator: StudioSimulator;
	let recorder: Recorder;
	let n8n: Deployment;

	beforeAll(async () => {
		simulator = await startSimulator({ tier: 5, apiKey: 'e2e-key', callbacks: false });
		stack.defer('simulator', () => simulator.close());
		recorder = await startRecorder();
		stack.defer('recorder', () => recorder.close());
		n8n = await Deployment.prepare(stack, {
			mode,
			credentials: (redisUrl) => [
				studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: 5, redisUrl }),
			],
			workflows: [
				waitWorkflow(
					WORKFLOW,
					PATH,
					waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: '={{ $json.body.minutes }}' }),
					recorder.url,
					['reached', 'failed', 'timedOut'],
				),
			],
			publish: [WORKFLOW],
			webhookPaths: [PATH],
		});
		await n8n.start();
	}, 10 * 60_000);

	afterAll(() => stack.stopAll());

	test(
		'statuses after the restart resume the right executions; limits that passed while down fire at once',
		async () => {
			const sessionOf = (to: string) => simulator.sessions.find((session) => session.body.to === to);
			const statusUrl = (session: AcceptedSession) => String(session.body.status_url);
			const waitUntil = (session: AcceptedSession) =>
				Date.parse(decodeSession(new URL(statusUrl(session)).searchParams.get(WAIT_PARAMS.session)!)!.waitUntil);

			for (const contact of Object.values(CONTACTS)) {
				const answer = await fetch(n8n.webhookUrl(PATH), {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(contact),
				});
				expect(answer.status).toBe(200);
			}
			const sessions = await until(
				'a session for every contact',
				() => {
					const found = Object.values(CONTACTS).map((contact) => sessionOf(contact.to));
					return found.every(Boolean) && (found as AcceptedSession[]);
				},
				60_000,
			);
			for (const session of sessions) await n8n.rest.untilWaiting(WORKFLOW, statusUrl(session), 60_000);
			const [lapsed, readWhileDown, readAfter, failedAfter] = sessions;
			// An intermediate status before the redeploy keeps its execution waiting.
			expect(await simulator.postStatus(readAfter, 'delivered')).toBe(200);

			await n8n.stop();
			// Studio's post finds nobody: it is lost (Studio does not say whether it retries; Vonage's own platform
			// retries only a 429 or 5xx answer, and here there is none).
			expect(await simulator.postStatus(readWhileDown, 'read')).toBe('error');
			const limitPassed = Math.max(waitUntil(lapsed), waitUntil(readWhileDown)) + 1_000;
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, limitPassed - Date.now())));

			const restarting = Date.now();
			await n8n.start();
			const started = Date.now();
			// Before any status reaches the new processes: only the time limits can resume anything.
			await recorder.waitFor(2, 2 * 60_000);
			const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
			process.stdout.write(
				`${mode} mode: n8n was up ${seconds(started - restarting)} after it was started again; the two lapsed waits had continued ${seconds(Date.now() - restarting)} after it was started\n`,
			);
			const byTo = (to: string) => recorder.bodies.filter((body) => body.to === to);
			for (const [contact, session] of [
				[CONTACTS.lapsed, lapsed],
				[CONTACTS.readWhileDown, readWhileDown],
			] as const) {
				expect(byTo(contact.to)).toEqual([
					expect.objectContaining({
						branch: 'timedOut',
						outcome: 'timedOut',
						to: contact.to,
						reference: contact.ref,
						status: null,
						statuses: [],
						sentAt: expect.any(String),
						waitUntil: new Date(waitUntil(session)).toISOString(),
						response: { session_id: session.id },
					}),
				]);
			}

			expect(await simulator.postStatus(readAfter, 'read')).toBe(200);
			expect(await simulator.postStatus(failedAfter, 'undeliverable')).toBe(200);
			await recorder.waitFor(4, 2 * 60_000);
			expect(byTo(CONTACTS.readAfter.to)).toEqual([
				expect.objectContaining({
					branch: 'reached',
					outcome: 'reached',
					status: 'read',
					reference: CONTACTS.readAfter.ref,
					messageUuid: readAfter.messageUuid,
				}),
			]);
			expect(byTo(CONTACTS.failedAfter.to)).toEqual([
				expect.objectContaining({
					branch: 'failed',
					outcome: 'failed',
					status: 'undeliverable',
					reference: CONTACTS.failedAfter.ref,
					errorCode: expect.any(String),
				}),
			]);

			// The lost read, repeated now, is too late: its execution went on by Timed Out.
			const late = await simulator.postStatus(readWhileDown, 'read');
			expect(late).toBeGreaterThanOrEqual(400);
			const silentExecution = new URL(statusUrl(sessions[4])).pathname.split('/')[2];
			const { results } = await n8n.rest.executions(WORKFLOW);
			expect(results.find((each) => String(each.id) === silentExecution)?.status).toBe('waiting');
			await new Promise((resolve) => setTimeout(resolve, 2_000));
			expect(recorder.bodies).toHaveLength(4);
			for (const contact of Object.values(CONTACTS)) {
				expect(simulator.sessions.filter((session) => session.body.to === contact.to)).toHaveLength(1);
			}
		},
		10 * 60_000,
	);
});
