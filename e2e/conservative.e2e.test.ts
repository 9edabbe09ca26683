// The main edition's conservative mode, in two real n8n processes (two `n8n start` instances sharing nothing but
// the Studio account, as two instances or queue-mode workers without the queue edition would): the credential's
// "n8n Processes Sending With This Account" = 2 splits the tier between them, so together they never put more than
// the tier in a second.
// - Tier 3 over 2 processes: a whole share each (1 per second), exactly: no 429, no second over the tier.
// - Tier 1 over 2 processes: no whole share, so they take turns by the clock (one start every 2 s each). Which turn
//   is whose is found by trying: until then a send may be refused (429, retried safely: it started nothing); from
//   then on no second holds more than one arrival.
import type { RecordedRequest } from '../simulator/simulator';
import { startSimulatorsProcess, type RemoteSimulator, type SimulatorState } from '../simulator/ownProcess';
import { maxInAnyWindow } from '../simulator/windows';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, type CredentialImport } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';
import { chain, rowsNode, studioCredential, webhookNode, whatsAppNode } from '../harness/n8n/workflows';

const STATUS_URL = 'https://crm.example.com/vonage/status';
/** The credential's margin for these two busy n8n processes on two shared cores (docs/editions.md). */
const MARGIN_MS = 250;

type Process = 'p' | 'q';
const contacts = (process: Process, plan: string, count: number) =>
	Array.from({ length: count }, (_, index) => ({
		to: `447700${process === 'p' ? '91' : '92'}${plan === 'whole' ? '1' : '2'}${String(index).padStart(3, '0')}`,
		name: `Customer ${process}${index}`,
		order: `${plan}-${process}-${index}`,
		ref: `${plan}-${process}-${index}`,
	}));

const PLANS = {
	whole: { tier: 3 as const, perProcess: 10, credential: { id: 'vgaiStudioTier3', name: 'Studio tier 3' } },
	turns: { tier: 1 as const, perProcess: 5, credential: { id: 'vgaiStudioTier1', name: 'Studio tier 1' } },
};
type Plan = keyof typeof PLANS;

const stack = new Stack();
const simulators = {} as Record<Plan, RemoteSimulator>;
const homes = {} as Record<Process, N8nHome>;

beforeAll(async () => {
	// Studio in a process of its own: its arrival stamps are not skewed by this process's pauses (it also reads
	// the two n8n processes' output), which would crowd two arrivals of one process into a second.
	const plans = Object.keys(PLANS) as Plan[];
	const own = await startSimulatorsProcess(
		plans.map((plan) => ({
			tier: PLANS[plan].tier,
			apiKey: `key-${plan}`,
			callbacks: false,
			latencyMs: { min: 20, max: 80 },
		})),
	);
	stack.defer('simulators', () => own.stop());
	plans.forEach((plan, at) => (simulators[plan] = own.simulators[at]));
	const prepared = await preparePackage();
	for (const process of ['p', 'q'] as Process[]) {
		const home = await N8nHome.create({ package: prepared });
		stack.defer(`n8n ${process} user folder`, () => home.remove());
		const credentials: CredentialImport[] = (Object.keys(PLANS) as Plan[]).map((plan) => ({
			...studioCredential({
				baseUrl: simulators[plan].url,
				apiKey: `key-${plan}`,
				sessionsPerSecond: PLANS[plan].tier,
				safetyMarginMs: MARGIN_MS,
				sendingProcesses: 2,
			}),
			...PLANS[plan].credential,
		}));
		await home.importCredentials(credentials);
		const workflows = (Object.keys(PLANS) as Plan[]).map((plan) => {
			const send = whatsAppNode({ statusUrl: STATUS_URL });
			send.credentials = { vonageAiStudioApi: PLANS[plan].credential };
			return chain(`vgaiCons${process}${plan}`.padEnd(16, '0'), `${plan} from ${process}`, [
				webhookNode(`${plan}-${process}`),
				rowsNode(contacts(process, plan, PLANS[plan].perProcess)),
				send,
			]);
		});
		await home.importWorkflows(workflows);
		for (const workflow of workflows) await home.publishWorkflow(workflow.id);
		homes[process] = home;
	}
	for (const process of ['p', 'q'] as Process[]) {
		const n8n = stack.add(await homes[process].start({ name: `n8n ${process}` }));
		await homes[process].waitForWebhooks(
			(Object.keys(PLANS) as Plan[]).map((plan) => homes[process].webhookUrl(`${plan}-${process}`)),
			60_000,
			n8n,
		);
	}
}, 300_000);

