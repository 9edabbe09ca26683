// The main edition (package n8n-nodes-vonage-ai-studio, verification-ready for n8n Cloud and n8n 3.0): n8n's own
// HTTP helpers and sleep, and state in this n8n process only. No runtime dependencies, no environment, no files.
import { AccountRegistry } from '../../core/accounts';
import type { ProcessStore } from '../../core/ports';
import { localState } from '../../core/turnGate';
import type { Edition } from '../edition';
import { n8nClock } from './clock';
import { n8nTransport } from './transport';

const values = new Map<string, unknown>();

/**
 * State for the whole n8n process, kept in this module. (If n8n loads a second copy of the package, after an
 * update while executions run, each copy paces its own executions until the old ones finish; the queue edition
 * keeps one registry per process whatever the copy.)
 */
export const moduleStore: ProcessStore = <T>(name: string, create: () => T): T => {
	if (!values.has(name)) values.set(name, create());
	return values.get(name) as T;
};

const accounts = new AccountRegistry(moduleStore);

export const mainEdition: Edition = {
	name: 'main',
	clock: n8nClock,
	processStore: moduleStore,
	studioTransport: n8nTransport,
	accountState(account) {
		return accounts.get(...localState(account, n8nClock));
	},
	sharedRepeats: () => undefined,
	callbackCredentialProblem: async () => undefined,
	closeAll: () => accounts.closeAll(),
};
