// Which operation the node runs: the Resource and Operation menus, and each operation's fields shown only for it.
// Two kinds (operation.ts): the sends of the WhatsApp, SMS and Voice resources, and the reads of the Session
// resource (the Insights API).
import type { INodeProperties } from 'n8n-workflow';

import { docsLink } from '../../shared/docs';
import { TOOL_MARKER, offeredAsTool } from '../tool';
import type { AnyOperation, Operation, ReadOperation } from './operation';
import { getSession } from './session/get.operation';
import { getLatestForContact } from './session/getLatestForContact.operation';
import { searchSessions } from './session/search.operation';
import { startSmsSession } from './sms/startOutboundSession.operation';
import { startSmsSessionAndWait } from './sms/startSessionAndWait.operation';
import { makeCallAndWait } from './voice/makeCallAndWait.operation';
import { makeOutboundCall } from './voice/makeOutboundCall.operation';
import { startWhatsAppSession } from './whatsapp/startOutboundSession.operation';
import { startWhatsAppSessionAndWait } from './whatsapp/startSessionAndWait.operation';

/** The operations that start a session, in menu order. */
export const SEND_OPERATIONS: ReadonlyArray<Operation> = [
	startWhatsAppSession,
	startWhatsAppSessionAndWait,
	startSmsSession,
	startSmsSessionAndWait,
	makeOutboundCall,
	makeCallAndWait,
];

/** The operations that read sessions (they start none), in menu order. */
export const READ_OPERATIONS: ReadonlyArray<ReadOperation> = [getSession, getLatestForContact, searchSessions];

/** Every operation of the node, in menu order. */
export const OPERATIONS: ReadonlyArray<AnyOperation> = [...SEND_OPERATIONS, ...READ_OPERATIONS];

/** The Resource menu: its names are what the canvas subtitle and the actions list show. */
export const RESOURCES = [
	{ name: 'WhatsApp', value: 'whatsapp' },
	{ name: 'SMS', value: 'sms' },
	{ name: 'Voice', value: 'voice' },
	{ name: 'Session', value: 'session' },
] as const;

type Resource = (typeof RESOURCES)[number]['value'];

/**
 * The Operation menu of one resource, in the workflow node (every operation) or in the tool variant (those offered
 * to AI agents). The workflow menu is hidden in the tool rather than shown outside it: n8n's actions list copies a
 * menu's `show` conditions into the parameters of the node it adds. The default is the menu's first operation.
 */
function operationMenu(resource: Resource, variant: 'workflow' | 'tool'): INodeProperties {
	const options = OPERATIONS.filter(
		(operation) => operation.resource === resource && (variant === 'workflow' || offeredAsTool(operation)),
	).map((operation) => operation.option);
	const first = options[0].value;
	return {
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions:
			variant === 'workflow'
				? { show: { resource: [resource] }, hide: { [TOOL_MARKER]: [true] } }
				: { show: { resource: [resource], [TOOL_MARKER]: [true] } },
		options,
		default: first,
	};
}

/**
 * The tool variant's Description, one per offered operation, prefilled with what a model should know about it. With
 * a `toolDescription` of the node's own, n8n adds no "Tool Description: Set Automatically" of its own, whose text
 * would only be the action's name.
 */
function toolDescriptionField(operation: AnyOperation): INodeProperties {
	const text = operation.toolDescription ?? '';
	return {
		displayName: 'Description',
		name: 'toolDescription',
		type: 'string',
		typeOptions: { rows: 4 },
		default: text,
		description: `What the AI model reads about this tool. Add what is particular to your agent, e.g. when to use it. ${docsLink('ai-agents')}.`,
		displayOptions: { show: { [TOOL_MARKER]: [true] } },
	};
}

/** The node's parameters for choosing and filling in an operation (the Options collection is added by the node). */
export function operationProperties(): INodeProperties[] {
	const resource: INodeProperties = {
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: RESOURCES.map(({ name, value }) => ({ name, value })),
		default: 'whatsapp',
	};
	const menus = RESOURCES.flatMap(({ value }) => [operationMenu(value, 'workflow'), operationMenu(value, 'tool')]);
	const fields = OPERATIONS.flatMap((operation) =>
		[...(offeredAsTool(operation) ? [toolDescriptionField(operation)] : []), ...operation.properties].map(
			(property) => ({
				...property,
				displayOptions: {
					...property.displayOptions,
					show: {
						resource: [operation.resource],
						operation: [operation.option.value],
						...property.displayOptions?.show,
					},
				},
			}),
		),
	);
	return [resource, ...menus, ...fields];
}

/** The operation chosen in the node, or undefined for a combination this version does not know. */
export function operationFor(resource: string, operation: string): AnyOperation | undefined {
	return OPERATIONS.find((each) => each.resource === resource && each.option.value === operation);
}
