// The trigger's repeat memory across n8n processes: several webhook processes (queue mode behind a load balancer)
// may each receive a copy of the same callback. With a Redis URL in the callback credential, the first sighting of
// a (message, status) is claimed there with SET NX, so exactly one process starts an execution for it.
import { createHash } from 'node:crypto';
import { withDeadline, type RedisClient } from './redisClient';

/** How long one claim may take before the callback is let through (a repeat is better than a lost status). */
export const SHARED_REPEATS_TIMEOUT_MS = 1000;

/** The key is a hash: message UUIDs and statuses come from outside, and Redis keys should stay short and plain. */
export function sharedRepeatKey(scope: string, key: string): string {
	return `vgai:trigger:seen:${createHash('sha256').update(`${scope}\u0000${key}`).digest('hex').slice(0, 40)}`;
}

/**
 * True when this is the first sighting within `windowMs` across every process using this Redis (the claim is
 * recorded), false when another sighting claimed it first. Rejects when Redis cannot answer in time; the caller
 * decides what that means (the trigger lets the callback through).
 */
export async function claimFirstSighting(
	client: RedisClient,
	scope: string,
	key: string,
	windowMs: number,
	timeoutMs = SHARED_REPEATS_TIMEOUT_MS,
): Promise<boolean> {
	const claim = client.set(sharedRepeatKey(scope, key), '1', 'PX', Math.max(1, Math.round(windowMs)), 'NX');
	return (await withDeadline(claim, timeoutMs, 'repeat memory')) === 'OK';
}
