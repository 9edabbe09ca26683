// The queue-mode edition (package n8n-nodes-vonage-ai-studio-queue, for self-hosted n8n with several processes):
// the main edition's behaviour plus the Redis-backed rate gate, send ledger and trigger repeat memory, undici's
// keep-alive pools as the HTTP client, and Node's timers made punctual for the gate.
import { createHash } from 'node:crypto';

import { AccountRegistry } from '../../core/accounts';
import { localState } from '../../core/turnGate';
import type { Edition } from '../edition';
import { preciseClock } from './clock';
import { testStudioCredential } from './credentialTest';
import { processWide } from './processWide';
import { closeSharedRedisClients, describeRedis, getSharedRedisClient, redisProblem } from './redisClient';
import { RedisRateGate } from './redisRateGate';
import { claimFirstSighting } from './redisRepeats';
import { RedisSendLedger } from './redisSendLedger';
import { closeAllPools, undiciTransport } from './transport';

const accounts = new AccountRegistry(processWide);

const redisUrlOf = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

export const queueEdition: Edition = {
	name: 'queue',
	clock: preciseClock,
	processStore: processWide,
	studioTransport: (_context, account) => undiciTransport(account),
	accountState(account) {
		const settings = { tier: account.tier, floorMs: account.floorMs, processes: account.processes };
		const url = account.redisUrl;
		if (!url) return accounts.get(...localState(account, preciseClock));
		// An edited URL gets state of its own; the URL itself (it may carry a password) is kept only hashed.
		const location = `redis:${createHash('sha256').update(url, 'utf8').digest('hex')}`;
		return accounts.get({ ...account, location }, settings, (id) => {
			const client = getSharedRedisClient(url);
			return {
				gate: new RedisRateGate({ client, account: id, ...settings }),
				ledger: new RedisSendLedger({ client, account: id }),
			};
		});
	},
	sharedRepeats(credential) {
		const url = redisUrlOf(credential.redisUrl);
		if (!url) return undefined;
		const client = getSharedRedisClient(url);
		return {
			location: describeRedis(client),
			claimFirstSighting: (scope, key, windowMs) => claimFirstSighting(client, scope, key, windowMs),
		};
	},
	async studioCredentialTest(credential) {
		return await testStudioCredential(credential.data ?? {});
	},
	async callbackCredentialProblem(data) {
		const url = redisUrlOf(data.redisUrl);
		const problem = url ? await redisProblem(url) : undefined;
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
