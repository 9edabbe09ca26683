// Benchmark: callbacks per second through the Vonage AI Studio Trigger (signed-callback verification on, repeat
// filter on) against n8n's built-in Webhook node, on the same real n8n instance, as a ratio (goal >= 0.9).
//   npx tsx bench/trigger.ts [--authentication signature|token|none] [--requests 400] [--concurrency 16]
//                                    [--rounds 3] [--min-ratio 0.9] [--type-version 1.1] [--n8n-version 2.41.1]
//                                    [--lazy-isolates]
// --type-version sets the trigger node's typeVersion in the benchmarked workflow (default: the one new nodes get),
// e.g. 1 to measure what saved version-1 workflows get. --lazy-isolates starts n8n with
// N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true, the setting docs/trigger.md recommends for high callback volumes.
//
// A third target is a control: n8n's own Webhook node with one expression in its options. n8n then prepares an
// expression isolate for each request before the node runs, as it does for every webhook node other than an
// expression-free Webhook node (n8n's own app triggers too). It shows how much of the gap is that step, not our node.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { preparePackage, removePreparedPackage } from '../harness/n8n/communityPackage';
import { envFromList, N8nHome } from '../harness/n8n/n8n';
import { inParallel } from '../harness/parallel';
import { Stack } from '../harness/processes';
import { signedAuthorization } from '../harness/signature';
import { callbackCredential, chain, triggerNode, triggerPath } from '../harness/n8n/workflows';

const SECRET = 'bench-signature-secret';
const TOKEN = 'bench-token';

/** Extra n8n settings for experiments, e.g. BENCH_N8N_ENV='EXECUTIONS_DATA_SAVE_ON_SUCCESS=none'. */
const benchEnv = () => envFromList(process.env.BENCH_N8N_ENV);

interface Prepared {
	body: string;
	authorization: string;
}

/** Bodies and signatures made before the clock starts, so both targets get identical, ready requests. */
function prepareCallbacks(count: number): Prepared[] {
	return Array.from({ length: count }, (_, index) => {
		const body = JSON.stringify({
			to: `4477009${String(index % 100000).padStart(5, '0')}`,
			from: '447700900100',
			channel: 'whatsapp',
			message_uuid: randomUUID(),
			timestamp: new Date().toISOString(),
			usage: { price: '0.04', currency: 'EUR' },
			status: 'delivered',
			client_ref: 'AI Studio',
		});
		return { body, authorization: signedAuthorization(body, SECRET) };
	});
}

async function blast(
	url: string,
	callbacks: Prepared[],
	concurrency: number,
	agent: Agent,
): Promise<{ perSecond: number; failures: number }> {
	let failures = 0;
	const started = performance.now();
	await inParallel(callbacks, concurrency, async (callback) => {
		const response = await request(url, {
			method: 'POST',
			dispatcher: agent,
			headers: { 'content-type': 'application/json', authorization: callback.authorization },
			body: callback.body,
		});
		await response.body.text();
		if (response.statusCode !== 200) failures++;
	});
	return { perSecond: callbacks.length / ((performance.now() - started) / 1000), failures };
}

