// One rate gate and one send ledger per Studio account, shared by every node, item and execution in the process
// that sends with it. The one place that decides what "the same account" is and where its state is kept.
import { createHash } from 'node:crypto';

import type { ProcessStore } from './ports';
import type { RateGate, RateGateSettings } from './rateGate';
import type { SendLedger } from './sendLedger';

/** SHA-256 of the API key: the only form of the key the gate and the ledger keep or send to Redis. */
export function accountId(region: string, apiKey: string): string {
	const keyHash = createHash('sha256').update(apiKey, 'utf8').digest('hex');
	return `${region}:${keyHash.slice(0, 32)}`;
}

/** What sends for one account share. */
export interface AccountState {
	gate: RateGate;
	ledger: SendLedger;
}

export interface AccountRef {
	region: string;
	apiKey: string;
	/**
	 * Where the state lives besides the account, e.g. a Redis URL hash: an edited location gets state of its own.
	 * Empty for state in this process.
	 */
	location?: string;
}

/** The process-wide registry of accounts' state, held in `store` (which decides what "process-wide" means). */
export class AccountRegistry {
	constructor(
		private readonly store: ProcessStore,
		private readonly name = 'accounts.v2',
	) {}

	private map(): Map<string, AccountState> {
		return this.store(this.name, () => new Map<string, AccountState>());
	}

	/** The account's state, created by `create(accountId)` on first use; an edited tier or floor is applied. */
	get(ref: AccountRef, settings: RateGateSettings, create: (account: string) => AccountState): AccountState {
		const account = accountId(ref.region, ref.apiKey);
		const key = ref.location ? `${ref.location}:${account}` : `local:${account}`;
		const map = this.map();
		let state = map.get(key);
		if (state) state.gate.configure(settings);
		else {
			state = create(account);
			map.set(key, state);
		}
		return state;
	}

	/** Tests, the benchmark and shutdown: close every gate and forget every account. */
	async closeAll(): Promise<void> {
		const map = this.map();
		const all = [...map.values()];
		map.clear();
		await Promise.all(all.map(async (state) => await Promise.all([state.gate.close(), state.ledger.close?.()])));
	}
}
