// Runs several Studio simulators in one process of their own, standing in for Studio on another machine (the
// benchmark and the demo start it through ownProcess.ts): arrival times are stamped on their own event loop.
// Usage: tsx simulator/serve.ts '<JSON list of SimulatorOptions>'; prints one JSON line of URLs, stops on SIGTERM.
import { startSimulator, type SimulatorOptions, type StudioSimulator } from './simulator';

async function main(): Promise<void> {
	const configs = JSON.parse(process.argv[2] ?? '[]') as SimulatorOptions[];
	const simulators: StudioSimulator[] = [];
	for (const config of configs) simulators.push(await startSimulator(config));
	process.stdout.write(`${JSON.stringify(simulators.map((sim) => sim.url))}\n`);
	const stop = () => {
		Promise.all(simulators.map((sim) => sim.close())).then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.once('SIGTERM', stop);
	process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
