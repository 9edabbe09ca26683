// "Test" on the queue edition's Studio credential (run by the node, with the edition's HTTP client), against the
// simulator: key accepted, key rejected and host unreachable are told apart, the test can never start a session,
// and a Redis URL is checked too.
import { testStudioCredential } from '../../../editions/queue/credentialTest';
import { closeAllPools } from '../../../editions/queue/transport';
import { VonageAiStudio } from '../../../queue/nodes/VonageAiStudio/VonageAiStudio.node';
import { startSimulator, type StudioSimulator } from '../../../simulator/simulator';
import { startRedis } from '../../../harness/redisServer';

const API_KEY = 'sk-cred-test-5531';
let simulator: StudioSimulator;

beforeAll(async () => {
	simulator = await startSimulator({ apiKey: API_KEY });
});
afterAll(async () => {
	await simulator.close();
	await closeAllPools();
});

const data = (extra: Record<string, string>) => ({
	region: 'eu',
	sessionsPerSecond: 1,
	baseUrl: simulator.url,
	...extra,
});

it('is the test n8n runs for this credential', () => {
	const node = new VonageAiStudio();
	expect(node.description.credentials).toEqual([
		{ name: 'vonageAiStudioApi', required: true, testedBy: 'vonageAiStudioApiTest' },
	]);
	expect(typeof node.methods.credentialTest?.vonageAiStudioApiTest).toBe('function');
});

it('accepts a key Studio accepts: the incomplete request is refused for its body, and no session starts', async () => {
	const before = simulator.sessions.length;
	const result = await testStudioCredential(data({ apiKey: API_KEY }));
	expect(result).toEqual({ status: 'OK', message: expect.stringContaining('Key accepted') });
	expect(simulator.sessions.length).toBe(before);
	const request = simulator.requests.at(-1)!;
	expect(request.headers['x-vgai-key']).toBe(API_KEY);
	expect(request.status).toBe(400);
});

it('says the key was rejected on 401, without echoing the key', async () => {
	const result = await testStudioCredential(data({ apiKey: 'sk-wrong-991' }));
	expect(result).toEqual({
		status: 'Error',
		message: expect.stringContaining('Studio rejected this API key (HTTP 401)'),
	});
	expect(result.message).not.toContain('sk-wrong-991');
});

it('says the host is unreachable, which is not the same as a rejected key', async () => {
	const result = await testStudioCredential(data({ apiKey: API_KEY, baseUrl: 'http://127.0.0.1:1' }));
	expect(result.status).toBe('Error');
	expect(result.message).toMatch(/^Could not reach 127\.0\.0\.1:1: .*ECONNREFUSED/);
	expect(result.message).not.toMatch(/API key/);
});

it('asks for a key when there is none', async () => {
	expect(await testStudioCredential(data({ apiKey: '' }))).toMatchObject({
		status: 'Error',
		message: expect.stringContaining('Enter the API key'),
	});
});

describe('with a Shared Rate Gate Redis URL', () => {
	it('also checks that the Redis answers', async () => {
		const redis = await startRedis();
		try {
			const result = await testStudioCredential(data({ apiKey: API_KEY, redisUrl: redis.url }));
			expect(result).toEqual({ status: 'OK', message: expect.stringMatching(/Key accepted.*Redis answered/) });
		} finally {
			await redis.stop();
		}
	});

	it('says a Redis that does not answer would fail every send, naming host and port but not the password', async () => {
		const gone = await startRedis();
		const port = gone.port;
		await gone.stop();
		const result = await testStudioCredential(
			data({ apiKey: API_KEY, redisUrl: `redis://:redis-pass-77@127.0.0.1:${port}` }),
		);
		expect(result.status).toBe('Error');
		expect(result.message).toContain('Key accepted');
		expect(result.message).toContain(`Shared Rate Gate Redis URL does not work: 127.0.0.1:${port} did not answer`);
		expect(result.message).toContain('Every send would fail');
		expect(result.message).not.toContain('redis-pass-77');
	});

	it('reports a rejected key first', async () => {
		const result = await testStudioCredential(data({ apiKey: 'sk-wrong-991', redisUrl: 'redis://127.0.0.1:1' }));
		expect(result.message).toContain('Studio rejected this API key');
		expect(result.message).not.toContain('Redis');
	});
});
