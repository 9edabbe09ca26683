// Fields every operation shares: agent, recipient, status URL, reference, session parameters, idempotency.
import type { INodeProperties } from 'n8n-workflow';

export const agentIdField: INodeProperties = {
	displayName: 'Agent ID',
	name: 'agentId',
	type: 'string',
	required: true,
	default: '',
	placeholder: '64f1c2d3e4a5b6c7d8e9f012',
	description: 'The ID of the published AI Studio agent that runs the session (agent settings in AI Studio)',
};

export const sessionParametersField: INodeProperties = {
	displayName: 'Session Parameters',
	name: 'sessionParameters',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Session Parameter',
	default: {},
	description: "Values for the agent's own parameters (flow variables), e.g. CUSTOMER_ID",
	options: [
		{
			displayName: 'Parameter',
			name: 'values',
			values: [
				{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'CUSTOMER_ID' },
				{ displayName: 'Value', name: 'value', type: 'string', default: '' },
			],
		},
	],
};

export const referenceField: INodeProperties = {
	displayName: 'Reference',
	name: 'reference',
	type: 'string',
	default: '',
	placeholder: 'e.g. {{ $json.contactId }}',
	description:
		'Your own ID for this contact, e.g. the CRM record ID. It travels in the status URL, and the Vonage AI Studio Trigger returns it with every status, so a status finds its way back to the record (Studio overwrites client_ref).',
};

export const idempotencyKeyField: INodeProperties = {
	displayName: 'Idempotency Key',
	name: 'idempotencyKey',
	type: 'string',
	default: '',
	placeholder: 'e.g. {{ $json.contactId }}-welcome',
	description:
		'Optional. Sends with the same key start only one session within the remember window, across every workflow and execution using this credential; later ones return the first result. Include the purpose, e.g. the contact ID plus "-welcome". Without a key, a re-run of the same execution and item is still recognised.',
};

export function toField(description: string, placeholder = '+44 7700 900000'): INodeProperties {
	return { displayName: 'To', name: 'to', type: 'string', required: true, default: '', placeholder, description };
}

export const statusUrlField: INodeProperties = {
	displayName: 'Status URL',
	name: 'statusUrl',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'https://your-n8n.example.com/webhook/vonage-ai-studio/status',
	description:
		'Where Studio posts delivery statuses. Paste the production URL of a Vonage AI Studio Trigger (or any endpoint of yours). Never the status URL of the Vonage application itself: Vonage warns it loops endlessly.',
};
