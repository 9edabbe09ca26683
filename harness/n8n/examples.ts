// The example workflows shipped in examples/, read for a run on this machine (the demo, the e2e tests): pointed at
// this n8n instead of localhost:5678, and with their waits shortened so a run takes seconds, not hours.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { WorkflowImport } from './n8n';
import { REPO_ROOT } from './runtime';

/** The examples are written for an n8n on localhost:5678. */
export const EXAMPLES_BASE_URL = 'http://localhost:5678';

export interface ExampleTweaks {
	/** The time limit of every start-and-wait node, in minutes (24 hours in the examples). */
	statusWaitMinutes: number;
	/** The amount of every Wait node, in seconds (the time a contact is given to answer: 30 minutes in the examples). */
	answerWaitSeconds: number;
}

/** Every example, keyed by its file name without .json. */
export function readExamples(baseUrl: string, tweaks: ExampleTweaks): Record<string, WorkflowImport> {
	const dir = join(REPO_ROOT, 'examples');
	const examples: Record<string, WorkflowImport> = {};
	for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
		const workflow = JSON.parse(
			readFileSync(join(dir, file), 'utf8').split(EXAMPLES_BASE_URL).join(baseUrl),
		) as WorkflowImport;
		for (const node of workflow.nodes) {
			const parameters = node.parameters as Record<string, unknown>;
			if (parameters.operation === 'startSessionAndWait') {
				parameters.timeLimitAmount = tweaks.statusWaitMinutes;
				parameters.timeLimitUnit = 'minutes';
			}
			if (node.type === 'n8n-nodes-base.wait') {
				parameters.amount = tweaks.answerWaitSeconds;
				parameters.unit = 'seconds';
			}
		}
		examples[file.replace(/\.json$/, '')] = workflow;
	}
	return examples;
}
