// The Vonage AI Studio node of the main (verification-ready) package: the node written in studioNode.ts, with
// n8n's own HTTP helpers, timers and in-process state (editions/main).
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { mainEdition } from '../../editions/main';
import {
	STUDIO_NODE_SUBTITLE,
	executeStudioNode,
	studioNodeDescription,
	studioNodeMethods,
	studioNodeWebhook,
} from './studioNode';

export class VonageAiStudio implements INodeType {
	description: INodeTypeDescription = {
		...studioNodeDescription(mainEdition),
		// Next to this file in each package (the build copies them there).
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		subtitle: STUDIO_NODE_SUBTITLE,
		usableAsTool: true,
	};

	methods = studioNodeMethods(mainEdition);

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeStudioNode(this, mainEdition);
	}

	/** Statuses of a session an execution waits for (Start Session and Wait for Status, Make Call and Wait). */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await studioNodeWebhook(this, mainEdition);
	}
}
