// Studio simulators in a process of their own, as Studio is another machine: arrival times are stamped on that
// process's event loop, not skewed by the work or pauses of the process that sends (n8n, the benchmark, the demo),
// and that process's CPU is only the sender's. The benchmark and the demo use it; tests use startSimulator in-process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { API_KEY_HEADER, STUDIO_PATHS } from '../core/studioApi';
import type { InsightsRequest } from './insights';
import {
	CONTROL_PATHS,
	type AcceptedSession,
	type RecordedRequest,
	type SentCallback,
	type SimulatorOptions,
} from './simulator';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** What GET /_simulator/state answers (only what the callers read is typed). */
export interface SimulatorState {
	sessions: AcceptedSession[];
	requestCount: number;
	requests: RecordedRequest[];
	tooManyRequests: number;
	callbacksSent: SentCallback[];
	insightsRequests: InsightsRequest[];
}

export interface RemoteSimulator {
	url: string;
	apiKey: string;
	state(): Promise<SimulatorState>;
	reset(): Promise<void>;
}

export type RemoteSimulatorConfig = SimulatorOptions & { apiKey: string };

/** Starts the simulators in one child process; `stop()` ends it. */
export async function startSimulatorsProcess(
	configs: RemoteSimulatorConfig[],
): Promise<{ simulators: RemoteSimulator[]; stop(): Promise<void> }> {
	const child = spawn(TSX, [join(ROOT, 'simulator', 'serve.ts'), JSON.stringify(configs)], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const exited = new Promise((resolve) => child.once('exit', resolve));
	const first = (await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value as
		string | undefined;
	let urls: string[];
	try {
		urls = JSON.parse(first ?? '') as string[];
	} catch {
		child.kill();
		throw new Error(`the simulators did not start: ${first}`);
	}
	const simulators: RemoteSimulator[] = urls.map((url, at) => ({
		url,
		apiKey: configs[at].apiKey,
		state: async () => (await (await fetch(`${url}${CONTROL_PATHS.state}`)).json()) as SimulatorState,
		reset: async () => {
			await (await fetch(`${url}${CONTROL_PATHS.reset}`, { method: 'POST' })).arrayBuffer();
		},
	}));
	// A fresh server stamps its first arrivals late (cold code paths), which would crowd the next second at
	// arrival; a real Studio is warm. One request each (refused: no session, no callback), then a reset.
	await Promise.all(
		simulators.map(async (sim) => {
			const warmUp = await fetch(`${sim.url}${STUDIO_PATHS.messagingConversation}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', [API_KEY_HEADER]: sim.apiKey },
				body: JSON.stringify({ channel: 'whatsapp' }),
			});
			await warmUp.arrayBuffer();
			await sim.reset();
		}),
	);
	return {
		simulators,
		stop: async () => {
			if (child.exitCode === null) child.kill('SIGTERM');
			await exited;
		},
	};
}
