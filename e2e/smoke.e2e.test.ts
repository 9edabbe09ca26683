// Proves the packed tarball, installed the way n8n installs community packages, loads in a real n8n 2.41.1.
import { preparePackage } from '../harness/n8n/communityPackage';
import { N8nHome, N8nRest } from '../harness/n8n/n8n';
import { Stack } from '../harness/processes';

const stack = new Stack();
afterAll(() => stack.stopAll());

test('n8n 2.41.1 lists our node and credential types after installing the packed package', async () => {
	const home = await N8nHome.create({ package: await preparePackage() });
	stack.defer('remove user folder', () => home.remove());
	const n8n = stack.add(await home.start());

	const rest = await N8nRest.setupOwner(home.baseUrl);
	const nodes = (await rest.get<Array<{ name: string }>>('/types/nodes.json')).map((node) => node.name);
	const credentials = (await rest.get<Array<{ name: string }>>('/types/credentials.json')).map((type) => type.name);

	expect(nodes).toEqual(
		expect.arrayContaining([
			'n8n-nodes-vonage-ai-studio.vonageAiStudio',
			'n8n-nodes-vonage-ai-studio.vonageAiStudioTrigger',
		]),
	);
	expect(credentials).toEqual(expect.arrayContaining(['vonageAiStudioApi', 'vonageAiStudioCallbackApi']));
	expect(n8n.output).not.toMatch(/Failed to load package|n8n-nodes-vonage-ai-studio.*error/i);
});
