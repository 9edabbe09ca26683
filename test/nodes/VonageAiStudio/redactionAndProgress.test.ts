// The API key never shows up in output, errors or logs, even when something echoes it back; long batches
// report progress in the n8n log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';

import { resetNodeState } from '../../../harness/engine';
import { startSimulator } from '../../../simulator/simulator';
import { runStudioNode } from '../../../harness/engine';

const API_KEY = 'sk-live-REDACT-ME-0042';

const parameters = {
	resource: 'sms',
	operation: 'startOutboundSession',
	agentId: 'agent-1',
	to: '={{ $json.phone }}',
	statusUrl: 'https://hooks.example.com/status',
};

/** Every message and argument the nodes wrote to n8n's logger during `action`. */
async function captureLogs<T>(action: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
	const logger = Container.get(Logger);
	const lines: string[] = [];
	const spies = (['info', 'warn', 'error', 'debug'] as const).map((level) =>
		jest.spyOn(logger, level).mockImplementation((message: string, meta?: object) => {
			lines.push(`${level}: ${message} ${meta ? JSON.stringify(meta) : ''}`);
		}),
	);
	try {
		return { result: await action(), lines };
	} finally {
		spies.forEach((spy) => spy.mockRestore());
	}
}

afterEach(async () => {
	await resetNodeState();
});

describe('the API key never leaks', () => {
	let echo: Server;
	let echoUrl: string;
	beforeAll(async () => {
		// A misbehaving proxy that echoes the request headers back in its error body.
		echo = createServer((request, response) => {
			request.resume();
			request.on('end', () => {
				response.writeHead(request.headers['x-echo'] ? 200 : 400, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ message: `bad request, headers were ${JSON.stringify(request.headers)}` }));
			});
		});
		await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
		echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
	});
	afterAll(async () => new Promise((resolve) => echo.close(resolve)));

	it('is redacted from the error message, description and run data when Studio echoes it', async () => {
		const { result, lines } = await captureLogs(() =>
			runStudioNode({
				parameters,
				items: [{ phone: '+447700900001' }],
				credentials: { apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: echoUrl },
			}),
		);
		expect(result.error).toMatchObject({ httpCode: '400', message: expect.stringContaining('[redacted]') });
		expect(JSON.stringify(result.run)).not.toContain(API_KEY);
		expect(JSON.stringify(result.error)).not.toContain(API_KEY);
		expect(lines.join('\n')).not.toContain(API_KEY);
	});

	it('is not in a successful output either', async () => {
		const simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
		try {
			const { result, lines } = await captureLogs(() =>
				runStudioNode({
					parameters,
					items: [{ phone: '+447700900001' }, { phone: '+447700900002' }],
					credentials: { apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: simulator.url },
				}),
			);
			expect(simulator.sessions).toHaveLength(2);
			expect(JSON.stringify(result.run)).not.toContain(API_KEY);
			expect(lines.join('\n')).not.toContain(API_KEY);
		} finally {
			await simulator.close();
		}
	});
});

it('logs progress of a batch with the time left at the tier', async () => {
	const simulator = await startSimulator({ apiKey: API_KEY, tier: 5, callbacks: false });
	try {
		const items = Array.from({ length: 12 }, (_, i) => ({ phone: `+4477009000${String(i).padStart(2, '0')}` }));
		const { lines } = await captureLogs(() =>
			runStudioNode({
				parameters,
				items,
				credentials: { apiKey: API_KEY, region: 'eu', sessionsPerSecond: 5, baseUrl: simulator.url },
			}),
		);
		const progress = lines.filter((line) => line.startsWith('info: Vonage AI Studio:'));
		expect(progress.length).toBeGreaterThanOrEqual(2);
		expect(progress[0]).toMatch(
			/^info: Vonage AI Studio: 1\/12 items done after \d+ s, about 3 s left at 5 per second/,
		);
		expect(progress.at(-1)).toMatch(/^info: Vonage AI Studio: 12\/12 items done after \d+ s\s*$/);
	} finally {
		await simulator.close();
	}
});
