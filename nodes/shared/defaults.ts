// A parameter's default, read from the description that shows it: each default is written once, as a literal in
// the description (where n8n's editor and its linter read it), and the code that needs it asks here.
import type { INodeProperties, NodeParameterValue } from 'n8n-workflow';

function find(properties: readonly INodeProperties[], name: string): INodeProperties | undefined {
	for (const property of properties) {
		if (property.name === name) return property;
		const nested = (property.options ?? []).filter(
			(option): option is INodeProperties => 'default' in option && 'type' in option,
		);
		const found = find(nested, name);
		if (found) return found;
	}
	return undefined;
}

/** The default of the parameter `name` (searched in collections too). Throws when the description has none. */
export function defaultOf<T extends NodeParameterValue>(properties: readonly INodeProperties[], name: string): T {
	const property = find(properties, name);
	if (!property) throw new Error(`No parameter "${name}" with a default in this description`);
	return property.default as T;
}
