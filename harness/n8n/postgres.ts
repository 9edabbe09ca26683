// A throw-away PostgreSQL server (Debian's postgresql package) on 127.0.0.1 and a free port, for n8n queue mode.
// initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess, run, type Stoppable } from '../processes';

export interface PostgresServer extends Stoppable {
	port: number;
	database: string;
	user: string;
	/** n8n's settings for this database. */
	n8nEnv: Record<string, string>;
	/** Runs SQL with psql; each row a line, its columns separated by "|". */
	query(sql: string): Promise<string[]>;
}

function binDir(): string {
	if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
	const root = '/usr/lib/postgresql';
	const versions = existsSync(root)
		? readdirSync(root)
				.filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (versions.length === 0) {
		throw new Error('PostgreSQL server binaries not found in /usr/lib/postgresql: apt-get install -y postgresql');
	}
	return join(root, versions[0], 'bin');
}

function postgresUser(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
	const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
	return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
	const bin = binDir();
	const owner = postgresUser();
	const root = mkdtempSync(join(tmpdir(), 'vgai-postgres-'));
	chmodSync(root, 0o755);
	const dataDir = join(root, 'data');
	if (owner) chownSync(root, owner.uid, owner.gid);
	const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
	const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };

	await run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
		...asOwner,
		env,
		cwd: root,
		timeoutMs: 120_000,
	});
	const port = await freePort();
	const server = new ManagedProcess(
		'postgres',
		join(bin, 'postgres'),
		[
			'-D',
			dataDir,
			'-p',
			String(port),
			'-c',
			'listen_addresses=127.0.0.1',
			'-c',
			`unix_socket_directories=${root}`,
			'-c',
			'fsync=off',
			'-c',
			'synchronous_commit=off',
			'-c',
			'full_page_writes=off',
			'-c',
			'max_connections=200',
		],
		// SIGINT is Postgres's fast shutdown: roll back open transactions, stop at once.
		{ ...asOwner, env, cwd: root, stopSignal: 'SIGINT' },
	);
	try {
		await server.waitForOutput(/database system is ready to accept connections/, 60_000);
	} catch (error) {
		await server.stop();
		rmSync(root, { recursive: true, force: true });
		throw error;
	}
	return {
		name: 'postgres',
		port,
		database: 'postgres',
		user: 'postgres',
		n8nEnv: {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(port),
			DB_POSTGRESDB_DATABASE: 'postgres',
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
		},
		query: async (sql) => {
			const { stdout } = await run(
				join(bin, 'psql'),
				[
					'-h',
					'127.0.0.1',
					'-p',
					String(port),
					'-U',
					'postgres',
					'-d',
					'postgres',
					'-AtX',
					'-v',
					'ON_ERROR_STOP=1',
					'-c',
					sql,
				],
				{ env, timeoutMs: 120_000 },
			);
			return stdout.split('\n').filter((line) => line !== '');
		},
		stop: async () => {
			await server.stop();
			rmSync(root, { recursive: true, force: true });
		},
	};
}
