// What one operation of the Vonage AI Studio node is: its place in the node's menus, its fields, how it reads
// them for an item, and what it does with them. There are two kinds: an operation that starts a session (a send:
// it becomes Studio's request, paced by the rate gate and recorded in the send ledger) and one that reads what
// sessions produced (the Insights API: no gate, no ledger). The router picks one per node; adding a field to an
// operation touches its file only.
import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { InsightsReader } from '../../../core/insightsReader';
import type { SendSummary, StudioChannel } from '../../../core/studioApi';
import type { AwaitedStatus } from '../../../core/waitRules';

/** A validated send: Studio's path and exact body, and what the output shows of it. */
export interface PreparedSend {
	channel: StudioChannel;
	path: string;
	body: Record<string, unknown>;
	summary: SendSummary;
}

/** What every operation shows in the editor, whatever its kind: its menu entry, its subtitle and its fields. */
export interface OperationEntry {
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
}

/** An operation that starts a session: a send. */
export interface Operation<Values = unknown> extends OperationEntry {
	kind?: 'send';
	/** The Resource value it belongs to. */
	resource: 'whatsapp' | 'sms' | 'voice';
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

export function isWaiting(operation: AnyOperation): operation is WaitingOperation {
	return 'wait' in operation && operation.wait !== undefined;
}

/**
 * An operation that reads sessions from Studio's Insights API. It starts nothing, so it bypasses the rate gate and
 * the send ledger, and items are read one after the other (the reader has its own 429 handling).
 */
export interface ReadOperation<Values = unknown> extends OperationEntry {
	kind: 'read';
	resource: 'session';
	/** The values of one item, validated. Throws InvalidField naming the field. */
	read(context: IExecuteFunctions, itemIndex: number): Values;
	/** What the item's values find: one output json per session (or per answer), in order. */
	run(values: Values, reader: InsightsReader): Promise<IDataObject[]>;
}

/** Any operation of the node. */
export type AnyOperation = Operation | ReadOperation;

export function isRead(operation: AnyOperation): operation is ReadOperation {
	return operation.kind === 'read';
}
