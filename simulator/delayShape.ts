// How long a request takes to reach the simulator's rate limiter: the trip over the internet (and through a busy
// sender), which varies from one request to the next. Written as text on the command line and in the benchmark:
//   40                    every request takes 40 ms
//   20-120                uniform between 20 and 120 ms
//   30-50,1%:300-400      uniform 30–50 ms, but 1 % of requests take 300–400 ms (rare long trips)

export type DelayShape =
	| number
	| {
			min: number;
			max: number;
			/** A share of requests (0..1) take a long trip instead, uniform in [min, max]. */
			spikes?: { share: number; min: number; max: number };
	  };

const RANGE = /^(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?$/;

function range(text: string, what: string): { min: number; max: number } {
	const match = RANGE.exec(text.trim());
	if (!match) throw new Error(`${what} must be MS or MIN-MAX, got "${text}"`);
	const min = Number(match[1]);
	const max = match[2] === undefined ? min : Number(match[2]);
	if (max < min) throw new Error(`${what}: ${max} is below ${min}`);
	return { min, max };
}

/** Reads `40`, `20-120` or `30-50,1%:300-400`. */
export function parseDelayShape(text: string): DelayShape {
	const [base, spikes, ...rest] = text.split(',');
	if (rest.length > 0) throw new Error(`A delay shape has at most one spike part, got "${text}"`);
	const body = range(base, 'The delay');
	if (spikes === undefined) return body.min === body.max ? body.min : body;
	const spike = /^\s*(\d+(?:\.\d+)?)%\s*:\s*(.+)$/.exec(spikes);
	if (!spike) throw new Error(`The spike part must be SHARE%:MIN-MAX, got "${spikes}"`);
	const share = Number(spike[1]) / 100;
	if (!(share >= 0 && share <= 1)) throw new Error(`The spike share must be between 0% and 100%, got "${spike[1]}%"`);
	return { ...body, spikes: { share, ...range(spike[2], 'The spike delay') } };
}

/** The text `parseDelayShape` reads back. */
export function describeDelayShape(shape: DelayShape): string {
	if (typeof shape === 'number') return `${shape}`;
	const body = shape.min === shape.max ? `${shape.min}` : `${shape.min}-${shape.max}`;
	if (!shape.spikes) return body;
	const { share, min, max } = shape.spikes;
	return `${body},${+(share * 100).toFixed(3)}%:${min === max ? min : `${min}-${max}`}`;
}

/** Throws a TypeError naming `name` when the shape cannot be used. */
export function validateDelayShape(name: string, shape: unknown): void {
	if (shape === undefined) return;
	const nonNegative = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
	if (typeof shape === 'number') {
		if (!nonNegative(shape)) throw new TypeError(`${name} must be a number >= 0`);
		return;
	}
	if (typeof shape !== 'object' || shape === null)
		throw new TypeError(`${name} must be a number or {min, max, spikes?}`);
	const { min, max, spikes } = shape as {
		min: unknown;
		max: unknown;
		spikes?: { share: unknown; min: unknown; max: unknown };
	};
	if (!nonNegative(min) || !nonNegative(max) || (max as number) < (min as number)) {
		throw new TypeError(`${name}.min and ${name}.max must be numbers with 0 <= min <= max`);
	}
	if (spikes === undefined) return;
	if (typeof spikes !== 'object' || spikes === null) throw new TypeError(`${name}.spikes must be {share, min, max}`);
	const { share } = spikes;
	if (typeof share !== 'number' || !(share >= 0 && share <= 1))
		throw new TypeError(`${name}.spikes.share must be between 0 and 1`);
	if (!nonNegative(spikes.min) || !nonNegative(spikes.max) || (spikes.max as number) < (spikes.min as number)) {
		throw new TypeError(`${name}.spikes.min and .max must be numbers with 0 <= min <= max`);
	}
}

/** One delay drawn from the shape; `random` returns values in [0, 1). */
export function drawDelay(shape: DelayShape, random: () => number): number {
	if (typeof shape === 'number') return shape;
	const { spikes } = shape;
	const part = spikes && random() < spikes.share ? spikes : shape;
	return part.min + random() * (part.max - part.min);
}

/** The spread J of the shape (slowest − fastest possible trip): the issue's physical limit is 1000 / (1000 + J). */
export function delaySpreadMs(shape: DelayShape): number {
	if (typeof shape === 'number') return 0;
	const slowest = shape.spikes && shape.spikes.share > 0 ? Math.max(shape.max, shape.spikes.max) : shape.max;
	const fastest = shape.spikes && shape.spikes.share > 0 ? Math.min(shape.min, shape.spikes.min) : shape.min;
	return slowest - fastest;
}
