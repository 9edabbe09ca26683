// The rate-gate benchmark (issue 3), against the Studio simulator over real HTTP on 127.0.0.1:
//   npm run bench                 full sizes (about 5 minutes: tier 1 × 200 sends alone takes 205 s)
//   npm run bench -- --quick      small sizes, about half a minute
// Sizes: flags below or BENCH_* environment variables (flags win). `--help` lists them.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dispatchSends, type DispatchJob } from '../nodes/shared/dispatcher';
import { DEFAULT_MARGIN_MS, LocalRateGate, closeAllRateGates, getRateGate } from '../nodes/shared/rateGate';
import { MemorySendLedger, type SendLedger } from '../nodes/shared/sendLedger';
import { STUDIO_PATHS } from '../nodes/shared/studioApi';
import { closeAllPools, postToStudio, type StudioResponse } from '../nodes/shared/transport';
import { request } from 'undici';
import type { AcceptedSession } from '../test/simulator/simulator';
import { maxInAnyWindow } from '../test/simulator/windows';
import { startRedis } from '../test/support/redisServer';
import type { GateWorkerResult } from '../test/shared/gateWorker';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

const HELP = `npm run bench -- [options]
  --quick                 small sizes (a smoke run)
  --sends N               sends per tier/latency run (default 200, quick 20)          BENCH_SENDS
  --tiers 1,3,5           tiers to pace at (default 1,3,5)                            BENCH_TIERS
  --latencies 150,600     simulated Studio latencies in ms (default 150,600)          BENCH_LATENCIES
  --users-sends N         sends per execution paced like HTTP Request Batching        BENCH_USERS_SENDS
                          (one start every 1000 ms; default 200, quick 15)
  --concurrent-sends N    sends in all for the 8 concurrent executions (default 200)  BENCH_CONCURRENT_SENDS
  --concurrent-tier N     tier for the concurrent and Redis runs (default 5)          BENCH_CONCURRENT_TIER
  --redis-sends N         sends in all for the 3 processes sharing Redis (default 201)BENCH_REDIS_SENDS
  --cpu-items N           items for the CPU and memory run at tier 10000 (10000)      BENCH_CPU_ITEMS
  --margin MS             gate safety margin (default ${DEFAULT_MARGIN_MS})                           BENCH_MARGIN_MS
  --only LIST             pacing,users,concurrent,redis,cpu (default all)             BENCH_ONLY
  --sequential            run the timed sections one after another instead of side by side
`;

interface BenchOptions {
	sends: number;
	tiers: number[];
	latencies: number[];
	usersSends: number;
	concurrentSends: number;
	concurrentTier: number;
	redisSends: number;
	cpuItems: number;
	marginMs: number;
	only: Set<string>;
	sequential: boolean;
}

function readOptions(): BenchOptions | undefined {
	const { values } = parseArgs({
		options: {
			help: { type: 'boolean', short: 'h' },
			quick: { type: 'boolean' },
			sends: { type: 'string' },
			tiers: { type: 'string' },
			latencies: { type: 'string' },
			'users-sends': { type: 'string' },
			'concurrent-sends': { type: 'string' },
			'concurrent-tier': { type: 'string' },
			'redis-sends': { type: 'string' },
			'cpu-items': { type: 'string' },
			margin: { type: 'string' },
			only: { type: 'string' },
			sequential: { type: 'boolean' },
		},
	});
	if (values.help) {
		process.stdout.write(HELP);
		return undefined;
	}
	const quick = values.quick ?? process.env.BENCH_QUICK === '1';
	const pick = (flag: string | undefined, env: string, full: string, small: string) =>
		flag ?? process.env[env] ?? (quick ? small : full);
	const number = (text: string, name: string) => {
		const value = Number(text);
		if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
		return value;
	};
	const numbers = (text: string, name: string) => text.split(',').map((part) => number(part.trim(), name));
	return {
		sends: number(pick(values.sends, 'BENCH_SENDS', '200', '20'), 'sends'),
		tiers: numbers(pick(values.tiers, 'BENCH_TIERS', '1,3,5', '1,3,5'), 'tiers'),
		latencies: numbers(pick(values.latencies, 'BENCH_LATENCIES', '150,600', '150,600'), 'latencies'),
		usersSends: number(pick(values['users-sends'], 'BENCH_USERS_SENDS', '200', '15'), 'users-sends'),
		concurrentSends: number(pick(values['concurrent-sends'], 'BENCH_CONCURRENT_SENDS', '200', '48'), 'concurrent-sends'),
		concurrentTier: number(pick(values['concurrent-tier'], 'BENCH_CONCURRENT_TIER', '5', '5'), 'concurrent-tier'),
		redisSends: number(pick(values['redis-sends'], 'BENCH_REDIS_SENDS', '201', '30'), 'redis-sends'),
		cpuItems: number(pick(values['cpu-items'], 'BENCH_CPU_ITEMS', '10000', '2000'), 'cpu-items'),
		marginMs: Number(pick(values.margin, 'BENCH_MARGIN_MS', String(DEFAULT_MARGIN_MS), String(DEFAULT_MARGIN_MS))),
		only: new Set(pick(values.only, 'BENCH_ONLY', 'pacing,users,concurrent,redis,cpu', 'pacing,users,concurrent,redis,cpu').split(',')),
		sequential: values.sequential ?? false,
	};
}

