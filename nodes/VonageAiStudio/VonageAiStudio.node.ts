import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { InvalidField, prepareSend, type SendInput } from './body';
import { vonageAiStudioApiTest } from './credentialTest';
import { smsFields, smsOperations } from './descriptions/sms';
import { voiceFields, voiceOperations } from './descriptions/voice';
import { whatsAppFields, whatsAppOperations } from './descriptions/whatsapp';
import { readAccount, runSends, type SendRequest, type SendSettings } from './send';
import { CREDENTIAL_TYPE, type StudioChannel } from '../shared/studioApi';

const CHANNEL_BY_RESOURCE: Record<string, StudioChannel> = { whatsapp: 'whatsapp', sms: 'sms', voice: 'voice' };

type FixedCollection<T> = { values?: T[] } | undefined;

function readInput(context: IExecuteFunctions, itemIndex: number, channel: StudioChannel): SendInput {
	const get = (name: string, fallback: unknown = '') => context.getNodeParameter(name, itemIndex, fallback) as unknown;
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const session = get('sessionParameters', {}) as FixedCollection<{ name?: unknown; value?: unknown }>;
	const input: SendInput = {
		channel,
		agentId: get('agentId'),
		to: get('to'),
		statusUrl: get('statusUrl'),
		reference: get('reference'),
		statusUrlToken: options.statusUrlToken,
		sessionParameters: session?.values ?? [],
	};
	if (channel === 'whatsapp') {
		const texts = (name: string) => ((get(name, {}) as FixedCollection<{ text?: unknown }>)?.values ?? []).map((v) => v.text);
		input.namespace = get('namespace');
		input.template = get('template');
		input.locale = get('locale');
		input.templateParameters = get('templateParameters', 'fields') as 'fields' | 'json';
		if (input.templateParameters === 'json') input.componentsJson = get('componentsJson', '[]');
		else {
			input.headerParameters = texts('headerParameters');
			input.bodyParameters = texts('bodyParameters');
		}
	}
	if (channel === 'voice') input.hangupOnAnswerMachine = get('hangupOnAnswerMachine', false);
	return input;
}

function readSettings(context: IExecuteFunctions): SendSettings {
	const options = context.getNodeParameter('options', 0, {}) as IDataObject;
	const number = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
	return {
		rememberForMs: number(options.rememberSentHours, 24) * 3_600_000,
		rateLimitRetries: number(options.rateLimitRetries, 5),
		rateLimitMaxWaitMs: number(options.rateLimitMaxWaitSeconds, 60) * 1000,
		responseTimeoutMs: number(options.responseTimeoutSeconds, 30) * 1000,
	};
}

