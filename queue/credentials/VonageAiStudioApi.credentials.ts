// The Studio account of the queue-mode package: the main package's fields plus the Redis URL all workers share.
// Same type name as the main package's, so a workflow keeps its credential when it moves between the editions.
import type { IAuthenticateGeneric, ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

import { API_KEY_HEADER, CREDENTIAL_TYPE } from '../../core/studioApi';
import { studioApiProperties } from '../../nodes/shared/credentialFields';

// "Test" is run by the node (testedBy, editions/queue/credentialTest.ts): it also checks the Redis URL answers.
export class VonageAiStudioApi implements ICredentialType {
	name = CREDENTIAL_TYPE;

	displayName = 'Vonage AI Studio API';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudio/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudio/vonageAiStudio.dark.svg',
	};

	documentationUrl =
		'https://studio.docs.ai.vonage.com/whatsapp/get-started/triggering-an-outbound-whatsapp-virtual-agent';

	properties: INodeProperties[] = studioApiProperties('queue');

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				[API_KEY_HEADER]: '={{$credentials.apiKey}}',
			},
		},
	};
}
