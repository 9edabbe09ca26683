// The simulator runs as its own process for the demo and the e2e tests: flags, one URL line, clean exit on signals.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseCliArgs, USAGE } from '../../simulator/cli';

jest.setTimeout(60_000);

describe('parseCliArgs', () => {
	it('maps every flag to an option', () => {
		const command = parseCliArgs([
			'--port',
			'4010',
			'--tier',
			'3',
			'--latency',
			'150',
			'--api-key',
			'k',
			'--agents',
			'a1,a2',
			'--agents',
			'a3',
			'--fail',
			'447700900999=undeliverable',
			'--fail',
			'447700900998=rejected',
			'--callback-statuses',
			'submitted,delivered',
			'--callback-delay',
			'5',
			'--duplicate-callbacks',
			'--out-of-order-callbacks',
			'--signature-secret',
			's',
			'--signature-api-key',
			'acc',
			'--throttle-ratio',
			'0.25',
			'--retry-after',
			'2',
			'--max-body-bytes',
			'2048',
			'--drop-connection-ratio',
			'0.1',
			'--seed',
			'9',
			'--no-callbacks',
			'--conversation-ms',
			'500',
			'--recording-delay',
			'100',
		]);
		expect(command).toEqual({
			help: false,
			options: {
				port: 4010,
				tier: 3,
				latencyMs: 150,
				apiKey: 'k',
				agents: ['a1', 'a2', 'a3'],
				failNumbers: { '447700900999': 'undeliverable', '447700900998': 'rejected' },
				callbackStatuses: ['submitted', 'delivered'],
				callbackDelayMs: 5,
				duplicateCallbacks: true,
				outOfOrderCallbacks: true,
				signatureSecret: 's',
				signatureApiKey: 'acc',
				throttle: { rejectRatio: 0.25, retryAfterSeconds: 2 },
				maxBodyBytes: 2048,
				dropConnectionRatio: 0.1,
				seed: 9,
				callbacks: false,
				insights: { conversationMs: 500, recordingDelayMs: 100 },
			},
		});
	});

	it('reads a latency range and leaves unset options out', () => {
		expect(parseCliArgs(['--latency', '50-200'])).toEqual({
			help: false,
			options: { latencyMs: { min: 50, max: 200 } },
		});
		expect(parseCliArgs([])).toEqual({ help: false, options: {} });
	});

	it('reads the trip to the limiter: fixed, a range, or a range with rare long trips', () => {
		expect(parseCliArgs(['--arrival-delay', '40'])).toEqual({ help: false, options: { arrivalDelayMs: 40 } });
		expect(parseCliArgs(['--arrival-delay', '20-120'])).toEqual({
			help: false,
			options: { arrivalDelayMs: { min: 20, max: 120 } },
		});
		expect(parseCliArgs(['--arrival-delay', '30-50,1%:300-400'])).toEqual({
			help: false,
			options: { arrivalDelayMs: { min: 30, max: 50, spikes: { share: 0.01, min: 300, max: 400 } } },
		});
		expect(() => parseCliArgs(['--arrival-delay', '120-20'])).toThrow(/--arrival-delay: .*below/);
		expect(() => parseCliArgs(['--arrival-delay', '30-50,1:300'])).toThrow(/--arrival-delay: .*SHARE%/);
		expect(() => parseCliArgs(['--arrival-delay', 'slow'])).toThrow(/--arrival-delay/);
	});

	it('asks for help and refuses bad input', () => {
		expect(parseCliArgs(['--help'])).toEqual({ help: true });
		expect(parseCliArgs(['-h'])).toEqual({ help: true });
		expect(() => parseCliArgs(['--tier', 'fast'])).toThrow(/--tier/);
		expect(() => parseCliArgs(['--fail', '447700900999=lost'])).toThrow(/rejected or undeliverable/);
		expect(() => parseCliArgs(['--bogus'])).toThrow();
		expect(() => parseCliArgs(['stray'])).toThrow(/stray/);
	});
});

describe('simulator process', () => {
	const root = join(__dirname, '..', '..');
	const tsx = join(root, 'node_modules', '.bin', 'tsx');
	const cli = join(__dirname, '..', '..', 'simulator', 'cli.ts');

	function run(args: string[]): ChildProcessWithoutNullStreams {
		return spawn(tsx, [cli, ...args], { cwd: root, stdio: 'pipe' });
	}

	function exited(
		child: ChildProcessWithoutNullStreams,
	): Promise<{ code: number | null; stdout: string; stderr: string }> {
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
	}

	it('prints the usage on --help and exits 0', async () => {
		const result = await exited(run(['--help']));
		expect(result.code).toBe(0);
		expect(result.stdout).toBe(USAGE);
	});

	it('exits 2 with the usage on a bad flag', async () => {
		const result = await exited(run(['--tier', 'x']));
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--tier');
	});

	it('prints one line with the URL, serves Studio and the control API, and exits 0 on SIGTERM', async () => {
		const child = run(['--port', '0', '--tier', '3', '--api-key', 'cli-key', '--fail', '447700900999=undeliverable']);
		const done = exited(child);
		const url = await new Promise<string>((resolve, reject) => {
			let seen = '';
			child.stdout.on('data', (chunk: Buffer) => {
				seen += chunk.toString();
				const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(seen);
				if (match) resolve(match[1]);
			});
			child.on('close', () => reject(new Error(`exited before listening: ${seen}`)));
		});
		const client = new Agent();
		try {
			const accepted = await request(`${url}/telephony/make-call`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'x-vgai-key': 'cli-key' },
				body: JSON.stringify({ agent_id: 'a', to: '447700900000' }),
				dispatcher: client,
			});
			await accepted.body.dump();
			expect(accepted.statusCode).toBe(200);
			const state = await request(`${url}/_simulator/state`, { dispatcher: client });
			const json = (await state.body.json()) as { requestCount: number; options: Record<string, unknown> };
			expect(json.requestCount).toBe(1);
			expect(json.options).toMatchObject({
				tier: 3,
				apiKey: 'cli-key',
				failNumbers: { '447700900999': 'undeliverable' },
			});
		} finally {
			await client.close();
		}
		child.kill('SIGTERM');
		const result = await done;
		expect(result.code).toBe(0);
		expect(result.stdout.trim().split('\n')).toHaveLength(1);
	});
});