export class VonageAiStudio implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Vonage AI Studio',
		name: 'vonageAiStudio',
		icon: { light: 'file:vonageAiStudio.svg', dark: 'file:vonageAiStudio.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["resource"] + ": " + ($parameter["operation"] === "makeOutboundCall" ? "make outbound call" : "start outbound session") }}',
		description: 'Start Vonage AI Studio outbound WhatsApp, SMS and voice sessions, paced to your rate tier',
		defaults: { name: 'Vonage AI Studio' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'vonageAiStudioApi', required: true, testedBy: 'vonageAiStudioApiTest' }],
		hints: [
			{
				message:
					'Sends are paced to the tier set in the credential (1 session per second by default): 600 items take about 10 minutes at 1 per second, 2 minutes at 5 per second. Progress is written to the n8n log.',
				type: 'info',
				location: 'outputPane',
				whenToDisplay: 'beforeExecution',
			},
		],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'WhatsApp', value: 'whatsapp' },
					{ name: 'SMS', value: 'sms' },
					{ name: 'Voice', value: 'voice' },
				],
				default: 'whatsapp',
			},
			whatsAppOperations,
			smsOperations,
			voiceOperations,
			...whatsAppFields,
			...smsFields,
			...voiceFields,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Remember Sent Sessions For (Hours)',
						name: 'rememberSentHours',
						type: 'number',
						typeOptions: { minValue: 0.1 },
						default: 24,
						description:
							'How long a sent session is remembered, so that Retry On Fail, a retried execution or a repeated idempotency key returns the earlier result instead of sending again',
					},
					{
						displayName: 'Rate Limit Retries',
						name: 'rateLimitRetries',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 20 },
						default: 5,
						description:
							'How many more times to try an item that Studio refused with 429 (too many requests). A 429 means no session was started, so trying again cannot send twice.',
					},
					{
						displayName: 'Rate Limit Max Wait (Seconds)',
						name: 'rateLimitMaxWaitSeconds',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 60,
						description: 'The longest an item may wait in total for 429 retries before it fails',
					},
					{
						displayName: 'Response Timeout (Seconds)',
						name: 'responseTimeoutSeconds',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 30,
						description:
							'How long to wait for Studio to answer. A send that times out is never resent: it may have started a session.',
					},
					{
						displayName: 'Status URL Token',
						name: 'statusUrlToken',
						type: 'string',
						typeOptions: { password: true },
						default: '',
						description:
							'A secret added to the status URL (as vgai_token) that the Vonage AI Studio Trigger checks. Use the same value as the token in the trigger\'s credential.',
					},
				],
			},
		],
	};

	methods = { credentialTest: { vonageAiStudioApiTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const resource = this.getNodeParameter('resource', 0) as string;
		const channel = CHANNEL_BY_RESOURCE[resource];
		if (!channel) throw new NodeOperationError(this.getNode(), `Unknown resource "${resource}"`);
		const account = readAccount(await this.getCredentials(CREDENTIAL_TYPE));
		const settings = readSettings(this);
		const workflowId = String(this.getWorkflow().id ?? '');
		const node = this.getNode();

		// Validate every item before anything is sent, so a bad row never leaves half a batch behind.
		const requests: SendRequest[] = [];
		const output: INodeExecutionData[] = new Array(items.length);
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const prepared = prepareSend(readInput(this, itemIndex, channel));
				const idempotencyKey = String(this.getNodeParameter('idempotencyKey', itemIndex, '') ?? '').trim();
				requests.push({ itemIndex, prepared, idempotencyKey: idempotencyKey || undefined });
			} catch (error) {
				const failure =
					error instanceof InvalidField
						? new NodeOperationError(node, `Item ${itemIndex}: ${error.message}`, {
								itemIndex,
								description: `Field "${error.field}" of item ${itemIndex}. Nothing was sent for this item.`,
							})
						: new NodeOperationError(node, error as Error, { itemIndex });
				if (!this.continueOnFail()) throw failure;
				// n8n replaces the json of an item that carries an error with { error: message }.
				output[itemIndex] = { json: { error: failure.message }, error: failure, pairedItem: { item: itemIndex } };
			}
		}

		const results = await runSends(requests, {
			account,
			settings,
			node,
			workflowId,
			executionId: this.getExecutionId(),
			retriedExecution: this.getMode() === 'retry',
			signal: this.getExecutionCancelSignal(),
			log: this.logger,
		});

		for (const result of results) {
			if (result.ok) {
				output[result.itemIndex] = { json: result.json, pairedItem: { item: result.itemIndex } };
				continue;
			}
			if (!this.continueOnFail()) throw result.error;
			output[result.itemIndex] = {
				json: { error: result.error.message },
				error: result.error,
				pairedItem: { item: result.itemIndex },
			};
		}
		const sent = results.filter((result) => result.ok && !result.json.replayed).length;
		const replayed = results.filter((result) => result.ok && result.json.replayed).length;
		if (replayed > 0) {
			this.addExecutionHints({
				message: `${replayed} item${replayed === 1 ? ' was' : 's were'} sent before (same execution and item, or same idempotency key) and not sent again; the earlier result is shown.`,
				type: 'info',
				location: 'outputPane',
			});
		}
		if (sent > account.tier * 10) {
			this.addExecutionHints({
				message: `${sent} sessions were paced at ${account.tier} per second (the credential's tier).`,
				type: 'info',
				location: 'outputPane',
			});
		}
		return [output];
	}
}
