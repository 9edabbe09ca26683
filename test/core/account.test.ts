// The Studio credential is read in one place: the tier, the host, the margin floor, the processes sharing the
// account, the shared-gate Redis URL.
import { readAccount } from '../../core/account';

it('uses the region host unless the base URL is overridden, and keeps the tier, floor and Redis URL', () => {
	expect(readAccount({ apiKey: 'k', region: 'us', sessionsPerSecond: 3 })).toEqual({
		apiKey: 'k',
		region: 'us',
		tier: 3,
		baseUrl: 'https://studio-api-us.ai.vonage.com',
		floorMs: undefined,
		processes: 1,
		redisUrl: undefined,
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
		redisUrl: 'redis://127.0.0.1:6380',
		floorMs: 60,
		processes: 3,
	});
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
