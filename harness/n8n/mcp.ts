// An MCP client for an n8n MCP Server Trigger, as a desktop assistant or an IDE connects: the official MCP TypeScript
// SDK (the one n8n ships) over Streamable HTTP, no language model. Used by the e2e tests and the demo.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { until } from '../until';

/** What a tool call answers: the text a model reads, and whether the server marked it as an error. */
export interface ToolAnswer {
	text: string;
	isError: boolean;
}

export class McpClient {
	private constructor(
		readonly url: string,
		private readonly client: Client,
	) {}

	/**
	 * Connects to `url` (the trigger's /mcp/<path>). n8n registers a published trigger's webhook a moment after it
	 * starts (2.41 answers 404 until then), so the first attempts may be refused: retries until `timeoutMs`.
	 */
	static async connect(url: string, timeoutMs = 60_000): Promise<McpClient> {
		let last = '';
		const client = await until(
			`an MCP session at ${url}`,
			async () => {
				const candidate = new Client({ name: 'vgai-e2e', version: '1.0.0' });
				try {
					await candidate.connect(new StreamableHTTPClientTransport(new URL(url)));
					return candidate;
				} catch (error) {
					last = (error as Error).message;
					await candidate.close().catch(() => undefined);
					return undefined;
				}
			},
			timeoutMs,
			250,
		).catch((error: Error) => {
			throw new Error(`${error.message} (last answer: ${last.slice(0, 300)})`);
		});
		return new McpClient(url, client);
	}

	async listTools() {
		return (await this.client.listTools()).tools;
	}

	/** Calls a tool; the text of every content part, joined. */
	async call(name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
		const result = await this.client.callTool({ name, arguments: args });
		const content = (result.content ?? []) as Array<{ type: string; text?: string }>;
		return {
			text: content.map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}]`)).join('\n'),
			isError: result.isError === true,
		};
	}

	async close(): Promise<void> {
		await this.client.close();
	}
}
