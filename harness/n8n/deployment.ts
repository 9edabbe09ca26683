// n8n deployed the two ways users run it, for the tests and benchmarks that stop and start it again or load it:
// regular mode (one `n8n start`, SQLite, the main edition) and queue mode (main + workers + an `n8n webhook` process,
// PostgreSQL and Redis, the queue edition). start() and stop() can be called again: the data stays, as through a
// redeploy. Workflows are written for the main edition and moved to the queue edition in queue mode.
import { switchEdition } from '../../core/switchEdition';
import type { RedisServer } from '../redisServer';
import type { ManagedProcess, Stack } from '../processes';
import { preparePackage } from './communityPackage';
import { N8nHome, N8nRest, type CredentialImport, type WorkflowImport } from './n8n';
import type { PostgresServer } from './postgres';
import { prepareQueueMode } from './queueMode';

export type DeploymentMode = 'regular' | 'queue';

export interface DeploymentOptions {
	mode: DeploymentMode;
	/** Queue mode: how many `n8n worker` processes (default 2). */
	workers?: number;
	/** The credentials, given the Redis URL the queue edition's credentials share (undefined in regular mode). */
	credentials: (redisUrl: string | undefined) => CredentialImport[];
	workflows: WorkflowImport[];
	/** Workflows to publish (active), by ID. */
	publish?: string[];
	/** Production webhook paths (Webhook nodes, triggers) to wait for after each start. */
	webhookPaths?: string[];
	/** More settings for every n8n process. */
	env?: Record<string, string>;
	/** Print the processes' output (benchmarks may). */
	echo?: boolean;
}

export class Deployment {
	private running: ManagedProcess[] = [];
	private restSession?: N8nRest;
	private starts = 0;

	private constructor(
		private readonly options: DeploymentOptions,
		readonly main: N8nHome,
		readonly workerHomes: N8nHome[],
		readonly webhookHome: N8nHome | undefined,
		readonly postgres: PostgresServer | undefined,
		readonly redis: RedisServer | undefined,
	) {}

	/** Prepares the folders and servers (stopped with `stack`) and imports; starts no n8n process. */
	static async prepare(stack: Stack, options: DeploymentOptions): Promise<Deployment> {
		const workflows = structuredClone(options.workflows);
		let deployment: Deployment;
		if (options.mode === 'regular') {
			const main = await N8nHome.create({ package: await preparePackage(), env: options.env, echo: options.echo });
			stack.defer('n8n user folder', () => main.remove());
			deployment = new Deployment(options, main, [], undefined, undefined, undefined);
		} else {
			const queue = await prepareQueueMode(stack, await preparePackage({ edition: 'queue' }), {
				workers: options.workers ?? 2,
				webhookProcess: true,
				env: options.env,
				echo: options.echo,
			});
			switchEdition(workflows, 'queue');
			deployment = new Deployment(
				options,
				queue.main,
				queue.workerHomes,
				queue.webhookHome,
				queue.postgres,
				queue.redis,
			);
		}
		stack.defer(`n8n (${options.mode} mode)`, () => deployment.stop());
		await deployment.main.importCredentials(options.credentials(deployment.redis?.url));
		await deployment.main.importWorkflows(workflows);
		for (const id of options.publish ?? []) await deployment.main.publishWorkflow(id);
		return deployment;
	}

	get mode(): DeploymentMode {
		return this.options.mode;
	}

	/** The n8n processes running now (main first), e.g. to read their memory. */
	get processes(): readonly ManagedProcess[] {
		return this.running;
	}

	/** The editor's REST session on main (valid from the first start on). */
	get rest(): N8nRest {
		if (!this.restSession) throw new Error('n8n has not been started');
		return this.restSession;
	}

	/**
	 * Where production webhooks (a CRM's posts, Studio's statuses) reach n8n: the `n8n webhook` process in queue mode,
	 * as behind a load balancer, main in regular mode. Resume URLs are built on it too (WEBHOOK_URL).
	 */
	get receiver(): N8nHome {
		return this.webhookHome ?? this.main;
	}

	webhookUrl(path: string): string {
		return this.receiver.webhookUrl(path);
	}

	/**
	 * Starts every process and waits for the webhooks. The first time main comes first (it creates the database);
	 * after that the workers come first, as docs/production-scale.md asks of a redeploy: a worker starting after main
	 * "recovers" the executions its event log saw start and never end, which includes every execution it put to wait,
	 * and marks crashed those main is resuming at that moment (the ones whose time limit passed during the downtime).
	 */
	async start(): Promise<void> {
		if (this.running.length > 0) throw new Error('n8n is already running');
		const round = ++this.starts > 1 ? ` (start ${this.starts})` : '';
		if (this.starts > 1) await this.startWorkers(round);
		const paths = this.options.webhookPaths ?? [];
		const main = await this.main.start({ name: `n8n main${round}` });
		this.running.push(main);
		await this.main.waitForWebhooks(
			paths.map((path) => this.main.webhookUrl(path)),
			60_000,
			main,
		);
		if (this.webhookHome) {
			const webhook = await this.webhookHome.startWebhookProcess({ name: `n8n webhook${round}` });
			this.running.push(webhook);
			await this.webhookHome.waitForWebhooks(
				paths.map((path) => this.webhookHome!.webhookUrl(path)),
				60_000,
				webhook,
			);
		}
		if (this.starts === 1) await this.startWorkers(round);
		this.restSession =
			this.starts === 1 ? await N8nRest.setupOwner(this.main.baseUrl) : await N8nRest.login(this.main.baseUrl);
	}

	private async startWorkers(round: string): Promise<void> {
		for (const [index, home] of this.workerHomes.entries()) {
			this.running.push(
				await home.startWorker({
					name: `n8n worker ${index + 1}${round}`,
					// Workers build the resume URLs: on the address Studio reaches, the webhook process.
					extraEnv: { WEBHOOK_URL: `${this.receiver.baseUrl}/` },
				}),
			);
		}
	}

	/** Stops every process gracefully (SIGTERM, as a redeploy does), newest first, each waited for. */
	async stop(): Promise<void> {
		while (this.running.length > 0) await this.running.pop()!.stop(60_000);
	}
}