async function main(): Promise<number> {
	const { values } = parseArgs({
		options: {
			requests: { type: 'string', default: '400' },
			authentication: { type: 'string', default: 'signature' },
			concurrency: { type: 'string', default: '16' },
			rounds: { type: 'string', default: '3' },
			'min-ratio': { type: 'string' },
			'type-version': { type: 'string' },
			'n8n-version': { type: 'string' },
			'lazy-isolates': { type: 'boolean', default: false },
		},
	});
	const requests = Number(values.requests);
	const concurrency = Number(values.concurrency);
	const rounds = Number(values.rounds);

	const stack = new Stack();
	try {
		const prepared = await preparePackage();
		stack.defer('packed package', () => removePreparedPackage(prepared));
		const settings: Record<string, string> = values['lazy-isolates']
			? { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' }
			: {};
		const home = await N8nHome.create({
			package: prepared,
			version: values['n8n-version'],
			env: { N8N_LOG_LEVEL: 'warn', ...settings, ...benchEnv() },
		});
		stack.defer('n8n user folder', () => home.remove());
		const authentication = values.authentication as 'signature' | 'token' | 'none';
		const trigger = triggerNode({ authentication, statuses: ['delivered', 'read'] });
		if (values['type-version'] !== undefined) trigger.typeVersion = Number(values['type-version']);
		const webhook = {
			id: randomUUID(),
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { httpMethod: 'POST', path: 'bench-plain', responseMode: 'onReceived', options: {} },
		};
		// The same node with one expression (it evaluates to the default): n8n's isolate path, the control.
		const webhookWithExpression = {
			...webhook,
			id: randomUUID(),
			webhookId: randomUUID(),
			parameters: { ...webhook.parameters, path: 'bench-expression', options: { ignoreBots: '={{ false }}' } },
		};
		await home.importCredentials([callbackCredential({ signatureSecret: SECRET, token: TOKEN })]);
		await home.importWorkflows([
			chain('vgaiBenchTrigger', 'Bench trigger', [trigger]),
			chain('vgaiBenchWebhook', 'Bench webhook', [webhook]),
			chain('vgaiBenchWebhookExpr', 'Bench webhook with an expression', [webhookWithExpression]),
		]);
		for (const id of ['vgaiBenchTrigger', 'vgaiBenchWebhook', 'vgaiBenchWebhookExpr']) await home.publishWorkflow(id);
		const n8n = stack.add(await home.start({ extraEnv: { N8N_LOG_LEVEL: 'info' } }));
		// Both targets get the same query string, so only the node differs.
		const query = `?vgai_ref=bench&vgai_token=${TOKEN}`;
		const targets = {
			trigger: `${home.webhookUrl(triggerPath(trigger))}${query}`,
			webhook: `${home.webhookUrl('bench-plain')}${query}`,
			control: `${home.webhookUrl('bench-expression')}${query}`,
		};
		await home.waitForWebhooks(
			[home.webhookUrl(triggerPath(trigger)), home.webhookUrl('bench-plain'), home.webhookUrl('bench-expression')],
			60_000,
			n8n,
		);

		const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
		stack.defer('http agent', () => agent.close());
		const warmUp = Math.min(200, requests);
		await blast(targets.trigger, prepareCallbacks(warmUp), concurrency, agent);
		await blast(targets.webhook, prepareCallbacks(warmUp), concurrency, agent);
		await blast(targets.control, prepareCallbacks(warmUp), concurrency, agent);

		type Target = keyof typeof targets;
		const results: Record<Target, number[]> = { trigger: [], webhook: [], control: [] };
		for (let round = 1; round <= rounds; round++) {
			// Rotate the order so drift (database growth, GC) does not favour one side.
			const names: Target[] = ['trigger', 'webhook', 'control'];
			const order = [...names.slice((round - 1) % 3), ...names.slice(0, (round - 1) % 3)];
			for (const name of order) {
				const { perSecond, failures } = await blast(targets[name], prepareCallbacks(requests), concurrency, agent);
				if (failures > 0) throw new Error(`${failures} of ${requests} requests to the ${name} were not answered 200`);
				results[name].push(perSecond);
				process.stdout.write(`round ${round} ${name.padEnd(7)} ${perSecond.toFixed(0)} callbacks/s\n`);
			}
		}
		const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
		const viaTrigger = median(results.trigger);
		const viaWebhook = median(results.webhook);
		const viaControl = median(results.control);
		const ratio = viaTrigger / viaWebhook;
		// Each round's runs are back to back, so their ratio is less swayed by other load on the machine.
		const pairedRatio = median(results.trigger.map((perSecond, index) => perSecond / results.webhook[index]));
		const controlRatio = median(results.trigger.map((perSecond, index) => perSecond / results.control[index]));
		const lazy = values['lazy-isolates'] || benchEnv().N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE === 'true';
		process.stdout.write(
			`\nn8n ${home.runtime.version}${lazy ? ' with N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true' : ', default settings'}, ` +
				`${requests} callbacks x ${rounds} rounds, ${concurrency} concurrent\n` +
				`Vonage AI Studio Trigger v${trigger.typeVersion} (${authentication}, repeat filter): ${viaTrigger.toFixed(0)} callbacks/s (median)\n` +
				`Built-in Webhook node:                              ${viaWebhook.toFixed(0)} callbacks/s (median)\n` +
				`Built-in Webhook node with one expression:          ${viaControl.toFixed(0)} callbacks/s (median)\n` +
				`Ratio trigger / Webhook node: ${ratio.toFixed(2)} (goal >= 0.9); median of the rounds' ratios: ${pairedRatio.toFixed(2)}\n` +
				`Ratio trigger / Webhook node with one expression (n8n's per-request isolate on both sides): ${controlRatio.toFixed(2)}\n`,
		);
		const minimum = values['min-ratio'] ? Number(values['min-ratio']) : undefined;
		return minimum !== undefined && ratio < minimum ? 1 : 0;
	} finally {
		await stack.stopAll();
	}
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	},
);
