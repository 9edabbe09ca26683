// One rate gate and one send ledger per Studio account, in the store an edition gives: the same state for the same
// region and key, separate state for another key, region or location, an edited tier applied, and only a hash of the
// key kept.
import { AccountRegistry, accountId, type AccountState } from '../../core/accounts';
import type { ProcessStore } from '../../core/ports';
import { LocalRateGate } from '../../core/rateGate';
import { MemorySendLedger } from '../../core/sendLedger';
import { VirtualClock } from '../../harness/virtualClock';

function storeOf(values: Map<string, unknown>): ProcessStore {
	return <T>(name: string, create: () => T) => {
		if (!values.has(name)) values.set(name, create());
		return values.get(name) as T;
	};
}

describe('AccountRegistry', () => {
	const clock = new VirtualClock();
	const create = () => (): AccountState => ({
		gate: new LocalRateGate({ tier: 1 }, clock),
		ledger: new MemorySendLedger(),
	});

	it('gives every send for one region and API key the same gate and ledger, and another key or region its own', async () => {
		const registry = new AccountRegistry(storeOf(new Map()));
		const a = registry.get({ region: 'eu', apiKey: 'key-1' }, { tier: 1 }, create());
		expect(registry.get({ region: 'eu', apiKey: 'key-1' }, { tier: 1 }, create())).toBe(a);
		expect(registry.get({ region: 'eu', apiKey: 'key-2' }, { tier: 1 }, create())).not.toBe(a);
		expect(registry.get({ region: 'us', apiKey: 'key-1' }, { tier: 1 }, create())).not.toBe(a);
		expect(registry.get({ region: 'eu', apiKey: 'key-1', location: 'redis:abc' }, { tier: 1 }, create())).not.toBe(a);
		await registry.closeAll();
	});

	it("keeps the state in the edition's store, so two registries on one store share it", async () => {
		const store = storeOf(new Map());
		const first = new AccountRegistry(store).get({ region: 'eu', apiKey: 'k' }, { tier: 1 }, create());
		expect(new AccountRegistry(store).get({ region: 'eu', apiKey: 'k' }, { tier: 1 }, create())).toBe(first);
		await new AccountRegistry(store).closeAll();
	});

	it('applies an edited tier to the shared gate', async () => {
		const registry = new AccountRegistry(storeOf(new Map()));
		const { gate } = registry.get({ region: 'eu', apiKey: 'k' }, { tier: 1 }, create());
		registry.get({ region: 'eu', apiKey: 'k' }, { tier: 3 }, create());
		const starts: number[] = [];
		await clock.run(
			[1, 2, 3].map(() => ({
				at: clock.now(),
				action: () => void gate.acquire().then(() => starts.push(clock.now())),
			})),
		);
		// Three starts within a second are allowed only at tier 3 (tier 1 would need more than two seconds).
		expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(1000);
		await registry.closeAll();
	});

	it('keys by a hash: the API key itself is not kept', () => {
		const values = new Map<string, unknown>();
		const apiKey = 'super-secret-studio-key';
		new AccountRegistry(storeOf(values)).get({ region: 'eu', apiKey }, { tier: 3 }, create());
		const keys = [...(values.get('accounts.v2') as Map<string, unknown>).keys()].join(' ');
		expect(keys).toContain(accountId('eu', apiKey));
		expect(keys).not.toContain(apiKey);
		expect(accountId('eu', apiKey)).toMatch(/^eu:[0-9a-f]{32}$/);
	});
});
