// Both packages offer the same nodes, parameters and credential fields (the queue edition adds its Redis URLs), so
// a workflow and its credentials move from one edition to the other by changing only the package part of the node
// types (switch-edition).
import { VonageAiStudioApi as MainStudioApi } from '../../credentials/VonageAiStudioApi.credentials';
import { VonageAiStudioCallbackApi as MainCallbackApi } from '../../credentials/VonageAiStudioCallbackApi.credentials';
import { VonageAiStudioApi as QueueStudioApi } from '../../queue/credentials/VonageAiStudioApi.credentials';
import { VonageAiStudioCallbackApi as QueueCallbackApi } from '../../queue/credentials/VonageAiStudioCallbackApi.credentials';
import { VonageAiStudio as MainNode } from '../../nodes/VonageAiStudio/VonageAiStudio.node';
import { VonageAiStudio as QueueNode } from '../../queue/nodes/VonageAiStudio/VonageAiStudio.node';
import { VonageAiStudioTrigger as MainTrigger } from '../../nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';
import { VonageAiStudioTrigger as QueueTrigger } from '../../queue/nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';
import { QUEUE_ONLY_CREDENTIAL_FIELDS } from '../../nodes/shared/credentialFields';

const names = (properties: Array<{ name: string }>) => properties.map((property) => property.name);
const queueOnly = new Set<string>(QUEUE_ONLY_CREDENTIAL_FIELDS);

describe('the two editions', () => {
	it('have the same Studio credential fields, the queue edition adding its Redis connection', () => {
		const main = names(new MainStudioApi().properties);
		const queue = names(new QueueStudioApi().properties);
		expect(main).toEqual(['apiKey', 'region', 'sessionsPerSecond', 'sendingProcesses', 'safetyMarginMs', 'baseUrl']);
		expect(queue.filter((name) => !queueOnly.has(name))).toEqual(main);
		expect(queue).toEqual(expect.arrayContaining([...QUEUE_ONLY_CREDENTIAL_FIELDS]));
		expect(new QueueStudioApi().name).toBe(new MainStudioApi().name);
	});

	it('have the same callback credential fields, the queue edition adding its Redis connection (no tolerance: the trigger never waits for Redis)', () => {
		const main = names(new MainCallbackApi().properties);
		const queue = names(new QueueCallbackApi().properties);
		expect(queue.filter((name) => !queueOnly.has(name))).toEqual(main);
		expect(queue).toEqual(
			expect.arrayContaining(QUEUE_ONLY_CREDENTIAL_FIELDS.filter((name) => name !== 'redisOutageTolerance')),
		);
		expect(queue).not.toContain('redisOutageTolerance');
		expect(new QueueCallbackApi().name).toBe(new MainCallbackApi().name);
	});

	it('have the same node names, versions and parameters', () => {
		for (const [main, queue] of [
			[new MainNode().description, new QueueNode().description],
			[new MainTrigger().description, new QueueTrigger().description],
		]) {
			expect(queue.name).toBe(main.name);
			expect(queue.version).toEqual(main.version);
			expect(queue.properties).toEqual(main.properties);
			expect(queue.credentials?.map(({ name, required }) => ({ name, required }))).toEqual(
				main.credentials?.map(({ name, required }) => ({ name, required })),
			);
		}
	});

	it('the main Studio credential declares its test (n8n runs it); the queue edition tests with its own client', () => {
		expect(new MainStudioApi().test).toBeDefined();
		expect((new QueueStudioApi() as { test?: unknown }).test).toBeUndefined();
		expect(new QueueNode().description.credentials?.[0].testedBy).toBeDefined();
	});
});
