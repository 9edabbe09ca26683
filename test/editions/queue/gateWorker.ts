// One "n8n worker" for the cross-process tests and the benchmark: run with tsx, it sends COUNT WhatsApp sessions
// to the simulator through the Redis-backed gate, after the parent says "go" on stdin so that start-up CPU does
// not blur the timing. Prints one JSON line with what happened.
import { createInterface } from 'node:readline';
import { dispatch } from '../../../harness/dispatch';
import { STUDIO_PATHS } from '../../../core/studioApi';
import { postToStudio } from '../../../editions/queue/transport';
import { closeShared, sharedGate } from '../../../harness/accounts';
import { whatsappSessionBody } from '../../../harness/fixtures';

export interface GateWorkerResult {
	worker: string;
	sent: number;
	failed: number;
	errors: string[];
	startedAt: number;
	finishedAt: number;
	/** The learnt margin as this worker last saw it. */
	marginMs?: number;
}

function env(name: string): string {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is required`);
	return value;
}

async function main(): Promise<void> {
	const worker = env('GATE_WORKER_ID');
	const count = Number(env('GATE_WORKER_COUNT'));
	const tier = Number(env('GATE_WORKER_TIER'));
	const studioUrl = env('GATE_WORKER_STUDIO_URL');
	const apiKey = env('GATE_WORKER_API_KEY');
	const redisUrl = env('GATE_WORKER_REDIS_URL');

	const floorMs = process.env.GATE_WORKER_FLOOR_MS ? Number(process.env.GATE_WORKER_FLOOR_MS) : undefined;
	const gate = sharedGate({ region: 'eu', apiKey, tier, redisUrl, floorMs });
	process.stdout.write('ready\n');
	const lines = createInterface({ input: process.stdin });
	await new Promise<void>((resolve) => lines.once('line', () => resolve()));
	lines.close();
	process.stdin.destroy(); // an open stdin would keep this process alive after the work

	const startedAt = Date.now();
	const jobs = Array.from({ length: count }, (_, index) => ({
		index,
		send: () =>
			postToStudio(
				studioUrl,
				STUDIO_PATHS.messagingConversation,
				whatsappSessionBody(`44770${worker.padStart(2, '0').slice(-2)}${String(index).padStart(5, '0')}`),
				apiKey,
			),
	}));
	const results = await dispatch(jobs, { gate, maxInFlight: 16 });
	const result: GateWorkerResult = {
		worker,
		sent: results.filter((r) => r.outcome === 'sent').length,
		failed: results.filter((r) => r.outcome === 'failed').length,
		errors: results.flatMap((r) => (r.outcome === 'failed' ? [String((r.error as Error)?.name ?? r.error)] : [])),
		startedAt,
		finishedAt: Date.now(),
		marginMs: (gate as { marginMs?: number }).marginMs,
	};
	await closeShared();
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
