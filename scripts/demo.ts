// `npm run demo`: the Studio simulator and a real n8n with this package and the example workflows, on 127.0.0.1,
// state in a throw-away folder. `npm run demo -- --headless` runs five of the examples end to end and reports.
import { parseArgs } from 'node:util';
import { preparePackage, removePreparedPackage } from '../harness/n8n/communityPackage';
import { readExamples } from '../harness/n8n/examples';
import { DEMO_OWNER, N8nHome, N8nRest } from '../harness/n8n/n8n';
import { freePort, Stack } from '../harness/processes';
import { until } from '../harness/until';
import { DEFAULT_N8N_VERSION, ensureRuntime } from '../harness/n8n/runtime';
import { startSimulatorsProcess, type RemoteSimulator } from '../simulator/ownProcess';
import { maxInAnyWindow } from '../simulator/windows';

const USAGE = `Usage: npm run demo -- [--headless] [--tier 1|3|5] [--port N] [--keep]

  --headless   run five of the example workflows end to end, print a report, exit (non-zero on failure)
  --tier N     the sessions per second of the demo credential and the simulator (default 1)
  --port N     n8n's port (default 5678 when free, else a free one)
  --keep       keep the throw-away n8n folder after exit (its path is printed)
`;

const EXAMPLE_STATUS_TOKEN = 'replace-with-your-own-secret';
const EXAMPLES = {
	crm: 'vgaiDemoCrm00001',
	campaign: 'vgaiDemoCampaign',
	followUp: 'vgaiDemoFollowUp',
	wait: 'vgaiDemoWaitRead',
	outcome: 'vgaiDemoOutcome1',
	// Imported, not run headless: the MCP server is published (interactive runs only) for an MCP client to try;
	// the AI Agent needs a chat model the user picks. e2e/mcp.e2e.test.ts and aiAgent.e2e.test.ts run them.
	mcp: 'vgaiDemoMcpTool1',
	agent: 'vgaiDemoAgentTl1',
};
/** The MCP example's trigger path (examples/mcp-server-tool.json). */
const MCP_PATH = 'vonage-ai-studio';
/** The wait examples' time limit in the demo (24 hours in the examples themselves). */
const DEMO_WAIT_MINUTES = 1;
/** The time a contact is given to answer the agent in the demo (30 minutes in the example itself). */
const DEMO_ANSWER_SECONDS = 5;
/** How long the simulator's scripted conversation takes, from the session's start. */
const DEMO_CONVERSATION_MS = 2_000;
/**
 * Three CRM contacts for the outcome example: each reads; by the last digit the simulator's agent then hears yes,
 * no, or nothing (simulator/insights.ts). Each must end in the CRM node of their answer.
 */
const OUTCOME_CONTACTS = [
	{
		contactId: 'crm-0301',
		phone: '+44 7700 900301',
		firstName: 'Dee',
		appointment: 'Wed 09:00',
		crm: 'CRM: confirmed',
	},
	{ contactId: 'crm-0302', phone: '+44 7700 900302', firstName: 'Eve', appointment: 'Wed 10:00', crm: 'CRM: declined' },
	{
		contactId: 'crm-0303',
		phone: '+44 7700 900303',
		firstName: 'Fay',
		appointment: 'Wed 11:00',
		crm: 'CRM: no answer',
	},
];
const OUTCOME_CRM_NODES = ['CRM: confirmed', 'CRM: declined', 'CRM: no answer', 'CRM: not reached'];
/** Three CRM contacts for the wait example: one reads, one is undeliverable, one never answers. */
const WAIT_CONTACTS = {
	reads: { contactId: 'crm-0201', phone: '+44 7700 900201', firstName: 'Ada', appointment: 'Tue 10:00' },
	undeliverable: { contactId: 'crm-0202', phone: '+44 7700 900202', firstName: 'Ben', appointment: 'Tue 11:00' },
	silent: { contactId: 'crm-0203', phone: '+44 7700 900203', firstName: 'Cy', appointment: 'Tue 12:00' },
};
const digits = (phone: string) => phone.replace(/\D/g, '');
const CAMPAIGN_SIZE = 25;
/**
 * The trip to Studio's limiter varies as over an ordinary internet path (and a busy n8n): the gate has to learn
 * how much spacing that needs, as it would against the real Studio.
 */
