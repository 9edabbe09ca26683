// What one operation of the Vonage AI Studio node is: its place in the node's menus, its fields, how it reads
// them for an item, and how it turns them into Studio's request (or says which field is wrong). The router picks
// one per item; adding a field to an operation touches its file only.
import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { SendSummary, StudioChannel } from '../../../core/studioApi';
import type { AwaitedStatus } from '../../../core/waitRules';

/** A validated send: Studio's path and exact body, and what the output shows of it. */
export interface PreparedSend {
	channel: StudioChannel;
	path: string;
	body: Record<string, unknown>;
	summary: SendSummary;
}

export interface Operation<Values = unknown> {
	/** The Resource value it belongs to. */
	resource: 'whatsapp' | 'sms' | 'voice';
	/** Its entry in the Operation menu (value, name, action, description). */
	option: INodePropertyOptions & { value: string; action: string };
	/** Its short name on the canvas, after the resource: "WhatsApp · Start and Wait". */
	subtitle: string;
	/**
	 * What an AI model reads about the tool when the node runs as one (an AI Agent's tool, an MCP Server Trigger's):
	 * what the call does and what good values look like. An operation with one is offered to AI agents (tool.ts);
	 * one that waits never is, since a tool call cannot wait.
	 */
	toolDescription?: string;
	/** Its fields, without displayOptions: the router shows them for this resource and operation only. */
	properties: INodeProperties[];
	/** The raw values of one item, as the expressions returned them. */
	read(context: IExecuteFunctions, itemIndex: number): Values;
	/** Validates the values and builds Studio's request. Throws InvalidField naming the field. */
	prepare(values: Values): PreparedSend;
}

/** How a waiting operation's item continues: three outputs, or one with an `outcome` field (any n8n version). */
export type WaitOutputs = 'branches' | 'single';

export interface WaitSettings {
	awaited: AwaitedStatus;
	limitMs: number;
	outputs: WaitOutputs;
}

/** An operation that starts a session and waits for its status (actions/wait.ts builds them from a start operation). */
export interface WaitingOperation<Values = unknown> extends Operation<Values> {
	wait: {
		/** The wait's settings for the item, validated. Throws InvalidField naming the field. */
		read(context: IExecuteFunctions, itemIndex: number): WaitSettings;
	};
}

export function isWaiting(operation: Operation): operation is WaitingOperation {
	return 'wait' in operation && operation.wait !== undefined;
}
