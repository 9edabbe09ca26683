// A loopback stand-in for Vonage AI Studio's outbound API (contract: docs/studio-api.md), with the
// rate tier, status callbacks and failure modes the tests, the benchmark and the demo need to provoke, and its
// Insights API (insights.ts): every accepted session becomes a searchable one with a scripted conversation.

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import jwt from 'jsonwebtoken';
import { Agent, request } from 'undici';
import { API_KEY_HEADER, INSIGHTS_PATHS, STUDIO_PATHS } from '../core/studioApi';
import { drawDelay, validateDelayShape, type DelayShape } from './delayShape';
import { InsightsStandIn, validateInsightsOptions, type InsightsOptions } from './insights';

export type FailStatus = 'rejected' | 'undeliverable';

export interface SimulatorOptions {
	/** Default 0 (a free port). The server always listens on 127.0.0.1. */
	port?: number;
	/** Default 'sim-key'; a wrong or missing X-Vgai-Key gets 401. */
	apiKey?: string;
	/** Accepted sessions per sliding second, default 1. */
	tier?: number;
	/** Delay before answering, after the arrival is recorded. A range picks uniformly in [min, max]. */
	latencyMs?: number | { min: number; max: number };
	/**
	 * The trip to the rate limiter: each request counts as arriving this long after it was received (drawn per
	 * request, see delayShape.ts), before it is decided and before `latencyMs`. Default 0 (loopback, no variation).
	 */
	arrivalDelayMs?: DelayShape;
	/** When set, other agent_id values get Studio's "not found" answer. Default: any agent accepted. */
	agents?: string[];
	/** When set, WhatsApp requests for other template names get a 400 naming the template. Default: any accepted. */
	templates?: string[];
	/** `to` numbers whose sessions fail: callbacks end in that status with an error object. */
	failNumbers?: Record<string, FailStatus>;
	/** `to` numbers whose sessions get no callbacks at all (a contact who never answers, a phone that is off). */
	silentNumbers?: string[];
	/** Post status callbacks to status_url, default true. */
	callbacks?: boolean;
	/** Default ['submitted', 'delivered', 'read']. */
	callbackStatuses?: string[];
	/** Pause before each callback of one session, default 20. */
	callbackDelayMs?: number;
	/** Post every callback twice. */
	duplicateCallbacks?: boolean;
	/** Swap delivered and read, so read arrives first. */
	outOfOrderCallbacks?: boolean;
	/** When set, callbacks carry Authorization: Bearer <JWT HS256> signed with it. */
	signatureSecret?: string;
	/** The `api_key` claim of signed callbacks (the Vonage account key, not the Studio key). Default 'sim-account'. */
	signatureApiKey?: string;
	/** A 429 storm: refuse this share of otherwise-acceptable requests, optionally with Retry-After. */
	throttle?: { rejectRatio?: number; retryAfterSeconds?: number };
	/** Larger bodies get 413. Default 1 MiB. */
	maxBodyBytes?: number;
	/** Share of accepted sessions whose connection is destroyed instead of answered ("may have reached Studio"). */
	dropConnectionRatio?: number;
	/**
	 * Makes the random choices (throttle, dropped connections, latency ranges) reproducible. Without a seed,
	 * throttle and drop ratios are spread evenly and exactly (the n-th candidate is refused when floor(n * ratio)
	 * grows), and latency ranges use Math.random.
	 */
	seed?: number;
	/** The Insights API: conversation timing, answer shapes, failures to script (insights.ts). */
	insights?: InsightsOptions;
	/** Milliseconds since the epoch, used for arrival times and the rate window. In-process tests only. */
	clock?: () => number;
}

export interface AcceptedSession {
	id: string;
	path: string;
	channel: 'whatsapp' | 'sms' | 'voice';
	body: Record<string, unknown>;
	/** Milliseconds since the epoch with sub-millisecond precision, taken when the whole body had arrived. */
	arrivedAt: number;
	/** message_uuid of the callbacks; for calls, the conversation_uuid. */
	messageUuid: string;
}

export interface RecordedRequest {
	method: string;
	path: string;
	arrivedAt: number;
	/** The status answered; 0 when the connection was dropped on purpose instead. */
	status: number;
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON when the body was JSON, the raw text otherwise, undefined when empty or too large. */
	body: unknown;
}

export interface SentCallback {
	url: string;
	body: unknown;
	/** HTTP status from the receiver, or 'error' when it could not be reached. */
	status: number | 'error';
	/** 1, or 2 for the single retry after a 5xx. */
	attempt: number;
}

