// Proves the secrets cache reuses a read for its time to live and no longer, shares a read in flight, never keeps a
// failed read, forgets on request, and stays bounded.
import { SECRETS_TTL_MS, SecretsCache } from '../../../nodes/VonageAiStudioTrigger/secretsCache';

function clock(start = 1_000_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A read that counts its calls and returns the current value. */
function source(value: string) {
	const read = Object.assign(
		async () => {
			read.calls++;
			if (read.value === undefined) throw new Error('Credential not found');
			return read.value;
		},
		{ calls: 0, value: value as string | undefined },
	);
	return read;
}

it('reuses a read for 10 seconds by default, then reads again', async () => {
	const time = clock();
	const cache = new SecretsCache<string>({ now: time.now });
	const read = source('secret-1');

	expect(await cache.get('k', read)).toEqual({ secrets: 'secret-1', reused: false });
	read.value = 'secret-2';
	time.advance(SECRETS_TTL_MS - 1);
	expect(await cache.get('k', read)).toEqual({ secrets: 'secret-1', reused: true });
	expect(read.calls).toBe(1);

	time.advance(1);
	expect(await cache.get('k', read)).toEqual({ secrets: 'secret-2', reused: false });
	expect(read.calls).toBe(2);
	expect(SECRETS_TTL_MS).toBe(10_000);
});

it('counts the time to live from when the read finished, not from each use', async () => {
	const time = clock();
	const cache = new SecretsCache<string>({ ttlMs: 100, now: time.now });
	const read = source('s');
	await cache.get('k', read);
	for (let step = 0; step < 5; step++) {
		time.advance(30);
		await cache.get('k', read);
	}
	expect(read.calls).toBe(2); // read again at 120 ms, though used every 30 ms
});

it('shares one read between requests that arrive while it is in flight', async () => {
	const cache = new SecretsCache<string>();
	let finish!: (value: string) => void;
	let calls = 0;
	const read = () => {
		calls++;
		return new Promise<string>((resolve) => (finish = resolve));
	};
	const waiting = Array.from({ length: 16 }, () => cache.get('k', read));
	finish('s');
	const results = await Promise.all(waiting);
	expect(calls).toBe(1);
	// Nobody got secrets read before their request arrived.
	expect(results.every((result) => result.secrets === 's' && !result.reused)).toBe(true);
});

it('never keeps a failed read: every request fails until the credential is back', async () => {
	const cache = new SecretsCache<string>();
	const read = source('s');
	read.value = undefined;
	await expect(Promise.all([cache.get('k', read), cache.get('k', read)])).rejects.toThrow('Credential not found');
	await expect(cache.get('k', read)).rejects.toThrow('Credential not found');
	expect(cache.size).toBe(0);
	expect(read.calls).toBe(2); // the first two shared a read

	read.value = 'back';
	expect(await cache.get('k', read)).toEqual({ secrets: 'back', reused: false });
});

it('reads again after forget(), and keeps keys apart', async () => {
	const cache = new SecretsCache<string>();
	const first = source('a');
	const second = source('b');
	await cache.get('one', first);
	expect(await cache.get('two', second)).toEqual({ secrets: 'b', reused: false });

	first.value = 'a2';
	cache.forget('one');
	expect(await cache.get('one', first)).toEqual({ secrets: 'a2', reused: false });
	expect(await cache.get('two', second)).toEqual({ secrets: 'b', reused: true });
});

it('forgets the least recently used key past its bound', async () => {
	const cache = new SecretsCache<string>({ maxEntries: 2 });
	const read = source('s');
	await cache.get('a', read);
	await cache.get('b', read);
	await cache.get('a', read); // a is now the most recently used
	await cache.get('c', read);
	expect(cache.size).toBe(2);
	expect((await cache.get('a', read)).reused).toBe(true);
	expect((await cache.get('b', read)).reused).toBe(false);
});
