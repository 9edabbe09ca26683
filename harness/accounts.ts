// Studio accounts as the nodes read them from a credential, and the gate the queue edition shares per account
// (in this process, or through Redis): what the benchmark, the cross-process workers and the tests send through.
import type { RateGate } from '../core/rateGate';
import { queueEdition } from '../editions/queue';
import type { StudioAccount } from '../core/account';

export function studioAccount(options: Partial<StudioAccount> & { apiKey: string }): StudioAccount {
	return { region: 'eu', tier: 1, baseUrl: 'http://127.0.0.1:9', processes: 1, ...options };
}

/** The account's shared gate, as every node in this process gets it (one per region and key, and Redis URL). */
export function sharedGate(options: Partial<StudioAccount> & { apiKey: string }): RateGate {
	return queueEdition.accountState(studioAccount(options)).gate;
}

/** Closes every shared gate, ledger, Redis connection and HTTP pool. */
export function closeShared(): Promise<void> {
	return queueEdition.closeAll();
}
