import type {
	IAuthenticateGeneric,
	ICredentialType,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

// "Test" is run by the Vonage AI Studio node (testedBy: vonageAiStudioApiTest, credentialTest.ts): a declarative
// test request cannot tell Studio's 400 for an incomplete body (key accepted) from a 401 (key rejected).
export class VonageAiStudioApi implements ICredentialType {
	name = 'vonageAiStudioApi';

	displayName = 'Vonage AI Studio API';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudio/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudio/vonageAiStudio.dark.svg',
	};

	documentationUrl = 'https://studio.docs.ai.vonage.com/whatsapp/get-started/triggering-an-outbound-whatsapp-virtual-agent';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Generated in the AI Studio canvas: user menu, Generate API Key',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'EU (studio-api-eu.ai.vonage.com)', value: 'eu' },
				{ name: 'US (studio-api-us.ai.vonage.com)', value: 'us' },
			],
			default: 'eu',
			description: 'The region chosen when the agents were created',
		},
		{
			displayName: 'Approved Sessions per Second',
			name: 'sessionsPerSecond',
			type: 'options',
			options: [
				{ name: '1 per Second (Default Tier)', value: 1 },
				{ name: '3 per Second (On Request)', value: 3 },
				{ name: '5 per Second (On Request)', value: 5 },
			],
			default: 1,
			description:
				'The outbound rate tier Vonage approved for this account. Every node using this credential shares it: sends are paced so that no second ever holds more. Ask ai.support@vonage.com for 3 or 5.',
		},
		{
			displayName: 'Rate Gate Safety Margin (Ms)',
			name: 'safetyMarginMs',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1000 },
			default: 0,
			description:
				'Advanced. 0 = automatic: the gate learns how much wider than a second its window must be for your link to Studio (trips vary with the network and a busy n8n), from response times and 429s, and keeps it as small as that allows. A number sets the least margin it may use.',
		},
		// A Redis URL usually carries the Redis password (redis://:password@host), so it is masked like one.
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
		{
			displayName: 'Shared Rate Gate Redis URL',
			name: 'redisUrl',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'redis://127.0.0.1:6379/0',
			description:
				'For n8n queue mode (several workers): the Redis that all workers reach, so they share one rate budget and one record of sent sessions. Leave empty for a single n8n process.',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'http://127.0.0.1:4010',
			description:
				'Advanced: send to this URL instead of the region host, e.g. the Studio simulator or your own proxy. Leave empty for Vonage.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'X-Vgai-Key': '={{$credentials.apiKey}}',
			},
		},
	};
}
