// The credential is read in one place: the tier, the host, the shared-gate settings.
import { readAccount } from '../../nodes/VonageAiStudio/send';

it('uses the region host unless the base URL is overridden, and keeps the tier and margin', () => {
	expect(readAccount({ apiKey: 'k', region: 'us', sessionsPerSecond: 3 })).toEqual({
		apiKey: 'k',
		region: 'us',
		tier: 3,
		baseUrl: 'https://studio-api-us.ai.vonage.com',
		redisUrl: undefined,
		safetyMarginMs: undefined,
	});
	expect(readAccount({ apiKey: 'k', region: 'eu', sessionsPerSecond: 5, baseUrl: ' http://127.0.0.1:4010/ ', redisUrl: ' redis://127.0.0.1:6380 ', safetyMarginMs: 60 })).toMatchObject({
		baseUrl: 'http://127.0.0.1:4010',
		tier: 5,
		redisUrl: 'redis://127.0.0.1:6380',
		safetyMarginMs: 60,
	});
});

it('never trusts a tier Vonage does not offer: anything but 1, 3 or 5 counts as the default 1', () => {
	expect(readAccount({ apiKey: 'k', region: 'eu', sessionsPerSecond: 50 }).tier).toBe(1);
	expect(readAccount({ apiKey: 'k', region: 'xx' }).region).toBe('eu');
});
