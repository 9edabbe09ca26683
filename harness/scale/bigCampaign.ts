// A big campaign in real n8n 2.41.1, started as a user starts it (the editor's Execute Workflow, through n8n's REST
// API), in regular mode (one `n8n start`, SQLite, the main edition) or queue mode (main, 2 workers and an `n8n
// webhook` process, PostgreSQL, Redis, the queue edition; the run goes to a worker as every manual run will in n8n
// 3.0): the scenario of `npm run bench:campaign` and, small, of e2e/bigCampaign.e2e.test.ts. Two shapes:
// - `one-execution`: a Code node standing in for a sheet → Vonage AI Studio (Start Outbound Session, Continue On
//   Fail, an Idempotency Key per contact) over every contact in one execution;
// - `batches`: the example examples/campaign-in-batches.json as shipped (Loop Over Items hands batches to the same
//   workflow as sub-executions), with the bench's contacts and batch size.
// It checks, exactly, that every contact got one session, that the executions succeeded, and that the editor can open
// the campaign's execution (GET /rest/executions/:id as the editor does, with its data) and finds every send in it;
// and measures how long it took, n8n's peak memory, the stored size of each execution and of the database, and how
// long and how big the editor's read was. Asked to, it runs the campaign again, which must send nothing.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RateTier } from '../../core/studioApi';
import { Deployment, type DeploymentMode } from '../n8n/deployment';
import type { ExecutionSummary, WorkflowImport } from '../n8n/n8n';
import { EXAMPLES_BASE_URL, readExamples } from '../n8n/examples';
import { chain, codeNode, manualTrigger, STUDIO_CREDENTIAL, studioCredential, whatsAppNode } from '../n8n/workflows';
import type { Stack } from '../processes';
import { MemoryWatch, type MemoryPeak } from '../processMemory';
import { until } from '../until';
import { startSimulator } from '../../simulator/simulator';
import { executionRows } from './postgresFigures';
import { countBy } from './report';

export type CampaignShape = 'one-execution' | 'batches';

export interface CampaignOptions {
	mode: DeploymentMode;
	shape: CampaignShape;
	contacts: number;
	tier: RateTier;
	/** Contacts per sub-execution (the `batches` shape). */
	batchSize: number;
	/** Run the campaign a second time once it is done, as after a failure or by mistake: it must send nothing. */
	runAgain?: boolean;
	echo?: boolean;
	log?: (line: string) => void;
}

export interface EditorRead {
	seconds: number;
	responseBytes: number;
	/** Contacts in the node that sent (or the batch summaries' sum), as the editor would show them. */
	contactsShown: number;
	/** Of those, the ones not sent because they had been before (`replayed`, or the summaries' alreadySent). */
	alreadySentShown: number;
}

export interface CampaignResult {
	problems: string[];
	counts: {
		sessions: number;
		tooManyRequests: number;
		executions: Record<string, number>;
	};
	seconds: { run: number; firstToLastSession: number };
	/** The n8n process that ran the campaign's execution. */
	ranOn: string;
	memory: Map<string, MemoryPeak>;
	stored: {
		/** jsonSizeBytes of the execution the user started. */
		campaignExecutionBytes: number;
		/** The largest batch execution (the `batches` shape). */
		largestBatchBytes?: number;
		databaseBytes: number;
	};
	editor: EditorRead;
	/** The second run, when asked for. */
	again?: { newSessions: number; editor: EditorRead };
}

const WORKFLOW = { 'one-execution': 'vgaiScaleCampaign', batches: 'vgaiDemoBatches1' } as const;
const START_NODE = 'Start campaign';
const SEND_NODE = 'Start WhatsApp sessions';
const STATUS_URL = 'https://crm.example.com/vonage/status';

/** A Code node's program giving `count` contacts with the fields both shapes read. */
function contactsCode(count: number): string {
	return `return Array.from({ length: ${count} }, (_, i) => {
  const to = '4477' + String(10000000 + i).slice(1);
  return { json: { contactId: 'c-' + i, to, phone: to, name: 'Contact ' + i, firstName: 'Contact ' + i, order: 'O-' + i, orderId: 'O-' + i, ref: 'c-' + i } };
});`;
}

function oneExecutionWorkflow(count: number): WorkflowImport {
	const send = whatsAppNode({
		name: SEND_NODE,
		statusUrl: STATUS_URL,
		continueOnFail: true,
		idempotencyKey: '={{ $json.contactId }}-scale-campaign',
	});
	return chain(WORKFLOW['one-execution'], 'A big campaign in one execution', [
		manualTrigger(START_NODE),
		codeNode('Contacts', contactsCode(count)),
		send,
	]);
}

