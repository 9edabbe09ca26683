// The queue edition against Redis as production runs it: TLS only (rediss://) with a private certificate authority
// whose PEM text the user pastes into the credential (certificates made here with openssl), an ACL user with a
// password allowed only the vgai:* keys and the commands docs/production.md lists, and a database number. And what
// the user sees when one of these is wrong: the credential's Test and every item say what to change, at once (a
// refusal is not an outage: nothing waits out the Redis Outage Tolerance), the password never shown, nothing sent.
import type { RedisConnectionSettings } from '../../../core/account';
import { isError } from '../../../core/errors';
import { STUDIO_PATHS } from '../../../core/studioApi';
import { queueEdition } from '../../../editions/queue';
import { testStudioCredential } from '../../../editions/queue/credentialTest';
import { createRedisClient, redisProblem, type RedisClient } from '../../../editions/queue/redisClient';
import { closeAllPools, postToStudio } from '../../../editions/queue/transport';
import { closeShared, studioAccount } from '../../../harness/accounts';
import { dispatch } from '../../../harness/dispatch';
import { whatsappSessionBody } from '../../../harness/fixtures';
import { startRedis, type RedisServer } from '../../../harness/redisServer';
import { makeCertificates, type TestCertificates } from '../../../harness/tlsCertificates';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';

// A refusal must fail at once: if an item waited out this tolerance instead, the test would time out.
jest.setTimeout(60_000);
const LONG_TOLERANCE_MS = 10 * 60_000;

const API_KEY = 'redis-tls-test-key';
const PASSWORD = 'tls-acl-password-8841';
/** The ACL docs/production.md gives the gate's user: its own keys, and what the shared stores run. */
const GATE_USER = `vgai on >${PASSWORD} ~vgai:* -@all +@read +@write +@scripting +@connection +time`;
/** A user allowed other keys only. */
const NARROW_USER = `narrow on >narrow-password ~other:* -@all +@read +@write +@scripting +@connection +time`;
const ADMIN_USER = 'admin on >admin-password ~* &* +@all';

let certificates: TestCertificates;
let redis: RedisServer;
let sim: StudioSimulator;
const clients: RedisClient[] = [];
let port: number;

beforeAll(async () => {
	certificates = await makeCertificates();
	redis = await startRedis({ tls: certificates, users: [GATE_USER, NARROW_USER, ADMIN_USER] });
	port = redis.port;
	sim = await startSimulator({ apiKey: API_KEY, callbacks: false, tier: 5 });
});

afterEach(async () => {
	for (const each of clients.splice(0)) each.disconnect();
	await closeShared();
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	await closeAllPools();
	await redis.stop();
	certificates.remove();
});

const settings = (overrides: Partial<RedisConnectionSettings> = {}): RedisConnectionSettings => ({
	url: `rediss://vgai:${PASSWORD}@127.0.0.1:${port}/3`,
	caCertificate: certificates.caPem,
	allowUnauthorizedCerts: false,
	cluster: false,
	...overrides,
});

/** The credential as n8n hands it to the node's Test. */
const credential = (redis: RedisConnectionSettings) => ({
	apiKey: API_KEY,
	region: 'eu',
	sessionsPerSecond: 5,
	baseUrl: sim.url,
	redisUrl: redis.url,
	redisCaCertificate: redis.caCertificate ?? '',
	redisAllowUnauthorizedCerts: redis.allowUnauthorizedCerts,
	redisCluster: redis.cluster,
});

function admin(db: number): RedisClient {
	const client = createRedisClient({
		...settings({ url: `rediss://admin:admin-password@127.0.0.1:${port}/${db}` }),
	});
	clients.push(client);
	return client;
}

async function send(redis: RedisConnectionSettings, count: number, prefix = 'tls') {
	const { gate, ledger } = queueEdition.accountState(
		studioAccount({
			apiKey: API_KEY,
			tier: 5,
			baseUrl: sim.url,
			redis,
			redisOutageToleranceMs: LONG_TOLERANCE_MS,
		}),
	);
	const jobs = Array.from({ length: count }, (_, index) => ({
		index,
		ledgerKey: `${prefix}/${index}`,
		send: () =>
			postToStudio(
				sim.url,
				STUDIO_PATHS.messagingConversation,
				whatsappSessionBody(`4477009800${String(index).padStart(2, '0')}`),
				API_KEY,
			),
	}));
	return await dispatch(jobs, { gate, ledger });
}

