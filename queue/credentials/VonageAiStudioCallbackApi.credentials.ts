// The trigger's secrets in the queue-mode package: the main package's fields plus the Redis URL of the repeat
// memory every webhook process shares.
import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

import { CALLBACK_CREDENTIAL_TYPE } from '../../core/studioApi';
import { callbackApiProperties } from '../../nodes/shared/credentialFields';

export class VonageAiStudioCallbackApi implements ICredentialType {
	name = CALLBACK_CREDENTIAL_TYPE;

	displayName = 'Vonage AI Studio Callback API';

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-vonage-ai-studio-queue';

	icon: Icon = {
		light: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.svg',
		dark: 'file:../nodes/VonageAiStudioTrigger/vonageAiStudio.dark.svg',
	};

	properties: INodeProperties[] = callbackApiProperties('queue');
}
