// What the scale scenarios share: the machine they ran on, their options read once, and counting.
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { RATE_TIERS, type RateTier } from '../../core/studioApi';
import { megabytes } from '../processMemory';

/** Cores, load and memory now: the conditions a figure was measured in. */
export function describeMachine(): string {
	const load = loadavg()
		.map((value) => value.toFixed(1))
		.join(' ');
	return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load ${load}, memory ${megabytes(freemem())} free of ${megabytes(totalmem())}, ${new Date().toISOString()}`;
}

export function positiveNumber(text: string | undefined, name: string): number {
	const value = Number(text);
	if (!Number.isInteger(value) || value <= 0)
		throw new Error(`--${name} must be a positive whole number, got "${text}"`);
	return value;
}

/** A rate tier the credential offers. */
export function tierOf(text: string | undefined): RateTier {
	const value = Number(text);
	if (!(RATE_TIERS as readonly number[]).includes(value)) {
		throw new Error(`--tier must be one of ${RATE_TIERS.join(', ')} (the tiers Vonage approves), got "${text}"`);
	}
	return value as RateTier;
}

/** How many items fall under each key. */
export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
	const counts = new Map<string, number>();
	for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
	return counts;
}
