// Runs the Studio simulator as its own process: `npm run simulator -- --port 4010 --tier 1 ...`.
import { parseArgs } from 'node:util';
import { parseDelayShape } from './delayShape';
import { startSimulator, type FailStatus, type SimulatorOptions } from './simulator';

export const USAGE = `Usage: npm run simulator -- [options]

A loopback stand-in for Vonage AI Studio's outbound and Insights APIs, listening on 127.0.0.1.
Each accepted session becomes an Insights session whose contact, by the number's last digit, confirms
(1, 4, 7), declines (2, 5, 8) or never answers (0, 3, 6, 9): parameter APPOINTMENT_CONFIRMED yes or no.
Control API (no key needed): GET /_simulator/state, POST /_simulator/configure, POST /_simulator/reset.

Options:
  --port N                      port to listen on, 0 picks a free one (default 0)
  --api-key KEY                 the X-Vgai-Key to accept (default sim-key)
  --tier N                      accepted sessions per sliding second (default 1)
  --latency MS | MIN-MAX        delay before answering, fixed or uniform in a range (default 0)
  --arrival-delay SHAPE         the trip to the rate limiter, drawn per request: MS, MIN-MAX, or
                                MIN-MAX,SHARE%:MIN-MAX for rare long trips (e.g. 30-50,1%:300-400)
  --agents ID[,ID...]           known agent ids; others get Studio's not-found answer (repeatable)
  --templates NAME[,NAME...]    known WhatsApp template names; others get a 400 naming the template (repeatable)
  --fail NUMBER=STATUS          callbacks for this "to" end in rejected or undeliverable (repeatable)
  --silent NUMBER[,NUMBER...]   no callbacks at all for this "to" (repeatable)
  --no-callbacks                do not post status callbacks
  --callback-statuses S[,S...]  statuses to post (default submitted,delivered,read)
  --callback-delay MS           pause before each callback of a session (default 20)
  --duplicate-callbacks         post every callback twice
  --out-of-order-callbacks      post read before delivered
  --signature-secret SECRET     sign callbacks with an HS256 JWT (Authorization: Bearer ...)
  --signature-api-key KEY       the api_key claim of signed callbacks (default sim-account)
  --throttle-ratio R            refuse this share (0..1) of acceptable requests with 429
  --retry-after S               Retry-After seconds on throttled 429s
  --max-body-bytes N            larger bodies get 413 (default 1048576)
  --drop-connection-ratio R     share (0..1) of accepted sessions whose connection is dropped unanswered
  --seed N                      make throttle, drops and latency ranges reproducible
  --conversation-ms MS          Insights: how long after its start a session's conversation is over (default 1000)
  --recording-delay MS          Insights: how long after a call ends its recording URL appears (default 2000)
  -h, --help                    show this help
`;

export type CliCommand = { help: true } | { help: false; options: SimulatorOptions };

function toNumber(flag: string, value: string): number {
	const number = Number(value);
	if (value.trim() === '' || !Number.isFinite(number)) throw new Error(`--${flag} needs a number, got "${value}"`);
	return number;
}

function list(values: string[] | undefined): string[] | undefined {
	if (!values) return undefined;
	return values
		.flatMap((value) => value.split(','))
		.map((item) => item.trim())
		.filter((item) => item !== '');
}

