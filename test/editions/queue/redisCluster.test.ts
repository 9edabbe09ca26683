// The queue edition on a real Redis Cluster (three primaries on 127.0.0.1, the slots split between them), as n8n's
// own queue can use one (QUEUE_BULL_REDIS_CLUSTER_NODES): with Redis Cluster switched on in the credential, the URL
// of one node is enough. Every key of an account shares one hash slot, so each atomic script runs on one node;
// two workers share the tier through it, the ledger replays a re-run, and the shard holding an account restarted
// empty mid-campaign costs time, not contacts. A database number, which a cluster does not have, is refused.
import type { RedisConnectionSettings } from '../../../core/account';
import { accountId } from '../../../core/accounts';
import { WINDOW_MS } from '../../../core/rateGate';
import { STUDIO_PATHS } from '../../../core/studioApi';
import { queueEdition } from '../../../editions/queue';
import { createRedisClient, redisProblem, type RedisClient } from '../../../editions/queue/redisClient';
import { RedisRateGate } from '../../../editions/queue/redisRateGate';
import { RedisSendLedger } from '../../../editions/queue/redisSendLedger';
import { closeAllPools, postToStudio } from '../../../editions/queue/transport';
import { closeShared, studioAccount } from '../../../harness/accounts';
import { dispatch } from '../../../harness/dispatch';
import { REAL_TIME_MARGIN_MS, whatsappSessionBody } from '../../../harness/fixtures';
import { startRedisCluster, type RedisCluster } from '../../../harness/redisServer';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { maxInAnyWindow } from '../../../simulator/windows';

jest.setTimeout(120_000);

const API_KEY = 'redis-cluster-test-key';
let cluster: RedisCluster;
let sim: StudioSimulator;
const clients: RedisClient[] = [];

beforeAll(async () => {
	cluster = await startRedisCluster(3);
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false, tier: 3, latencyMs: { min: 10, max: 40 } });
});

afterEach(async () => {
	for (const each of clients.splice(0)) each.disconnect();
	await closeShared();
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
	await cluster.stop();
});

const onCluster = (url = cluster.url): RedisConnectionSettings => ({
	url,
	allowUnauthorizedCerts: false,
	cluster: true,
});

function clusterClient(): RedisClient {
	const client = createRedisClient(onCluster());
	clients.push(client);
	return client;
}

const contact = (worker: number, index: number) => `44770099${worker}0${String(index).padStart(2, '0')}`;

function jobs(worker: number, count: number) {
	return Array.from({ length: count }, (_, index) => ({
		index,
		ledgerKey: `cluster-${worker}/${index}`,
		send: () =>
			postToStudio(sim.url, STUDIO_PATHS.messagingConversation, whatsappSessionBody(contact(worker, index)), API_KEY),
	}));
}

const account = (region: 'eu' | 'us' = 'eu') =>
	studioAccount({
		apiKey: API_KEY,
		region,
		tier: 3,
		baseUrl: sim.url,
		floorMs: REAL_TIME_MARGIN_MS,
		redis: onCluster(),
		redisOutageToleranceMs: 30_000,
	});

it("the credential's Test passes with one node's URL", async () => {
	expect(await redisProblem(onCluster())).toBeUndefined();
});

it('two workers share the tier through the cluster, a re-run replays, and every key of the account is in one slot', async () => {
	const mine = queueEdition.accountState(account());
	// The other worker: a cluster connection, gate and ledger of its own.
	const client = clusterClient();
	const id = accountId('eu', API_KEY);
	const other = {
		gate: new RedisRateGate({ client, account: id, tier: 3, floorMs: REAL_TIME_MARGIN_MS }),
		ledger: new RedisSendLedger({ client, account: id }),
	};
	const [a, b] = await Promise.all([dispatch(jobs(1, 6), mine), dispatch(jobs(2, 6), other)]);
	await other.gate.close();
	expect([...a, ...b].map((result) => result.outcome)).toEqual(new Array(12).fill('sent'));
	expect(sim.sessions).toHaveLength(12);
	expect(
		maxInAnyWindow(
			sim.sessions.map((session) => session.arrivedAt),
			WINDOW_MS,
		),
	).toBeLessThanOrEqual(3);
	expect(sim.tooManyRequests).toBe(0);

	const rerun = await dispatch(jobs(1, 6), mine);
	expect(rerun.map((result) => result.outcome)).toEqual(new Array(6).fill('replayed'));

	// Look on every node: the account's keys live together, in one slot.
	const inspect = clusterClient();
	const keys = (
		await Promise.all(
			cluster.nodes.map(async (node) => {
				const direct = createRedisClient(node.url);
				clients.push(direct);
				return await direct.keys(`*${id}*`);
			}),
		)
	).flat();
	expect(keys.length).toBeGreaterThanOrEqual(6 + 4 + 1); // records, the gate's keys, the epoch
	const slots = new Set(await Promise.all(keys.map((key) => inspect.call('CLUSTER', 'KEYSLOT', key))));
	expect(slots.size).toBe(1);
});

it('the node holding the account restarted empty mid-campaign: the campaign waits, then goes on, each contact once', async () => {
	const inspect = clusterClient();
	const id = accountId('us', API_KEY);
	const slot = Number(await inspect.call('CLUSTER', 'KEYSLOT', `vgai:epoch:{${id}}`));
	const shards = (await inspect.call('CLUSTER', 'SHARDS')) as unknown[];
	// Which of our nodes serves that slot: CLUSTER SHARDS lists each shard's slot ranges and its nodes' ports.
	const holder = cluster.nodes.find((node) =>
		shards.some((shard) => {
			const fields = shard as unknown[];
			const ranges = fields[fields.indexOf('slots') + 1] as number[];
			const nodes = fields[fields.indexOf('nodes') + 1] as unknown[][];
			const owns = ranges.some((_, i) => i % 2 === 0 && ranges[i] <= slot && slot <= ranges[i + 1]);
			return owns && nodes.some((each) => Number(each[each.indexOf('port') + 1]) === node.port);
		}),
	)!;
	expect(holder).toBeDefined();

	let restarted: Promise<void> | undefined;
	let [downAt, backAt] = [0, 0];
	const state = queueEdition.accountState(account('us'));
	const results = await dispatch(jobs(3, 9), {
		...state,
		onProgress: (done) => {
			if (done === 3 && !restarted)
				restarted = (async () => {
					downAt = Date.now();
					await holder.down();
					await new Promise((resolve) => setTimeout(resolve, 2000));
					await holder.up();
					backAt = Date.now();
				})();
		},
	});
	await restarted;
	expect(results.map((result) => result.outcome)).toEqual(new Array(9).fill('sent'));
	const arrivals = sim.sessions.map((session) => session.arrivedAt);
	expect(arrivals.filter((at) => at < downAt).length).toBeGreaterThanOrEqual(3);
	expect(arrivals.filter((at) => at > backAt).length).toBeGreaterThanOrEqual(1);
	for (let index = 0; index < 9; index++)
		expect(sim.sessions.filter((session) => session.body.to === contact(3, index))).toHaveLength(1);
	expect(
		maxInAnyWindow(
			sim.sessions.map((session) => session.arrivedAt),
			WINDOW_MS,
		),
	).toBeLessThanOrEqual(3);
	expect(sim.tooManyRequests).toBe(0);
});

it('a database number in the URL is refused: a cluster has only database 0', async () => {
	expect(await redisProblem(onCluster(`${cluster.url}/2`))).toMatch(/a Redis Cluster has only database 0/);
});
