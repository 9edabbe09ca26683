// The Vonage AI Studio Trigger of the queue-mode package: the trigger written in
// nodes/VonageAiStudioTrigger/triggerNode.ts, with the repeat memory shared through Redis when the callback
// credential names one (editions/queue).
import type { INodeType, INodeTypeDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { queueEdition } from '../../../editions/queue';
import { TRIGGER_SUBTITLE, triggerDescription } from '../../../nodes/VonageAiStudioTrigger/description';
import {
	triggerMethods,
	triggerWebhook,
	triggerWebhookMethods,
} from '../../../nodes/VonageAiStudioTrigger/triggerNode';

export class VonageAiStudioTrigger implements INodeType {
	description: INodeTypeDescription = {
		...triggerDescription,
		// Next to this file in each package (the build copies them there).
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		subtitle: TRIGGER_SUBTITLE,
	};

	methods = triggerMethods(queueEdition);

	webhookMethods = triggerWebhookMethods;

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await triggerWebhook(this, queueEdition);
	}
}
