// Which operation the node runs: the Resource and Operation menus, and each operation's fields shown only for it.
// Two kinds (operation.ts): the sends of the WhatsApp, SMS and Voice resources, and the reads of the Session
// resource (the Insights API).
import type { INodeProperties } from 'n8n-workflow';

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

const RESOURCES = [
	{ name: 'WhatsApp', value: 'whatsapp' },
	{ name: 'SMS', value: 'sms' },
	{ name: 'Voice', value: 'voice' },
	{ name: 'Session', value: 'session' },
] as const;

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
	const menu = (value: (typeof RESOURCES)[number]['value']) => ({
		show: { resource: [value] },
		options: OPERATIONS.filter((operation) => operation.resource === value).map((operation) => operation.option),
	});
	const [whatsapp, sms, voice, session] = [menu('whatsapp'), menu('sms'), menu('voice'), menu('session')];
	// Each menu's default is its first operation (router.test.ts checks it), written out for n8n's linter.
	const menus: INodeProperties[] = [
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: whatsapp.show },
			options: whatsapp.options,
			default: 'startOutboundSession',
		},
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: sms.show },
			options: sms.options,
			default: 'startOutboundSession',
		},
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: voice.show },
			options: voice.options,
			default: 'makeOutboundCall',
		},
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: session.show },
			options: session.options,
			default: 'get',
		},
	];
	const fields = OPERATIONS.flatMap((operation) =>
		operation.properties.map((property) => ({
			...property,
			displayOptions: {
				...property.displayOptions,
				show: { resource: [operation.resource], operation: [operation.option.value], ...property.displayOptions?.show },
			},
		})),
	);
	return [resource, ...menus, ...fields];
}

/** The operation chosen in the node, or undefined for a combination this version does not know. */
export function operationFor(resource: string, operation: string): AnyOperation | undefined {
	return OPERATIONS.find((each) => each.resource === resource && each.option.value === operation);
}
