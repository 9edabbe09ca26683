// Many self-hosted users are still on Node 20, where the newest n8n is 2.8.x: the package must load and send
// there too (n8n 2.8.4, the machine's Node 20).
import { startSimulator, type StudioSimulator } from '../simulator/simulator';
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, outputItems } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';
import { NODE20_N8N_VERSION } from '../harness/n8n/runtime';
import {
	chain,
	expectedWhatsAppBody,
	manualTrigger,
	rowsNode,
	studioCredential,
	whatsAppNode,
} from '../harness/n8n/workflows';

const STATUS_URL = 'https://crm.example.com/vonage/status';
const rows = [0, 1, 2].map((index) => ({
	to: `4477009400${index}0`,
	name: `Customer ${index}`,
	order: `N-${index}`,
	ref: `node20-${index}`,
}));

const stack = new Stack();
afterAll(() => stack.stopAll());

test(`n8n ${NODE20_N8N_VERSION} on Node 20 loads the package and sends a batch`, async () => {
	const simulator: StudioSimulator = await startSimulator({ tier: 5, apiKey: 'e2e-key', callbacks: false });
	stack.defer('simulator', () => simulator.close());
	const home = await N8nHome.create({ version: NODE20_N8N_VERSION, package: await preparePackage() });
	stack.defer('n8n user folder', () => home.remove());
	expect(home.runtime.nodeBin).toBe(process.execPath);
	expect(process.version).toMatch(/^v20\./);

	await home.importCredentials([studioCredential({ baseUrl: simulator.url, apiKey: 'e2e-key', sessionsPerSecond: 5 })]);
	await home.importWorkflows([
		chain('vgaiE2eNode20001', 'Node 20 send', [
			manualTrigger(),
			rowsNode(rows),
			whatsAppNode({ statusUrl: STATUS_URL }),
		]),
	]);
	const result = await home.execute('vgaiE2eNode20001');

	expect(result.data.resultData.error).toBeUndefined();
	const items = outputItems(result, 'Vonage AI Studio');
	expect(items.map((item) => [item.json.to, item.json.statusCode, item.pairedItem])).toEqual(
		rows.map((row, index) => [row.to, 200, { item: index }]),
	);
	expect(
		simulator.sessions.map((session) => session.body).sort((a, b) => String(a.to).localeCompare(String(b.to))),
	).toEqual(rows.map((row) => expectedWhatsAppBody(row, `${STATUS_URL}?vgai_ref=${row.ref}`)));
});
