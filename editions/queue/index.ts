// The queue-mode edition (package n8n-nodes-vonage-ai-studio-queue, for self-hosted n8n with several processes):
// the main edition's behaviour plus the Redis-backed rate gate, send ledger and trigger repeat memory, undici's
// keep-alive pools as the HTTP client, and Node's timers made punctual for the gate.
import { readRedisConnection } from '../../core/account';
import { AccountRegistry } from '../../core/accounts';
import { localState } from '../../core/turnGate';
import type { Edition } from '../edition';
import { preciseClock } from './clock';
import { testStudioCredential } from './credentialTest';
import { processWide } from './processWide';
import { closeSharedRedisClients, describeRedis, getSharedRedisClient, redisProblem, settingsId } from './redisClient';
import { RedisRateGate } from './redisRateGate';
import { claimFirstSighting } from './redisRepeats';
import { RedisSendLedger } from './redisSendLedger';
import { closeAllPools, undiciTransport } from './transport';

const accounts = new AccountRegistry(processWide);

export const queueEdition: Edition = {
	name: 'queue',
	clock: preciseClock,
	processStore: processWide,
	studioTransport: (_context, account) => undiciTransport(account),
	accountState(account) {
		const settings = { tier: account.tier, floorMs: account.floorMs, processes: account.processes };
		const redis = account.redis;
		if (!redis) return accounts.get(...localState(account, preciseClock));
		// Edited connection settings or tolerance get state of their own; the URL itself (it may carry a password)
		// is kept only hashed.
		const outageToleranceMs = account.redisOutageToleranceMs;
		const location = `redis:${settingsId(redis)}:${outageToleranceMs}`;
		return accounts.get({ ...account, location }, settings, (id) => {
			const client = getSharedRedisClient(redis);
			return {
				gate: new RedisRateGate({ client, account: id, outageToleranceMs, ...settings }),
				ledger: new RedisSendLedger({ client, account: id, outageToleranceMs }),
			};
		});
	},
	sharedRepeats(credential) {
		const redis = readRedisConnection(credential);
		if (!redis) return undefined;
		const client = getSharedRedisClient(redis);
		return {
			location: describeRedis(client),
			claimFirstSighting: (scope, key, windowMs) => claimFirstSighting(client, scope, key, windowMs),
		};
	},
	async studioCredentialTest(credential) {
		return await testStudioCredential(credential.data ?? {});
	},
	async callbackCredentialProblem(data) {
		const redis = readRedisConnection(data);
		const problem = redis ? await redisProblem(redis) : undefined;
		return problem
			? `the Shared Repeat Memory Redis URL does not work: ${problem}. Callbacks would still be let through, without recognising repeats across processes.`
			: undefined;
	},
	async closeAll() {
		await accounts.closeAll();
		await closeSharedRedisClients();
		await closeAllPools();
	},
};