// ---------------------------------------------------------------------------------------------------------

let contactCounter = 0;

function whatsappBody() {
	contactCounter++;
	return {
		namespace: 'ns-bench',
		template: 'appointment_reminder',
		locale: 'en_US',
		to: `4477${String(contactCounter).padStart(8, '0')}`,
		agent_id: 'agent-bench',
		channel: 'whatsapp',
		status_url: 'http://127.0.0.1:9/status',
	};
}

function sendJobs(url: string, apiKey: string, count: number, keyPrefix: string): Array<DispatchJob<StudioResponse>> {
	return Array.from({ length: count }, (_, index) => {
		const body = whatsappBody();
		return {
			index,
			ledgerKey: `${keyPrefix}/${index}`,
			send: () => postToStudio(url, STUDIO_PATHS.messagingConversation, body, apiKey),
		};
	});
}

interface Measured {
	label: string;
	tier: number;
	sent: number;
	requests: number;
	tooMany: number;
	/** Sustained rate ÷ tier: 1000 ms over the mean time between arrivals `tier` places apart (fair to bursts). */
	rateRatio: number;
	maxInWindow: number;
	/** Smallest distance between an arrival and the one `tier` places later: ≥ 1000 means no window over. */
	closestSpanMs: number;
	seconds: number;
}

function measure(label: string, tier: number, state: SimulatorState, startedAt: number): Measured {
	const arrivals = state.sessions.map((s) => s.arrivedAt).sort((a, b) => a - b);
	let closest = Infinity;
	let total = 0;
	for (let i = 0; i + tier < arrivals.length; i++) {
		closest = Math.min(closest, arrivals[i + tier] - arrivals[i]);
		total += arrivals[i + tier] - arrivals[i];
	}
	const meanTierSpan = total / (arrivals.length - tier);
	return {
		label,
		tier,
		sent: state.sessions.length,
		requests: state.requestCount,
		tooMany: state.tooManyRequests,
		rateRatio: 1000 / meanTierSpan,
		maxInWindow: maxInAnyWindow(arrivals, 1000),
		closestSpanMs: closest,
		seconds: (performance.now() - startedAt) / 1000,
	};
}

function line(m: Measured): string {
	const pad = (text: string, width: number) => text.padEnd(width);
	return (
		`${pad(m.label, 44)} ${pad(`${m.sent}/${m.requests}`, 9)} rate÷tier ${m.rateRatio.toFixed(3)}  ` +
		`max in 1 s ${m.maxInWindow} (tier ${m.tier})  429s ${String(m.tooMany).padEnd(4)} ` +
		`closest ${m.tier}-apart ${Number.isFinite(m.closestSpanMs) ? m.closestSpanMs.toFixed(1) : '-'} ms  ${m.seconds.toFixed(1)} s`
	);
}

const print = (text = '') => process.stdout.write(`${text}\n`);

