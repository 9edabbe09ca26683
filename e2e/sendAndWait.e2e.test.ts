// Start a session and wait for its status, in real n8n (`n8n start`, the main edition), the way a CRM-triggered
// workflow uses it: Webhook → Vonage AI Studio (start and wait) → one branch per outcome.
// - n8n 2.41.1 (three outputs): a read WhatsApp continues by Reached, an undeliverable one by Failed (with Studio's
//   error), an answered call by Timed Out when the limit passes, an unanswered one by Failed; two executions waiting
//   at once each resume with their own contact; a forged callback gets 401, an intermediate or repeated one keeps the
//   execution waiting, a late one starts nothing; with Vonage's hosts and a localhost resume URL nothing is sent.
// - n8n 2.8.4 (Node 20), which continues a waiting node by its first output only: the one-output mode with an
//   "outcome" field works (read, undeliverable, a silent contact timing out after forged and repeated intermediate
//   callbacks); the three-output mode, and a localhost resume URL with Vonage's hosts, are refused before sending.
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, N8nRest, type WorkflowImport } from '../harness/n8n/n8n';
import { startRecorder, type Recorder } from '../harness/n8n/recorder';
import { Stack } from '../harness/processes';
import { until } from '../harness/until';
import { DEFAULT_N8N_VERSION, NODE20_N8N_VERSION } from '../harness/n8n/runtime';
import { studioCredential, waitNode, waitWorkflow } from '../harness/n8n/workflows';

const VONAGE_CREDENTIAL = { id: 'vgaiStudioVonage', name: 'Studio at Vonage' };

async function post(home: N8nHome, path: string, body: unknown): Promise<number> {
	const response = await fetch(home.webhookUrl(path), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	await response.arrayBuffer();
	return response.status;
}

const stack = new Stack();
afterAll(() => stack.stopAll());

async function setUp(version: string, workflows: (recorderUrl: string) => WorkflowImport[]) {
	// Statuses 2.5 s apart: the first arrives after n8n has saved the execution as waiting (before that moment n8n
	// answers 409, even on a loaded CI machine).
	const simulator: StudioSimulator = await startSimulator({
		tier: 5,
		apiKey: 'e2e-key',
		callbackDelayMs: 2_500,
		failNumbers: { '447700970002': 'undeliverable', '447700970004': 'rejected' },
	});
	stack.defer(`simulator ${version}`, () => simulator.close());
	const recorder: Recorder = await startRecorder();
	stack.defer(`recorder ${version}`, () => recorder.close());
	const home = await N8nHome.create({ version, package: await preparePackage() });
	stack.defer(`n8n ${version} user folder`, () => home.remove());
	await home.importCredentials([
		studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: 5 }),
		{ ...studioCredential({ baseUrl: '', apiKey: 'real-looking-key', sessionsPerSecond: 1 }), ...VONAGE_CREDENTIAL },
	]);
	const all = workflows(recorder.url);
	await home.importWorkflows(all);
	for (const workflow of all) await home.publishWorkflow(workflow.id);
	const n8n = stack.add(await home.start({ name: `n8n ${version}` }));
	const paths = all.map((workflow) => String((workflow.nodes[0].parameters as { path: string }).path));
	await home.waitForWebhooks(
		paths.map((path) => home.webhookUrl(path)),
		60_000,
		n8n,
	);
	const rest = await N8nRest.setupOwner(home.baseUrl);
	return { simulator, recorder, home, rest };
}

/** Every request for this contact that reached the simulator, refused ones included. */
const requestsTo = (simulator: StudioSimulator, to: string) =>
	simulator.requests.filter((request) => (request.body as { to?: unknown } | undefined)?.to === to);

const statusUrlOf = (simulator: StudioSimulator, to: string) =>
	simulator.sessions.find((session) => session.body.to === to)?.body.status_url as string | undefined;

/** The first failed execution of a workflow, as n8n's REST API shows it (its data as text), within 20 s. */
async function failedExecution(rest: N8nRest, workflowId: string): Promise<string> {
	const failed = await until(
		`a failed execution of ${workflowId}`,
		async () => (await rest.executions(workflowId)).results.find((each) => each.status === 'error'),
		20_000,
		200,
	);
	return JSON.stringify(await rest.get(`/rest/executions/${failed.id}`));
}

/**
 * Callbacks to a waiting execution's status URL: a forged one (our check value changed, or, where n8n signs resume
 * URLs, its signature removed) is refused with 401 even with a final status; a genuine intermediate status, sent
 * twice, is answered 200 each time. Whether the execution is still waiting afterwards is for the caller to show (by
 * the branch it continues on).
 */
