// The secrets the Vonage AI Studio Trigger checks callbacks with. It calls no API: it is checked locally by the
// trigger's credential test (testedBy) when saved.
import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

export class VonageAiStudioCallbackApi implements ICredentialType {
	name = 'vonageAiStudioCallbackApi';

	displayName = 'Vonage AI Studio Callback';

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-vonage-ai-studio#vonage-ai-studio-trigger';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.dark.svg',
	};

	properties: INodeProperties[] = [
		{
			displayName: 'Status URL Token',
			name: 'token',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"A long random secret of your own (at least 16 characters). Put the same value into the Vonage AI Studio node's Status URL Token option: it travels in the status URL as vgai_token. Used when the trigger's Authentication is Secret Token in Status URL.",
		},
		{
			displayName: 'Signature Secret',
			name: 'signatureSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"Your Vonage account's signature secret (Vonage API Dashboard, Settings). Used when the trigger's Authentication is Vonage Signed Callbacks.",
		},
		// A Redis URL usually carries the Redis password (redis://:password@host), so it is masked like one.
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
		{
			displayName: 'Shared Repeat Memory Redis URL',
			name: 'redisUrl',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'redis://127.0.0.1:6379/0',
			description:
				"Only when several n8n processes receive webhooks (queue mode with webhook processes behind a load balancer): a Redis all of them reach, so a callback Studio repeats to another process is still dropped as a repeat. Leave empty for one n8n process. If Redis cannot be reached, callbacks are let through: a repeat is better than a lost status.",
		},
	];
}
