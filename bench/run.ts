// The rate-gate benchmark, against the Studio simulator over real HTTP on 127.0.0.1, on links whose requests take a
// varying time to reach Studio's limiter (the simulator's --arrival-delay shapes):
//   npm run bench                 full sizes (about 8 minutes: tier 1 × 300 sends alone takes 5½)
//   npm run bench -- --quick      small sizes, about a minute
//   npm run bench -- --only first the first sends of a fresh gate (issue 21) and the demo's link, several seeds, about 6 minutes
// Sizes: flags below or BENCH_* environment variables (flags win). `--help` lists them.
import { spawn, type ChildProcess } from 'node:child_process';
import { preciseClock } from '../editions/queue/clock';
import { dispatch } from '../harness/dispatch';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type DispatchJob } from '../core/dispatcher';
import { LocalRateGate, type RateGate } from '../core/rateGate';
import { closeShared, sharedGate } from '../harness/accounts';
import { MemorySendLedger, type SendLedger } from '../core/sendLedger';
import { STUDIO_PATHS } from '../core/studioApi';
import { postToStudio } from '../editions/queue/transport';
import type { StudioResponse } from '../core/ports';
import { delaySpreadMs, describeDelayShape, parseDelayShape, type DelayShape } from '../simulator/delayShape';
import type { SimulatorOptions } from '../simulator/simulator';
import { startSimulatorsProcess, type RemoteSimulator, type SimulatorState } from '../simulator/ownProcess';
import { maxInAnyWindow } from '../simulator/windows';
import { startRedis } from '../harness/redisServer';
import type { GateWorkerResult } from '../test/editions/queue/gateWorker';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** The links of issue 9: none (loopback), an ordinary internet path, and a steady one with rare long trips. */
const DEFAULT_SHAPES = '0;20-120;30-50,1%:300-400';

const ALL_SECTIONS = 'pacing,first,users,concurrent,foreign,redis,cpu';

const HELP = `npm run bench -- [options]
  --quick                 small sizes (a smoke run)
  --sends N               sends per shape × tier row (default 300, quick 30)            BENCH_SENDS
  --tiers 1,3,5           tiers to pace at (default 1,3,5)                              BENCH_TIERS
  --shapes "S;S;..."      trips to the limiter, as the simulator's --arrival-delay       BENCH_SHAPES
                          (default "${DEFAULT_SHAPES}")
  --latency MS            Studio's answer time after the arrival (default 150)          BENCH_LATENCY
  --users-sends N         sends per run paced like HTTP Request Batching                BENCH_USERS_SENDS
                          (one start every 1000 ms, tier 1; default 100, quick 15)
  --concurrent-sends N    sends in all for the 8 concurrent executions (default 300)    BENCH_CONCURRENT_SENDS
  --concurrent-tier N     tier for the concurrent, second-sender and Redis runs (5)     BENCH_CONCURRENT_TIER
  --redis-sends N         sends in all for the 3 processes sharing Redis (default 300)  BENCH_REDIS_SENDS
  --cpu-items N           items for the CPU and memory run at tier 10000 (10000)        BENCH_CPU_ITEMS
  --floor MS              the gate's margin floor (default 0: automatic)                BENCH_FLOOR_MS
  --seeds 1,2,3           simulator seeds of the first-sends rows (default 1,2,3)       BENCH_SEEDS
  --first-sends N         sends per first-sends row on a fresh gate (default 30)         BENCH_FIRST_SENDS
  --first-long-sends N    sends per long row of that section, trips 20-120 ms (300)     BENCH_FIRST_LONG_SENDS
  --only LIST             pacing,first,users,concurrent,foreign,redis,cpu (default all)  BENCH_ONLY
  --sequential            run the timed sections one after another instead of side by side
`;

