// Inside one running n8n 2.41.1 (`n8n start`): two workflows sending at the same time share the credential's
// tier, and an active trigger workflow receives the simulator's signed callbacks for those sends, filtered and
// carrying the reference, while a forged callback gets 401 and starts nothing. All of it twice: with n8n's default
// settings, and with N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true, which docs/trigger.md recommends for high callback volumes
// (n8n then builds an expression isolate on the first expression an execution evaluates instead of on every request;
// these workflows evaluate expressions in the send node and the recorder's HTTP Request node).
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, N8nRest, type ExecutionSummary } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';
import { signedAuthorization } from '../harness/signature';
import { startRecorder, type Recorder } from '../harness/n8n/recorder';
import {
	callbackCredential,
	chain,
	postItemNode,
	rowsNode,
	studioCredential,
	triggerNode,
	triggerPath,
	webhookNode,
	whatsAppNode,
} from '../harness/n8n/workflows';

const TIER = 3;
const PER_WORKFLOW = 6;
const SIGNATURE_SECRET = 'e2e-signature-secret';

const rowsFor = (campaign: 'a' | 'b') =>
	Array.from({ length: PER_WORKFLOW }, (_, index) => ({
		to: `4477009${campaign === 'a' ? '1' : '2'}00${String(index).padStart(2, '0')}`,
		name: `Customer ${campaign}${index}`,
		order: `${campaign.toUpperCase()}-${index}`,
		ref: `${campaign}-${index}`,
	}));