async function expectOnlyGenuineCallbacksHeard(
	statusUrl: string,
	identity: Record<string, string>,
	statuses: { final: string; intermediate: string; n8nSignsResumeUrls: boolean },
): Promise<void> {
	const callback = async (url: URL | string, status: string) => {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ ...identity, status }),
		});
		await response.arrayBuffer();
		return response.status;
	};
	const forged = new URL(statusUrl);
	expect(forged.searchParams.get('vgai_wait')).toBeTruthy();
	forged.searchParams.set('vgai_wait', 'forged');
	expect(await callback(forged, statuses.final)).toBe(401);
	const unsigned = new URL(statusUrl);
	if (statuses.n8nSignsResumeUrls) {
		expect(unsigned.searchParams.get('signature')).toBeTruthy();
		unsigned.searchParams.delete('signature');
		expect(await callback(unsigned, statuses.final)).toBe(401);
	} else {
		// n8n 2.8 puts no signature on resume URLs: our check value is what keeps the URL from being guessed.
		expect(unsigned.searchParams.get('signature')).toBeNull();
	}
	for (let i = 0; i < 2; i++) expect(await callback(statusUrl, statuses.intermediate)).toBe(200);
}

const LOCALHOST_REFUSED =
	"with Vonage's hosts and a resume URL on 127.0.0.1 (no WEBHOOK_URL), nothing is sent and the error says why";

/** A contact posted to the workflow whose credential sends to Vonage's hosts (/webhook/wait-vonage). */
async function expectLocalhostRefused(
	env: Awaited<ReturnType<typeof setUp>>,
	workflowId: string,
	to: string,
): Promise<void> {
	expect(await post(env.home, 'wait-vonage', { to, ref: `ref-${to}` })).toBe(200);
	const details = await failedExecution(env.rest, workflowId);
	expect(details).toContain('Studio could never reach this n8n');
	expect(details).toContain('WEBHOOK_URL');
	// Refused before the gate and the request: no attempt on the network, so no connection error either.
	expect(details).not.toMatch(/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|Could not reach Vonage/i);
	expect(requestsTo(env.simulator, to)).toEqual([]);
}

describe(`n8n ${DEFAULT_N8N_VERSION}: three outputs`, () => {
	const BRANCHES = ['reached', 'failed', 'timedOut'];
	let env: Awaited<ReturnType<typeof setUp>>;

	beforeAll(async () => {
		env = await setUp(DEFAULT_N8N_VERSION, (url) => [
			waitWorkflow(
				'vgaiE2eWaitWa001',
				'wait-whatsapp',
				waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: 5 }),
				url,
				BRANCHES,
			),
			waitWorkflow(
				'vgaiE2eWaitCall1',
				'wait-call',
				waitNode({ resource: 'voice', outputs: 'branches', minutes: 1 }),
				url,
				BRANCHES,
			),
			waitWorkflow(
				'vgaiE2eWaitVng01',
				'wait-vonage',
				waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: 5, credential: VONAGE_CREDENTIAL }),
				url,
				BRANCHES,
			),
		]);
	}, 5 * 60_000);

	test(
		'read, undeliverable, answered and unanswered calls each continue by their branch; two waits at once keep their own contact',
		async () => {
			const { home, simulator, recorder, rest } = env;
			const contacts = {
				readA: { to: '447700970001', ref: 'crm-a' },
				readB: { to: '447700970003', ref: 'crm-b' },
				undeliverable: { to: '447700970002', ref: 'crm-u' },
				answered: { to: '447700970005', ref: 'crm-c' },
				unanswered: { to: '447700970004', ref: 'crm-n' },
			};
			const started = Date.now();
			for (const each of [contacts.readA, contacts.readB, contacts.undeliverable]) {
				expect(await post(home, 'wait-whatsapp', each)).toBe(200);
			}
			for (const each of [contacts.answered, contacts.unanswered])
				expect(await post(home, 'wait-call', each)).toBe(200);

			// The answered call is waiting: what is not its awaited status, or not for it, does not resume it.
			const callUrl = await until('the answered call', () => statusUrlOf(simulator, contacts.answered.to), 30_000);
			// n8n answers 409 to anything for an execution it has not yet saved as waiting: forge only once it is.
			await rest.untilWaiting('vgaiE2eWaitCall1', callUrl);
			await expectOnlyGenuineCallbacksHeard(
				callUrl,
				{ to: contacts.answered.to, conversation_uuid: 'c-1' },
				{
					final: 'busy',
					intermediate: 'started',
					n8nSignsResumeUrls: true,
				},
			);

			await recorder.waitFor(4, 60_000);
			const byTo = (to: string) => recorder.bodies.filter((body) => body.to === to);
			expect(byTo(contacts.readA.to)).toEqual([
				expect.objectContaining({ branch: 'reached', outcome: 'reached', status: 'read', reference: 'crm-a' }),
			]);
			expect(byTo(contacts.readB.to)).toEqual([
				expect.objectContaining({ branch: 'reached', outcome: 'reached', status: 'read', reference: 'crm-b' }),
			]);
			const reached = byTo(contacts.readA.to)[0];
			expect((reached.statuses as Array<{ status: string }>).map((each) => each.status)).toEqual([
				'submitted',
				'delivered',
				'read',
			]);
			expect(byTo(contacts.undeliverable.to)).toEqual([
				expect.objectContaining({
					branch: 'failed',
					outcome: 'failed',
					status: 'undeliverable',
					errorCode: expect.any(String),
				}),
			]);
			expect(byTo(contacts.unanswered.to)).toEqual([
				expect.objectContaining({ branch: 'failed', outcome: 'failed', status: 'busy', channel: 'voice' }),
			]);

			// A late repeat of the read status, after the execution went on: nothing new starts.
			const readUrl = statusUrlOf(simulator, contacts.readA.to)!;
			const late = await fetch(readUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ to: contacts.readA.to, message_uuid: 'm-late', status: 'read' }),
			});
			expect(late.status).toBeGreaterThanOrEqual(400);

			// The answered call continues by Timed Out when its minute is over (n8n checks waits once a minute).
			await recorder.waitFor(5, 3 * 60_000);
			expect(byTo(contacts.answered.to)).toEqual([
				expect.objectContaining({
					branch: 'timedOut',
					outcome: 'timedOut',
					to: contacts.answered.to,
					reference: 'crm-c',
				}),
			]);
			expect(Date.now() - started).toBeGreaterThan(55_000);
			await new Promise((resolve) => setTimeout(resolve, 1_000));
			expect(recorder.bodies).toHaveLength(5);
			// One session each: a resumed execution never sends again.
			for (const each of Object.values(contacts)) {
				expect(simulator.sessions.filter((session) => session.body.to === each.to)).toHaveLength(1);
			}
		},
		5 * 60_000,
	);

	test(LOCALHOST_REFUSED, () => expectLocalhostRefused(env, 'vgaiE2eWaitVng01', '447700970009'));
});