export interface StudioSimulator {
	url: string;
	port: number;
	/** Every accepted session, in arrival order. */
	sessions: AcceptedSession[];
	/** Every request to the outbound API (not Insights, not the control API), refused ones included, in arrival order. */
	requests: RecordedRequest[];
	/** Count of 429 answers (tier and throttle). */
	tooManyRequests: number;
	/** The Insights API: its sessions (seed more with `insights.add`) and every request to it, in arrival order. */
	insights: InsightsStandIn;
	/** Every callback POST attempt, in the order they completed. */
	callbacksSent: SentCallback[];
	/**
	 * Posts one status of an accepted session to its status_url now, shaped and signed as its own callbacks are (a
	 * failure status with Studio's error), once: a test choosing what Studio says and when. Resolves with the
	 * receiver's HTTP status, or 'error' when nothing answered (as when n8n is down: Studio's post is then lost).
	 */
	postStatus(session: AcceptedSession, status: string): Promise<number | 'error'>;
	/** Change options at run time; top-level keys replace the current value, undefined restores the default. */
	configure(patch: Partial<SimulatorOptions>): void;
	/** Forget sessions, requests, counters and the rate window; cancel callbacks not yet sent. */
	reset(): void;
	/** Stops the server, pending answers, callbacks and timers. */
	close(): Promise<void>;
}

/** The body real Studio sends with 429, byte for byte. */
export const TOO_MANY_REQUESTS_BODY =
	'{"message":"\\"Too Many Requests\\" Please reach studio team to increase rate limit at ai.support@vonage.com."}';

/** The number the agent's messages appear to come from in callbacks. */
export const SIMULATOR_SENDER_NUMBER = '447700900100';

export const CONTROL_PATHS = {
	state: '/_simulator/state',
	configure: '/_simulator/configure',
	reset: '/_simulator/reset',
} as const;

type Settings = Omit<SimulatorOptions, 'port'> &
	Required<
		Pick<
			SimulatorOptions,
			| 'apiKey'
			| 'tier'
			| 'latencyMs'
			| 'callbacks'
			| 'callbackStatuses'
			| 'callbackDelayMs'
			| 'duplicateCallbacks'
			| 'outOfOrderCallbacks'
			| 'signatureApiKey'
			| 'maxBodyBytes'
			| 'dropConnectionRatio'
		>
	>;

const DEFAULTS: Settings = {
	apiKey: 'sim-key',
	tier: 1,
	latencyMs: 0,
	callbacks: true,
	callbackStatuses: ['submitted', 'delivered', 'read'],
	callbackDelayMs: 20,
	duplicateCallbacks: false,
	outOfOrderCallbacks: false,
	signatureApiKey: 'sim-account',
	maxBodyBytes: 1024 * 1024,
	dropConnectionRatio: 0,
};

const RATE_WINDOW_MS = 1000;
/** Message statuses that come with Studio's error object. */
const MESSAGE_FAILURES = new Set(['rejected', 'undeliverable']);
const E164_DIGITS = /^[1-9]\d{6,14}$/;
const SIP_ADDRESS = /^sips?:\S+$/i;
const WHATSAPP_TEXT_LIMITS: Record<'header' | 'body', number> = { header: 60, body: 1024 };

function defaultClock(): number {
	return performance.timeOrigin + performance.now();
}

/** xorshift32: a tiny reproducible generator for the seeded mode. */
function seededRandom(seed: number): () => number {
	let state = seed >>> 0 || 0x9e3779b9;
	return () => {
		state ^= state << 13;
		state >>>= 0;
		state ^= state >>> 17;
		state ^= state << 5;
		state >>>= 0;
		return state / 0x100000000;
	};
}

function normaliseNumber(value: string): string {
	const trimmed = value.trim();
	if (SIP_ADDRESS.test(trimmed)) return trimmed;
	return trimmed.replace(/[^\d]/g, '').replace(/^00/, '');
}

