// The Studio credential is read in one place: the tier, the host, the margin floor, the processes sharing the
// account, the shared-gate Redis connection and how long sends wait for it.
import { readAccount } from '../../core/account';

it('uses the region host unless the base URL is overridden, and keeps the tier, floor and Redis URL', () => {
	expect(readAccount({ apiKey: 'k', region: 'us', sessionsPerSecond: 3 })).toEqual({
		apiKey: 'k',
		region: 'us',
		tier: 3,
		baseUrl: 'https://studio-api-us.ai.vonage.com',
		floorMs: undefined,
		processes: 1,
		redis: undefined,
		redisOutageToleranceMs: 30_000,
	});
	expect(
		readAccount({
			apiKey: 'k',
			region: 'eu',
			sessionsPerSecond: 5,
			baseUrl: ' http://127.0.0.1:4010/ ',
			redisUrl: ' redis://127.0.0.1:6380 ',
			safetyMarginMs: 60,
			sendingProcesses: 3,
		}),
	).toMatchObject({
		baseUrl: 'http://127.0.0.1:4010',
		tier: 5,
		redis: { url: 'redis://127.0.0.1:6380', allowUnauthorizedCerts: false, cluster: false },
		floorMs: 60,
		processes: 3,
	});
});

it('reads the Redis connection: TLS certificate authority, self-signed trust, cluster, and the outage tolerance', () => {
	const account = readAccount({
		apiKey: 'k',
		redisUrl: 'rediss://vgai:pw@redis.internal:6380/2',
		redisCaCertificate: ' -----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE----- ',
		redisAllowUnauthorizedCerts: true,
		redisCluster: true,
		redisOutageTolerance: 12,
	});
	expect(account.redis).toEqual({
		url: 'rediss://vgai:pw@redis.internal:6380/2',
		caCertificate: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----',
		allowUnauthorizedCerts: true,
		cluster: true,
	});
	expect(account.redisOutageToleranceMs).toBe(12_000);
	expect(readAccount({ apiKey: 'k', redisOutageTolerance: 0 }).redisOutageToleranceMs).toBe(0);
	expect(readAccount({ apiKey: 'k', redisOutageTolerance: -5 }).redisOutageToleranceMs).toBe(30_000);
});

it('never trusts a tier Vonage does not offer: anything but 1, 3 or 5 counts as the default 1', () => {
	expect(readAccount({ apiKey: 'k', region: 'eu', sessionsPerSecond: 50 }).tier).toBe(1);
	expect(readAccount({ apiKey: 'k', region: 'xx' }).region).toBe('eu');
});

it('reads a margin of 0 as automatic and a process count that is not a whole number of at least 1 as 1', () => {
	expect(readAccount({ apiKey: 'k', safetyMarginMs: 0 }).floorMs).toBeUndefined();
	expect(readAccount({ apiKey: 'k', sendingProcesses: 0 }).processes).toBe(1);
	expect(readAccount({ apiKey: 'k', sendingProcesses: 2.5 }).processes).toBe(1);
});
