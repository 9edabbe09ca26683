// What differs between the two packages built from this repository (docs/editions.md): the nodes are
// written once against this interface, and each package's node files pass in its own edition (editions/main,
// editions/queue). The core behind it knows neither.
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IExecuteFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import type { AccountState } from '../core/accounts';
import type { Clock, ProcessStore, StudioTransport } from '../core/ports';
import type { StudioAccount } from '../core/account';

/** A memory of callbacks shared by every n8n process that receives them (queue edition, with a Redis URL). */
export interface SharedRepeats {
	/** True when this is the first sighting of `key` within `windowMs` (and records it); rejects when unreachable. */
	claimFirstSighting(scope: string, key: string, windowMs: number): Promise<boolean>;
	/** Where it lives, for log messages: host and port. */
	readonly location: string;
}

export type CredentialTestFunction = (
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
) => Promise<INodeCredentialTestResult>;

export interface Edition {
	readonly name: 'main' | 'queue';
	/** Timers of the rate gate and of the waits between retries. */
	readonly clock: Clock;
	/** Where the per-process registries live (gates, ledgers, callback memories, kept secrets). */
	readonly processStore: ProcessStore;
	/** HTTP to Studio for one execution. */
	studioTransport(context: IExecuteFunctions, account: StudioAccount): StudioTransport;
	/** The account's rate gate and send ledger: in this process, or shared through Redis when configured. */
	accountState(account: StudioAccount): AccountState;
	/** The trigger's memory of callbacks across n8n processes, when the callback credential configures one. */
	sharedRepeats(credential: ICredentialDataDecryptedObject): SharedRepeats | undefined;
	/**
	 * "Test" of the Studio credential when it is not declared on the credential itself (the queue edition tests
	 * the key with its own HTTP client, and its Redis).
	 */
	readonly studioCredentialTest?: CredentialTestFunction;
	/** What else is wrong with a saved callback credential (the queue edition checks that its Redis answers). */
	callbackCredentialProblem(data: ICredentialDataDecryptedObject): Promise<string | undefined>;
	/** Tests, the benchmark and shutdown: close every gate and connection. */
	closeAll(): Promise<void>;
}