describe(`n8n ${NODE20_N8N_VERSION} (Node 20): one output with an outcome field`, () => {
	let env: Awaited<ReturnType<typeof setUp>>;

	beforeAll(async () => {
		env = await setUp(NODE20_N8N_VERSION, (url) => [
			waitWorkflow(
				'vgaiE2eWait28Wa1',
				'wait-single',
				waitNode({ resource: 'whatsapp', outputs: 'single', minutes: 1 }),
				url,
				['single'],
			),
			waitWorkflow(
				'vgaiE2eWait28Br1',
				'wait-branches',
				waitNode({ resource: 'whatsapp', outputs: 'branches', minutes: 1 }),
				url,
				['reached', 'failed', 'timedOut'],
			),
			waitWorkflow(
				'vgaiE2eWait28Vg1',
				'wait-vonage',
				waitNode({ resource: 'whatsapp', outputs: 'single', minutes: 5, credential: VONAGE_CREDENTIAL }),
				url,
				['single'],
			),
		]);
	}, 5 * 60_000);

	test(
		'read, undeliverable and a silent contact continue by the one output, each with its outcome',
		async () => {
			const { home, simulator, recorder, rest } = env;
			expect(await post(home, 'wait-single', { to: '447700970011', ref: 'n20-read' })).toBe(200);
			expect(await post(home, 'wait-single', { to: '447700970002', ref: 'n20-undeliverable' })).toBe(200);
			await recorder.waitFor(2, 60_000);
			const byRef = (ref: string) => recorder.bodies.filter((body) => body.reference === ref);
			expect(byRef('n20-read')).toEqual([
				expect.objectContaining({ branch: 'single', outcome: 'reached', status: 'read' }),
			]);
			expect(byRef('n20-undeliverable')).toEqual([
				expect.objectContaining({ branch: 'single', outcome: 'failed', status: 'undeliverable' }),
			]);

			// A contact whose statuses never come.
			simulator.configure({ callbacks: false });
			expect(await post(home, 'wait-single', { to: '447700970012', ref: 'n20-silent' })).toBe(200);
			const silentUrl = await until('the silent contact', () => statusUrlOf(simulator, '447700970012'), 30_000);
			await rest.untilWaiting('vgaiE2eWait28Wa1', silentUrl);
			await expectOnlyGenuineCallbacksHeard(
				silentUrl,
				{ to: '447700970012', message_uuid: 'm-silent' },
				{
					final: 'rejected',
					intermediate: 'delivered',
					n8nSignsResumeUrls: false,
				},
			);
			await recorder.waitFor(3, 3 * 60_000);
			expect(byRef('n20-silent')).toEqual([expect.objectContaining({ branch: 'single', outcome: 'timedOut' })]);
		},
		5 * 60_000,
	);

	test('three outputs are refused before anything is sent: this n8n would drop Failed and Timed Out', async () => {
		const { home, simulator, rest } = env;
		expect(await post(home, 'wait-branches', { to: '447700970013', ref: 'n20-branches' })).toBe(200);
		expect(await failedExecution(rest, 'vgaiE2eWait28Br1')).toContain(
			'passes on only the first output of a node that waited',
		);
		expect(requestsTo(simulator, '447700970013')).toEqual([]);
	});

	test(LOCALHOST_REFUSED, () => expectLocalhostRefused(env, 'vgaiE2eWait28Vg1', '447700970014'));
});
