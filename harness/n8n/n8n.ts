// A real n8n for the e2e tests and the demo: a throw-away user folder with our package installed as a
// community package, its CLI (import, publish, execute) and its long-running processes (start, worker).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PreparedPackage } from './communityPackage';
import { freePort, ManagedProcess, run } from '../processes';
import { until } from '../until';
import { ensureRuntime, runtimePath, type N8nRuntime } from './runtime';

export interface CredentialImport {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

/** The subset of an n8n workflow file the tests write by hand. */
export interface WorkflowImport {
	id: string;
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	active?: boolean;
	[key: string]: unknown;
}

export interface N8nHomeOptions {
	/** n8n version from e2e/runtime/, default 2.41.1. */
	version?: string;
	runtime?: N8nRuntime;
	/** Our package to install into the user folder; omit for a bare n8n. */
	package?: PreparedPackage;
	/** Shared by every process of one instance (main and workers). Default: a random key. */
	encryptionKey?: string;
	/** Extra environment, e.g. the database and queue settings. */
	env?: Record<string, string>;
	/** Print the processes' output with a prefix (the demo does, tests do not). */
	echo?: boolean;
	/** Where the throw-away folder goes; default the system temp dir. */
	parentDir?: string;
	/** n8n's HTTP port; default a free one. */
	port?: number;
}

/** Run data as `n8n execute --rawOutput` prints it (only what the tests read is typed). */
export interface ExecutionResult {
	status?: string;
	finished?: boolean;
	data: {
		resultData: {
			error?: { message?: string } & Record<string, unknown>;
			runData: Record<string, Array<NodeRun>>;
			lastNodeExecuted?: string;
		};
	};
}

export interface NodeRun {
	executionStatus?: string;
	error?: { message?: string } & Record<string, unknown>;
	data?: { main: Array<Array<OutputItem> | null> };
}

export interface OutputItem {
	json: Record<string, unknown>;
	pairedItem?: { item: number; input?: number } | Array<{ item: number }>;
	error?: { message?: string } & Record<string, unknown>;
}

// Variables a developer's shell may carry that would point n8n somewhere else.
// NODE_ENV=test (set by jest) makes n8n refuse to load nodes.
const INHERITED_PREFIXES = [
	'NODE_ENV',
	'N8N_',
	'DB_',
	'QUEUE_',
	'EXECUTIONS_',
	'WEBHOOK_',
	'GENERIC_',
	'NODE_OPTIONS',
	'NODE_PATH',
];

function baseEnvironment(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!INHERITED_PREFIXES.some((prefix) => key.startsWith(prefix))) env[key] = value;
	}
	return env;
}

/**
 * Settings from a variable of space-separated NAME=value pairs, e.g.
 * VGAI_E2E_N8N_ENV='N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true' to run every e2e n8n with that setting.
 */
export function envFromList(raw: string | undefined): Record<string, string> {
	return Object.fromEntries(
		(raw ?? '')
			.split(/\s+/)
			.filter((pair) => pair.includes('='))
			.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
	);
}

/** One n8n process's folder, ports and environment. Main and each worker get one each. */
export class N8nHome {
	private constructor(
		readonly runtime: N8nRuntime,
		readonly userFolder: string,
		readonly port: number,
		readonly brokerPort: number,
		readonly encryptionKey: string,
		private readonly extraEnv: Record<string, string>,
		readonly echo: boolean,
	) {}