const SETTINGS: Array<[string, Record<string, string>]> = [
	["n8n's default settings", {}],
	['N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true', { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' }],
];

describe.each(SETTINGS)('with %s', (_settings, env) => {
	const stack = new Stack();
	let simulator: StudioSimulator;
	let recorder: Recorder;
	let home: N8nHome;
	let rest: N8nRest;
	let triggerUrl: string;
	const TRIGGER_WORKFLOW = 'vgaiE2eStatus001';

	async function onlyExecution(workflowId: string): Promise<ExecutionSummary> {
		const { results } = await rest.executions(workflowId);
		expect(results).toHaveLength(1);
		return results[0];
	}

	const triggerExecutions = async () => (await rest.executions(TRIGGER_WORKFLOW)).count;

	beforeAll(async () => {
		simulator = await startSimulator({
			tier: TIER,
			apiKey: 'e2e-key',
			signatureSecret: SIGNATURE_SECRET,
			callbackDelayMs: 50,
			latencyMs: { min: 20, max: 150 },
		});
		stack.defer('simulator', () => simulator.close());
		recorder = await startRecorder();
		stack.defer('recorder', () => recorder.close());

		home = await N8nHome.create({ package: await preparePackage(), env });
		stack.defer('n8n user folder', () => home.remove());
		const trigger = triggerNode({ authentication: 'signature', statuses: ['delivered', 'read'] });
		triggerUrl = home.webhookUrl(triggerPath(trigger));
		await home.importCredentials([
			studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: TIER }),
			callbackCredential({ signatureSecret: SIGNATURE_SECRET }),
		]);
		await home.importWorkflows([
			chain('vgaiE2eCampA0001', 'Campaign A', [
				webhookNode('campaign-a'),
				rowsNode(rowsFor('a')),
				whatsAppNode({ statusUrl: triggerUrl }),
			]),
			chain('vgaiE2eCampB0001', 'Campaign B', [
				webhookNode('campaign-b'),
				rowsNode(rowsFor('b')),
				whatsAppNode({ statusUrl: triggerUrl }),
			]),
			chain(TRIGGER_WORKFLOW, 'Statuses', [trigger, postItemNode(recorder.url)]),
		]);
		for (const id of ['vgaiE2eCampA0001', 'vgaiE2eCampB0001', TRIGGER_WORKFLOW]) await home.publishWorkflow(id);
		const n8n = stack.add(await home.start());
		await home.waitForWebhooks([home.webhookUrl('campaign-a'), home.webhookUrl('campaign-b'), triggerUrl], 60_000, n8n);
		rest = await N8nRest.setupOwner(home.baseUrl);
	});

	afterAll(() => stack.stopAll());

	test('two workflows executing at once share the tier: all twelve sessions start, no second over it', async () => {
		const answers = await Promise.all(
			['campaign-a', 'campaign-b'].map((path) =>
				fetch(home.webhookUrl(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
			),
		);
		expect(answers.map((answer) => answer.status)).toEqual([200, 200]);

		const sessions = simulator.sessions;
		expect(sessions).toHaveLength(2 * PER_WORKFLOW);
		expect(sessions.map((session) => session.body.to).sort()).toEqual(
			[...rowsFor('a'), ...rowsFor('b')].map((row) => row.to).sort(),
		);
		// The simulator refuses (429) any start over the tier, so its count of 429s is what shows the pacing: a 429 is
		// retried safely and starts nothing; two workflows each pacing alone would send at twice the tier.
		expect(simulator.tooManyRequests).toBeLessThanOrEqual(1);
		// The two executions really overlapped in time: without a shared gate they would have sent side by side.
		const [a, b] = await Promise.all(['vgaiE2eCampA0001', 'vgaiE2eCampB0001'].map(onlyExecution));
		expect(a.status).toBe('success');
		expect(b.status).toBe('success');
		expect(Date.parse(a.startedAt)).toBeLessThan(Date.parse(b.stoppedAt));
		expect(Date.parse(b.startedAt)).toBeLessThan(Date.parse(a.stoppedAt));
	});

	test('the active trigger gets the signed callbacks of those sends, filtered to delivered and read, with the reference', async () => {
		const expected = 2 * PER_WORKFLOW * 2; // delivered + read for each session; submitted is filtered out
		await recorder.waitFor(expected, 60_000);
		// Let late or repeated callbacks show up before counting exactly.
		await new Promise((resolve) => setTimeout(resolve, 1000));
		expect(recorder.bodies).toHaveLength(expected);

		const references = new Map([...rowsFor('a'), ...rowsFor('b')].map((row) => [row.to, row.ref]));
		for (const body of recorder.bodies) {
			expect(['delivered', 'read']).toContain(body.status);
			expect(body.reference).toBe(references.get(String(body.to)));
		}
		const statusesPerReference = new Map<string, string[]>();
		for (const body of recorder.bodies) {
			const list = statusesPerReference.get(String(body.reference)) ?? [];
			list.push(String(body.status));
			statusesPerReference.set(String(body.reference), list);
		}
		expect([...statusesPerReference.keys()].sort()).toEqual([...references.values()].sort());
		for (const statuses of statusesPerReference.values()) expect(statuses.sort()).toEqual(['delivered', 'read']);

		// Studio got 200 for every callback, the filtered-out "submitted" ones included (so it does not retry).
		expect(simulator.callbacksSent).toHaveLength(2 * PER_WORKFLOW * 3);
		expect(simulator.callbacksSent.every((callback) => callback.status === 200)).toBe(true);
		expect(await triggerExecutions()).toBe(expected);
	});

	test('a forged callback gets 401 and starts no execution', async () => {
		const before = await triggerExecutions();
		const recorded = recorder.bodies.length;
		const body = JSON.stringify({
			to: '447700910000',
			from: '447700900100',
			channel: 'whatsapp',
			message_uuid: 'aaaaaaaa-0000-4000-8000-000000000001',
			timestamp: new Date().toISOString(),
			status: 'read',
		});
		const forged = signedAuthorization(body, 'not-the-secret');
		const post = (headers: Record<string, string>) =>
			fetch(`${triggerUrl}?vgai_ref=a-0`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body,
			});

		expect((await post({ authorization: forged })).status).toBe(401);
		expect((await post({})).status).toBe(401);

		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(recorder.bodies).toHaveLength(recorded);
		expect(await triggerExecutions()).toBe(before);
	});
});
