// Counts how crowded a series of arrivals got: the yardstick for "never more than the tier in any second".

/**
 * The most arrivals that fall in any half-open window [t, t + windowMs).
 * Two arrivals exactly windowMs apart are in different windows; arrivals less than windowMs apart share one.
 * The input need not be sorted and is not modified.
 */
export function maxInAnyWindow(timesMs: number[], windowMs = 1000): number {
	if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
	const times = [...timesMs].sort((a, b) => a - b);
	let most = 0;
	let end = 0;
	// A busiest window can always be slid right until it starts at an arrival, so only those starts matter.
	for (let start = 0; start < times.length; start++) {
		if (end < start) end = start;
		while (end < times.length && times[end] < times[start] + windowMs) end++;
		most = Math.max(most, end - start);
	}
	return most;
}
