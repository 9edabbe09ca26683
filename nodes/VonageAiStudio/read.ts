// Runs a read operation (the Session resource, Studio's Insights API) for every item: one after the other, through
// the edition's transport but not the rate gate or the send ledger (a read starts no session), each output item
// paired with its input item, and each failure the error of its own item.
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { StudioAccount } from '../../core/account';
import { InsightsReader } from '../../core/insightsReader';
import type { Edition } from '../../editions/edition';
import type { ReadOperation } from './actions/operation';
import { itemInputError, toReadError } from './apiErrors';
import { answersErrorsAsItems, runsAsTool, toolInputError, toolReadError } from './tool';

export async function executeRead(
	context: IExecuteFunctions,
	edition: Edition,
	operation: ReadOperation,
	account: StudioAccount,
): Promise<INodeExecutionData[][]> {
	const node = context.getNode();
	const reader = new InsightsReader(edition.studioTransport(context, account), edition.clock, {
		signal: context.getExecutionCancelSignal(),
	});
	const host = new URL(account.baseUrl).host;
	// Called by an AI model: its errors say what to change in the call (tool.ts).
	const asTool = runsAsTool(node);
	const continueOnFail = context.continueOnFail() || answersErrorsAsItems(context);
	const output: INodeExecutionData[] = [];
	const items = context.getInputData();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		let failure;
		try {
			const values = operation.read(context, itemIndex);
			try {
				const found = await operation.run(values, reader);
				for (const json of found) output.push({ json, pairedItem: { item: itemIndex } });
				continue;
			} catch (error) {
				failure = toReadError(node, error, { itemIndex, host, apiKey: account.apiKey });
				if (asTool) failure = toolReadError(node, failure, error);
			}
		} catch (error) {
			failure = asTool
				? toolInputError(node, error, operation.properties, 'read')
				: itemInputError(node, error, itemIndex, 'Nothing was read for this item.');
		}
		if (!continueOnFail) throw failure;
		// n8n replaces the json of an item that carries an error with { error: message }.
		output.push({ json: { error: failure.message }, error: failure, pairedItem: { item: itemIndex } });
	}
	return [output];
}