/** For each 429 through the gate: when it came, and how far it was from the accepted arrival `tier` before it. */
function explain429s(state: SimulatorState, tier: number): void {
	const first = state.requests[0]?.arrivedAt ?? 0;
	const accepted: number[] = [];
	for (const req of state.requests) {
		if (req.status === 429) {
			const before = accepted.length >= tier ? accepted[accepted.length - tier] : undefined;
			print(
				`    429 at +${((req.arrivedAt - first) / 1000).toFixed(3)} s, ` +
					(before === undefined ? 'fewer than tier accepted before it' : `${(req.arrivedAt - before).toFixed(1)} ms after the accepted arrival ${tier} places back`),
			);
		} else if (req.status >= 200 && req.status < 300) {
			accepted.push(req.arrivedAt);
		}
	}
}

interface Bar {
	name: string;
	ok: boolean;
	detail: string;
}
const bars: Bar[] = [];
function bar(name: string, ok: boolean, detail: string): void {
	bars.push({ name, ok, detail });
}

// --- sections ----------------------------------------------------------------------------------------------

async function pacingRun(sim: RemoteSimulator, tier: number, latencyMs: number, sends: number, marginMs: number): Promise<Measured> {
	const apiKey = `bench-pacing-${tier}-${latencyMs}`;
	const gate = getRateGate({ region: 'eu', apiKey, tier, marginMs });
	const startedAt = performance.now();
	await dispatchSends(sendJobs(sim.url, apiKey, sends, `pacing-${tier}-${latencyMs}`), {
		gate,
		ledger: new MemorySendLedger(),
		maxInFlight: 16,
	});
	const state = await sim.state();
	const m = measure(`gate: tier ${tier}, latency ${latencyMs} ms, ${sends} sends`, tier, state, startedAt);
	print(line(m));
	explain429s(state, tier);
	bar(
		`tier ${tier} / ${latencyMs} ms: rate ≥ 0.97 × tier, 0 windows over, 0 × 429`,
		m.rateRatio >= 0.97 && m.maxInWindow <= tier && m.tooMany === 0 && m.sent === sends,
		`${m.rateRatio.toFixed(3)}, max ${m.maxInWindow}, 429s ${m.tooMany}`,
	);
	return m;
}

/** HTTP Request "Batching" (1 item per 1000 ms): each start waits 1000 ms after the previous start, no gate. */
async function batchingLikeToday(url: string, apiKey: string, count: number, offsetMs: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, offsetMs));
	const pending: Array<Promise<unknown>> = [];
	for (let i = 0; i < count; i++) {
		if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
		pending.push(postToStudio(url, STUDIO_PATHS.messagingConversation, whatsappBody(), apiKey).catch(() => undefined));
	}
	await Promise.all(pending);
}

async function usersToday(sim: RemoteSimulator, executions: number, sends: number): Promise<Measured> {
	const apiKey = `bench-users-${executions}`;
	const startedAt = performance.now();
	// Executions triggered by a CRM start at unrelated moments within the first second.
	await Promise.all(
		Array.from({ length: executions }, (_, e) => batchingLikeToday(sim.url, apiKey, sends, e === 0 ? 0 : Math.random() * 1000)),
	);
	const label = `today (Batching 1/1000 ms): ${executions} execution${executions > 1 ? 's' : ''} × ${sends}`;
	const m = measure(label, 1, await sim.state(), startedAt);
	print(`${line(m)}  accepted ${((100 * m.sent) / m.requests).toFixed(1)} %`);
	return m;
}