describe('rediss:// with a private CA, an ACL user and a database number', () => {
	it('the Test passes, and sends share the gate and ledger there: keys in database 3 only, a re-run replays', async () => {
		expect(await testStudioCredential(credential(settings()))).toEqual({
			status: 'OK',
			message: expect.stringMatching(/Key accepted.*Redis answered/),
		});
		const results = await send(settings(), 3);
		expect(results.map((result) => result.outcome)).toEqual(['sent', 'sent', 'sent']);
		expect(sim.sessions).toHaveLength(3);
		const again = await send(settings(), 3);
		expect(again.map((result) => result.outcome)).toEqual(['replayed', 'replayed', 'replayed']);
		expect(sim.sessions).toHaveLength(3);

		const inDb3 = await admin(3).keys('*');
		expect(inDb3.some((key) => key.startsWith('vgai:ledger:'))).toBe(true);
		expect(inDb3.some((key) => key.startsWith('vgai:gate:'))).toBe(true);
		expect(inDb3.every((key) => key.startsWith('vgai:'))).toBe(true);
		expect(await admin(0).keys('vgai:*')).toEqual([]);
	});

	it('without the CA, the Test and the items say the certificate could not be verified and what to do; nothing is sent', async () => {
		const untrusted = settings({ caCertificate: undefined });
		const result = await testStudioCredential(credential(untrusted));
		expect(result.status).toBe('Error');
		expect(result.message).toContain(`127.0.0.1:${port} refused`);
		expect(result.message).toMatch(/certificate could not be verified \(SELF_SIGNED_CERT_IN_CHAIN\)/);
		expect(result.message).toContain('Redis CA Certificate');
		expect(result.message).toContain('Ignore Redis SSL Issues (Insecure)');

		const before = sim.requests.length;
		const [item] = await send(untrusted, 1);
		expect(item.outcome).toBe('failed');
		const error = (item as { error: Error }).error;
		expect(isError(error, 'RedisUnavailableError') && error.failure.kind).toBe('refused');
		expect(error.message).toMatch(/Redis \(127\.0\.0\.1:\d+\) refused the shared send ledger/);
		expect(error.message).toContain('Redis CA Certificate');
		expect(error.message).not.toContain(PASSWORD);
		expect(sim.requests).toHaveLength(before);
	});

	it('with Ignore SSL Issues switched on, a self-signed (here: unknown) certificate is accepted without the CA', async () => {
		const trusting = settings({ caCertificate: undefined, allowUnauthorizedCerts: true });
		expect(await redisProblem(trusting)).toBeUndefined();
		const results = await send(trusting, 2, 'insecure');
		expect(results.map((result) => result.outcome)).toEqual(['sent', 'sent']);
	});

	it('a wrong password: the Test and the items name the user and password to check, at once, and never show them', async () => {
		const wrong = settings({ url: `rediss://vgai:not-the-password@127.0.0.1:${port}/3` });
		const result = await testStudioCredential(credential(wrong));
		expect(result.status).toBe('Error');
		expect(result.message).toContain('WRONGPASS');
		expect(result.message).toContain('Check the user name and password in the Redis URL');
		expect(result.message).not.toContain('not-the-password');

		const before = sim.requests.length;
		const results = await send(wrong, 2, 'wrong');
		for (const item of results) {
			expect(item.outcome).toBe('failed');
			const error = (item as { error: Error }).error;
			expect(error.message).toMatch(/refused the shared send ledger: WRONGPASS/);
			expect(error.message).toContain('This item was not sent');
			expect(error.message).not.toContain('not-the-password');
		}
		expect(sim.requests).toHaveLength(before);
	});

	it('an ACL user that may not use the vgai:* keys: the Test and the items point at the permissions', async () => {
		const narrow = settings({ url: `rediss://narrow:narrow-password@127.0.0.1:${port}/3` });
		const result = await testStudioCredential(credential(narrow));
		expect(result.status).toBe('Error');
		expect(result.message).toContain('NOPERM');
		expect(result.message).toContain('allow it the keys vgai:*');

		const before = sim.requests.length;
		const [item] = await send(narrow, 1, 'narrow');
		expect((item as { error: Error }).error.message).toMatch(/NOPERM.*allow it the keys vgai:\*/);
		expect(sim.requests).toHaveLength(before);
	});

	it("the callback credential's repeat memory uses the same connection fields: its check passes, and repeats are recognised", async () => {
		const data = {
			token: 'x'.repeat(20),
			redisUrl: settings().url,
			redisCaCertificate: certificates.caPem,
		};
		expect(await queueEdition.callbackCredentialProblem(data)).toBeUndefined();
		const memory = queueEdition.sharedRepeats(data)!;
		expect(memory.location).toBe(`127.0.0.1:${port}`);
		expect(await memory.claimFirstSighting('scope', 'message-1:delivered', 60_000)).toBe(true);
		expect(await memory.claimFirstSighting('scope', 'message-1:delivered', 60_000)).toBe(false);
		expect(await queueEdition.callbackCredentialProblem({ ...data, redisCaCertificate: '' })).toMatch(
			/Shared Repeat Memory Redis URL does not work: .*certificate could not be verified/,
		);
	});

	it('plain redis:// to the TLS port: the Test says Redis did not answer (the connection is dropped, as for an outage)', async () => {
		const plain = settings({ url: `redis://vgai:${PASSWORD}@127.0.0.1:${port}/3` });
		expect(await redisProblem(plain, 1000)).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} did not answer`));
	});
});