/** The shipped example with the bench's contacts, batch size, credential and status URL. */
function batchesWorkflow(count: number, batchSize: number): WorkflowImport {
	// Its base URL and waits are left as shipped: the bench sets the status URL and the example waits for nothing.
	const workflow = readExamples(EXAMPLES_BASE_URL, { statusWaitMinutes: 60, answerWaitSeconds: 60 })[
		'campaign-in-batches'
	];
	const node = (type: string) => {
		const found = workflow.nodes.filter((each) => String(each.type).endsWith(type));
		if (found.length !== 1) throw new Error(`The batches example has ${found.length} nodes of type ${type}`);
		return found[0] as { parameters: Record<string, unknown>; credentials?: unknown; name: string };
	};
	const contacts = workflow.nodes.find((each) => each.name === 'Contacts') as { parameters: Record<string, unknown> };
	contacts.parameters.jsCode = contactsCode(count);
	node('.splitInBatches').parameters.batchSize = batchSize;
	const send = node('.vonageAiStudio');
	if (send.name !== SEND_NODE) throw new Error(`The batches example's send node is "${send.name}"`);
	send.credentials = { vonageAiStudioApi: STUDIO_CREDENTIAL };
	send.parameters.statusUrl = STATUS_URL;
	send.parameters.options = {};
	return workflow;
}

/** n8n's own `flatted` (the format of execution data), as the editor unpacks it. */
function n8nFlatted(deployment: Deployment): { parse(text: string): unknown } {
	return createRequire(join(deployment.main.runtime.dir, 'node_modules', 'n8n', 'package.json'))('flatted') as {
		parse(text: string): unknown;
	};
}

interface RunData {
	resultData: { runData: Record<string, Array<{ data?: { main: Array<Array<{ json: Record<string, unknown> }>> } }>> };
}

