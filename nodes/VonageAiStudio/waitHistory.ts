// The statuses a waiting session received before the one that resumed it, and Studio's answer to the send, so the
// resumed item can list them. n8n keeps no state of its own across the callbacks that do not resume an execution,
// so this lives in the memory of the n8n process (bounded, each entry dropped at its wait's end): complete when one
// process receives the callbacks (regular mode); in queue mode, what reached the process that resumes.
import type { Edition } from '../../editions/edition';

interface Entry {
	statuses: Array<{ status: string; at: string }>;
	response?: unknown;
	expiresAt: number;
}

const MAX_ENTRIES = 10_000;

export class WaitHistory {
	private readonly entries = new Map<string, Entry>();

	constructor(private readonly now: () => number = Date.now) {}

	begin(executionId: string, nodeId: string, response: unknown, limitMs: number): void {
		this.prune();
		this.entries.set(`${executionId}/${nodeId}`, { statuses: [], response, expiresAt: this.now() + limitMs + 60_000 });
	}

	add(executionId: string, nodeId: string, seen: { status: string; at: string }): void {
		const key = `${executionId}/${nodeId}`;
		const entry = this.entries.get(key) ?? { statuses: [], expiresAt: this.now() + 86_400_000 };
		// A status Studio repeats is listed once.
		if (!entry.statuses.some((each) => each.status === seen.status)) entry.statuses.push(seen);
		this.entries.set(key, entry);
	}

	/** What is known, and forget it: the wait is over. */
	take(executionId: string, nodeId: string): Omit<Entry, 'expiresAt'> | undefined {
		const key = `${executionId}/${nodeId}`;
		const entry = this.entries.get(key);
		this.entries.delete(key);
		return entry;
	}

	private prune(): void {
		const now = this.now();
		for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
		while (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
	}
}

export const waitHistory = (edition: Edition) => edition.processStore('vgai.waitHistory', () => new WaitHistory());