function validateOptions(options: Partial<SimulatorOptions>): void {
	const nonNegative = (name: string, value: unknown) => {
		if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
			throw new TypeError(`${name} must be a number >= 0`);
		}
	};
	const ratio = (name: string, value: unknown) => {
		if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value <= 1))) {
			throw new TypeError(`${name} must be a number between 0 and 1`);
		}
	};
	if (options.tier !== undefined && (typeof options.tier !== 'number' || !(options.tier >= 1))) {
		throw new TypeError('tier must be a number >= 1');
	}
	if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
		throw new TypeError('apiKey must be a non-empty string');
	}
	const latency = options.latencyMs;
	if (typeof latency === 'object' && latency !== null) {
		nonNegative('latencyMs.min', latency.min);
		nonNegative('latencyMs.max', latency.max);
		if (latency.max < latency.min) throw new TypeError('latencyMs.max must be >= latencyMs.min');
	} else {
		nonNegative('latencyMs', latency);
	}
	validateDelayShape('arrivalDelayMs', options.arrivalDelayMs);
	validateInsightsOptions(options.insights);
	nonNegative('callbackDelayMs', options.callbackDelayMs);
	nonNegative('maxBodyBytes', options.maxBodyBytes);
	ratio('dropConnectionRatio', options.dropConnectionRatio);
	ratio('throttle.rejectRatio', options.throttle?.rejectRatio);
	nonNegative('throttle.retryAfterSeconds', options.throttle?.retryAfterSeconds);
	if (
		options.agents !== undefined &&
		!(Array.isArray(options.agents) && options.agents.every((a) => typeof a === 'string'))
	) {
		throw new TypeError('agents must be a list of strings');
	}
	if (
		options.silentNumbers !== undefined &&
		!(Array.isArray(options.silentNumbers) && options.silentNumbers.every((n) => typeof n === 'string'))
	) {
		throw new TypeError('silentNumbers must be a list of strings');
	}
	if (
		options.templates !== undefined &&
		!(Array.isArray(options.templates) && options.templates.every((t) => typeof t === 'string'))
	) {
		throw new TypeError('templates must be a list of strings');
	}
	if (
		options.callbackStatuses !== undefined &&
		!(Array.isArray(options.callbackStatuses) && options.callbackStatuses.every((s) => typeof s === 'string'))
	) {
		throw new TypeError('callbackStatuses must be a list of strings');
	}
	if (options.failNumbers !== undefined) {
		if (typeof options.failNumbers !== 'object' || options.failNumbers === null) {
			throw new TypeError('failNumbers must map numbers to rejected or undeliverable');
		}
		for (const [number, status] of Object.entries(options.failNumbers)) {
			if (status !== 'rejected' && status !== 'undeliverable') {
				throw new TypeError(`failNumbers[${number}] must be rejected or undeliverable`);
			}
		}
	}
}

// ---------------------------------------------------------------------------------------------------------
// Request validation. Studio's exact 400 texts are undocumented; these name the field so a test can see which.

type Body = Record<string, unknown>;

