// The Studio credential's "Test" button, as the editor presses it (POST /rest/credentials/test), in a real n8n with
// the main package installed. The main edition declares the test (n8n runs the request with the credential's own
// `authenticate`; verified packages may not run code for it): a deliberately incomplete request that Studio can
// only refuse, so no session ever starts. n8n 2.41 tells every answer apart; n8n 2.8 only a rejected key (its
// declarative tests cannot fail on a chosen status), which docs/editions.md says.
import { createServer, type Server } from 'node:http';
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, N8nRest } from '../harness/n8n/n8n';
import { freePort, Stack } from '../harness/processes';
import { DEFAULT_N8N_VERSION, NODE20_N8N_VERSION } from '../harness/n8n/runtime';

const stack = new Stack();
let simulator: StudioSimulator;
let failing: Server;
let failingUrl: string;
let closedUrl: string;

beforeAll(async () => {
	simulator = await startSimulator({ tier: 1, apiKey: 'right-key', callbacks: false });
	stack.defer('simulator', () => simulator.close());
	// A host having trouble: every request gets 500.
	failing = createServer((_request, response) => {
		response.writeHead(500, { 'content-type': 'application/json' });
		response.end('{"message":"Internal Server Error"}');
	});
	await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
	stack.defer('failing host', () => new Promise<void>((resolve) => failing.close(() => resolve())));
	failingUrl = `http://127.0.0.1:${(failing.address() as { port: number }).port}`;
	closedUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(() => stack.stopAll());

async function testerOn(
	version: string,
): Promise<(data: Record<string, unknown>) => Promise<{ status: string; message: string }>> {
	const home = await N8nHome.create({ version, package: await preparePackage() });
	stack.defer(`n8n ${version} user folder`, () => home.remove());
	stack.add(await home.start());
	const rest = await N8nRest.setupOwner(home.baseUrl);
	let count = 0;
	return async (data) => {
		const name = `Studio ${++count}`;
		const credential = { name, type: 'vonageAiStudioApi', data: { region: 'eu', sessionsPerSecond: 1, ...data } };
		const created = await rest.post<{ data: { id: string } }>('/rest/credentials', credential);
		const tested = await rest.post<{ data: { status: string; message: string } }>('/rest/credentials/test', {
			credentials: { id: created.data.id, ...credential },
		});
		return tested.data;
	};
}

test(`n8n ${DEFAULT_N8N_VERSION}: the right key passes, a wrong key, a host that is not Studio, a failing host and an unreachable one fail with a message saying which`, async () => {
	const test = await testerOn(DEFAULT_N8N_VERSION);

	expect(await test({ apiKey: 'right-key', baseUrl: simulator.url })).toEqual({
		status: 'OK',
		message: expect.any(String),
	});
	// Spaces pasted around the override are forgiven.
	expect((await test({ apiKey: 'right-key', baseUrl: ` ${simulator.url}/ ` })).status).toBe('OK');
	expect(await test({ apiKey: 'wrong-key', baseUrl: simulator.url })).toEqual({
		status: 'Error',
		message:
			'Studio rejected this API key (HTTP 401). Generate a new key in the AI Studio canvas and check the region.',
	});
	expect(await test({ apiKey: 'right-key', baseUrl: `${simulator.url}/not-studio` })).toEqual({
		status: 'Error',
		message: expect.stringMatching(/HTTP 404: it is not Vonage AI Studio/),
	});
	expect(await test({ apiKey: 'right-key', baseUrl: failingUrl })).toEqual({
		status: 'Error',
		message: expect.stringMatching(/HTTP 500\. Vonage AI Studio may be having trouble/),
	});
	expect((await test({ apiKey: 'right-key', baseUrl: closedUrl })).status).toBe('Error');

	// Only the test requests reached Studio, each refused: no session was started, and the key went in the header.
	expect(simulator.sessions).toHaveLength(0);
	const tests = simulator.requests.filter((request) => request.path === '/messaging/conversation');
	expect(tests.length).toBeGreaterThanOrEqual(3);
	expect(tests.map((request) => request.status)).not.toContain(200);
	expect(tests.map((request) => request.headers['x-vgai-key'])).toEqual(
		expect.arrayContaining(['right-key', 'wrong-key']),
	);
});

test(`n8n ${NODE20_N8N_VERSION} (Node 20): the right key passes and a wrong key fails; a host that is not Studio is only found at the first send`, async () => {
	simulator.reset();
	const test = await testerOn(NODE20_N8N_VERSION);

	expect((await test({ apiKey: 'right-key', baseUrl: simulator.url })).status).toBe('OK');
	expect(await test({ apiKey: 'wrong-key', baseUrl: simulator.url })).toEqual({
		status: 'Error',
		message:
			'Studio rejected this API key (HTTP 401). Generate a new key in the AI Studio canvas and check the region.',
	});
	expect((await test({ apiKey: 'right-key', baseUrl: closedUrl })).status).toBe('Error');
	// The documented limit of n8n 2.8 (docs/editions.md): these pass the test.
	expect((await test({ apiKey: 'right-key', baseUrl: `${simulator.url}/not-studio` })).status).toBe('OK');
	expect((await test({ apiKey: 'right-key', baseUrl: failingUrl })).status).toBe('OK');
	expect(simulator.sessions).toHaveLength(0);
});
