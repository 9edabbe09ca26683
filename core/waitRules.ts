// "Start a session and wait for its status": the rules, free of n8n. The execution that sent the session waits; Studio
// posts the session's statuses to that execution's resume URL (n8n's $execution.resumeUrl, with this node's ID as
// the path suffix); each callback is checked and either keeps the execution waiting (an intermediate status) or
// resumes it into Reached or Failed. The time limit resumes it into Timed Out.
//
// What the node needs to rebuild the session's item at resume time travels in the resume URL itself (vgai_sent),
// signed together with the execution and node (vgai_wait, an HMAC keyed with the Studio API key): it works whichever
// n8n process receives the callback, and a callback for another execution or node, or one with altered values, is
// refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { SendSummary } from './studioApi';

/** What a wait can be for. Voice waits for a failure only: Studio calls back only when the callee does not pick up. */
export type AwaitedStatus = 'delivered' | 'read' | 'call-not-answered';

/** Statuses that say the session failed (the same as the trigger's `failed`). */
const MESSAGE_FAILURES = new Set(['rejected', 'undeliverable']);
const CALL_FAILURES = new Set(['busy', 'cancelled', 'failed', 'rejected', 'timeout', 'unanswered']);

export type WaitDecision = 'keep-waiting' | 'reached' | 'failed';

/** What one callback does to a waiting execution. */
export function decideWait(awaited: AwaitedStatus, status: string): WaitDecision {
	if (awaited === 'call-not-answered') return CALL_FAILURES.has(status) ? 'failed' : 'keep-waiting';
	if (MESSAGE_FAILURES.has(status)) return 'failed';
	if (status === 'read') return 'reached';
	if (status === 'delivered' && awaited === 'delivered') return 'reached';
	return 'keep-waiting';
}

export const TIME_UNITS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export type TimeUnit = keyof typeof TIME_UNITS;
/** The longest wait offered: a month. */
export const MAX_WAIT_MS = 31 * TIME_UNITS.days;

/** What the resumed item says about the session, carried in the resume URL (vgai_sent). */
export interface WaitingSession extends Omit<SendSummary, 'statusUrl'> {
	/** ISO time the request to Studio started. */
	sentAt: string;
	awaited: AwaitedStatus;
	/** ISO time the wait ends. */
	waitUntil: string;
	/** How the item leaves the node: three outputs, or one with an `outcome` field. */
	outputs: 'branches' | 'single';
}

export const WAIT_PARAMS = { session: 'vgai_sent', token: 'vgai_wait' } as const;

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

export function encodeSession(session: WaitingSession): string {
	return base64url(JSON.stringify(session));
}

export function decodeSession(encoded: string): WaitingSession | undefined {
	try {
		const value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as WaitingSession;
		return value && typeof value === 'object' && typeof value.to === 'string' ? value : undefined;
	} catch {
		return undefined;
	}
}

/** The check value of one wait: only who holds the API key can make it, and it names execution, node and session. */
export function waitToken(apiKey: string, executionId: string, nodeId: string, encodedSession: string): string {
	return createHmac('sha256', apiKey)
		.update(`vgai-wait\n${executionId}\n${nodeId}\n${encodedSession}`, 'utf8')
		.digest('base64url');
}

export function verifyWaitToken(expected: string, presented: unknown): boolean {
	if (typeof presented !== 'string') return false;
	const a = Buffer.from(expected, 'utf8');
	const b = Buffer.from(presented, 'utf8');
	return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The status URL of a waiting session: the execution's resume URL with this node's ID as path suffix (so a late
 * callback can only resume this node), the session and its check value, and the reference.
 */
export function waitStatusUrl(
	resumeUrl: string,
	nodeId: string,
	session: WaitingSession,
	token: (encodedSession: string) => string,
): string {
	const url = new URL(resumeUrl);
	url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(nodeId)}`;
	const encoded = encodeSession(session);
	url.searchParams.set(WAIT_PARAMS.session, encoded);
	url.searchParams.set(WAIT_PARAMS.token, token(encoded));
	return url.toString();
}

/**
 * Whether Studio, on the internet, could never reach this host: loopback, private and link-local addresses, and
 * names that only resolve locally. (A self-hosted n8n without WEBHOOK_URL builds its URLs on localhost.)
 */
export function isLocalAddress(hostname: string): boolean {
	const host = hostname
		.toLowerCase()
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '');
	if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))
		return true;
	if (!host.includes('.') && !host.includes(':')) return true; // a bare name: "n8n", a Docker service
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (v4) {
		const [a, b] = [Number(v4[1]), Number(v4[2])];
		return (
			a === 127 ||
			a === 10 ||
			a === 0 ||
			(a === 172 && b >= 16 && b <= 31) ||
			(a === 192 && b === 168) ||
			(a === 169 && b === 254) ||
			(a === 100 && b >= 64 && b <= 127)
		);
	}
	if (host.includes(':')) {
		return (
			host === '::1' || host === '::' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith('::ffff:127.')
		);
	}
	return false;
}
