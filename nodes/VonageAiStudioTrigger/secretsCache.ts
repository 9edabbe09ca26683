// Keeps a credential's decrypted secrets for a few seconds, so a burst of callbacks does not make n8n read and
// decrypt the credential once per request. Measured in n8n 2.41.1: that read cost signed callbacks 40 % of their
// throughput; with the cache, token and signature checks are as fast as no check.

import type { ProcessStore } from '../../core/ports';

/** How long read secrets are reused. A secret that was changed or removed keeps verifying callbacks this long. */
export const SECRETS_TTL_MS = 10_000;
export const SECRETS_MAX_ENTRIES = 1000;

export interface SecretsCacheOptions {
	ttlMs?: number;
	maxEntries?: number;
	now?: () => number;
}

export interface ReadSecrets<T> {
	secrets: T;
	/** True when the secrets were read before this request; false when they were read for it (or with it). */
	reused: boolean;
}

interface Entry<T> {
	/** Settles once; a read that fails is forgotten, never reused. */
	read: Promise<T>;
	/** When the read completed; undefined while it is in flight. */
	readAt?: number;
}

/**
 * Secrets by key, each reused for `ttlMs` from the moment it was read. Requests that arrive while a read is in
 * flight share it instead of starting their own. Failed reads are not kept, so a missing credential fails every
 * request. Bounded: past `maxEntries` the least recently used keys are forgotten first.
 */
export class SecretsCache<T> {
	private readonly entries = new Map<string, Entry<T>>();
	private readonly ttlMs: number;
	private readonly maxEntries: number;
	private readonly now: () => number;

	constructor(options: SecretsCacheOptions = {}) {
		this.ttlMs = options.ttlMs ?? SECRETS_TTL_MS;
		this.maxEntries = options.maxEntries ?? SECRETS_MAX_ENTRIES;
		this.now = options.now ?? (() => Date.now());
	}

	get size() {
		return this.entries.size;
	}

	async get(key: string, read: () => Promise<T>): Promise<ReadSecrets<T>> {
		const entry = this.entries.get(key);
		if (entry && (entry.readAt === undefined || this.now() - entry.readAt < this.ttlMs)) {
			this.entries.delete(key); // re-inserted: most recently used last
			this.entries.set(key, entry);
			const reused = entry.readAt !== undefined; // before awaiting: the read sets readAt when it completes
			return { secrets: await entry.read, reused };
		}
		return { secrets: await this.readInto(key, read), reused: false };
	}

	/** Drops the key, so the next request reads the secrets again. */
	forget(key: string) {
		this.entries.delete(key);
	}

	private readInto(key: string, read: () => Promise<T>): Promise<T> {
		const entry: Entry<T> = { read: read() };
		this.entries.delete(key);
		this.entries.set(key, entry);
		while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
		entry.read.then(
			() => {
				entry.readAt = this.now();
			},
			() => {
				// Only this read's entry: a newer one for the same key may have replaced it meanwhile.
				if (this.entries.get(key) === entry) this.entries.delete(key);
			},
		);
		return entry.read;
	}
}

/**
 * One cache per process, in the edition's process store (like the repeat memory in repeats.ts). Per process: in
 * queue mode each webhook process reads the credential itself.
 */
export function sharedSecretsCache<T>(store: ProcessStore): SecretsCache<T> {
	return store('trigger.secrets', () => new SecretsCache<T>());
}
