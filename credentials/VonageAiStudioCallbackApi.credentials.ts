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
	];
}