	static async create(options: N8nHomeOptions = {}): Promise<N8nHome> {
		const runtime = options.runtime ?? (await ensureRuntime(options.version));
		const userFolder = mkdtempSync(join(options.parentDir ?? tmpdir(), `vgai-n8n-${runtime.version}-`));
		const n8nFolder = join(userFolder, '.n8n');
		mkdirSync(n8nFolder, { recursive: true });
		if (options.package) cpSync(options.package.nodesDir, join(n8nFolder, 'nodes'), { recursive: true });
		const port = options.port ?? (await freePort());
		let brokerPort = await freePort();
		while (brokerPort === port) brokerPort = await freePort();
		return new N8nHome(
			runtime,
			userFolder,
			port,
			brokerPort,
			options.encryptionKey ?? randomBytes(24).toString('hex'),
			options.env ?? {},
			options.echo ?? false,
		);
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** Production webhook URL of a Webhook node path or a trigger's path. */
	webhookUrl(path: string): string {
		return `${this.baseUrl}/webhook/${path.replace(/^\/+/, '')}`;
	}

	env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
		return {
			...baseEnvironment(),
			PATH: runtimePath(this.runtime),
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: this.encryptionKey,
			N8N_PORT: String(this.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_EDITOR_BASE_URL: `${this.baseUrl}/`,
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_SECURE_COOKIE: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			N8N_LOG_LEVEL: 'info',
			N8N_LOG_OUTPUT: 'console',
			N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
			N8N_DYNAMIC_BANNERS_ENABLED: 'false',
			N8N_DISABLED_MODULES: disabledModules(this.runtime),
			NO_COLOR: '1',
			...envFromList(process.env.VGAI_E2E_N8N_ENV),
			...this.extraEnv,
			...extra,
		};
	}

	/** Runs one n8n CLI command to completion. */
	async cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
		return await run(this.runtime.nodeBin, [this.runtime.n8nBin, ...args], {
			env: this.env(extraEnv),
			cwd: this.userFolder,
			timeoutMs: 5 * 60_000,
		});
	}

	private writeInput(name: string, content: unknown): string {
		const dir = join(this.userFolder, 'imports');
		mkdirSync(dir, { recursive: true });
		const file = join(dir, `${name}-${Date.now()}-${randomBytes(3).toString('hex')}.json`);
		writeFileSync(file, JSON.stringify(content, null, 2));
		return file;
	}

	/** Credentials with plain data; n8n encrypts them with N8N_ENCRYPTION_KEY on import. */
	async importCredentials(credentials: CredentialImport[]): Promise<void> {
		await this.cli(['import:credentials', `--input=${this.writeInput('credentials', credentials)}`]);
	}

	/** Imports inactive; publish the ones that must be active (before `start`). */
	async importWorkflows(workflows: WorkflowImport[]): Promise<void> {
		const inactive = workflows.map((workflow) => ({ settings: { executionOrder: 'v1' }, ...workflow, active: false }));
		await this.cli(['import:workflow', `--input=${this.writeInput('workflows', inactive)}`]);
	}

	async publishWorkflow(id: string): Promise<void> {
		await this.cli(['publish:workflow', `--id=${id}`]);
	}

	/** One-shot run of a workflow that starts with a Manual Trigger, in its own n8n process. */
	async execute(id: string): Promise<ExecutionResult> {
		let output: string;
		try {
			({ stdout: output } = await this.cli(['execute', `--id=${id}`, '--rawOutput']));
		} catch (error) {
			throw new Error(`n8n execute --id=${id} failed: ${(error as Error).message}`);
		}
		return parseRunOutput(output);
	}

	/** `n8n start`: resolves once the editor is accessible, which is when active webhooks answer. */
	async start(options: { extraEnv?: Record<string, string>; name?: string } = {}): Promise<ManagedProcess> {
		return await this.launch(
			options.name ?? `n8n ${this.runtime.version}`,
			['start'],
			this.env(options.extraEnv),
			/Editor is now accessible via/,
		);
	}

