// Moves an exported n8n workflow from one edition of this package to the other: node types are
// `<package>.<node>`, and both packages have the same nodes, parameters and credential types, so only the package
// part of this package's node types changes. Used by `npx n8n-nodes-vonage-ai-studio-queue switch-edition` and
// the end-to-end tests.
import { NODE_NAMES, PACKAGES } from './studioApi';

export type EditionName = keyof typeof PACKAGES;

interface WorkflowLike {
	nodes?: Array<{ type?: unknown }>;
}

/** Rewrites the node types of one workflow or a list of them (as n8n exports them) in place; returns how many. */
export function switchEdition(exported: unknown, to: EditionName): number {
	const from: EditionName = to === 'main' ? 'queue' : 'main';
	const types = new Map(
		Object.values(NODE_NAMES).map((node) => [`${PACKAGES[from]}.${node}`, `${PACKAGES[to]}.${node}`]),
	);
	let changed = 0;
	for (const workflow of (Array.isArray(exported) ? exported : [exported]) as WorkflowLike[]) {
		for (const node of workflow?.nodes ?? []) {
			const type = typeof node.type === 'string' ? types.get(node.type) : undefined;
			if (type) {
				node.type = type;
				changed++;
			}
		}
	}
	return changed;
}