async function concurrentExecutions(
	sim: RemoteSimulator,
	executions: number,
	total: number,
	tier: number,
	marginMs: number,
): Promise<Measured> {
	const apiKey = 'bench-concurrent';
	const perExecution = Math.ceil(total / executions);
	const startedAt = performance.now();
	await Promise.all(
		Array.from({ length: executions }, (_, e) =>
			dispatchSends(sendJobs(sim.url, apiKey, perExecution, `exec-${e}`), {
				// Each execution looks its gate up the way the node does: one shared gate per account.
				gate: getRateGate({ region: 'eu', apiKey, tier, marginMs }),
				ledger: new MemorySendLedger(),
			}),
		),
	);
	const state = await sim.state();
	const m = measure(`gate: ${executions} executions at once × ${perExecution}, tier ${tier}`, tier, state, startedAt);
	print(line(m));
	explain429s(state, tier);
	bar(
		`${executions} concurrent executions: aggregate ≥ 0.95 × tier, 0 windows over`,
		m.rateRatio >= 0.95 && m.maxInWindow <= tier && m.tooMany === 0,
		`${m.rateRatio.toFixed(3)}, max ${m.maxInWindow}, 429s ${m.tooMany}`,
	);
	return m;
}

async function redisProcesses(processes: number, total: number, tier: number): Promise<Measured> {
	const apiKey = 'bench-redis';
	const redis = await startRedis();
	const server = await simulatorsProcess([{ apiKey, tier, latencyMs: 150 }]);
	const sim = server.simulators[0];
	const children: ChildProcess[] = [];
	try {
		const perProcess = Math.ceil(total / processes);
		for (let p = 1; p <= processes; p++) {
			children.push(
				spawn(TSX, [join(ROOT, 'test', 'shared', 'gateWorker.ts')], {
					cwd: ROOT,
					env: {
						...process.env,
						GATE_WORKER_ID: String(p),
						GATE_WORKER_COUNT: String(perProcess),
						GATE_WORKER_TIER: String(tier),
						GATE_WORKER_STUDIO_URL: sim.url,
						GATE_WORKER_API_KEY: apiKey,
						GATE_WORKER_REDIS_URL: redis.url,
					},
					stdio: ['pipe', 'pipe', 'inherit'],
				}),
			);
		}
		const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
		const lines = children.map((child) => createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
		for (const next of lines) await next.next(); // "ready"
		const startedAt = performance.now();
		for (const child of children) child.stdin!.end('go\n');
		const results: GateWorkerResult[] = [];
		for (const next of lines) results.push(JSON.parse((await next.next()).value as string) as GateWorkerResult);
		await Promise.all(exited);
		const state = await sim.state();
		const m = measure(`gate in Redis: ${processes} processes × ${perProcess}, tier ${tier}`, tier, state, startedAt);
		const failed = results.reduce((sum, r) => sum + r.failed, 0);
		print(`${line(m)}${failed ? `  failed ${failed}` : ''}`);
		explain429s(state, tier);
		bar(
			`${processes} processes sharing Redis: aggregate ≥ 0.95 × tier, 0 windows over`,
			m.rateRatio >= 0.95 && m.maxInWindow <= tier && m.tooMany === 0 && failed === 0,
			`${m.rateRatio.toFixed(3)}, max ${m.maxInWindow}, 429s ${m.tooMany}`,
		);
		return m;
	} finally {
		for (const child of children) if (child.exitCode === null) child.kill();
		await server.stop();
		await redis.stop();
	}
}

interface SimulatorState {
	sessions: AcceptedSession[];
	requestCount: number;
	requests: Array<{ arrivedAt: number; status: number }>;
	tooManyRequests: number;
}

interface RemoteSimulator {
	url: string;
	state(): Promise<SimulatorState>;
}

interface SimulatorConfig {
	apiKey: string;
	tier: number;
	latencyMs?: number;
}

/**
 * The simulators in one process of their own, as Studio is another machine: arrival times are stamped on that
 * process's event loop, not skewed by this process's work or pauses, and this process's CPU is only the sender's.
 */
async function simulatorsProcess(configs: SimulatorConfig[]): Promise<{ simulators: RemoteSimulator[]; stop(): Promise<void> }> {
	const child = spawn(TSX, [join(ROOT, 'bench', 'simulators.ts'), JSON.stringify(configs)], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const exited = new Promise((resolve) => child.once('exit', resolve));
	const first = (await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value as string | undefined;
	let urls: string[];
	try {
		urls = JSON.parse(first ?? '') as string[];
	} catch {
		child.kill();
		throw new Error(`the simulators did not start: ${first}`);
	}
	const simulators = urls.map((url) => ({
		url,
		state: async () => {
			const response = await request(`${url}/_simulator/state`);
			return (await response.body.json()) as SimulatorState;
		},
	}));
	// A fresh server stamps its first arrivals late (cold code paths), which would crowd the next second at
	// arrival; a real Studio is warm. One accepted request each through the same client, then a reset.
	await Promise.all(
		simulators.map(async (sim, at) => {
			await postToStudio(sim.url, STUDIO_PATHS.messagingConversation, whatsappBody(), configs[at].apiKey);
			await (await request(`${sim.url}/_simulator/reset`, { method: 'POST' })).body.dump();
		}),
	);
	return {
		simulators,
		stop: async () => {
			if (child.exitCode === null) child.kill('SIGTERM');
			await exited;
		},
	};
}

async function cpuAndMemory(items: number): Promise<void> {
	setFlagsFromString('--expose-gc');
	const gc = runInNewContext('gc') as () => void;
	const tier = 10_000; // test-only: far above any real tier
	const open = 1_000_000_000; // a gate that never waits: what the work itself costs
	const apiKey = 'bench-cpu';
	const server = await simulatorsProcess([{ apiKey, tier: open }]);
	const sim = server.simulators[0];
	try {
		const cpuMs = (since: NodeJS.CpuUsage) => {
			const used = process.cpuUsage(since);
			return (used.user + used.system) / 1000;
		};
		const run = (gateTier: number, count: number, prefix: string, ledger: SendLedger) =>
			dispatchSends(sendJobs(sim.url, apiKey, count, prefix), { gate: new LocalRateGate({ tier: gateTier }), ledger, maxInFlight: 16 });

		await run(open, 500, 'warm-up', new MemorySendLedger()); // JIT, keep-alive connections

		// A same-size run first: it measures the work without waits, and lets V8 grow its young generation
		// (tens of MB it keeps), so the RSS figure below is what the items themselves add.
		gc();
		const rssFresh = process.memoryUsage().rss;
		let cpu = process.cpuUsage();
		await run(open, items, 'unpaced', new MemorySendLedger());
		const workMs = cpuMs(cpu) / items;
		gc();
		const rssFirstMb = (process.memoryUsage().rss - rssFresh) / 1024 / 1024;

		// At tier 10 000 the gate spaces starts 0.1 ms apart; its sub-millisecond waits poll the clock
		// (setImmediate) to stay punctual, so this figure includes waiting and is an upper bound.
		const ledger = new MemorySendLedger();
		gc();
		const rssBefore = process.memoryUsage().rss;
		const heapBefore = process.memoryUsage().heapUsed;
		cpu = process.cpuUsage();
		const startedAt = performance.now();
		const results = await run(tier, items, 'paced', ledger);
		const pacedMs = cpuMs(cpu) / items;
		const seconds = (performance.now() - startedAt) / 1000;
		gc();
		const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
		const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
		const sent = results.filter((r) => r.outcome === 'sent').length;

		// Without HTTP: the gate, dispatcher and ledger by themselves.
		const localJobs = Array.from({ length: items }, (_, index) => ({
			index,
			ledgerKey: `no-http/${index}`,
			send: async () => ({ statusCode: 200, body: { session_id: String(index) } }),
		}));
		cpu = process.cpuUsage();
		await dispatchSends(localJobs, { gate: new LocalRateGate({ tier: open }), ledger: new MemorySendLedger(), maxInFlight: 16 });
		const gateMs = cpuMs(cpu) / items;

		print(`CPU and memory, ${items} items, simulator in its own process (${sent} sent at tier ${tier} in ${seconds.toFixed(1)} s):`);
		print(`  CPU per item, whole send path (gate, ledger, dispatcher, HTTP client, JSON), no waits: ${workMs.toFixed(3)} ms`);
		print(`  CPU per item, the same paced at tier ${tier} (includes the gate's clock polling):      ${pacedMs.toFixed(3)} ms`);
		print(`  CPU per item, gate + ledger + dispatcher alone (no HTTP, no waits):                 ${gateMs.toFixed(4)} ms`);
		print(`  RSS growth over the first ${items} items (after GC; V8 grows its heap here):              ${rssFirstMb.toFixed(1)} MB`);
		print(`  RSS growth over ${items} more items at tier ${tier} (after GC, ledger holding every item): ${rssGrowthMb.toFixed(1)} MB`);
		print(`  of which live JS heap after GC (ledger entries, results, the items):                ${heapGrowthMb.toFixed(1)} MB`);
		bar('CPU per item excluding waits < 0.3 ms', workMs < 0.3 && pacedMs < 0.3, `${workMs.toFixed(3)} ms (${pacedMs.toFixed(3)} ms paced at ${tier}/s)`);
		bar(
			`RSS growth over ${items} items < 50 MB`,
			rssFirstMb < 50 && rssGrowthMb < 50,
			`${rssFirstMb.toFixed(1)} MB fresh, ${rssGrowthMb.toFixed(1)} MB once warm`,
		);
	} finally {
		await server.stop();
	}
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
	const options = readOptions();
	if (!options) return;
	const { only } = options;
	print(
		`Rate gate benchmark: margin ${options.marginMs} ms (sustained ceiling ${(1000 / (1000 + options.marginMs)).toFixed(3)} × tier), ` +
			`Node ${process.version}, ${options.sequential ? 'sections one after another' : 'timed sections side by side'}`,
	);
	print('columns: sessions accepted/requests, sustained rate ÷ tier, busiest 1 s window, 429 answers, closest gap between');
	print('arrivals tier places apart (≥ 1000 ms means no window over), wall time');
	print();

	// Every simulator is started (in one server process) before anything is timed.
	const configs: SimulatorConfig[] = [];
	const sections: Array<(sims: RemoteSimulator[]) => Promise<unknown>> = [];
	const simulator = (config: SimulatorConfig) => configs.push(config) - 1;
	const today: Measured[] = [];
	if (only.has('pacing')) {
		for (const tier of options.tiers) {
			for (const latency of options.latencies) {
				const at = simulator({ apiKey: `bench-pacing-${tier}-${latency}`, tier, latencyMs: latency });
				sections.push((sims) => pacingRun(sims[at], tier, latency, options.sends, options.marginMs));
			}
		}
	}
	if (only.has('users')) {
		const alone = simulator({ apiKey: 'bench-users-1', tier: 1, latencyMs: 150 });
		const three = simulator({ apiKey: 'bench-users-3', tier: 1, latencyMs: 150 });
		sections.push(async (sims) => today.push(await usersToday(sims[alone], 1, options.usersSends)));
		sections.push(async (sims) => today.push(await usersToday(sims[three], 3, options.usersSends)));
	}
	if (only.has('concurrent')) {
		const at = simulator({ apiKey: 'bench-concurrent', tier: options.concurrentTier, latencyMs: 150 });
		sections.push((sims) => concurrentExecutions(sims[at], 8, options.concurrentSends, options.concurrentTier, options.marginMs));
	}
	if (sections.length > 0) {
		const server = await simulatorsProcess(configs);
		try {
			if (options.sequential) {
				for (const section of sections) await section(server.simulators);
			} else {
				await Promise.all(sections.map((section) => section(server.simulators)));
			}
		} finally {
			await server.stop();
		}
	}
	if (today.length > 0) {
		print(
			`users today, share of sessions accepted: ${[...today]
				.sort((a, b) => a.label.localeCompare(b.label))
				.map((m) => `${m.label.replace(/^today \(Batching 1\/1000 ms\): /, '')} → ${((100 * m.sent) / m.requests).toFixed(1)} %`)
				.join(', ')} (through the gate: 100 % at every tier above)`,
		);
	}
	if (only.has('redis')) await redisProcesses(3, options.redisSends, options.concurrentTier);
	if (only.has('cpu')) await cpuAndMemory(options.cpuItems);

	await closeAllRateGates();
	await closeAllPools();

	print();
	print('Bars from issue 3:');
	for (const b of bars) print(`  ${b.ok ? 'PASS' : 'FAIL'}  ${b.name}: ${b.detail}`);
	if (bars.some((b) => !b.ok)) process.exitCode = 1;
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