	/** Starts an n8n command and resolves once it prints `ready`; stops it again when it does not. */
	private async launch(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ManagedProcess> {
		const process = new ManagedProcess(name, this.runtime.nodeBin, [this.runtime.n8nBin, ...args], {
			env,
			cwd: this.userFolder,
			echo: this.echo,
		});
		try {
			await process.waitForOutput(ready, 120_000);
		} catch (error) {
			await process.stop();
			throw error;
		}
		return process;
	}

	/**
	 * n8n 2.41 registers published webhooks just after it says the editor is accessible: waits until each URL
	 * is registered. A GET to a POST-only webhook answers "not registered for GET requests" once it exists.
	 */
	async waitForWebhooks(urls: string[], timeoutMs = 60_000, server?: ManagedProcess): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		for (const url of urls) {
			for (;;) {
				const response = await fetch(url).catch(() => undefined);
				const text = response ? await response.text() : '';
				if (response && (response.ok || /not registered for GET/i.test(text))) break;
				if (Date.now() > deadline) {
					const log = server ? `\nn8n log:\n${server.tail(60)}` : '';
					throw new Error(`Webhook ${url} was not registered within ${timeoutMs} ms: ${text.slice(0, 200)}${log}`);
				}
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		}
	}

	/** `n8n worker` for queue mode; ready when it says it is waiting for jobs. */
	async startWorker(
		options: { name?: string; concurrency?: number; extraEnv?: Record<string, string> } = {},
	): Promise<ManagedProcess> {
		const healthPort = await freePort();
		const args = ['worker'];
		if (options.concurrency) args.push(`--concurrency=${options.concurrency}`);
		const env = this.env({
			...options.extraEnv,
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(healthPort),
			N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
		});
		return await this.launch(
			options.name ?? 'n8n worker',
			args,
			env,
			/n8n worker is now ready|Worker ready|waiting for jobs/i,
		);
	}

	/**
	 * `n8n webhook` for queue mode: a process that only serves production webhook URLs (on this home's port) and
	 * hands the executions to the workers, like the ones users put behind a load balancer.
	 */
	async startWebhookProcess(options: { name?: string } = {}): Promise<ManagedProcess> {
		return await this.launch(
			options.name ?? 'n8n webhook',
			['webhook'],
			this.env(),
			/Webhook listener waiting for requests/,
		);
	}

	/** Deletes the user folder (its SQLite database, imports and installed package). */
	remove(): void {
		rmSync(this.userFolder, { recursive: true, force: true });
	}
}

// Modules that only fetch from n8n's own servers, which these machines cannot reach (noise in the logs).
const OFFLINE_UNUSED_MODULES = ['mcp-registry'];

/** The unused modules this n8n version knows (an unknown name in N8N_DISABLED_MODULES stops n8n). */
function disabledModules(runtime: N8nRuntime): string {
	const config = join(runtime.dir, 'node_modules', '@n8n', 'backend-common', 'dist', 'modules', 'modules.config.js');
	const known = existsSync(config) ? readFileSync(config, 'utf8') : '';
	return OFFLINE_UNUSED_MODULES.filter((name) => known.includes(`'${name}'`)).join(',');
}

export const DEMO_OWNER = {
	email: 'demo@example.com',
	firstName: 'Demo',
	lastName: 'Owner',
	password: 'Vonage-demo-2026',
};

/** One execution in n8n's list of executions. */
export interface ExecutionSummary {
	id: string;
	/** success, error, waiting, running, canceled, ... */
	status: string;
	startedAt: string;
	stoppedAt: string;
	/** manual, webhook, trigger, integrated (a sub-workflow), ... */
	mode?: string;
	/** The size of its stored data (run data and workflow), as n8n 2.41 records it. */
	jsonSizeBytes?: number;
}

/** A logged-in REST session on a running n8n (its internal /rest API, as the editor uses it). */
export class N8nRest {
	private constructor(
		readonly baseUrl: string,
		private readonly cookie: string,
	) {}