const DEMO_TRIP = { min: 20, max: 80 };
/**
 * A 429 is retried safely (it started nothing), and over a varying path a few are the price of pacing near the
 * tier (the benchmark measures 0.7 % of sends for trips of 20-120 ms); more than 2 % of the sends fails the demo.
 */
const MOST_429 = (sends: number) => Math.floor(0.02 * sends);
/** Campaign numbers the simulator reports undeliverable, so the follow-up workflow has something to do. */
const UNDELIVERABLE = ['447700900103', '447700900111', '447700900119'];
const CRM_CONTACT = { contactId: 'crm-0042', phone: '+44 7700 900042', firstName: 'Sam', orderId: 'ORD-42' };

function say(line = ''): void {
	process.stdout.write(`${line}\n`);
}

function step(text: string): () => void {
	const started = Date.now();
	process.stdout.write(`• ${text}...`);
	return () => process.stdout.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function portFor(requested: number | undefined): Promise<number> {
	if (requested) return requested;
	const probe = await import('node:net');
	const free = await new Promise<boolean>((resolve) => {
		const server = probe.createServer();
		server.once('error', () => resolve(false));
		server.listen(5678, '127.0.0.1', () => server.close(() => resolve(true)));
	});
	return free ? 5678 : await freePort();
}

async function runHeadless(home: N8nHome, rest: N8nRest, simulator: RemoteSimulator, tier: number): Promise<boolean> {
	const problems: string[] = [];
	let state = await simulator.state();
	const refresh = async () => (state = await simulator.state());
	const whatsapp = () => state.sessions.filter((session) => session.channel === 'whatsapp');
	const sms = () => state.sessions.filter((session) => session.channel === 'sms');

	let done = step('1/5 CRM webhook: posting one contact, then the same one again (as a CRM retries)');
	const postContact = () =>
		fetch(home.webhookUrl('crm-contact'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(CRM_CONTACT),
		});
	const crmAnswer = await postContact();
	const crmRetry = await postContact();
	done();
	for (const answer of [crmAnswer, crmRetry]) {
		if (answer.status !== 200) problems.push(`the CRM webhook answered ${answer.status}: ${await answer.text()}`);
	}
	const retried = (await crmRetry.json().catch(() => ({}))) as { replayed?: unknown };
	if (retried.replayed !== true) problems.push('the repeated CRM post was not recognised as a repeat');
	await refresh();
	const crmSessions = whatsapp().filter((session) => session.body.to === '447700900042');
	if (crmSessions.length !== 1) problems.push(`the CRM contact got ${crmSessions.length} sessions, expected 1`);
	const crmSession = crmSessions[0];
	if (!crmSession) problems.push('the CRM contact did not start a WhatsApp session');
	else {
		const components = JSON.stringify(crmSession.body.components);
		if (!components.includes('Sam') || !components.includes('ORD-42'))
			problems.push('the CRM session lacks its header/body parameters');
		if (!String(crmSession.body.status_url).includes('vgai_ref=crm-0042'))
			problems.push('the CRM session lacks its reference');
	}

	done = step(
		`2/5 Campaign: ${CAMPAIGN_SIZE} contacts at ${tier} per second (about ${Math.ceil(CAMPAIGN_SIZE / tier)} s)`,
	);
	const before = whatsapp().length;
	const campaignStarted = Date.now();
	// What the editor's "Execute workflow" button does.
	await rest.post(`/rest/workflows/${EXAMPLES.campaign}/run`, { triggerToStartFrom: { name: 'Start campaign' } });
	await until(
		'the campaign execution to finish',
		async () =>
			(await rest.executions(EXAMPLES.campaign)).results.some(
				(execution) => execution.status !== 'running' && execution.status !== 'new',
			),
		CAMPAIGN_SIZE * 2000 + 60_000,
		200,
	);
	const campaignSeconds = (Date.now() - campaignStarted) / 1000;
	done();
	const campaignRuns = (await rest.executions(EXAMPLES.campaign)).results;
	await refresh();
	if (campaignRuns[0]?.status !== 'success') problems.push(`the campaign execution ended "${campaignRuns[0]?.status}"`);
	const campaignSessions = whatsapp().slice(before);
	const campaignContacts = new Set(campaignSessions.map((session) => String(session.body.to)));
	if (campaignContacts.size !== CAMPAIGN_SIZE)
		problems.push(`the campaign reached ${campaignContacts.size} of ${CAMPAIGN_SIZE} contacts`);
	if (campaignSessions.length !== campaignContacts.size) {
		problems.push(`${campaignSessions.length - campaignContacts.size} campaign contacts got a second session`);
	}

	done = step('3/5 Follow-up: waiting for the statuses and the SMS follow-ups');
	await until(
		'the follow-up SMS sessions',
		async () => (await refresh()) && sms().length >= UNDELIVERABLE.length,
		60_000,
		200,
	).catch((error: Error) => problems.push(error.message));
	// Callbacks of the last sessions (and of the SMS follow-ups) trail by a few hundred ms.
	await until(
		'the last status callbacks',
		// submitted, delivered, read for each session; submitted, undeliverable for the failing numbers
		async () =>
			(await refresh()).callbacksSent.length >=
			state.sessions.reduce((sum, session) => sum + (UNDELIVERABLE.includes(String(session.body.to)) ? 2 : 3), 0),
		30_000,
		200,
	).catch((error: Error) => problems.push(error.message));
	await until(
		'the follow-up executions to finish',
		async () =>
			(await rest.executions(EXAMPLES.followUp)).results.every(
				(execution) => execution.status !== 'running' && execution.status !== 'new',
			),
		30_000,
		200,
	).catch((error: Error) => problems.push(error.message));
	done();
	await refresh();

	const followUps = sms();
	const followUpNumbers = followUps.map((session) => String(session.body.to)).sort();
	if (JSON.stringify(followUpNumbers) !== JSON.stringify([...UNDELIVERABLE].sort())) {
		problems.push(
			`follow-up SMS sessions went to [${followUpNumbers.join(', ')}], expected [${UNDELIVERABLE.join(', ')}]`,
		);
	}
	done = step(
		`4/5 Start and wait until read: 3 CRM contacts (one reads, one is undeliverable, one never answers; limit ${DEMO_WAIT_MINUTES} min)`,
	);
	const waitStarted = Date.now();
	for (const contact of Object.values(WAIT_CONTACTS)) {
		const answer = await fetch(home.webhookUrl('crm-contact-wait'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(contact),
		});
		if (answer.status !== 200) problems.push(`the wait example's webhook answered ${answer.status}`);
	}
	await until(
		'the three waiting executions to continue and finish',
		async () => {
			const runs = (await rest.executions(EXAMPLES.wait)).results;
			return runs.length >= 3 && runs.every((run) => run.status === 'success' || run.status === 'error');
		},
		(DEMO_WAIT_MINUTES * 60 + 150) * 1000,
		200,
	).catch((error: Error) => problems.push(error.message));
	const waitSeconds = (Date.now() - waitStarted) / 1000;
	let waitWhatsApp = 0;
	done();
	await refresh();
	const waitRuns = (await rest.executions(EXAMPLES.wait)).results;
	if (waitRuns.filter((run) => run.status === 'success').length !== 3) {
		problems.push(`the wait example's executions ended [${waitRuns.map((run) => run.status).join(', ')}]`);
	}
	const sessionsTo = (phone: string) => state.sessions.filter((session) => session.body.to === digits(phone));
	const templatesTo = (phone: string) =>
		sessionsTo(phone).map((session) => String(session.body.template ?? session.channel));
	waitWhatsApp = Object.values(WAIT_CONTACTS)
		.flatMap((contact) => sessionsTo(contact.phone))
		.filter((session) => session.channel === 'whatsapp').length;
	const expectedWait: Record<keyof typeof WAIT_CONTACTS, string[]> = {
		reads: ['appointment_confirmation'],
		undeliverable: ['appointment_confirmation', 'sms'],
		silent: ['appointment_confirmation', 'appointment_reminder'],
	};
	for (const [name, contact] of Object.entries(WAIT_CONTACTS) as Array<
		[keyof typeof WAIT_CONTACTS, { phone: string }]
	>) {
		if (JSON.stringify(templatesTo(contact.phone)) !== JSON.stringify(expectedWait[name])) {
			problems.push(
				`the contact who ${name === 'reads' ? 'reads' : name === 'silent' ? 'never answers' : 'is undeliverable'} got [${templatesTo(contact.phone).join(', ')}], expected [${expectedWait[name].join(', ')}]`,
			);
		}
	}

	done = step(
		`5/5 Conversation outcome: 3 CRM contacts read, then asked what they answered (one confirms, one declines, one never answers)`,
	);
	const outcomeStarted = Date.now();
	for (const { crm: _crm, ...contact } of OUTCOME_CONTACTS) {
		const answer = await fetch(home.webhookUrl('crm-contact-outcome'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(contact),
		});
		if (answer.status !== 200) problems.push(`the outcome example's webhook answered ${answer.status}`);
	}
	await until(
		'the three outcome executions to finish',
		async () => {
			const runs = (await rest.executions(EXAMPLES.outcome)).results;
			return runs.length >= 3 && runs.every((run) => run.status === 'success' || run.status === 'error');
		},
		(DEMO_WAIT_MINUTES * 60 + 150) * 1000,
		200,
	).catch((error: Error) => problems.push(error.message));
	const outcomeSeconds = (Date.now() - outcomeStarted) / 1000;
	done();
	const outcomeRuns = (await rest.executions(EXAMPLES.outcome)).results;
	if (outcomeRuns.filter((run) => run.status === 'success').length !== 3) {
		problems.push(`the outcome example's executions ended [${outcomeRuns.map((run) => run.status).join(', ')}]`);
	}
	// Where each contact ended: the CRM node that ran, and the record ID it updated.
	const endedIn = new Map<string, string>();
	for (const run of outcomeRuns) {
		const { runData } = await rest.execution(run.id);
		for (const node of OUTCOME_CRM_NODES.filter((name) => runData[name])) {
			const contactId = runData[node][0]?.data?.main[0]?.[0]?.json.contactId;
			endedIn.set(String(contactId), node);
		}
	}
	for (const contact of OUTCOME_CONTACTS) {
		const ended = endedIn.get(contact.contactId);
		if (ended !== contact.crm) {
			problems.push(
				`${contact.contactId} (${contact.phone}) ended in "${ended ?? 'no CRM node'}", expected "${contact.crm}"`,
			);
		}
	}
	await refresh();
	const insightsRefused = state.insightsRequests.filter((request) => request.status !== 200 && request.status !== 404);
	if (insightsRefused.length > 0) {
		problems.push(
			`the Insights API answered ${insightsRefused.map((request) => `${request.status} to ${request.path}`).join(', ')}`,
		);
	}

	const statusCounts = new Map<string, number>();
	for (const callback of state.callbacksSent) {
		const status = String((callback.body as { status?: unknown }).status);
		statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
	}
	const refusedCallbacks = state.callbacksSent.filter((callback) => callback.status !== 200);
	if (refusedCallbacks.length > 0) problems.push(`${refusedCallbacks.length} status callbacks were not answered 200`);
	const followUpRuns = (await rest.executions(EXAMPLES.followUp)).results;
	const failedFollowUps = followUpRuns.filter((execution) => execution.status !== 'success');
	if (failedFollowUps.length > 0) problems.push(`${failedFollowUps.length} follow-up executions did not succeed`);

	const arrivals = state.sessions.map((session) => session.arrivedAt);
	const busiest = maxInAnyWindow(arrivals, 1000);
	if (busiest > tier) problems.push(`${busiest} sessions reached Studio within one second, over the tier of ${tier}`);
	const sends = state.sessions.length;
	if (state.tooManyRequests > MOST_429(sends)) {
		problems.push(`Studio answered 429 ${state.tooManyRequests} times for ${sends} sessions (more than 2 % of them)`);
	}
	const campaignArrivals = campaignSessions.map((session) => session.arrivedAt);
	const campaignFrom = Math.min(...campaignArrivals);
	const campaignTo = Math.max(...campaignArrivals);
	const campaignSpan = (campaignTo - campaignFrom) / 1000;
	const campaignRate = campaignSpan > 0 ? (campaignSessions.length - 1) / campaignSpan : 0;
	// The follow-up workflow's SMS sessions start while the campaign runs and share the account's tier (one gate per
	// account): the gate's own rate over the campaign counts them too.
	const sharing = state.sessions.filter(
		(session) => session.arrivedAt >= campaignFrom && session.arrivedAt <= campaignTo,
	).length;
	const accountRate = campaignSpan > 0 ? (sharing - 1) / campaignSpan : 0;

	say();
	say('Report');
	say(
		`  WhatsApp sessions started   ${whatsapp().length} (1 CRM contact, posted twice: the repeat was not sent again; ${campaignSessions.length} campaign; ${waitWhatsApp} start and wait, reminder included; ${OUTCOME_CONTACTS.length} asked for an answer)`,
	);
	const sharedFollowUps = sharing - campaignSessions.length;
	say(
		`  Rate achieved               ${(accountRate / tier).toFixed(3)} × tier over the campaign: ${accountRate.toFixed(2)} sessions/s at tier ${tier}/s, busiest second held ${busiest}`,
	);
	say(
		`                              (${campaignSessions.length} campaign sessions at ${campaignRate.toFixed(2)}/s and ${sharedFollowUps} follow-up SMS session${sharedFollowUps === 1 ? '' : 's'} sharing the account's tier)`,
	);
	say(
		`  429 answers from Studio     ${state.tooManyRequests} for ${sends} sessions (trips to Studio varying ${DEMO_TRIP.min}–${DEMO_TRIP.max} ms; each 429 retried, none sent twice)`,
	);
	say(
		`  Statuses received           ${[...statusCounts.entries()].map(([status, count]) => `${status} ${count}`).join(', ')} (all answered 200: ${refusedCallbacks.length === 0 ? 'yes' : 'no'})`,
	);
	say(`  Follow-up executions        ${followUpRuns.length} (${failedFollowUps.length} failed)`);
	say(`  Marked done (read)          ${statusCounts.get('read') ?? 0}`);
	say(`  Follow-up SMS sessions      ${followUps.length} to ${followUpNumbers.join(', ')}`);
	say(`  Campaign execution took     ${campaignSeconds.toFixed(1)} s`);
	say(
		`  Start and wait until read   read → Reached (marked done); undeliverable → Failed → SMS; no answer → Timed Out → reminder, ${waitSeconds.toFixed(0)} s for all three`,
	);
	say(
		`  Conversation outcome        ${OUTCOME_CONTACTS.map((contact) => `${contact.contactId} → ${endedIn.get(contact.contactId) ?? 'nothing'}`).join('; ')}, ${outcomeSeconds.toFixed(0)} s for all three`,
	);
	say(
		`  Insights reads              ${state.insightsRequests.length} (no session started, none paced; ${state.insightsRequests.filter((request) => request.status === 429).length} × 429)`,
	);
	say();
	if (problems.length > 0) {
		say('FAILED:');
		for (const problem of problems) say(`  - ${problem}`);
		return false;
	}
	say('PASSED: every example workflow ran end to end.');
	return true;
}

async function main(): Promise<number> {
	const { values } = parseArgs({
		options: {
			headless: { type: 'boolean', default: false },
			tier: { type: 'string', default: '1' },
			port: { type: 'string' },
			keep: { type: 'boolean', default: false },
			help: { type: 'boolean', short: 'h', default: false },
		},
	});
	if (values.help) {
		say(USAGE);
		return 0;
	}
	const tier = Number(values.tier);
	if (![1, 3, 5].includes(tier)) throw new Error(`--tier must be 1, 3 or 5 (Studio's tiers), got ${values.tier}`);

	const stack = new Stack();
	// n8n runs in a process group of its own (so that stopping it reaches its task runners): a signal meant for the
	// demo never reaches it by itself. Whatever stops the demo (Ctrl+C, a process manager's SIGTERM, a closed
	// terminal), the demo stops n8n and the simulator first; a second signal kills them at once (the exit hooks of
	// harness/processes.ts). package.json runs the demo with `exec`, so a signal sent to `npm run demo` reaches it.
	let stopping: Promise<void> | undefined;
	const stopAll = () => (stopping ??= stack.stopAll());
	const onSignal = (signal: NodeJS.Signals) => {
		if (stopping) {
			say(`${signal} again: killing n8n and the simulator.`);
			process.exit(1);
		}
		say(`\n${signal}: stopping n8n and the simulator...`);
		void stopAll()
			.catch((error: unknown) => say(`  while stopping: ${error instanceof Error ? error.message : String(error)}`))
			.finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
	const interruption = new Promise<never>(() => {});

	try {
		let done = step(`n8n ${DEFAULT_N8N_VERSION} runtime (installed once into the cache, minutes the first time)`);
		const runtime = await ensureRuntime(DEFAULT_N8N_VERSION, true);
		done();
		done = step('Building and packing n8n-nodes-vonage-ai-studio, installing it as a community package');
		const prepared = await preparePackage();
		stack.defer('packed package', () => removePreparedPackage(prepared));
		done();

		done = step(
			`Starting the Studio simulator (tier ${tier}/s, trips to it varying ${DEMO_TRIP.min}–${DEMO_TRIP.max} ms)`,
		);
		// In a process of its own, as Studio is another machine (simulator/ownProcess.ts).
		const simulatorProcess = await startSimulatorsProcess([
			{
				tier,
				apiKey: 'demo-studio-key',
				failNumbers: Object.fromEntries(
					[...UNDELIVERABLE, digits(WAIT_CONTACTS.undeliverable.phone)].map((number) => [
						number,
						'undeliverable' as const,
					]),
				),
				silentNumbers: [digits(WAIT_CONTACTS.silent.phone)],
				insights: { conversationMs: DEMO_CONVERSATION_MS },
				callbackDelayMs: 150,
				latencyMs: { min: 30, max: 120 },
				arrivalDelayMs: DEMO_TRIP,
			},
		]);
		const simulator = simulatorProcess.simulators[0];
		stack.defer('simulator', () => simulatorProcess.stop());
		done();

		const port = await portFor(values.port ? Number(values.port) : undefined);
		const home = await N8nHome.create({ runtime, package: prepared, port });
		if (!values.keep) stack.defer('n8n folder', () => home.remove());

		done = step('Importing the demo credentials and the example workflows');
		await home.importCredentials([
			{
				id: 'vgaiDemoStudio01',
				name: 'Vonage AI Studio account',
				type: 'vonageAiStudioApi',
				data: {
					apiKey: 'demo-studio-key',
					region: 'eu',
					sessionsPerSecond: tier,
					baseUrl: simulator.url,
					redisUrl: '',
				},
			},
			{
				id: 'vgaiDemoStatus01',
				name: 'Vonage AI Studio status callbacks',
				type: 'vonageAiStudioCallbackApi',
				data: { token: EXAMPLE_STATUS_TOKEN, signatureSecret: '' },
			},
		]);
		const examples = readExamples(home.baseUrl, {
			statusWaitMinutes: DEMO_WAIT_MINUTES,
			answerWaitSeconds: DEMO_ANSWER_SECONDS,
		});
		await home.importWorkflows(Object.values(examples));
		for (const id of [EXAMPLES.crm, EXAMPLES.followUp, EXAMPLES.wait, EXAMPLES.outcome]) await home.publishWorkflow(id);
		// For an MCP client to try; the headless run does not call it (e2e/mcp.e2e.test.ts does).
		if (!values.headless) await home.publishWorkflow(EXAMPLES.mcp);
		done();

		done = step(`Starting n8n on ${home.baseUrl}`);
		const n8n = stack.add(await home.start());
		const rest = await N8nRest.setupOwner(home.baseUrl);
		await home.waitForWebhooks(
			[home.webhookUrl('crm-contact'), home.webhookUrl('crm-contact-wait'), home.webhookUrl('crm-contact-outcome')],
			60_000,
			n8n,
		);
		done();
		if (values.keep) say(`  n8n user folder (kept): ${home.userFolder}`);

		if (values.headless) {
			const ok = await runHeadless(home, rest, simulator, tier);
			if (!ok) say(`\nLast n8n log lines:\n${n8n.tail(30)}`);
			return ok ? 0 : 1;
		}

		say();
		say(`n8n is running: ${home.baseUrl}`);
		say(`  Sign in as ${DEMO_OWNER.email} / ${DEMO_OWNER.password}`);
		say(`  Studio simulator: ${simulator.url} (state: ${simulator.url}/_simulator/state)`);
		say();
		say('What to try:');
		say(`  1. "Vonage AI Studio: campaign of 25 contacts": open it, click "Execute workflow".`);
		say(`     25 WhatsApp sessions start at ${tier} per second; the simulator reports 3 of them undeliverable.`);
		say(`  2. "Vonage AI Studio: follow up on statuses" (active): open Executions to see each read status`);
		say('     marked done and each undeliverable one turned into an SMS session.');
		say(`  3. "Vonage AI Studio: CRM contact → WhatsApp session" (active): post a contact to it:`);
		say(`     curl -X POST ${home.webhookUrl('crm-contact')} -H 'content-type: application/json' \\`);
		say(`       -d '${JSON.stringify(CRM_CONTACT)}'`);
		say(`  4. "Vonage AI Studio: CRM contact → wait until read → branches" (active): post a contact and watch its`);
		say(`     execution wait, then continue by Reached, Failed or (after ${DEMO_WAIT_MINUTES} min) Timed Out:`);
		say(`     curl -X POST ${home.webhookUrl('crm-contact-wait')} -H 'content-type: application/json' \\`);
		say(
			`       -d '${JSON.stringify(WAIT_CONTACTS.reads)}'   (${digits(WAIT_CONTACTS.undeliverable.phone)} is undeliverable,`,
		);
		say(`       ${digits(WAIT_CONTACTS.silent.phone)} never answers)`);
		say(`  5. "Vonage AI Studio: CRM contact → wait until read → the agent's answer → CRM" (active): post a contact;`);
		say(
			`     once read, it gives them ${DEMO_ANSWER_SECONDS} s to answer, asks Studio what they said and updates the "CRM":`,
		);
		say(`     curl -X POST ${home.webhookUrl('crm-contact-outcome')} -H 'content-type: application/json' \\`);
		say(`       -d '${JSON.stringify((({ crm: _crm, ...contact }) => contact)(OUTCOME_CONTACTS[0]))}'`);
		say('     (a number ending in 1, 4 or 7 confirms; 2, 5 or 8 declines; 0, 3, 6 or 9 never answers)');
		say(`  6. "Vonage AI Studio: MCP server with a WhatsApp session tool" (active): connect an MCP client (Streamable`);
		say(`     HTTP) to ${home.baseUrl}/mcp/${MCP_PATH} and ask it to send an order update to +44 7700 900042.`);
		say(`  7. "Vonage AI Studio: AI Agent that calls back and confirms orders": add a chat model, then open the chat.`);
		say();
		say('Press Ctrl+C to stop n8n and the simulator.');
		await Promise.race([interruption, n8n.exited]);
		return 0;
	} finally {
		if (!stopping) say('Stopping n8n and the simulator...');
		await stopAll();
	}
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	},
);
