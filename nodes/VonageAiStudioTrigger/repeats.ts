// Dropping repeated callbacks, in one place: Studio may post the same status more than once, and with several n8n
// processes receiving webhooks each may get a copy. A (message, status) is let through once per window: this
// process's memory first, then (queue edition, with a Redis URL) the memory all processes share.
import type { ProcessStore } from '../../core/ports';
import type { SharedRepeats } from '../../editions/edition';
import type { NormalisedCallback } from '../../core/callbacks';

export const DEFAULT_DEDUPE_MAX_ENTRIES = 10_000;

/** Repeats are recognised by message (or call) UUID and status; a callback without either is never a repeat. */
export function dedupeKey(callback: Pick<NormalisedCallback, 'messageUuid' | 'conversationUuid' | 'status'>) {
	const id = callback.messageUuid ?? callback.conversationUuid;
	return id ? `${id}\u0000${callback.status}` : undefined;
}

export interface DeduperOptions {
	/** How long a key is remembered from its first sighting (the trigger's Repeat Window). */
	windowMs: number;
	maxEntries?: number;
	now?: () => number;
}

/**
 * Remembers keys for a window counted from their first sighting, so a callback repeated forever still gets
 * through once per window. Bounded: past `maxEntries` the oldest keys are forgotten first.
 */
export class CallbackDeduper {
	private readonly firstSeen = new Map<string, number>();
	private windowMs: number;
	private maxEntries: number;
	private readonly now: () => number;

	constructor(options: DeduperOptions) {
		this.windowMs = options.windowMs;
		this.maxEntries = options.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES;
		this.now = options.now ?? Date.now;
	}

	/** The node's options can change between requests; the remembered keys stay. */
	configure({ windowMs, maxEntries }: Pick<DeduperOptions, 'windowMs' | 'maxEntries'>) {
		this.windowMs = windowMs;
		if (maxEntries !== undefined) this.maxEntries = maxEntries;
	}

	get size() {
		return this.firstSeen.size;
	}

	/** True when the key was seen within the window; otherwise records it and returns false. */
	isRepeat(key: string): boolean {
		const now = this.now();
		this.forgetExpired(now);
		if (this.firstSeen.has(key)) return true;
		this.firstSeen.set(key, now);
		while (this.firstSeen.size > this.maxEntries) {
			const oldest = this.firstSeen.keys().next().value as string;
			this.firstSeen.delete(oldest);
		}
		return false;
	}

	// Keys are inserted in time order and never refreshed, so the expired ones are always at the front.
	private forgetExpired(now: number) {
		for (const [key, seenAt] of this.firstSeen) {
			if (now - seenAt < this.windowMs) break;
			this.firstSeen.delete(key);
		}
	}
}

const MAX_SCOPES = 1000;

/**
 * This process's memory for one trigger node (`scope`: workflow and node). n8n creates the node's context anew
 * for every request, so the memories live in the edition's process store, one per scope, the least recently used
 * forgotten first past 1000 scopes.
 */
export function localMemory(
	store: ProcessStore,
	scope: string,
	options: Pick<DeduperOptions, 'windowMs' | 'maxEntries'>,
): CallbackDeduper {
	const registry = store('trigger.repeats', () => new Map<string, CallbackDeduper>());
	let deduper = registry.get(scope);
	if (deduper) {
		registry.delete(scope); // re-inserted below: most recently used last
		deduper.configure(options);
	} else {
		deduper = new CallbackDeduper(options);
	}
	registry.set(scope, deduper);
	while (registry.size > MAX_SCOPES) registry.delete(registry.keys().next().value as string);
	return deduper;
}

export interface RepeatMemory {
	/** True when the callback was seen within the window (here or in another process); otherwise records it. */
	isRepeat(callback: NormalisedCallback): Promise<boolean>;
}

export interface RepeatMemoryOptions {
	scope: string;
	windowMs: number;
	local: CallbackDeduper;
	shared?: SharedRepeats;
	/** Told when the shared memory cannot answer; the callback is then let through. */
	onSharedFailure?(error: unknown, location: string): void;
}

/**
 * The local memory answers first. A callback this process had not seen may still be a repeat another process
 * received: the shared memory claims its first sighting. If the shared memory fails, the callback is let through
 * (a repeat is better than a lost status; statusRank and the action node's idempotency key handle repeats).
 */
export function repeatMemory(options: RepeatMemoryOptions): RepeatMemory {
	return {
		async isRepeat(callback) {
			const key = dedupeKey(callback);
			if (key === undefined) return false;
			if (options.local.isRepeat(key)) return true;
			if (!options.shared) return false;
			try {
				return !(await options.shared.claimFirstSighting(options.scope, key, options.windowMs));
			} catch (error) {
				options.onSharedFailure?.(error, options.shared.location);
				return false;
			}
		},
	};
}
