// The Studio account of the main package: the API key (sent by n8n as the X-Vgai-Key header through this
// credential's `authenticate`), the region, the approved tier, and how the rate gate should treat it.
import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

import { API_KEY_HEADER, CREDENTIAL_TYPE } from '../core/studioApi';
import { studioApiProperties } from '../nodes/shared/credentialFields';
import { declarativeKeyTest } from '../nodes/shared/keyTest';

export class VonageAiStudioApi implements ICredentialType {
	name = CREDENTIAL_TYPE;

	displayName = 'Vonage AI Studio API';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudio/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudio/vonageAiStudio.dark.svg',
	};

	documentationUrl =
		'https://studio.docs.ai.vonage.com/whatsapp/get-started/triggering-an-outbound-whatsapp-virtual-agent';

	properties: INodeProperties[] = studioApiProperties('main');

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				[API_KEY_HEADER]: '={{$credentials.apiKey}}',
			},
		},
	};

	// A request Studio can only refuse; n8n runs it with `authenticate` above (nodes/shared/keyTest.ts).
	test: ICredentialTestRequest = declarativeKeyTest();
}
