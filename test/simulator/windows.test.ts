// maxInAnyWindow counts the busiest half-open window [t, t + windowMs) of a series of arrivals.
import { maxInAnyWindow } from '../../simulator/windows';

describe('maxInAnyWindow', () => {
	it('is 0 for no arrivals and 1 for one', () => {
		expect(maxInAnyWindow([])).toBe(0);
		expect(maxInAnyWindow([42])).toBe(1);
	});

	it('puts arrivals exactly one window apart in different windows (half-open edge)', () => {
		expect(maxInAnyWindow([0, 1000])).toBe(1);
		expect(maxInAnyWindow([0, 1000, 2000, 3000])).toBe(1);
	});

	it('puts arrivals just under one window apart in the same window', () => {
		expect(maxInAnyWindow([0, 999.999])).toBe(2);
		expect(maxInAnyWindow([0, 999, 1000])).toBe(2);
	});

	it('finds the busiest window anywhere, not only on calendar seconds', () => {
		// Calendar seconds [0,1000) and [1000,2000) hold 2 each; [600, 1600) holds 4.
		expect(maxInAnyWindow([100, 600, 900, 1100, 1500, 1900])).toBe(4);
	});

	it('does not need sorted input and leaves it untouched', () => {
		const times = [1500, 100, 1100, 900, 600, 1900];
		expect(maxInAnyWindow(times)).toBe(4);
		expect(times).toEqual([1500, 100, 1100, 900, 600, 1900]);
	});

	it('counts identical timestamps together', () => {
		expect(maxInAnyWindow([5, 5, 5, 2000])).toBe(3);
	});

	it('honours a custom window', () => {
		expect(maxInAnyWindow([0, 100, 200, 300], 250)).toBe(3);
		expect(maxInAnyWindow([0, 100, 200, 300], 100)).toBe(1);
		expect(maxInAnyWindow([0, 100, 200, 300], 100.0001)).toBe(2);
	});

	it('rejects a window that is not positive', () => {
		expect(() => maxInAnyWindow([1, 2], 0)).toThrow(RangeError);
	});
});
