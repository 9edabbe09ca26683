// n8n in queue mode for the e2e tests: one PostgreSQL and one Redis, a user folder for main, each worker and an
// optional `n8n webhook` process, all with the same package, database, queue and encryption key.
import { startRedis, type RedisServer, type RedisServerOptions } from '../redisServer';
import type { Stack } from '../processes';
import type { PreparedPackage } from './communityPackage';
import { N8nHome } from './n8n';
import { startPostgres, type PostgresServer } from './postgres';

export interface QueueMode {
	postgres: PostgresServer;
	redis: RedisServer;
	main: N8nHome;
	workerHomes: N8nHome[];
	webhookHome?: N8nHome;
}

/** Starts the servers and prepares the user folders (stopped and removed by `stack`); starts no n8n process. */
export async function prepareQueueMode(
	stack: Stack,
	prepared: PreparedPackage,
	options: {
		workers: number;
		webhookProcess?: boolean;
		/** How the one Redis runs (e.g. keeping its data across a restart). */
		redis?: RedisServerOptions;
		/** More settings for every n8n process. */
		env?: Record<string, string>;
		/** Print the processes' output. */
		echo?: boolean;
	},
): Promise<QueueMode> {
	const postgres = stack.add(await startPostgres());
	const redis = await startRedis(options.redis);
	stack.defer('redis', () => redis.stop());
	const env = {
		...postgres.n8nEnv,
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		...options.env,
	};
	const main = await N8nHome.create({ package: prepared, env, echo: options.echo });
	stack.defer('main user folder', () => main.remove());
	const sibling = async (what: string) => {
		const home = await N8nHome.create({
			package: prepared,
			env,
			encryptionKey: main.encryptionKey,
			echo: options.echo,
		});
		stack.defer(`${what} user folder`, () => home.remove());
		return home;
	};
	const workerHomes = await Promise.all(Array.from({ length: options.workers }, () => sibling('worker')));
	const webhookHome = options.webhookProcess ? await sibling('webhook process') : undefined;
	return { postgres, redis, main, workerHomes, webhookHome };
}
