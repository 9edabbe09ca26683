// The secrets the Vonage AI Studio Trigger checks callbacks with. It calls no API: the trigger's credential test
// (testedBy) checks its values when it is saved.
import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

import { CALLBACK_CREDENTIAL_TYPE } from '../core/studioApi';
import { callbackApiProperties } from '../nodes/shared/credentialFields';

export class VonageAiStudioCallbackApi implements ICredentialType {
	name = CALLBACK_CREDENTIAL_TYPE;

	displayName = 'Vonage AI Studio Callback API';

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-vonage-ai-studio#vonage-ai-studio-trigger';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.dark.svg',
	};

	properties: INodeProperties[] = callbackApiProperties('main');
}