/** Turns command-line arguments into simulator options; throws an Error with a readable message on bad input. */
export function parseCliArgs(argv: string[]): CliCommand {
	const { values, positionals } = parseArgs({
		args: argv,
		allowPositionals: true,
		strict: true,
		options: {
			help: { type: 'boolean', short: 'h' },
			port: { type: 'string' },
			'api-key': { type: 'string' },
			tier: { type: 'string' },
			latency: { type: 'string' },
			'arrival-delay': { type: 'string' },
			agents: { type: 'string', multiple: true },
			templates: { type: 'string', multiple: true },
			silent: { type: 'string', multiple: true },
			fail: { type: 'string', multiple: true },
			'no-callbacks': { type: 'boolean' },
			'callback-statuses': { type: 'string', multiple: true },
			'callback-delay': { type: 'string' },
			'duplicate-callbacks': { type: 'boolean' },
			'out-of-order-callbacks': { type: 'boolean' },
			'signature-secret': { type: 'string' },
			'signature-api-key': { type: 'string' },
			'throttle-ratio': { type: 'string' },
			'retry-after': { type: 'string' },
			'max-body-bytes': { type: 'string' },
			'drop-connection-ratio': { type: 'string' },
			seed: { type: 'string' },
			'conversation-ms': { type: 'string' },
			'recording-delay': { type: 'string' },
		},
	});
	if (values.help) return { help: true };
	if (positionals.length > 0) throw new Error(`Unexpected argument "${positionals[0]}"`);

	const options: SimulatorOptions = {};
	if (values.port !== undefined) options.port = toNumber('port', values.port);
	if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
	if (values.tier !== undefined) options.tier = toNumber('tier', values.tier);
	if (values.latency !== undefined) {
		const range = /^\s*(\d+(?:\.\d+)?)\s*(?:-|\.\.)\s*(\d+(?:\.\d+)?)\s*$/.exec(values.latency);
		options.latencyMs = range ? { min: Number(range[1]), max: Number(range[2]) } : toNumber('latency', values.latency);
	}
	if (values['arrival-delay'] !== undefined) {
		try {
			options.arrivalDelayMs = parseDelayShape(values['arrival-delay']);
		} catch (error) {
			throw new Error(`--arrival-delay: ${(error as Error).message}`);
		}
	}
	options.agents = list(values.agents);
	options.templates = list(values.templates);
	options.silentNumbers = list(values.silent);
	if (values.fail) {
		const failNumbers: Record<string, FailStatus> = {};
		for (const entry of values.fail) {
			const [number, status = 'undeliverable'] = entry.split('=');
			if (!number) throw new Error(`--fail needs NUMBER=rejected|undeliverable, got "${entry}"`);
			if (status !== 'rejected' && status !== 'undeliverable') {
				throw new Error(`--fail ${number}: status must be rejected or undeliverable, got "${status}"`);
			}
			failNumbers[number] = status;
		}
		options.failNumbers = failNumbers;
	}
	if (values['no-callbacks']) options.callbacks = false;
	options.callbackStatuses = list(values['callback-statuses']);
	if (values['callback-delay'] !== undefined)
		options.callbackDelayMs = toNumber('callback-delay', values['callback-delay']);
	if (values['duplicate-callbacks']) options.duplicateCallbacks = true;
	if (values['out-of-order-callbacks']) options.outOfOrderCallbacks = true;
	if (values['signature-secret'] !== undefined) options.signatureSecret = values['signature-secret'];
	if (values['signature-api-key'] !== undefined) options.signatureApiKey = values['signature-api-key'];
	if (values['throttle-ratio'] !== undefined || values['retry-after'] !== undefined) {
		options.throttle = {
			rejectRatio:
				values['throttle-ratio'] === undefined ? undefined : toNumber('throttle-ratio', values['throttle-ratio']),
			retryAfterSeconds:
				values['retry-after'] === undefined ? undefined : toNumber('retry-after', values['retry-after']),
		};
	}
	if (values['max-body-bytes'] !== undefined)
		options.maxBodyBytes = toNumber('max-body-bytes', values['max-body-bytes']);
	if (values['drop-connection-ratio'] !== undefined) {
		options.dropConnectionRatio = toNumber('drop-connection-ratio', values['drop-connection-ratio']);
	}
	if (values.seed !== undefined) options.seed = toNumber('seed', values.seed);
	if (values['conversation-ms'] !== undefined || values['recording-delay'] !== undefined) {
		options.insights = {
			conversationMs:
				values['conversation-ms'] === undefined ? undefined : toNumber('conversation-ms', values['conversation-ms']),
			recordingDelayMs:
				values['recording-delay'] === undefined ? undefined : toNumber('recording-delay', values['recording-delay']),
		};
	}

	return { help: false, options: Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
}

async function main(): Promise<void> {
	let command: CliCommand;
	try {
		command = parseCliArgs(process.argv.slice(2));
	} catch (error) {
		process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
		process.exitCode = 2;
		return;
	}
	if (command.help) {
		process.stdout.write(USAGE);
		return;
	}
	const simulator = await startSimulator(command.options);
	process.stdout.write(`Studio simulator listening on ${simulator.url}\n`);

	let stopping = false;
	const stop = (signal: NodeJS.Signals) => {
		if (stopping) return;
		stopping = true;
		simulator.close().then(
			() => process.exit(0),
			(error: unknown) => {
				process.stderr.write(`Simulator did not close cleanly after ${signal}: ${String(error)}\n`);
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (require.main === module) {
	main().catch((error: unknown) => {
		process.stderr.write(`Simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	});
}
