// The rules of "start a session and wait for its status": which callback resumes into which outcome, the check
// value that ties a callback to one execution, node and session, the status URL built from the resume URL, and which
// addresses Studio on the internet could never reach.
import {
	decideWait,
	decodeSession,
	encodeSession,
	isLocalAddress,
	verifyWaitToken,
	waitStatusUrl,
	waitToken,
	type WaitingSession,
} from '../../core/waitRules';
import { engineForwardsAllOutputs } from '../../nodes/VonageAiStudio/sendAndWait';
import { WaitHistory } from '../../nodes/VonageAiStudio/waitHistory';

const session: WaitingSession = {
	channel: 'whatsapp',
	to: '447700900001',
	agentId: 'agent-1',
	template: 'appointment',
	locale: 'en_GB',
	reference: 'crm-1',
	sentAt: '2026-12-01T10:00:00.000Z',
	awaited: 'read',
	waitUntil: '2026-12-02T10:00:00.000Z',
	outputs: 'branches',
};

describe('which status resumes a waiting execution', () => {
	it.each([
		['read', 'submitted', 'keep-waiting'],
		['read', 'delivered', 'keep-waiting'],
		['read', 'read', 'reached'],
		['read', 'rejected', 'failed'],
		['read', 'undeliverable', 'failed'],
		['read', 'something-new', 'keep-waiting'],
		['delivered', 'submitted', 'keep-waiting'],
		['delivered', 'delivered', 'reached'],
		['delivered', 'read', 'reached'],
		['delivered', 'undeliverable', 'failed'],
		['call-not-answered', 'busy', 'failed'],
		['call-not-answered', 'unanswered', 'failed'],
		['call-not-answered', 'timeout', 'failed'],
		['call-not-answered', 'started', 'keep-waiting'],
	] as const)('waiting for %s, a "%s" status: %s', (awaited, status, decision) => {
		expect(decideWait(awaited, status)).toBe(decision);
	});
});

describe('the status URL of a waiting session', () => {
	const resumeUrl = 'https://n8n.example.com/webhook-waiting/42?signature=abc';
	const token = (encoded: string) => waitToken('studio-key', '42', 'node-1', encoded);
	const url = new URL(waitStatusUrl(resumeUrl, 'node-1', session, token));

	it("is the execution's resume URL with the node's ID as suffix, n8n's own signature kept", () => {
		expect(url.origin + url.pathname).toBe('https://n8n.example.com/webhook-waiting/42/node-1');
		expect(url.searchParams.get('signature')).toBe('abc');
	});

	it('carries the session, signed for this execution and node with the API key', () => {
		const encoded = url.searchParams.get('vgai_sent')!;
		expect(decodeSession(encoded)).toEqual(session);
		const presented = url.searchParams.get('vgai_wait');
		expect(verifyWaitToken(waitToken('studio-key', '42', 'node-1', encoded), presented)).toBe(true);
		// Another execution, another node, another key or an altered session: refused.
		expect(verifyWaitToken(waitToken('studio-key', '43', 'node-1', encoded), presented)).toBe(false);
		expect(verifyWaitToken(waitToken('studio-key', '42', 'node-2', encoded), presented)).toBe(false);
		expect(verifyWaitToken(waitToken('other-key', '42', 'node-1', encoded), presented)).toBe(false);
		const altered = encodeSession({ ...session, to: '447700900999' });
		expect(verifyWaitToken(waitToken('studio-key', '42', 'node-1', altered), presented)).toBe(false);
		expect(verifyWaitToken(waitToken('studio-key', '42', 'node-1', encoded), undefined)).toBe(false);
		expect(url.toString()).not.toContain('studio-key');
	});

	it('an unreadable session is refused, not guessed', () => {
		expect(decodeSession('not-base64-json')).toBeUndefined();
		expect(decodeSession(Buffer.from('{"no":"to"}').toString('base64url'))).toBeUndefined();
	});
});

describe('addresses Studio on the internet could never reach', () => {
	it.each([
		'localhost',
		'127.0.0.1',
		'10.1.2.3',
		'172.16.0.5',
		'172.31.255.1',
		'192.168.1.20',
		'169.254.1.1',
		'100.64.0.1',
		'n8n',
		'n8n.local',
		'app.localhost',
		'[::1]',
		'fd00::1',
	])('%s is local', (host) => expect(isLocalAddress(host)).toBe(true));

	it.each(['n8n.example.com', '8.8.8.8', '172.32.0.1', '192.169.0.1', '[2001:db8::1]'])('%s is not', (host) =>
		expect(isLocalAddress(host)).toBe(false),
	);
});

describe('which n8n passes on every output of a node that waited', () => {
	it('n8n 2.39 and newer (their n8n-workflow checks node API versions); older ones only the first output', () => {
		expect(engineForwardsAllOutputs({ checkNodesApiVersion: () => ({ compatible: true }) })).toBe(true);
		expect(engineForwardsAllOutputs({})).toBe(false);
		// The n8n-workflow the tests run against is 2.8.0.
		expect(engineForwardsAllOutputs()).toBe(false);
	});
});

describe('the statuses a wait received before it resumed', () => {
	it('lists each status once, in order, with the send answer, and forgets them when taken', () => {
		let now = 0;
		const history = new WaitHistory(() => now);
		history.begin('42', 'node-1', { session_id: 's1' }, 60_000);
		history.add('42', 'node-1', { status: 'submitted', at: 't1' });
		history.add('42', 'node-1', { status: 'delivered', at: 't2' });
		history.add('42', 'node-1', { status: 'delivered', at: 't3' });
		history.add('43', 'node-1', { status: 'submitted', at: 't4' });
		expect(history.take('42', 'node-1')).toEqual({
			statuses: [
				{ status: 'submitted', at: 't1' },
				{ status: 'delivered', at: 't2' },
			],
			response: { session_id: 's1' },
			expiresAt: expect.any(Number),
		});
		expect(history.take('42', 'node-1')).toBeUndefined();
		now = 10 * 86_400_000;
		history.begin('44', 'node-1', undefined, 1_000); // prunes what expired
		expect(history.take('43', 'node-1')).toBeUndefined();
	});
});