/** What the editor does to show an execution: one GET with its data, then unpacking it. */
async function openInEditor(deployment: Deployment, executionId: string, shape: CampaignShape): Promise<EditorRead> {
	const started = performance.now();
	const response = await fetch(`${deployment.rest.baseUrl}/rest/executions/${executionId}`, {
		headers: deployment.rest.headers,
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`GET /rest/executions/${executionId}: ${response.status} ${text.slice(0, 300)}`);
	const { data } = JSON.parse(text) as { data: { data: string } };
	const runData = (n8nFlatted(deployment).parse(data.data) as RunData).resultData.runData;
	const seconds = (performance.now() - started) / 1000;
	const items = (node: string) => (runData[node] ?? []).flatMap((run) => run.data?.main[0] ?? []);
	if (shape === 'one-execution') {
		const sends = items(SEND_NODE).filter((item) => typeof item.json.to === 'string');
		return {
			seconds,
			responseBytes: Buffer.byteLength(text),
			contactsShown: sends.length,
			alreadySentShown: sends.filter((item) => item.json.replayed === true).length,
		};
	}
	const total = (field: string) =>
		items('Campaign summary').reduce((sum, item) => sum + Number(item.json[field] ?? 0), 0);
	return {
		seconds,
		responseBytes: Buffer.byteLength(text),
		contactsShown: total('contacts'),
		alreadySentShown: total('alreadySent'),
	};
}

/** Starts the campaign as the editor's button does and waits until its execution (not a batch's) is over. */
async function runCampaign(n8n: Deployment, workflowId: string, timeoutMs: number): Promise<ExecutionSummary> {
	const before = new Set((await n8n.rest.executions(workflowId)).results.map((each) => each.id));
	await n8n.rest.post(`/rest/workflows/${workflowId}/run`, { triggerToStartFrom: { name: START_NODE } });
	return await until(
		'the campaign execution to finish',
		async () => {
			const { results } = await n8n.rest.executions(workflowId);
			const run = results.find((each) => each.mode !== 'integrated' && !before.has(each.id));
			return run && !['new', 'running', 'waiting'].includes(run.status) ? run : undefined;
		},
		timeoutMs,
		5_000,
	);
}

function sqliteBytes(deployment: Deployment): number {
	return ['database.sqlite', 'database.sqlite-wal']
		.map((name) => join(deployment.main.userFolder, '.n8n', name))
		.filter((file) => existsSync(file))
		.reduce((sum, file) => sum + statSync(file).size, 0);
}

export async function runBigCampaign(stack: Stack, options: CampaignOptions): Promise<CampaignResult> {
	const log = options.log ?? (() => undefined);
	const problems: string[] = [];
	const simulator = await startSimulator({ tier: options.tier, apiKey: 'scale-key', callbacks: false });
	stack.defer('simulator', () => simulator.close());
	const workflowId = WORKFLOW[options.shape];
	const n8n = await Deployment.prepare(stack, {
		mode: options.mode,
		credentials: (redisUrl) => [
			studioCredential({ baseUrl: simulator.url, apiKey: 'scale-key', sessionsPerSecond: options.tier, redisUrl }),
		],
		workflows: [
			options.shape === 'one-execution'
				? oneExecutionWorkflow(options.contacts)
				: batchesWorkflow(options.contacts, options.batchSize),
		],
		// A manual run goes to a worker, as in n8n 3.0, instead of running on main.
		env: options.mode === 'queue' ? { OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true' } : {},
		echo: options.echo,
	});
	log(`starting n8n in ${options.mode} mode`);
	await n8n.start();
	const memory = new MemoryWatch(() => n8n.processes.map((each) => ({ name: each.name, pid: each.child.pid })));

	log(`running the campaign (${options.shape}): ${options.contacts} contacts at ${options.tier} per second`);
	const started = Date.now();
	const timeoutMs = (options.contacts / options.tier) * 2_000 + 5 * 60_000;
	const campaign = await runCampaign(n8n, workflowId, timeoutMs);
	const runSeconds = (Date.now() - started) / 1000;
	const peaks = memory.stop();
	const worker = n8n.processes.find((each) => each.output.includes(`Worker started execution ${campaign.id} `));
	const ranOn = worker?.name ?? n8n.processes[0].name;
	log(`finished (${campaign.status}) after ${runSeconds.toFixed(0)} s`);

	const { results } = await n8n.rest.executions(workflowId);
	const executions = Object.fromEntries(countBy(results, (each) => `${each.mode}:${each.status}`));
	if (campaign.status !== 'success') problems.push(`the campaign execution ended as ${campaign.status}`);
	const batches = results.filter((each) => each.mode === 'integrated');
	if (options.shape === 'batches') {
		const expected = Math.ceil(options.contacts / options.batchSize);
		const succeeded = batches.filter((each) => each.status === 'success').length;
		if (batches.length !== expected || succeeded !== expected) {
			problems.push(`${succeeded} of ${batches.length} batch executions succeeded, expected ${expected}`);
		}
	}

	const perContact = countBy(simulator.sessions, (session) => String(session.body.to));
	const twice = [...perContact].filter(([, count]) => count > 1);
	if (twice.length > 0) problems.push(`${twice.length} contacts got more than one session, e.g. ${twice[0][0]}`);
	if (perContact.size !== options.contacts) {
		problems.push(`${perContact.size} of ${options.contacts} contacts got a session`);
	}

	const editor = await openInEditor(n8n, campaign.id, options.shape);
	if (editor.contactsShown !== options.contacts) {
		problems.push(
			`the editor shows ${editor.contactsShown} of ${options.contacts} contacts in the campaign's execution`,
		);
	}
	const arrivals = simulator.sessions.map((session) => session.arrivedAt);

	let again: CampaignResult['again'];
	if (options.runAgain) {
		log('running the campaign again');
		const sentBefore = simulator.sessions.length;
		const second = await runCampaign(n8n, workflowId, timeoutMs);
		again = {
			newSessions: simulator.sessions.length - sentBefore,
			editor: await openInEditor(n8n, second.id, options.shape),
		};
		if (second.status !== 'success') problems.push(`the second run ended as ${second.status}`);
		if (again.newSessions !== 0) problems.push(`the second run sent ${again.newSessions} sessions again`);
		if (again.editor.alreadySentShown !== options.contacts) {
			problems.push(
				`the second run shows ${again.editor.alreadySentShown} of ${options.contacts} contacts as already sent`,
			);
		}
	}
	return {
		problems,
		counts: {
			sessions: simulator.sessions.length,
			tooManyRequests: simulator.tooManyRequests,
			executions,
		},
		seconds: {
			run: runSeconds,
			firstToLastSession: arrivals.length > 1 ? (Math.max(...arrivals) - Math.min(...arrivals)) / 1000 : 0,
		},
		ranOn,
		memory: peaks,
		stored: {
			campaignExecutionBytes: campaign.jsonSizeBytes ?? 0,
			largestBatchBytes: batches.length > 0 ? Math.max(...batches.map((each) => each.jsonSizeBytes ?? 0)) : undefined,
			databaseBytes: n8n.postgres ? (await executionRows(n8n.postgres)).databaseBytes : sqliteBytes(n8n),
		},
		editor,
		again,
	};
}