interface BenchOptions {
	sends: number;
	tiers: number[];
	shapes: DelayShape[];
	latencyMs: number;
	usersSends: number;
	concurrentSends: number;
	concurrentTier: number;
	redisSends: number;
	cpuItems: number;
	floorMs: number;
	seeds: number[];
	firstSends: number;
	firstLongSends: number;
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
			shapes: { type: 'string' },
			latency: { type: 'string' },
			'users-sends': { type: 'string' },
			'concurrent-sends': { type: 'string' },
			'concurrent-tier': { type: 'string' },
			'redis-sends': { type: 'string' },
			'cpu-items': { type: 'string' },
			floor: { type: 'string' },
			seeds: { type: 'string' },
			'first-sends': { type: 'string' },
			'first-long-sends': { type: 'string' },
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
	const number = (text: string, name: string, allowZero = false) => {
		const value = Number(text);
		if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
			throw new Error(`${name} must be a positive number, got "${text}"`);
		}
		return value;
	};
	const numbers = (text: string, name: string) => text.split(',').map((part) => number(part.trim(), name));
	return {
		sends: number(pick(values.sends, 'BENCH_SENDS', '300', '30'), 'sends'),
		tiers: numbers(pick(values.tiers, 'BENCH_TIERS', '1,3,5', '1,3,5'), 'tiers'),
		shapes: pick(values.shapes, 'BENCH_SHAPES', DEFAULT_SHAPES, DEFAULT_SHAPES).split(';').map(parseDelayShape),
		latencyMs: number(pick(values.latency, 'BENCH_LATENCY', '150', '150'), 'latency', true),
		usersSends: number(pick(values['users-sends'], 'BENCH_USERS_SENDS', '100', '15'), 'users-sends'),
		concurrentSends: number(
			pick(values['concurrent-sends'], 'BENCH_CONCURRENT_SENDS', '300', '48'),
			'concurrent-sends',
		),
		concurrentTier: number(pick(values['concurrent-tier'], 'BENCH_CONCURRENT_TIER', '5', '5'), 'concurrent-tier'),
		redisSends: number(pick(values['redis-sends'], 'BENCH_REDIS_SENDS', '300', '30'), 'redis-sends'),
		cpuItems: number(pick(values['cpu-items'], 'BENCH_CPU_ITEMS', '10000', '2000'), 'cpu-items'),
		floorMs: number(pick(values.floor, 'BENCH_FLOOR_MS', '0', '0'), 'floor', true),
		seeds: numbers(pick(values.seeds, 'BENCH_SEEDS', '1,2,3', '1'), 'seeds'),
		firstSends: number(pick(values['first-sends'], 'BENCH_FIRST_SENDS', '30', '30'), 'first-sends'),
		firstLongSends: number(pick(values['first-long-sends'], 'BENCH_FIRST_LONG_SENDS', '300', '60'), 'first-long-sends'),
		only: new Set(pick(values.only, 'BENCH_ONLY', ALL_SECTIONS, ALL_SECTIONS).split(',')),
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

/** One job per new contact; `contacts` collects their numbers, so lost and duplicated sessions can be counted. */
function sendJobs(
	url: string,
	apiKey: string,
	count: number,
	keyPrefix: string,
	contacts: string[],
): Array<DispatchJob<StudioResponse>> {
	return Array.from({ length: count }, (_, index) => {
		const body = whatsappBody();
		contacts.push(body.to);
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
	/** The physical limit for the link, ÷ tier: 1000 / (1000 + J), J the spread of the trips. */
	limit: number;
	contacts: number;
	sent: number;
	requests: number;
	tooMany: number;
	lost: number;
	duplicated: number;
	/** Sustained rate ÷ tier: 1000 ms over the mean time between arrivals `tier` places apart (fair to bursts). */
	rateRatio: number;
	maxInWindow: number;
	seconds: number;
	marginMs?: number;
}

function measure(
	label: string,
	tier: number,
	shape: DelayShape,
	contacts: string[],
	state: SimulatorState,
	startedAt: number,
	gate?: RateGate,
): Measured {
	const arrivals = state.sessions.map((s) => s.arrivedAt).sort((a, b) => a - b);
	let total = 0;
	for (let i = 0; i + tier < arrivals.length; i++) total += arrivals[i + tier] - arrivals[i];
	const perContact = new Map<string, number>();
	for (const session of state.sessions)
		perContact.set(String(session.body.to), (perContact.get(String(session.body.to)) ?? 0) + 1);
	const counts = contacts.map((to) => perContact.get(to) ?? 0);
	return {
		label,
		tier,
		limit: 1000 / (1000 + delaySpreadMs(shape)),
		contacts: contacts.length,
		sent: state.sessions.length,
		requests: state.requestCount,
		tooMany: state.tooManyRequests,
		lost: counts.filter((count) => count === 0).length,
		duplicated: counts.filter((count) => count > 1).length,
		rateRatio: 1000 / (total / (arrivals.length - tier)),
		maxInWindow: maxInAnyWindow(arrivals, 1000),
		seconds: (performance.now() - startedAt) / 1000,
		marginMs: gate && 'marginMs' in gate ? (gate as { marginMs: number }).marginMs : undefined,
	};
}

const share = (m: Measured) => m.tooMany / m.contacts;

/** For each 429: when it came, and how close its arrival was to the accepted arrival `tier` places before it. */
function explain429s(state: SimulatorState, tier: number): string {
	const first = state.requests[0]?.arrivedAt ?? 0;
	const accepted: number[] = [];
	const notes: string[] = [];
	for (const req of state.requests) {
		if (req.status === 429) {
			const before = accepted.length >= tier ? accepted[accepted.length - tier] : undefined;
			notes.push(
				`+${((req.arrivedAt - first) / 1000).toFixed(1)} s${before === undefined ? '' : ` (${(req.arrivedAt - before).toFixed(0)} ms after)`}`,
			);
		} else if (req.status >= 200 && req.status < 300) {
			accepted.push(req.arrivedAt);
		}
	}
	return notes.length === 0 ? '' : `    429s at ${notes.slice(0, 8).join(', ')}${notes.length > 8 ? ', …' : ''}`;
}

function line(m: Measured): string {
	const pad = (text: string, width: number) => text.padEnd(width);
	return (
		`${pad(m.label, 46)} ${pad(`${m.sent}/${m.requests}`, 9)} rate÷tier ${m.rateRatio.toFixed(3)}  ÷limit ${(m.rateRatio / m.limit).toFixed(3)}  ` +
		`429s ${pad(`${m.tooMany} (${(100 * share(m)).toFixed(1)} %)`, 12)} lost ${m.lost}  dup ${m.duplicated}  ` +
		`max in 1 s ${m.maxInWindow}/${m.tier}  ${m.marginMs === undefined ? '' : `margin ${m.marginMs.toFixed(0)} ms  `}${m.seconds.toFixed(0)} s`
	);
}

const print = (text = '') => process.stdout.write(`${text}\n`);

interface Bar {
	name: string;
	ok: boolean;
	detail: string;
}
const bars: Bar[] = [];
function bar(name: string, ok: boolean, detail: string): void {
	bars.push({ name, ok, detail });
}

const rows: Measured[] = [];

/** Issue 9's goals for one row. */
function goals(m: Measured, shape: DelayShape): void {
	const exact = m.lost === 0 && m.duplicated === 0 && m.maxInWindow <= m.tier;
	const detail = `${m.rateRatio.toFixed(3)} × tier, ${(m.rateRatio / m.limit).toFixed(3)} × limit, 429s ${(100 * share(m)).toFixed(1)} %, lost ${m.lost}, dup ${m.duplicated}, max ${m.maxInWindow}`;
	const text = describeDelayShape(shape);
	if (delaySpreadMs(shape) === 0) {
		bar(
			`${m.label}: ≥ 0.97 × tier, 0 × 429, exactly one session each`,
			exact && m.rateRatio >= 0.97 && m.tooMany === 0,
			detail,
		);
	} else if (typeof shape === 'object' && shape.spikes) {
		bar(
			`${m.label}: ≥ 0.9 × tier, ≤ 2 % 429s, exactly one session each`,
			exact && m.rateRatio >= 0.9 && share(m) <= 0.02,
			detail,
		);
	} else {
		bar(
			`${m.label}: ≥ 0.95 × limit (trips ${text}), ≤ 2 % 429s, exactly one session each`,
			exact && m.rateRatio >= 0.95 * m.limit && share(m) <= 0.02,
			detail,
		);
	}
}

// --- sections ----------------------------------------------------------------------------------------------

/** Sends `sends` new contacts through the account's gate (a new account: a gate that has learnt nothing yet). */
async function gateRun(
	sim: RemoteSimulator,
	shape: DelayShape,
	tier: number,
	sends: number,
	floorMs: number,
	label: string,
): Promise<{ m: Measured; why: string }> {
	const apiKey = sim.apiKey;
	const gate = sharedGate({ region: 'eu', apiKey, tier, floorMs });
	const contacts: string[] = [];
	const startedAt = performance.now();
	await dispatch(sendJobs(sim.url, apiKey, sends, apiKey, contacts), {
		gate,
		ledger: new MemorySendLedger(),
		maxInFlight: 16,
	});
	const state = await sim.state();
	return { m: measure(label, tier, shape, contacts, state, startedAt, gate), why: explain429s(state, tier) };
}

async function pacingRun(
	sim: RemoteSimulator,
	shape: DelayShape,
	tier: number,
	sends: number,
	floorMs: number,
): Promise<Measured> {
	const label = `gate: trips ${describeDelayShape(shape)} ms, tier ${tier}`;
	const { m, why } = await gateRun(sim, shape, tier, sends, floorMs, label);
	print(line(m));
	if (why) print(why);
	goals(m, shape);
	rows.push(m);
	return m;
}

/**
 * Issue 21: a campaign on a gate that has learnt nothing yet (a new account, or the first campaign after a restart
 * of the main edition) is at the link's limit from its first answers, over several seeds (simulator trips).
 */
interface FirstGoal {
	link: string;
	shape: DelayShape;
	/** Studio's own answer time, when it varies (else the benchmark's `--latency`). */
	latencyMs?: { min: number; max: number };
	/** Sends per run, when not the section's `--first-sends`. */
	sends?: number;
	/** The long rows: what the first answers set must not cost a long campaign anything. */
	long: boolean;
	goal: string;
	/** Whether the runs of one row (one per seed) meet the goal. */
	met(runs: Measured[]): boolean;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

const FIRST_GOALS: FirstGoal[] = [
	{
		link: 'steady',
		shape: 0,
		long: false,
		goal: 'every seed ≥ 0.95 × tier, 0 × 429',
		met: (runs) => runs.every((m) => m.rateRatio >= 0.95 && m.tooMany === 0),
	},
	{
		link: 'trips 20-120 ms',
		shape: { min: 20, max: 120 },
		long: false,
		goal: 'every seed ≥ 0.85 × tier, ≤ 1 × 429',
		met: (runs) => runs.every((m) => m.rateRatio >= 0.85 && m.tooMany <= 1),
	},
	{
		// As issue 9's rows: the rate over the seeds (each run at the edge of a link whose limit is 0.91 × tier).
		link: 'trips 20-120 ms',
		shape: { min: 20, max: 120 },
		long: true,
		goal: '≥ 0.90 × tier over the seeds, every seed ≤ 2 % 429s',
		met: (runs) => mean(runs.map((m) => m.rateRatio)) >= 0.9 && runs.every((m) => share(m) <= 0.02),
	},
	{
		// The demo's campaign (`npm run demo`): Studio's answer time varies more than the trips, so the answers
		// cannot show how little of their spread the trips are; the margin's start decides the rate.
		link: "the demo's link: trips 20-80 ms, Studio answering in 30-120 ms",
		shape: { min: 20, max: 80 },
		latencyMs: { min: 30, max: 120 },
		sends: 25,
		long: false,
		goal: 'every seed ≥ 0.9 × tier, 0 × 429',
		met: (runs) => runs.every((m) => m.rateRatio >= 0.9 && m.tooMany === 0),
	},
];

interface FirstGroup {
	goal: FirstGoal;
	tier: number;
	sends: number;
	runs: Array<Measured & { seed: number }>;
}
const firstGroups: FirstGroup[] = [];

async function firstSendsRun(sim: RemoteSimulator, group: FirstGroup, seed: number, floorMs: number): Promise<void> {
	const label = `fresh gate, ${group.sends} sends: ${group.goal.link}, tier ${group.tier}, seed ${seed}`;
	const { m, why } = await gateRun(sim, group.goal.shape, group.tier, group.sends, floorMs, label);
	print(line(m));
	if (why) print(why);
	group.runs.push({ ...m, seed });
}

function firstSendsReport(): void {
	if (firstGroups.length === 0) return;
	print();
	print('First sends of a fresh gate (markdown; one figure per seed):');
	print('| run | seeds | rate ÷ tier | 429s | lost / duplicated | most in any 1 s | margin at the end |');
	print('| --- | --- | --- | --- | --- | --- | --- |');
	for (const group of firstGroups) {
		const runs = [...group.runs].sort((a, b) => a.seed - b.seed);
		const each = (value: (m: Measured & { seed: number }) => string) => runs.map(value).join(' / ');
		print(
			`| ${group.goal.link}, ${group.sends} sends, tier ${group.tier} | ${each((m) => String(m.seed))} | ` +
				`${each((m) => m.rateRatio.toFixed(3))} | ${each((m) => String(m.tooMany))} | ` +
				`${runs.reduce((sum, m) => sum + m.lost, 0)} / ${runs.reduce((sum, m) => sum + m.duplicated, 0)} | ` +
				`${Math.max(...runs.map((m) => m.maxInWindow))} (tier ${group.tier}) | ` +
				`${each((m) => (m.marginMs === undefined ? '–' : `${m.marginMs.toFixed(0)}`))} ms |`,
		);
		const exact = runs.every((m) => m.lost === 0 && m.duplicated === 0 && m.maxInWindow <= m.tier);
		bar(
			`fresh gate, ${group.sends} sends, ${group.goal.link}, tier ${group.tier}: ${group.goal.goal}, exactly one session each`,
			runs.length > 0 && exact && group.goal.met(runs),
			`${runs.map((m) => `${m.rateRatio.toFixed(3)} × tier, ${m.tooMany} × 429`).join('; ')}` +
				` (mean ${mean(runs.map((m) => m.rateRatio)).toFixed(3)})`,
		);
	}
}

/** HTTP Request "Batching" (1 item per 1000 ms): each start waits 1000 ms after the previous start, no gate, no retry. */
async function batchingLikeToday(url: string, apiKey: string, count: number, contacts: string[]): Promise<void> {
	const pending: Array<Promise<unknown>> = [];
	for (let i = 0; i < count; i++) {
		if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
		const body = whatsappBody();
		contacts.push(body.to);
		pending.push(postToStudio(url, STUDIO_PATHS.messagingConversation, body, apiKey).catch(() => undefined));
	}
	await Promise.all(pending);
}

async function usersToday(sim: RemoteSimulator, shape: DelayShape, sends: number): Promise<Measured> {
	const contacts: string[] = [];
	const startedAt = performance.now();
	await batchingLikeToday(sim.url, sim.apiKey, sends, contacts);
	const m = measure(
		`HTTP Request Batching: trips ${describeDelayShape(shape)} ms, tier 1`,
		1,
		shape,
		contacts,
		await sim.state(),
		startedAt,
	);
	print(line(m));
	rows.push(m);
	return m;
}

async function concurrentExecutions(
	sim: RemoteSimulator,
	shape: DelayShape,
	executions: number,
	total: number,
	tier: number,
	floorMs: number,
) {
	const perExecution = Math.ceil(total / executions);
	const contacts: string[] = [];
	const startedAt = performance.now();
	// Each execution looks its gate up the way the node does: one shared gate per account.
	const gate = sharedGate({ region: 'eu', apiKey: sim.apiKey, tier, floorMs });
	await Promise.all(
		Array.from({ length: executions }, (_, e) =>
			dispatch(sendJobs(sim.url, sim.apiKey, perExecution, `exec-${e}`, contacts), {
				gate: sharedGate({ region: 'eu', apiKey: sim.apiKey, tier, floorMs }),
				ledger: new MemorySendLedger(),
			}),
		),
	);
	const label = `${executions} executions at once: trips ${describeDelayShape(shape)} ms, tier ${tier}`;
	const m = measure(label, tier, shape, contacts, await sim.state(), startedAt, gate);
	print(line(m));
	goals(m, shape);
	rows.push(m);
}

/** Another system sends with the same key: the simulator refuses a share of acceptable requests whatever the spacing. */
async function secondSender(sim: RemoteSimulator, shape: DelayShape, sends: number, tier: number, floorMs: number) {
	const gate = sharedGate({ region: 'eu', apiKey: sim.apiKey, tier, floorMs }) as LocalRateGate;
	const contacts: string[] = [];
	let slowest = 0;
	const watch = setInterval(() => (slowest = Math.max(slowest, gate.slowdownLevel)), 50);
	const startedAt = performance.now();
	const results = await dispatch(sendJobs(sim.url, sim.apiKey, sends, 'foreign', contacts), {
		gate,
		ledger: new MemorySendLedger(),
	});
	clearInterval(watch);
	const label = `second sender (20 % refused whatever the spacing), tier ${tier}`;
	const m = measure(label, tier, shape, contacts, await sim.state(), startedAt, gate);
	const failed = results.filter((r) => r.outcome === 'failed').length;
	print(`${line(m)}  gate slowed to 1/${2 ** slowest}${failed ? `, ${failed} items failed after their retries` : ''}`);
	bar(
		`${label}: the gate backs off (slowdown level ≥ 1), no duplicate, max ≤ tier`,
		slowest >= 1 && m.duplicated === 0 && m.maxInWindow <= tier,
		`slowdown level ${slowest}, ${failed} failed, dup ${m.duplicated}`,
	);
	rows.push(m);
}

async function redisProcesses(
	processes: number,
	total: number,
	tier: number,
	shape: DelayShape,
	latencyMs: number,
	floorMs: number,
) {
	const apiKey = 'bench-redis';
	const redis = await startRedis();
	const server = await simulatorsProcess([{ apiKey, tier, latencyMs, arrivalDelayMs: shape }]);
	const sim = server.simulators[0];
	const children: ChildProcess[] = [];
	try {
		const perProcess = Math.ceil(total / processes);
		const contacts: string[] = [];
		for (let p = 1; p <= processes; p++) {
			children.push(
				spawn(TSX, [join(ROOT, 'test', 'editions', 'queue', 'gateWorker.ts')], {
					cwd: ROOT,
					env: {
						...process.env,
						GATE_WORKER_ID: String(p),
						GATE_WORKER_COUNT: String(perProcess),
						GATE_WORKER_TIER: String(tier),
						GATE_WORKER_STUDIO_URL: sim.url,
						GATE_WORKER_API_KEY: apiKey,
						GATE_WORKER_REDIS_URL: redis.url,
						GATE_WORKER_FLOOR_MS: String(floorMs),
					},
					stdio: ['pipe', 'pipe', 'inherit'],
				}),
			);
			// The worker's numbers (gateWorker.ts): 44770 + worker id on two digits + the item on five.
			for (let index = 0; index < perProcess; index++)
				contacts.push(`44770${String(p).padStart(2, '0')}${String(index).padStart(5, '0')}`);
		}
		const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
		const lines = children.map((child) => createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
		for (const next of lines) await next.next(); // "ready"
		const startedAt = performance.now();
		for (const child of children) child.stdin!.end('go\n');
		const results: GateWorkerResult[] = [];
		for (const next of lines) results.push(JSON.parse((await next.next()).value as string) as GateWorkerResult);
		await Promise.all(exited);
		const label = `${processes} processes sharing Redis: trips ${describeDelayShape(shape)} ms, tier ${tier}`;
		const m = measure(label, tier, shape, contacts, await sim.state(), startedAt);
		m.marginMs = results.reduce((sum, r) => sum + (r.marginMs ?? 0), 0) / results.length;
		const failed = results.reduce((sum, r) => sum + r.failed, 0);
		print(`${line(m)}${failed ? `  failed ${failed}` : ''}`);
		goals(m, shape);
		rows.push(m);
	} finally {
		for (const child of children) if (child.exitCode === null) child.kill();
		await server.stop();
		await redis.stop();
	}
}

type SimulatorConfig = SimulatorOptions & { apiKey: string; tier: number };

/**
 * The simulators in one process of their own (simulator/ownProcess.ts), as Studio is another machine; the benchmark
 * rows post no callbacks.
 */
async function simulatorsProcess(
	configs: SimulatorConfig[],
): Promise<{ simulators: RemoteSimulator[]; stop(): Promise<void> }> {
	return await startSimulatorsProcess(configs.map((config) => ({ callbacks: false, ...config })));
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
			dispatch(sendJobs(sim.url, apiKey, count, prefix, []), {
				gate: new LocalRateGate({ tier: gateTier }, preciseClock),
				ledger,
				maxInFlight: 16,
			});

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
		await dispatch(localJobs, {
			gate: new LocalRateGate({ tier: open }, preciseClock),
			ledger: new MemorySendLedger(),
			maxInFlight: 16,
		});
		const gateMs = cpuMs(cpu) / items;

		print(
			`CPU and memory, ${items} items, simulator in its own process (${sent} sent at tier ${tier} in ${seconds.toFixed(1)} s):`,
		);
		print(
			`  CPU per item, whole send path (gate, ledger, dispatcher, HTTP client, JSON), no waits: ${workMs.toFixed(3)} ms`,
		);
		print(
			`  CPU per item, the same paced at tier ${tier} (includes the gate's clock polling):      ${pacedMs.toFixed(3)} ms`,
		);
		print(
			`  CPU per item, gate + ledger + dispatcher alone (no HTTP, no waits):                 ${gateMs.toFixed(4)} ms`,
		);
		print(
			`  RSS growth over the first ${items} items (after GC; V8 grows its heap here):              ${rssFirstMb.toFixed(1)} MB`,
		);
		print(
			`  RSS growth over ${items} more items at tier ${tier} (after GC, ledger holding every item): ${rssGrowthMb.toFixed(1)} MB`,
		);
		print(
			`  of which live JS heap after GC (ledger entries, results, the items):                ${heapGrowthMb.toFixed(1)} MB`,
		);
		bar(
			'CPU per item excluding waits < 0.3 ms',
			workMs < 0.3 && pacedMs < 0.3,
			`${workMs.toFixed(3)} ms (${pacedMs.toFixed(3)} ms paced at ${tier}/s)`,
		);
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
		`Rate gate benchmark: margin learnt${options.floorMs ? ` (floor ${options.floorMs} ms)` : ''}, Studio answers ${options.latencyMs} ms after the ` +
			`arrival, Node ${process.version}, ${options.sequential ? 'sections one after another' : 'timed sections side by side'}`,
	);
	print(
		'columns: sessions accepted/requests, sustained rate ÷ tier, ÷ the limit 1000 / (1000 + J) for trips spreading',
	);
	print('over J ms, 429 answers (share of contacts), contacts without a session and with two, busiest 1 s window at');
	print('Studio, the margin the gate ended with, wall time');
	print();

	// Every simulator is started (in one server process) before anything is timed.
	const configs: SimulatorConfig[] = [];
	const sections: Array<(sims: RemoteSimulator[]) => Promise<unknown>> = [];
	const simulator = (config: SimulatorConfig) => configs.push(config) - 1;
	const latencyMs = options.latencyMs;
	const jittery = options.shapes.find(
		(shape) => delaySpreadMs(shape) > 0 && !(typeof shape === 'object' && shape.spikes),
	) ?? { min: 20, max: 120 };
	if (only.has('pacing')) {
		options.shapes.forEach((shape, s) => {
			for (const tier of options.tiers) {
				const at = simulator({ apiKey: `bench-pacing-${s}-${tier}`, tier, latencyMs, arrivalDelayMs: shape });
				sections.push((sims) => pacingRun(sims[at], shape, tier, options.sends, options.floorMs));
			}
		});
	}
	if (only.has('first')) {
		for (const goal of FIRST_GOALS) {
			for (const tier of options.tiers) {
				const sends = goal.sends ?? (goal.long ? options.firstLongSends : options.firstSends);
				const group: FirstGroup = { goal, tier, sends, runs: [] };
				firstGroups.push(group);
				for (const seed of options.seeds) {
					const at = simulator({
						apiKey: `bench-first-${firstGroups.length}-${seed}`,
						tier,
						latencyMs: goal.latencyMs ?? latencyMs,
						arrivalDelayMs: goal.shape,
						seed,
					});
					sections.push((sims) => firstSendsRun(sims[at], group, seed, options.floorMs));
				}
			}
		}
	}
	if (only.has('users')) {
		options.shapes.forEach((shape, s) => {
			const at = simulator({ apiKey: `bench-users-${s}`, tier: 1, latencyMs, arrivalDelayMs: shape });
			sections.push((sims) => usersToday(sims[at], shape, options.usersSends));
		});
	}
	if (only.has('concurrent')) {
		const at = simulator({
			apiKey: 'bench-concurrent',
			tier: options.concurrentTier,
			latencyMs,
			arrivalDelayMs: jittery,
		});
		sections.push((sims) =>
			concurrentExecutions(sims[at], jittery, 8, options.concurrentSends, options.concurrentTier, options.floorMs),
		);
	}
	if (only.has('foreign')) {
		const shape: DelayShape = { min: 30, max: 50 };
		const at = simulator({
			apiKey: 'bench-foreign',
			tier: options.concurrentTier,
			latencyMs,
			arrivalDelayMs: shape,
			throttle: { rejectRatio: 0.2 },
		});
		sections.push((sims) =>
			secondSender(sims[at], shape, Math.max(50, options.sends / 3), options.concurrentTier, options.floorMs),
		);
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
	if (only.has('redis')) {
		await redisProcesses(3, options.redisSends, options.concurrentTier, jittery, latencyMs, options.floorMs);
	}
	if (only.has('cpu')) await cpuAndMemory(options.cpuItems);

	await closeShared();

	firstSendsReport();
	if (rows.length > 0) {
		print();
		print('Summary (markdown):');
		print('| run | rate ÷ tier | rate ÷ limit | 429s | lost / duplicated | most in any 1 s | margin learnt |');
		print('| --- | --- | --- | --- | --- | --- | --- |');
		for (const m of [...rows].sort((a, b) => a.label.localeCompare(b.label))) {
			print(
				`| ${m.label} | ${m.rateRatio.toFixed(3)} | ${(m.rateRatio / m.limit).toFixed(3)} | ${(100 * share(m)).toFixed(1)} % | ${m.lost} / ${m.duplicated} | ${m.maxInWindow} (tier ${m.tier}) | ${m.marginMs === undefined ? '–' : `${m.marginMs.toFixed(0)} ms`} |`,
			);
		}
	}
	print();
	print('Bars from issues 3, 9 and 21:');
	for (const b of bars) print(`  ${b.ok ? 'PASS' : 'FAIL'}  ${b.name}: ${b.detail}`);
	if (bars.some((b) => !b.ok)) process.exitCode = 1;
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
