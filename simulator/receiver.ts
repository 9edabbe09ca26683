// A loopback HTTP server that records what is posted to it: stands in for the n8n webhook in simulator tests.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
	method: string;
	/** Path and query string exactly as requested. */
	url: string;
	headers: IncomingHttpHeaders;
	raw: string;
	body: unknown;
}

export interface CallbackReceiver {
	/** Base URL, e.g. http://127.0.0.1:12345 */
	url: string;
	received: ReceivedCallback[];
	/** Status to answer the n-th (0-based) callback with; default 200. */
	answer: (index: number, callback: ReceivedCallback) => number;
	close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
	const receiver: CallbackReceiver = {
		url: '',
		received: [],
		answer: () => 200,
		close: async () => undefined,
	};
	const server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			let body: unknown = raw;
			try {
				body = JSON.parse(raw);
			} catch {
				// keep the raw text
			}
			const callback: ReceivedCallback = {
				method: req.method ?? '',
				url: req.url ?? '',
				headers: req.headers,
				raw,
				body,
			};
			const index = receiver.received.push(callback) - 1;
			res.writeHead(receiver.answer(index, callback));
			res.end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	receiver.close = () =>
		new Promise<void>((resolve) => {
			server.close(() => resolve());
			server.closeAllConnections();
		});
	return receiver;
}

/** Polls until the condition holds; fails with the description after timeoutMs. */
export async function waitFor(condition: () => boolean, description: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