	/** Creates the instance owner on a fresh n8n (the imported shell owner), and logs in as it. */
	static async setupOwner(baseUrl: string, owner = DEMO_OWNER): Promise<N8nRest> {
		const response = await fetch(`${baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(owner),
		});
		if (!response.ok) throw new Error(`Owner setup failed: ${response.status} ${await response.text()}`);
		return new N8nRest(baseUrl, N8nRest.sessionCookie(response));
	}

	/** Logs in as the owner made by setupOwner (after n8n was restarted, say). */
	static async login(baseUrl: string, owner = DEMO_OWNER): Promise<N8nRest> {
		const response = await fetch(`${baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: owner.email, password: owner.password }),
		});
		if (!response.ok) throw new Error(`Login failed: ${response.status} ${await response.text()}`);
		return new N8nRest(baseUrl, N8nRest.sessionCookie(response));
	}

	private static sessionCookie(response: Response): string {
		const cookie = (response.headers.getSetCookie?.() ?? []).map((line) => line.split(';')[0]).join('; ');
		if (!cookie) throw new Error(`${response.url} answered without a session cookie`);
		return cookie;
	}

	async get<T = unknown>(path: string): Promise<T> {
		return await this.request<T>('GET', path);
	}

	async post<T = unknown>(path: string, body: unknown): Promise<T> {
		return await this.request<T>('POST', path, body);
	}

	/** A workflow's executions (the newest 100) and how many it has in all. */
	async executions(workflowId: string): Promise<{ count: number; results: ExecutionSummary[] }> {
		const filter = encodeURIComponent(JSON.stringify({ workflowId }));
		return (
			await this.get<{ data: { count: number; results: ExecutionSummary[] } }>(
				`/rest/executions?filter=${filter}&limit=100`,
			)
		).data;
	}

	/** One execution with its run data (which nodes ran, with which items), as the editor's execution view reads it. */
	async execution(id: string): Promise<{ status: string; runData: ExecutionResult['data']['resultData']['runData'] }> {
		const { data } = await this.get<{ data: { status: string; data: string } }>(`/rest/executions/${id}`);
		const run = unflatten(data.data) as ExecutionResult['data'];
		return { status: data.status, runData: run.resultData.runData };
	}

	/**
	 * Waits until the execution a resume URL (/webhook-waiting/<execution>/…) belongs to is saved as waiting:
	 * before that, n8n answers 409 to anything posted to the URL.
	 */
	async untilWaiting(workflowId: string, resumeUrl: string, timeoutMs = 20_000): Promise<void> {
		const segments = new URL(resumeUrl).pathname.split('/');
		const executionId = segments[segments.indexOf('webhook-waiting') + 1];
		if (!/^\d+$/.test(executionId ?? '')) throw new Error(`Not a resume URL: ${resumeUrl}`);
		await until(
			`execution ${executionId} waiting`,
			async () =>
				(await this.executions(workflowId)).results.some(
					(each) => String(each.id) === executionId && each.status === 'waiting',
				),
			timeoutMs,
			200,
		);
	}

	/** The headers the editor's requests carry: its session cookie and browser ID. */
	get headers(): Record<string, string> {
		return { cookie: this.cookie, 'browser-id': 'e2e' };
	}

	private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
		const send = () =>
			fetch(`${this.baseUrl}${path}`, {
				method,
				headers: {
					...this.headers,
					...(body === undefined ? {} : { 'content-type': 'application/json' }),
				},
				body: body === undefined ? undefined : JSON.stringify(body),
			});
		// A kept-alive connection n8n closed as it was reused (seen while n8n was busy with a big execution): a GET
		// changes nothing, so it is asked again once on a fresh connection.
		const response = await send().catch((error: Error) => {
			if (method !== 'GET' || !/ECONNRESET|UND_ERR_SOCKET/.test(String((error.cause as Error)?.message ?? error)))
				throw error;
			return send();
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
		return JSON.parse(text) as T;
	}
}

/**
 * Reads n8n's stored run data (the "flatted" form: one JSON array in which every object and string inside an
 * object is written as the index of its entry), so a script needs no package for it.
 */
export function unflatten(text: string): unknown {
	const table = JSON.parse(text) as unknown[];
	const revived = new Map<number, unknown>();
	const revive = (index: number): unknown => {
		if (revived.has(index)) return revived.get(index);
		const entry = table[index];
		if (entry === null || typeof entry !== 'object') return entry;
		const copy: Record<string, unknown> | unknown[] = Array.isArray(entry) ? [] : {};
		revived.set(index, copy);
		for (const [key, value] of Object.entries(entry)) {
			(copy as Record<string, unknown>)[key] = typeof value === 'string' ? revive(Number(value)) : value;
		}
		return copy;
	};
	return revive(0);
}

/** `n8n execute --rawOutput` prints log lines around one pretty-printed JSON document. */
export function parseRunOutput(stdout: string): ExecutionResult {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line === '{');
	const end = lines.lastIndexOf('}');
	if (start === -1 || end < start) throw new Error(`No run data in n8n execute output:\n${stdout.slice(-3000)}`);
	return JSON.parse(lines.slice(start, end + 1).join('\n')) as ExecutionResult;
}

/** Items of one output of a node's first run. */
export function outputItems(result: ExecutionResult, nodeName: string, output = 0): OutputItem[] {
	const runs = result.data.resultData.runData[nodeName];
	if (!runs)
		throw new Error(`Node "${nodeName}" did not run; ran: ${Object.keys(result.data.resultData.runData).join(', ')}`);
	return runs[0]?.data?.main[output] ?? [];
}
