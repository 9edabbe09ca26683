// A loopback HTTP server that records what n8n workflows post to it (their HTTP Request node), so a test
// can see what a trigger execution received without reading n8n's database.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorder {
	url: string;
	bodies: Array<Record<string, unknown>>;
	/** Resolves when at least `count` bodies have arrived; rejects after timeoutMs. */
	waitFor(count: number, timeoutMs: number): Promise<void>;
	close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
	const bodies: Array<Record<string, unknown>> = [];
	let notify = () => {};
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			try {
				bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
			} catch {
				bodies.push({ unparsed: Buffer.concat(chunks).toString('utf8') });
			}
			response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
			notify();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/record`,
		bodies,
		waitFor: (count, timeoutMs) =>
			new Promise((resolve, reject) => {
				const check = () => {
					if (bodies.length >= count) {
						clearTimeout(timer);
						notify = () => {};
						resolve();
					}
				};
				const timer = setTimeout(
					() => reject(new Error(`Recorder got ${bodies.length} of ${count} bodies within ${timeoutMs} ms`)),
					timeoutMs,
				);
				notify = check;
				check();
			}),
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
