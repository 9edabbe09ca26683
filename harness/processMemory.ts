// Peak memory of running processes and of the children they start (n8n's task runners), read from Linux's /proc:
// VmHWM is the most resident memory the kernel saw for a process, so a sample now and then finds the peak of a
// process that is still alive; children come and go, so they are sampled every second until stop().
import { readdirSync, readFileSync } from 'node:fs';

/** A memory figure of /proc/<pid>/status in bytes, undefined when the process is gone (or not on Linux). */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
	try {
		const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

/** The peak resident memory of one process in bytes (VmHWM). */
export const peakRssBytes = (pid: number) => statusBytes(pid, 'VmHWM');

/** Every process whose parent chain leads to `pid` (not `pid` itself). */
export function descendants(pid: number): number[] {
	const parentOf = new Map<number, number>();
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			// The command name (field 2) is in parentheses and may hold spaces: the parent ID follows the last ')'.
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
		} catch {
			// gone meanwhile
		}
	}
	const found: number[] = [];
	let frontier = [pid];
	while (frontier.length > 0) {
		const next = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
		found.push(...next);
		frontier = next;
	}
	return found;
}

export interface WatchedProcess {
	name: string;
	pid: number | undefined;
}

export interface MemoryPeak {
	/** The process's resident memory when first seen (after start-up, before the load). */
	startBytes: number;
	/** The process itself. */
	ownBytes: number;
	/** The largest peak among its children (n8n's task runner), 0 without children. */
	childBytes: number;
}

/** Samples the peaks of the given processes (asked anew each second: a restart brings new ones) until stop(). */
export class MemoryWatch {
	private readonly peaks = new Map<string, MemoryPeak>();
	private readonly timer: NodeJS.Timeout;

	constructor(private readonly processes: () => readonly WatchedProcess[]) {
		this.sample();
		this.timer = setInterval(() => this.sample(), 1000);
		this.timer.unref();
	}

	sample(): void {
		for (const { name, pid } of this.processes()) {
			if (pid === undefined) continue;
			const own = peakRssBytes(pid);
			if (own === undefined) continue;
			const children = descendants(pid).map((child) => peakRssBytes(child) ?? 0);
			const before = this.peaks.get(name) ?? { startBytes: statusBytes(pid, 'VmRSS') ?? 0, ownBytes: 0, childBytes: 0 };
			this.peaks.set(name, {
				startBytes: before.startBytes,
				ownBytes: Math.max(before.ownBytes, own),
				childBytes: Math.max(before.childBytes, ...children),
			});
		}
	}

	/** Takes a last sample and returns the peak of each process seen, by name. */
	stop(): Map<string, MemoryPeak> {
		this.sample();
		clearInterval(this.timer);
		return new Map(this.peaks);
	}
}

/** A size for people: whole megabytes, one decimal below 10 MB, kilobytes below 1 MB. */
export function megabytes(bytes: number): string {
	const mb = bytes / 1024 / 1024;
	if (mb < 1) return `${(bytes / 1024).toFixed(0)} KB`;
	return `${mb.toFixed(mb < 10 ? 1 : 0)} MB`;
}
