// Waiting in a test for what happens in another process or server (n8n, a worker, the simulator): poll until it shows.

/**
 * Calls `probe` every `everyMs` until it gives a value (anything but undefined and false) and returns that value;
 * throws "Timed out after <seconds> s waiting for <what>" once `timeoutMs` have passed without one.
 */
export async function until<T>(
	what: string,
	probe: () => T | undefined | false | Promise<T | undefined | false>,
	timeoutMs: number,
	everyMs = 100,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}
