// Studio accounts as the nodes read them from a credential, and the gate the queue edition shares per account
// (in this process, or through Redis): what the benchmark, the cross-process workers and the tests send through.
import type { RateGate } from '../core/rateGate';
import { queueEdition } from '../editions/queue';
import { DEFAULT_REDIS_OUTAGE_TOLERANCE_S, type StudioAccount } from '../core/account';
import { urlOnly } from '../editions/queue/redisClient';

/** An account; `redisUrl` is short for Redis connection settings with only a URL. */
export type AccountOptions = Partial<StudioAccount> & { apiKey: string; redisUrl?: string };

export function studioAccount({ redisUrl, ...options }: AccountOptions): StudioAccount {
	return {
		region: 'eu',
		tier: 1,
		baseUrl: 'http://127.0.0.1:9',
		processes: 1,
		redisOutageToleranceMs: DEFAULT_REDIS_OUTAGE_TOLERANCE_S * 1000,
		...(redisUrl ? { redis: urlOnly(redisUrl) } : {}),
		...options,
	};
}

/** The account's shared gate, as every node in this process gets it (one per region and key, and Redis URL). */
export function sharedGate(options: AccountOptions): RateGate {
	return queueEdition.accountState(studioAccount(options)).gate;
}

/** Closes every shared gate, ledger, Redis connection and HTTP pool. */
export function closeShared(): Promise<void> {
	return queueEdition.closeAll();
}
