// One value per n8n process, even when n8n loads this package's files more than once (each copy of a module
// would otherwise keep its own rate gate, ledger or connection pool, and budgets would stop being shared).

/** The value stored under `name` for this whole process, created on first use. */
export function processWide<T>(name: string, create: () => T): T {
	const holder = globalThis as unknown as Record<symbol, T | undefined>;
	const key = Symbol.for(`n8n-nodes-vonage-ai-studio.${name}`);
	return (holder[key] ??= create());
}
