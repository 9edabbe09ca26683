// Work over many items with a bounded number in flight, as a CRM or Studio does when it posts many requests at once.

/** Runs `work` over `items`, at most `concurrency` at once, and resolves when all are done. */
export async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(concurrency, items.length) }, async () => {
			while (next < items.length) await work(items[next++]);
		}),
	);
}