function isObject(value: unknown): value is Body {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(body: Body, field: string): string | undefined {
	const value = body[field];
	if (value === undefined || value === null || value === '') return `${field} is required`;
	if (typeof value !== 'string') return `${field} must be a string`;
	return undefined;
}

function checkMessagingTo(body: Body): string | undefined {
	const missing = requiredString(body, 'to');
	if (missing) return missing;
	if (!E164_DIGITS.test(body.to as string)) return 'to must be an E.164 number: 7 to 15 digits without + or 00';
	return undefined;
}

function checkStatusUrl(body: Body, required: boolean): string | undefined {
	if (!required && body.status_url === undefined) return undefined;
	const missing = requiredString(body, 'status_url');
	if (missing) return missing;
	try {
		const url = new URL(body.status_url as string);
		if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
	} catch {
		// falls through to the message below
	}
	return 'status_url must be an absolute http or https URL';
}

function checkSessionParameters(body: Body): string | undefined {
	const list = body.session_parameters;
	if (list === undefined) return undefined;
	if (!Array.isArray(list)) return 'session_parameters must be a list of {name, value}';
	for (const [index, entry] of list.entries()) {
		const where = `session_parameters[${index}]`;
		if (!isObject(entry)) return `${where} must be an object with name and value`;
		if (typeof entry.name !== 'string' || entry.name === '') return `${where}.name must be a non-empty string`;
		if (typeof entry.value !== 'string') return `${where}.value must be a string`;
	}
	return undefined;
}

function checkComponents(body: Body): string | undefined {
	const list = body.components;
	if (list === undefined) return undefined;
	if (!Array.isArray(list)) return 'components must be a list';
	const seen = new Set<string>();
	for (const [index, component] of list.entries()) {
		const where = `components[${index}]`;
		if (!isObject(component)) return `${where} must be an object with type and parameters`;
		if (component.type !== 'header' && component.type !== 'body') return `${where}.type must be header or body`;
		if (seen.has(component.type)) return `components may hold only one ${component.type}`;
		seen.add(component.type);
		if (!Array.isArray(component.parameters)) return `${where}.parameters must be a list`;
		let length = 0;
		for (const [p, parameter] of component.parameters.entries()) {
			const at = `${where}.parameters[${p}]`;
			if (!isObject(parameter)) return `${at} must be an object {type: "text", text}`;
			if (parameter.type !== 'text') return `${at}.type must be text`;
			if (typeof parameter.text !== 'string' || parameter.text === '') return `${at}.text must be a non-empty string`;
			length += parameter.text.length;
		}
		// The template's own text is unknown here, so the parameters alone must already fit WhatsApp's limit.
		const limit = WHATSAPP_TEXT_LIMITS[component.type];
		if (length > limit) return `${where} ${component.type} text is longer than ${limit} characters`;
	}
	return undefined;
}

function checkHangupFlag(body: Body): string | undefined {
	const flag = body.hangup_on_answer_machine;
	if (flag !== undefined && typeof flag !== 'boolean') return 'hangup_on_answer_machine must be a boolean';
	return undefined;
}

function firstProblem(checks: Array<() => string | undefined>): string | undefined {
	for (const check of checks) {
		const problem = check();
		if (problem) return problem;
	}
	return undefined;
}

function validateMessaging(body: Body): string | undefined {
	const channelProblem = requiredString(body, 'channel');
	if (channelProblem) return channelProblem;
	if (body.channel === 'whatsapp') {
		return firstProblem([
			() => requiredString(body, 'namespace'),
			() => requiredString(body, 'template'),
			() => requiredString(body, 'locale'),
			() => checkMessagingTo(body),
			() => requiredString(body, 'agent_id'),
			() => checkStatusUrl(body, true),
			() => checkComponents(body),
			() => checkSessionParameters(body),
		]);
	}
	if (body.channel === 'sms') {
		return firstProblem([
			() => checkMessagingTo(body),
			() => requiredString(body, 'agent_id'),
			() => checkStatusUrl(body, true),
			() => checkSessionParameters(body),
		]);
	}
	return 'channel must be whatsapp or sms';
}

function validateCall(body: Body): string | undefined {
	return firstProblem([
		() => requiredString(body, 'agent_id'),
		() => {
			const missing = requiredString(body, 'to');
			if (missing) return missing;
			const to = body.to as string;
			if (E164_DIGITS.test(to) || SIP_ADDRESS.test(to)) return undefined;
			return 'to must be an E.164 number (7 to 15 digits without + or 00) or a SIP address';
		},
		() => checkStatusUrl(body, false),
		() => checkHangupFlag(body),
		() => checkSessionParameters(body),
	]);
}

// ---------------------------------------------------------------------------------------------------------

interface Answer {
	status: number;
	/** Already serialised JSON. */
	body: string;
	headers?: Record<string, string>;
	session?: AcceptedSession;
	drop?: boolean;
}

function json(status: number, value: unknown, headers?: Record<string, string>): Answer {
	return { status, body: JSON.stringify(value), headers };
}

function isoSeconds(date = new Date()): string {
	return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface ReadBody {
	raw: string;
	tooLarge: boolean;
}

/** Reads the whole body; past the limit it keeps draining the socket but stops keeping the bytes. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBytes) {
				tooLarge = true;
				chunks.length = 0;
			} else if (!tooLarge) {
				chunks.push(chunk);
			}
		});
		req.on('end', () => resolve({ raw: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
		req.on('error', reject);
		req.on('aborted', () => reject(new Error('client aborted')));
	});
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
	if (raw.trim() === '') return { ok: false };
	try {
		return { ok: true, value: JSON.parse(raw) as unknown };
	} catch {
		return { ok: false };
	}
}

function copyHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
	return { ...headers };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<StudioSimulator> {
	validateOptions(options);
	const { port: requestedPort = 0, ...rest } = options;
	let settings: Settings = { ...DEFAULTS, ...dropUndefined(rest) };
	let failNumbers = normaliseFailNumbers(settings.failNumbers);
	let random = settings.seed === undefined ? undefined : seededRandom(settings.seed);
	const insights = new InsightsStandIn(() => now(), SIMULATOR_SENDER_NUMBER);
	insights.configure(settings.insights);

	// The whole simulator is torn down through this signal; `callbackSignal` is renewed by reset().
	const closing = new AbortController();
	let callbackGeneration = new AbortController();
	const inFlight = new Set<Promise<void>>();
	const outgoing = new Agent({ keepAliveTimeout: 1000, connect: { timeout: 5000 } });

	// Arrival times of accepted sessions still inside the sliding window (older ones are dropped as we go).
	let recentAccepted: number[] = [];
	let throttleCandidates = 0;
	let dropCandidates = 0;

	const now = () => (settings.clock ?? defaultClock)();

	const state: StudioSimulator = {
		url: '',
		port: 0,
		sessions: [],
		requests: [],
		tooManyRequests: 0,
		callbacksSent: [],
		insights,
		postStatus,
		configure,
		reset,
		close,
	};

	function dropUndefined<T extends object>(value: T): Partial<T> {
		return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
	}

	function normaliseFailNumbers(map: Record<string, FailStatus> | undefined): Map<string, FailStatus> {
		return new Map(Object.entries(map ?? {}).map(([number, status]) => [normaliseNumber(number), status]));
	}

	function configure(rawPatch: Partial<SimulatorOptions>): void {
		// null (all JSON can say) and undefined both mean "back to the default".
		const patch = Object.fromEntries(
			Object.entries(rawPatch).map(([key, value]) => [key, value === null ? undefined : value]),
		) as Partial<SimulatorOptions>;
		validateOptions(patch);
		const next: Settings = { ...settings };
		for (const [key, value] of Object.entries(patch) as Array<[keyof Settings, unknown]>) {
			if (key === ('port' as keyof Settings)) continue;
			if (value === undefined) {
				delete next[key];
				if (key in DEFAULTS) (next as Record<string, unknown>)[key] = DEFAULTS[key as keyof typeof DEFAULTS];
			} else {
				(next as Record<string, unknown>)[key] = value;
			}
		}
		settings = next;
		failNumbers = normaliseFailNumbers(settings.failNumbers);
		if ('insights' in patch) insights.configure(settings.insights);
		if ('seed' in patch) random = settings.seed === undefined ? undefined : seededRandom(settings.seed);
		if ('throttle' in patch) throttleCandidates = 0;
		if ('dropConnectionRatio' in patch) dropCandidates = 0;
	}

	function reset(): void {
		state.sessions.length = 0;
		state.requests.length = 0;
		state.callbacksSent.length = 0;
		state.tooManyRequests = 0;
		recentAccepted = [];
		throttleCandidates = 0;
		dropCandidates = 0;
		if (settings.seed !== undefined) random = seededRandom(settings.seed);
		callbackGeneration.abort();
		callbackGeneration = new AbortController();
		insights.reset();
	}

	/** Whether the n-th candidate falls in the given share: seeded random, or an exact even spread. */
	function chosen(ratio: number, candidateNumber: number): boolean {
		if (ratio <= 0) return false;
		if (ratio >= 1) return true;
		if (random) return random() < ratio;
		return Math.floor(candidateNumber * ratio) > Math.floor((candidateNumber - 1) * ratio);
	}

	function latencyFor(): number {
		const latency = settings.latencyMs;
		if (typeof latency === 'number') return latency;
		const draw = random ? random() : Math.random();
		return latency.min + draw * (latency.max - latency.min);
	}

	function arrivalDelayFor(): number {
		const shape = settings.arrivalDelayMs;
		return shape === undefined ? 0 : drawDelay(shape, random ?? Math.random);
	}

	/** Accepted sessions in (arrivedAt - 1 s, arrivedAt], the window the tier applies to. */
	function acceptedInWindowEndingAt(arrivedAt: number): number {
		recentAccepted = recentAccepted.filter((time) => time > arrivedAt - RATE_WINDOW_MS);
		return recentAccepted.filter((time) => time <= arrivedAt).length;
	}

	function decide(
		method: string,
		path: string,
		headers: IncomingHttpHeaders,
		read: ReadBody,
		arrivedAt: number,
	): Answer {
		const isMessaging = path === STUDIO_PATHS.messagingConversation;
		const isCall = path === STUDIO_PATHS.makeCall;
		if (!isMessaging && !isCall) return json(404, { message: `Cannot ${method} ${path}` });
		if (method !== 'POST') return json(405, { message: `Method ${method} not allowed on ${path}` }, { Allow: 'POST' });
		if (read.tooLarge) return json(413, { message: 'Request body too large' });

		if (headers[API_KEY_HEADER.toLowerCase()] !== settings.apiKey) return json(401, { message: 'Unauthorized' });

		const parsed = parseJson(read.raw);
		if (!parsed.ok) return json(400, { message: 'Request body must be a JSON object' });
		if (!isObject(parsed.value)) return json(400, { message: 'Request body must be a JSON object' });
		const body = parsed.value;
		const problem = isMessaging ? validateMessaging(body) : validateCall(body);
		if (problem) return json(400, { message: problem });

		const agentId = body.agent_id as string;
		// Studio's status code for an unknown or unpublished agent is undocumented; 404 is our choice, the text is real.
		if (settings.agents && !settings.agents.includes(agentId)) {
			return json(404, { message: `ID ${agentId} is not an ID to any agent or published version` });
		}
		// Studio's text for a template it does not know is undocumented; this one names the field, as WhatsApp's does.
		if (settings.templates && body.channel === 'whatsapp' && !settings.templates.includes(body.template as string)) {
			return json(400, {
				message: `template ${String(body.template)} does not exist in namespace ${String(body.namespace)}`,
			});
		}

		if (acceptedInWindowEndingAt(arrivedAt) >= settings.tier) return tooManyRequests();

		const throttle = settings.throttle;
		if (throttle?.rejectRatio) {
			throttleCandidates++;
			if (chosen(throttle.rejectRatio, throttleCandidates)) {
				const retryAfter = throttle.retryAfterSeconds;
				return tooManyRequests(retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) });
			}
		}

		recentAccepted.push(arrivedAt);
		const session: AcceptedSession = {
			id: randomUUID(),
			path,
			channel: isCall ? 'voice' : (body.channel as 'whatsapp' | 'sms'),
			body,
			arrivedAt,
			messageUuid: randomUUID(),
		};
		let drop = false;
		if (settings.dropConnectionRatio > 0) {
			dropCandidates++;
			drop = chosen(settings.dropConnectionRatio, dropCandidates);
		}
		// Real Studio's success status and body are undocumented; 200 with the session id keeps it simple.
		return { ...json(200, { session_id: session.id }), session, drop };
	}

	function tooManyRequests(headers?: Record<string, string>): Answer {
		return { status: 429, body: TOO_MANY_REQUESTS_BODY, headers };
	}

	async function handleStudio(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
		let read: ReadBody;
		try {
			read = await readBody(req, settings.maxBodyBytes);
		} catch {
			return; // the client went away before sending the whole body: nothing arrived
		}
		const trip = arrivalDelayFor();
		if (trip > 0) {
			try {
				await delay(trip, undefined, { signal: closing.signal });
			} catch {
				return; // closing
			}
		}
		const arrivedAt = now();
		const method = req.method ?? 'GET';
		const answer = decide(method, path, req.headers, read, arrivedAt);
		const parsed = read.tooLarge ? undefined : parseJson(read.raw);
		state.requests.push({
			method,
			path,
			arrivedAt,
			status: answer.drop ? 0 : answer.status,
			headers: copyHeaders(req.headers),
			body: parsed?.ok ? parsed.value : read.raw === '' ? undefined : read.raw,
		});
		if (answer.status === 429) state.tooManyRequests++;
		if (answer.session) {
			state.sessions.push(answer.session);
			recordInsightsSession(answer.session);
		}

		const wait = latencyFor();
		if (wait > 0) {
			try {
				await delay(wait, undefined, { signal: closing.signal });
			} catch {
				return; // closing: the socket is destroyed by close()
			}
		}
		if (answer.drop) {
			req.socket.destroy();
		} else if (!res.destroyed) {
			res.writeHead(answer.status, {
				'Content-Type': 'application/json; charset=utf-8',
				'Content-Length': Buffer.byteLength(answer.body),
				...answer.headers,
			});
			res.end(answer.body);
		}
		if (answer.session) track(sendCallbacks(answer.session));
	}

	/** An accepted session, as the Insights API will show it: a contact whose messages fail or get no callbacks never answers. */
	function recordInsightsSession(session: AcceptedSession): void {
		const to = String(session.body.to);
		const silent =
			failNumbers.has(normaliseNumber(to)) ||
			(settings.silentNumbers ?? []).some((number) => normaliseNumber(number) === normaliseNumber(to));
		const parameters = Array.isArray(session.body.session_parameters)
			? (session.body.session_parameters as Array<{ name: string; value: string }>)
			: [];
		insights.add({
			id: session.id,
			startedAt: session.arrivedAt,
			channel: session.channel,
			contact: to,
			agentId: String(session.body.agent_id),
			parameters,
			...(silent ? { outcome: 'noAnswer' as const } : {}),
		});
	}

	async function handleInsights(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
		try {
			await readBody(req, settings.maxBodyBytes);
		} catch {
			return;
		}
		const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
		const answer = insights.answer(
			req.method ?? 'GET',
			path,
			rawQuery,
			req.headers[API_KEY_HEADER.toLowerCase()] === settings.apiKey,
		);
		const wait = latencyFor();
		if (wait > 0) {
			try {
				await delay(wait, undefined, { signal: closing.signal });
			} catch {
				return;
			}
		}
		if (res.destroyed) return;
		res.writeHead(answer.status, {
			'Content-Type': 'application/json; charset=utf-8',
			'Content-Length': Buffer.byteLength(answer.body),
			...answer.headers,
		});
		res.end(answer.body);
	}

	function track(work: Promise<void>): void {
		const settled = work.catch(() => undefined).finally(() => inFlight.delete(settled));
		inFlight.add(settled);
	}

	// --- callbacks --------------------------------------------------------------------------------------

	function callbackPlan(session: AcceptedSession): Body[] {
		const body = session.body;
		const statusUrl = body.status_url;
		if (!settings.callbacks || typeof statusUrl !== 'string') return [];
		const to = body.to as string;
		if (settings.silentNumbers?.some((number) => normaliseNumber(number) === normaliseNumber(to))) return [];
		const failure = failNumbers.get(normaliseNumber(to));
		if (session.channel === 'voice') {
			// Studio calls a call's status_url only when the callee does not pick up.
			if (!failure) return [];
			return [callStatus(session, failure === 'rejected' ? 'busy' : 'unanswered')];
		}
		let statuses: string[];
		if (failure) {
			statuses = settings.callbackStatuses.includes('submitted') ? ['submitted', failure] : [failure];
		} else {
			statuses = [...settings.callbackStatuses];
			const delivered = statuses.indexOf('delivered');
			const read = statuses.indexOf('read');
			if (settings.outOfOrderCallbacks && delivered >= 0 && read >= 0) {
				statuses[delivered] = 'read';
				statuses[read] = 'delivered';
			}
		}
		const conversationId = randomUUID().replace(/-/g, '');
		return statuses.map((status) => messageStatus(session, status, failure === status, conversationId));
	}

	function callStatus(session: AcceptedSession, status: string): Body {
		return {
			agent_id: session.body.agent_id,
			to: session.body.to,
			conversation_uuid: session.messageUuid,
			status,
			timestamp: isoSeconds(),
		};
	}

	async function postStatus(session: AcceptedSession, status: string): Promise<number | 'error'> {
		const payload =
			session.channel === 'voice'
				? callStatus(session, status)
				: messageStatus(session, status, MESSAGE_FAILURES.has(status), randomUUID().replace(/-/g, ''));
		if ('timestamp' in payload) payload.timestamp = isoSeconds();
		const signal = AbortSignal.any([callbackGeneration.signal, closing.signal]);
		return (await postCallback(String(session.body.status_url), payload, signal, 1)) ?? 'error';
	}

	function messageStatus(session: AcceptedSession, status: string, failed: boolean, conversationId: string): Body {
		const channel = session.channel;
		const payload: Body = {
			to: session.body.to,
			from: SIMULATOR_SENDER_NUMBER,
			channel,
			message_uuid: session.messageUuid,
			timestamp: '', // filled in when sent
			status,
			client_ref: 'AI Studio',
		};
		if (status !== 'read') payload.usage = { price: channel === 'whatsapp' ? '0.04' : '0.0075', currency: 'EUR' };
		if (failed) {
			payload.error = {
				type: 'https://developer.vonage.com/api-errors/messages#1050',
				title: 1050,
				detail: 'The message could not be delivered: the recipient number is barred or unreachable.',
				instance: randomUUID(),
			};
		}
		if (channel === 'whatsapp') {
			payload.whatsapp = { conversation: { id: conversationId, origin: { type: 'utility' } } };
		}
		// Real callbacks carry fields the contract does not list; one here keeps receivers honest about extras.
		payload.internal_message_uuid = randomUUID();
		return payload;
	}

	async function sendCallbacks(session: AcceptedSession): Promise<void> {
		const plan = callbackPlan(session);
		if (plan.length === 0) return;
		const url = session.body.status_url as string;
		const generation = callbackGeneration.signal;
		const signal = AbortSignal.any([generation, closing.signal]);
		for (const payload of plan) {
			await delay(settings.callbackDelayMs, undefined, { signal });
			if ('timestamp' in payload) payload.timestamp = isoSeconds();
			const copies = settings.duplicateCallbacks ? 2 : 1;
			for (let copy = 0; copy < copies; copy++) await postCallback(url, payload, signal);
		}
	}

	/** Posts a callback, once more after a 5xx unless `attempts` is 1; the last answer, undefined when aborted. */
	async function postCallback(
		url: string,
		payload: Body,
		signal: AbortSignal,
		attempts = 2,
	): Promise<number | 'error' | undefined> {
		const raw = JSON.stringify(payload);
		let status: number | 'error' | undefined;
		for (let attempt = 1; attempt <= attempts; attempt++) {
			const headers: Record<string, string> = {
				'content-type': 'application/json',
				'user-agent': 'vonage-ai-studio-simulator',
			};
			if (settings.signatureSecret) headers.authorization = `Bearer ${signCallback(raw, settings.signatureSecret)}`;
			try {
				const response = await request(url, {
					method: 'POST',
					headers,
					body: raw,
					dispatcher: outgoing,
					signal,
					headersTimeout: 10_000,
					bodyTimeout: 10_000,
				});
				status = response.statusCode;
				await response.body.dump().catch(() => undefined);
			} catch {
				if (signal.aborted) return undefined;
				status = 'error';
			}
			if (signal.aborted) return undefined;
			state.callbacksSent.push({ url, body: payload, status, attempt });
			// Vonage retries a callback the receiver answered with 5xx; once is enough to exercise dedupe.
			if (typeof status === 'number' && status >= 500 && attempt < attempts) {
				await delay(settings.callbackDelayMs, undefined, { signal });
				continue;
			}
			return status;
		}
		return status;
	}

	function signCallback(raw: string, secret: string): string {
		return jwt.sign(
			{
				iss: 'Vonage',
				jti: randomUUID(),
				payload_hash: createHash('sha256').update(raw).digest('hex'),
				api_key: settings.signatureApiKey,
			},
			secret,
			{ algorithm: 'HS256' },
		);
	}

	// --- control API ------------------------------------------------------------------------------------

	function snapshot() {
		const { clock: _clock, ...options } = settings;
		return {
			url: state.url,
			options,
			sessions: state.sessions,
			requestCount: state.requests.length,
			requests: state.requests,
			tooManyRequests: state.tooManyRequests,
			callbacksSent: state.callbacksSent,
			insightsSessions: insights.sessions,
			insightsRequests: insights.requests,
		};
	}

	async function handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
		let read: ReadBody;
		try {
			read = await readBody(req, DEFAULTS.maxBodyBytes);
		} catch {
			return;
		}
		const method = req.method ?? 'GET';
		const send = (status: number, value: unknown) => {
			if (res.destroyed) return;
			const text = JSON.stringify(value);
			res.writeHead(status, {
				'Content-Type': 'application/json; charset=utf-8',
				'Content-Length': Buffer.byteLength(text),
			});
			res.end(text);
		};
		const expected = path === CONTROL_PATHS.state ? 'GET' : 'POST';
		if (!Object.values(CONTROL_PATHS).includes(path as (typeof CONTROL_PATHS)[keyof typeof CONTROL_PATHS])) {
			return send(404, { message: `Cannot ${method} ${path}` });
		}
		if (method !== expected) return send(405, { message: `Use ${expected} for ${path}` });
		if (path === CONTROL_PATHS.state) return send(200, snapshot());
		if (path === CONTROL_PATHS.reset) {
			reset();
			return send(200, { ok: true });
		}
		const parsed = read.tooLarge ? { ok: false as const } : parseJson(read.raw);
		if (!parsed.ok || !isObject(parsed.value)) return send(400, { message: 'Send a JSON object of options to change' });
		const { clock: _ignoredClock, port: _ignoredPort, ...patch } = parsed.value as Partial<SimulatorOptions>;
		try {
			configure(patch);
		} catch (error) {
			return send(400, { message: error instanceof Error ? error.message : String(error) });
		}
		return send(200, { ok: true, options: snapshot().options });
	}

	// --- server -----------------------------------------------------------------------------------------

	const server = createServer((req, res) => {
		req.on('error', () => undefined);
		res.on('error', () => undefined);
		let path: string;
		try {
			path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
		} catch {
			path = req.url ?? '/';
		}
		const work = path.startsWith('/_simulator/')
			? handleControl(req, res, path)
			: path.startsWith(INSIGHTS_PATHS.sessions)
				? handleInsights(req, res, path)
				: handleStudio(req, res, path);
		work.catch(() => {
			if (!res.headersSent && !res.destroyed) {
				res.writeHead(500, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify({ message: 'Simulator error' }));
			}
		});
	});
	// A broken client must never take the simulator down.
	server.on('clientError', (_error, socket) => socket.destroy());
	server.on('error', () => undefined);

	await new Promise<void>((resolve, reject) => {
		const onError = (error: Error) => reject(error);
		server.once('error', onError);
		server.listen(requestedPort, '127.0.0.1', () => {
			server.off('error', onError);
			resolve();
		});
	});
	const address = server.address() as AddressInfo;
	state.port = address.port;
	state.url = `http://127.0.0.1:${address.port}`;

	let closed: Promise<void> | undefined;
	function close(): Promise<void> {
		closed ??= (async () => {
			closing.abort();
			callbackGeneration.abort();
			const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
			server.closeAllConnections();
			await Promise.allSettled([...inFlight]);
			await stopped;
			await outgoing.destroy().catch(() => undefined);
		})();
		return closed;
	}

	return state;
}
