// Benchmark: callbacks per second through the Vonage AI Studio Trigger (signed-callback verification on, repeat
// filter on) against n8n's built-in Webhook node, on the same real n8n instance, as a ratio (goal >= 0.9).
//   npx tsx scripts/bench-trigger.ts [--authentication signature|token|none] [--requests 400] [--concurrency 16]
//                                    [--rounds 3] [--min-ratio 0.9] [--type-version 1.1]
// --type-version sets the trigger node's typeVersion in the benchmarked workflow (default: the one new nodes get),
// e.g. 1 to measure what saved version-1 workflows get.
import jwt from 'jsonwebtoken';
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { preparePackage, removePreparedPackage } from '../e2e/support/communityPackage';
import { N8nHome } from '../e2e/support/n8n';
import { Stack } from '../e2e/support/processes';
import { callbackCredential, chain, triggerNode, triggerPath } from '../e2e/support/workflows';

const SECRET = 'bench-signature-secret';
const TOKEN = 'bench-token';

/** Extra n8n settings for experiments, e.g. BENCH_N8N_ENV='EXECUTIONS_DATA_SAVE_ON_SUCCESS=none'. */
function benchEnv(): Record<string, string> {
	const raw = process.env.BENCH_N8N_ENV ?? '';
	return Object.fromEntries(
		raw
			.split(/\s+/)
			.filter((pair) => pair.includes('='))
			.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
	);
}

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
		const authorization = `Bearer ${jwt.sign(
			{
				iat: Math.floor(Date.now() / 1000),
				jti: randomUUID(),
				iss: 'Vonage',
				payload_hash: createHash('sha256').update(body).digest('hex'),
				api_key: 'bench-account',
			},
			SECRET,
			{ algorithm: 'HS256' },
		)}`;
		return { body, authorization };
	});
}

async function blast(url: string, callbacks: Prepared[], concurrency: number, agent: Agent): Promise<{ perSecond: number; failures: number }> {
	let next = 0;
	let failures = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < callbacks.length) {
				const callback = callbacks[next++];
				const response = await request(url, {
					method: 'POST',
					dispatcher: agent,
					headers: { 'content-type': 'application/json', authorization: callback.authorization },
					body: callback.body,
				});
				await response.body.text();
				if (response.statusCode !== 200) failures++;
			}
		}),
	);
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
		},
	});
	const requests = Number(values.requests);
	const concurrency = Number(values.concurrency);
	const rounds = Number(values.rounds);

	const stack = new Stack();
	try {
		const prepared = await preparePackage();
		stack.defer('packed package', () => removePreparedPackage(prepared));
		const home = await N8nHome.create({ package: prepared, env: { N8N_LOG_LEVEL: 'warn', ...benchEnv() } });
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
		await home.importCredentials([callbackCredential({ signatureSecret: SECRET, token: TOKEN })]);
		await home.importWorkflows([chain('vgaiBenchTrigger', 'Bench trigger', [trigger]), chain('vgaiBenchWebhook', 'Bench webhook', [webhook])]);
		await home.publishWorkflow('vgaiBenchTrigger');
		await home.publishWorkflow('vgaiBenchWebhook');
		const n8n = stack.add(await home.start({ extraEnv: { N8N_LOG_LEVEL: 'info' } }));
		// Both targets get the same query string, so only the node differs.
		const query = `?vgai_ref=bench&vgai_token=${TOKEN}`;
		const targets = {
			trigger: `${home.webhookUrl(triggerPath(trigger))}${query}`,
			webhook: `${home.webhookUrl('bench-plain')}${query}`,
		};
		await home.waitForWebhooks([home.webhookUrl(triggerPath(trigger)), home.webhookUrl('bench-plain')], 60_000, n8n);

		const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
		stack.defer('http agent', () => agent.close());
		const warmUp = Math.min(200, requests);
		await blast(targets.trigger, prepareCallbacks(warmUp), concurrency, agent);
		await blast(targets.webhook, prepareCallbacks(warmUp), concurrency, agent);

		const results: Record<'trigger' | 'webhook', number[]> = { trigger: [], webhook: [] };
		for (let round = 1; round <= rounds; round++) {
			// Alternate the order so drift (database growth, GC) does not favour one side.
			const order: Array<'trigger' | 'webhook'> = round % 2 === 1 ? ['trigger', 'webhook'] : ['webhook', 'trigger'];
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
		const ratio = viaTrigger / viaWebhook;
		// Each round's two runs are back to back, so their ratio is less swayed by other load on the machine.
		const pairedRatio = median(results.trigger.map((perSecond, index) => perSecond / results.webhook[index]));
		process.stdout.write(
			`\nn8n ${home.runtime.version}, ${requests} callbacks x ${rounds} rounds, ${concurrency} concurrent\n` +
				`Vonage AI Studio Trigger v${trigger.typeVersion} (${authentication}, repeat filter): ${viaTrigger.toFixed(0)} callbacks/s (median)\n` +
				`Built-in Webhook node:                              ${viaWebhook.toFixed(0)} callbacks/s (median)\n` +
				`Ratio: ${ratio.toFixed(2)} (goal >= 0.9); median of the rounds' ratios: ${pairedRatio.toFixed(2)}\n`,
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