afterAll(() => stack.stopAll());

/** Starts the plan's workflow in both processes at once and waits for both to answer. */
async function sendFromBoth(plan: Plan): Promise<void> {
	const answers = await Promise.all(
		(['p', 'q'] as Process[]).map((process) =>
			fetch(homes[process].webhookUrl(`${plan}-${process}`), {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: '{}',
			}),
		),
	);
	expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
}

const sendsTo = (state: SimulatorState) =>
	state.requests.filter((request) => request.path === '/messaging/conversation');
const recipient = (request: RecordedRequest) => String((request.body as { to?: unknown }).to);
const fromProcess = (process: Process) => (to: string) => to.startsWith(`447700${process === 'p' ? '91' : '92'}`);

function expectEveryContactOnce(plan: Plan, state: SimulatorState): void {
	const expected = (['p', 'q'] as Process[]).flatMap((process) =>
		contacts(process, plan, PLANS[plan].perProcess).map((row) => row.to),
	);
	expect(state.sessions.map((session) => String(session.body.to)).sort()).toEqual(expected.sort());
}

/** How long the two processes were sending at the same time. */
function overlapMs(requests: RecordedRequest[]): number {
	const span = (process: Process) => {
		const times = requests.filter((r) => fromProcess(process)(recipient(r))).map((r) => r.arrivedAt);
		return [Math.min(...times), Math.max(...times)];
	};
	const [p, q] = [span('p'), span('q')];
	return Math.min(p[1], q[1]) - Math.max(p[0], q[0]);
}

test('tier 3 over 2 processes: each sends at its whole share (1 per second), together never more than the tier, no 429', async () => {
	await sendFromBoth('whole');
	const state = await simulators.whole.state();
	const requests = sendsTo(state);

	expectEveryContactOnce('whole', state);
	// Each process alone paces at 1 per second (plus the margin): ten sends take about 10 s, side by side.
	expect(overlapMs(requests)).toBeGreaterThan(5_000);
	expect(state.tooManyRequests).toBe(0);
	expect(
		maxInAnyWindow(
			requests.map((request) => request.arrivedAt),
			1000,
		),
	).toBeLessThanOrEqual(3);
	for (const process of ['p', 'q'] as Process[]) {
		const own = requests.filter((request) => fromProcess(process)(recipient(request)));
		expect(
			maxInAnyWindow(
				own.map((request) => request.arrivedAt),
				1000,
			),
		).toBe(1);
	}
});

test('tier 1 over 2 processes: they take turns, one start every 2 s each; once the turns are found, never two in a second', async () => {
	await sendFromBoth('turns');
	const state = await simulators.turns.state();
	const requests = sendsTo(state);

	expectEveryContactOnce('turns', state);
	expect(overlapMs(requests)).toBeGreaterThan(5_000);
	// Finding the turns costs at most a refusal or two (started nothing, retried).
	const refused = requests.filter((request) => request.status === 429);
	expect(refused.length).toBeLessThanOrEqual(3);
	const settled = refused.length > 0 ? Math.max(...refused.map((request) => request.arrivedAt)) : -Infinity;
	const after = requests.filter((request) => request.arrivedAt > settled);
	expect(after.length).toBeGreaterThanOrEqual(6);
	expect(
		maxInAnyWindow(
			after.map((request) => request.arrivedAt),
			1000,
		),
	).toBe(1);
	// Each process's own starts, once settled: one every 2 s (two frames of a second plus the margin).
	for (const process of ['p', 'q'] as Process[]) {
		const own = after
			.filter((request) => fromProcess(process)(recipient(request)))
			.map((request) => request.arrivedAt)
			.sort((a, b) => a - b);
		for (let index = 1; index < own.length; index++) {
			expect(own[index] - own[index - 1]).toBeGreaterThan(2_000);
		}
	}
});
