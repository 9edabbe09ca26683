// One "n8n webhook process" for the cross-process repeat test: run with tsx, it serves the Vonage AI Studio Trigger
// through the webhook harness (n8n-core's real WebhookContext) for the same workflow and node as its siblings,
// prints its status URL, and when stdin closes prints the message UUID and status of every item it emitted.
import Module from 'node:module';

// tsx resolves an import of `…/X.node` to n8n's codex file X.node.json before the source X.node.ts (n8n itself
// loads the compiled X.node.js, and jest prefers .ts). Point those imports at the source, then load the harness.
type Resolve = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
	if (request.startsWith('.') && request.endsWith('.node')) {
		try {
			return resolveFilename.call(this, `${request}.ts`, ...rest);
		} catch {
			// not one of ours: resolve as usual
		}
	}
	return resolveFilename.call(this, request, ...rest);
};

export interface TriggerWorkerReady {
	statusUrl: string;
}

export interface TriggerWorkerResult {
	emitted: Array<{ messageUuid: unknown; status: unknown }>;
	/** Every request not answered 200, with what the node threw, so a failing test says why. */
	notAnswered200: Array<{ statusCode: number; responseBody: string; error?: string }>;
}

async function main(): Promise<void> {
	const { startWebhookHarness } = await import('../../../harness/webhookHarness');
	const { closeSharedRedisClients } = await import('../../../editions/queue/redisClient');
	// require, not import(): the resolver above only sees require calls.
	const { VonageAiStudioTrigger } =
		require('../../../queue/nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node') as typeof import('../../../queue/nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node');
	const token = process.env.TRIGGER_WORKER_TOKEN ?? '';
	const redisUrl = process.env.TRIGGER_WORKER_REDIS_URL ?? '';
	const harness = await startWebhookHarness({
		workflowId: process.env.TRIGGER_WORKER_WORKFLOW_ID ?? 'wf-shared',
		nodeId: 'trigger-node-id',
		parameters: { authentication: 'token' },
		credentials: { vonageAiStudioCallbackApi: { token, redisUrl } },
		nodeType: new VonageAiStudioTrigger(),
	});
	process.stdout.write(`${JSON.stringify({ statusUrl: harness.statusUrl({ token }) } satisfies TriggerWorkerReady)}\n`);
	process.stdin.resume();
	await new Promise((resolve) => process.stdin.once('end', resolve));
	const emitted = harness.emitted().map((item) => ({ messageUuid: item.messageUuid, status: item.status }));
	const notAnswered200 = harness.handled
		.filter((request) => request.statusCode !== 200)
		.map(({ statusCode, responseBody, error }) => ({ statusCode, responseBody, error: error?.stack }));
	process.stdout.write(`${JSON.stringify({ emitted, notAnswered200 } satisfies TriggerWorkerResult)}\n`);
	await harness.close();
	await closeSharedRedisClients();
}

main().catch((error: unknown) => {
	process.stderr.write(`trigger worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
