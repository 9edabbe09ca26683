// The trigger's repeat memory across n8n processes, with a real redis-server: the rules every callback memory keeps
// (test/contracts/repeats.contract.ts, each receiver on its own connection); three processes each running the
// trigger (n8n-core's WebhookContext) receive the same callbacks and exactly one starts an execution for each;
// without the Redis URL each process starts its own (what the setting is for); Redis out of reach lets callbacks
// through rather than lose a status.
import { join } from 'node:path';
import { request } from 'undici';

import { closeSharedRedisClients, createRedisClient } from '../../../editions/queue/redisClient';
import { claimFirstSighting } from '../../../editions/queue/redisRepeats';
import { repeatsContract } from '../../contracts/repeats.contract';
import { tsxWorker } from '../../../harness/processes';
import { startRedis, type RedisServer } from '../../../harness/redisServer';
import { startWebhookHarness, type WebhookHarness } from '../../../harness/webhookHarness';
import type { ICredentialTestFunctions } from 'n8n-workflow';
import { VonageAiStudioTrigger } from '../../../queue/nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';
import type { TriggerWorkerReady, TriggerWorkerResult } from '../../nodes/VonageAiStudioTrigger/triggerWorker';

jest.setTimeout(60_000);

const token = 'example-status-url-token';

let redis: RedisServer;
beforeAll(async () => {
	redis = await startRedis();
});
afterAll(async () => {
	await closeSharedRedisClients();
	await redis.stop();
});

let sequence = 0;
const messageUuid = () => `cccccccc-0000-4000-8000-${String(++sequence).padStart(12, '0')}`;

async function post(url: string, body: object): Promise<{ statusCode: number; text: string }> {
	const response = await request(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { statusCode: response.statusCode, text: await response.body.text() };
}

/** Starts `count` trigger processes for one workflow and node; returns their status URLs and a way to end them. */
async function triggerProcesses(count: number, redisUrl: string, workflowId: string) {
	const workers = Array.from({ length: count }, () =>
		tsxWorker(join(__dirname, '..', '..', 'nodes', 'VonageAiStudioTrigger', 'triggerWorker.ts'), {
			TRIGGER_WORKER_TOKEN: token,
			TRIGGER_WORKER_REDIS_URL: redisUrl,
			TRIGGER_WORKER_WORKFLOW_ID: workflowId,
		}),
	);
	const urls: string[] = [];
	for (const { lines } of workers)
		urls.push((JSON.parse((await lines.next()).value as string) as TriggerWorkerReady).statusUrl);
	return {
		urls,
		async finish(): Promise<TriggerWorkerResult[]> {
			for (const { child } of workers) child.stdin!.end();
			const results: TriggerWorkerResult[] = [];
			for (const { lines } of workers)
				results.push(JSON.parse((await lines.next()).value as string) as TriggerWorkerResult);
			expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual(results.map(() => 0));
			return results;
		},
	};
}

/**
 * Every process gets every callback, all at once, the way repeats spread over a load balancer; then the processes
 * finish (also when a request failed, so none is left running) and every answer must have been a 200.
 */
async function deliverEverywhere(processes: Awaited<ReturnType<typeof triggerProcesses>>, callbacks: object[]) {
	const sent = await Promise.allSettled(
		callbacks.flatMap((callback) => processes.urls.map((url) => post(url, callback))),
	);
	const results = await processes.finish();
	const answers = sent.map((outcome) => {
		if (outcome.status === 'rejected') throw outcome.reason;
		return outcome.value;
	});
	expect({
		answers: answers.filter((answer) => answer.statusCode !== 200),
		processes: results.flatMap((result) => result.notAnswered200),
	}).toEqual({ answers: [], processes: [] });
	return results;
}

const connections: Array<ReturnType<typeof createRedisClient>> = [];
afterEach(() => {
	for (const connection of connections.splice(0)) connection.disconnect();
});

repeatsContract(() => ({
	name: 'Redis',
	memory(windowMs) {
		const receiver = () => {
			const client = createRedisClient(redis.url);
			connections.push(client);
			return {
				isRepeat: async (scope: string, key: string) => !(await claimFirstSighting(client, scope, key, windowMs)),
			};
		};
		return { first: receiver(), another: receiver };
	},
}));

describe('three trigger processes receiving the same callbacks', () => {
	const callbacks = Array.from({ length: 4 }, () => messageUuid()).flatMap((uuid) => [
		{ message_uuid: uuid, status: 'delivered', to: '447700900000' },
		{ message_uuid: uuid, status: 'read', to: '447700900000' },
	]);
	const emittedKeys = (results: TriggerWorkerResult[]) =>
		results
			.flatMap((result) => result.emitted.map((item) => `${String(item.messageUuid)}/${String(item.status)}`))
			.sort();
	const expectedKeys = callbacks.map((callback) => `${callback.message_uuid}/${callback.status}`).sort();

	it('with the Redis URL: each callback starts exactly one execution across the processes', async () => {
		const processes = await triggerProcesses(3, redis.url, `wf-shared-${Date.now()}`);
		const results = await deliverEverywhere(processes, callbacks);
		expect(emittedKeys(results)).toEqual(expectedKeys);
	});

	it('without it: each process starts its own (what the setting is for)', async () => {
		const processes = await triggerProcesses(3, '', `wf-local-${Date.now()}`);
		const results = await deliverEverywhere(processes, callbacks);
		expect(emittedKeys(results)).toEqual([...expectedKeys, ...expectedKeys, ...expectedKeys].sort());
	});
});

describe('Redis out of reach', () => {
	let harness: WebhookHarness;
	afterEach(() => harness?.close());

	it('lets the callback through (a repeat is better than a lost status) and still drops repeats in this process', async () => {
		const gone = await startRedis();
		const url = gone.url;
		await gone.stop();
		harness = await startWebhookHarness({
			parameters: { authentication: 'token' },
			credentials: { vonageAiStudioCallbackApi: { token, redisUrl: url } },
			nodeType: new VonageAiStudioTrigger(),
		});
		const callback = { message_uuid: messageUuid(), status: 'read' };
		const first = await post(harness.statusUrl({ token }), callback);
		expect(first.statusCode).toBe(200);
		expect(harness.executions).toHaveLength(1);
		const repeat = await post(harness.statusUrl({ token }), callback);
		expect(repeat.text).toContain('a repeat, ignored');
		expect(harness.executions).toHaveLength(1);
	});
});

describe('saving the callback credential with a Redis URL', () => {
	const test = (data: Record<string, unknown>) =>
		new VonageAiStudioTrigger().methods.credentialTest.vonageAiStudioCallbackSecrets.call(
			{} as ICredentialTestFunctions,
			{
				id: 'c1',
				name: 'Callback',
				type: 'vonageAiStudioCallbackApi',
				data: data as never,
			},
		);

	it('checks that the Redis answers', async () => {
		expect(await test({ token, redisUrl: redis.url })).toMatchObject({ status: 'OK' });
	});

	it('says when it does not, naming host and port but not the password', async () => {
		const gone = await startRedis();
		const port = gone.port;
		await gone.stop();
		const result = await test({ token, redisUrl: `redis://:redis-pass-77@127.0.0.1:${port}` });
		expect(result.status).toBe('Error');
		expect(result.message).toContain(`Shared Repeat Memory Redis URL does not work: 127.0.0.1:${port} did not answer`);
		expect(result.message).not.toContain('redis-pass-77');
	});
});
