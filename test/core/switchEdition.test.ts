// Moving an exported workflow between the editions changes only the package part of our node types.
import { switchEdition } from '../../core/switchEdition';

const exported = () => ({
	name: 'Campaign',
	nodes: [
		{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', parameters: {} },
		{ name: 'Send', type: 'n8n-nodes-vonage-ai-studio.vonageAiStudio', parameters: { agentId: 'a1' } },
		{ name: 'Statuses', type: 'n8n-nodes-vonage-ai-studio.vonageAiStudioTrigger', parameters: {} },
		{ name: 'Other', type: 'n8n-nodes-vonage-ai-studio-extras.somethingElse', parameters: {} },
	],
	connections: {},
});

describe('switchEdition', () => {
	it('moves our two node types to the queue package, leaving parameters, credentials and other nodes alone', () => {
		const workflow = exported();
		expect(switchEdition(workflow, 'queue')).toBe(2);
		expect(workflow.nodes.map((node) => node.type)).toEqual([
			'n8n-nodes-base.manualTrigger',
			'n8n-nodes-vonage-ai-studio-queue.vonageAiStudio',
			'n8n-nodes-vonage-ai-studio-queue.vonageAiStudioTrigger',
			'n8n-nodes-vonage-ai-studio-extras.somethingElse',
		]);
		expect(workflow.nodes[1].parameters).toEqual({ agentId: 'a1' });
	});

	it('moves back to the main package, and a second run changes nothing', () => {
		const workflow = exported();
		switchEdition(workflow, 'queue');
		expect(switchEdition(workflow, 'main')).toBe(2);
		expect(workflow).toEqual(exported());
		expect(switchEdition(workflow, 'main')).toBe(0);
	});

	it('takes a list of workflows as n8n exports several', () => {
		const list = [exported(), exported()];
		expect(switchEdition(list, 'queue')).toBe(4);
	});
});
