// The Vonage AI Studio Trigger of the main (verification-ready) package: the trigger written in triggerNode.ts,
// with the repeat memory and kept secrets in this n8n process (editions/main).
import type { INodeType, INodeTypeDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { mainEdition } from '../../editions/main';
import { TRIGGER_SUBTITLE, triggerDescription } from './description';
import { triggerMethods, triggerWebhook, triggerWebhookMethods } from './triggerNode';

export class VonageAiStudioTrigger implements INodeType {
	description: INodeTypeDescription = {
		...triggerDescription,
		// Next to this file in each package (the build copies them there).
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		subtitle: TRIGGER_SUBTITLE,
	};

	methods = triggerMethods(mainEdition);

	webhookMethods = triggerWebhookMethods;

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await triggerWebhook(this, mainEdition);
	}
}
