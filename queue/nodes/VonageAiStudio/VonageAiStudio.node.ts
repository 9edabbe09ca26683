// The Vonage AI Studio node of the queue-mode package: the node written in nodes/VonageAiStudio/studioNode.ts,
// with undici, punctual timers and the Redis-backed rate gate and send ledger (editions/queue).
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { queueEdition } from '../../../editions/queue';
import {
	STUDIO_NODE_SUBTITLE,
	executeStudioNode,
	studioNodeDescription,
	studioNodeMethods,
	studioNodeWebhook,
} from '../../../nodes/VonageAiStudio/studioNode';

export class VonageAiStudio implements INodeType {
	description: INodeTypeDescription = {
		...studioNodeDescription(queueEdition),
		// Next to this file in each package (the build copies them there).
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		subtitle: STUDIO_NODE_SUBTITLE,
		usableAsTool: true,
	};

	methods = studioNodeMethods(queueEdition);

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeStudioNode(this, queueEdition);
	}

	/** Statuses of a session an execution waits for (Start Session and Wait for Status, Make Call and Wait). */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await studioNodeWebhook(this, queueEdition);
	}
}
