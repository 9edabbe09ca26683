// A stand-in for a language model, for the AI Agent tests: an OpenAI-compatible chat completions endpoint on
// 127.0.0.1 (n8n's OpenAI Chat Model node reaches it through its credential's Base URL) that does what its prompt
// says instead of thinking. A user message is a script, `{"calls": [{"tool": "...", "args": {...}}]}`: the model
// answers it by asking for those tool calls all at once; once the tools have answered, it replies with their
// answers, so the agent's output shows what each tool said. It records every request (the tools it was offered).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedCall {
	tool: string;
	args: Record<string, unknown>;
}

/** What the model replies once its tool calls are answered: this prefix, then the answers as a JSON array. */
export const TOOL_ANSWERS = 'TOOL ANSWERS: ';

/** The prompt that makes the model call these tools at once. */
export function script(calls: ScriptedCall[]): string {
	return JSON.stringify({ calls });
}

/** The tools' answers in the agent's output (the texts the model was given back, in the order it asked). */
export function toolAnswers(output: unknown): string[] {
	const text = String(output);
	if (!text.startsWith(TOOL_ANSWERS)) throw new Error(`Not a scripted model's reply: ${text.slice(0, 200)}`);
	return JSON.parse(text.slice(TOOL_ANSWERS.length)) as string[];
}

interface ChatMessage {
	role: string;
	content: unknown;
}

interface ChatRequest {
	model: string;
	messages: ChatMessage[];
	tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
}

export interface ScriptedModel {
	/** The Base URL for an OpenAI credential, e.g. http://127.0.0.1:41234/v1. */
	baseUrl: string;
	requests: ChatRequest[];
	close(): Promise<void>;
}

let callCounter = 0;

function reply(request: ChatRequest): Record<string, unknown> {
	const answered = request.messages.filter((message) => message.role === 'tool');
	if (answered.length > 0) {
		return { role: 'assistant', content: `${TOOL_ANSWERS}${JSON.stringify(answered.map((each) => each.content))}` };
	}
	const prompt = [...request.messages].reverse().find((message) => message.role === 'user');
	const { calls } = JSON.parse(String(prompt?.content)) as { calls: ScriptedCall[] };
	return {
		role: 'assistant',
		content: null,
		tool_calls: calls.map((call) => ({
			id: `call_${++callCounter}`,
			type: 'function',
			function: { name: call.tool, arguments: JSON.stringify(call.args) },
		})),
	};
}

export async function startScriptedModel(): Promise<ScriptedModel> {
	const requests: ChatRequest[] = [];
	const server: Server = createServer((incoming, response) => {
		let raw = '';
		incoming.setEncoding('utf8');
		incoming.on('data', (chunk: string) => (raw += chunk));
		incoming.on('end', () => {
			if (incoming.method !== 'POST' || !incoming.url?.endsWith('/chat/completions')) {
				response.writeHead(404, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ error: { message: `Not served: ${incoming.method} ${incoming.url}` } }));
				return;
			}
			const request = JSON.parse(raw) as ChatRequest;
			requests.push(request);
			let message: Record<string, unknown>;
			try {
				message = reply(request);
			} catch (error) {
				response.writeHead(400, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ error: { message: `Not a script: ${(error as Error).message}` } }));
				return;
			}
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(
				JSON.stringify({
					id: `chatcmpl-${requests.length}`,
					object: 'chat.completion',
					created: Math.floor(Date.now() / 1000),
					model: request.model,
					choices: [{ index: 0, message, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
					usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
				}),
			);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
		requests,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
