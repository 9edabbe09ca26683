// What a user reads of the action node in the editor, evaluated the way the editor does (n8n's expressions on the
// node's parameters): the canvas subtitle, the actions list with WhatsApp written as the brand writes it, each hint
// only where it is true, and tooltips of one rule with a link to the docs.
import { Workflow, type INode, type INodeType, type INodeTypes } from 'n8n-workflow';

import { studioApiProperties } from '../../../nodes/shared/credentialFields';
import { DOCS_BASE_URL } from '../../../nodes/shared/docs';
import { OPERATIONS, SEND_OPERATIONS } from '../../../nodes/VonageAiStudio/actions/router';
import { optionsProperty } from '../../../nodes/VonageAiStudio/options';
import { VonageAiStudio } from '../../../nodes/VonageAiStudio/VonageAiStudio.node';
import { VonageAiStudio as QueueVonageAiStudio } from '../../../queue/nodes/VonageAiStudio/VonageAiStudio.node';

const studio = new VonageAiStudio();
const { description } = studio;

/** Evaluates an expression of the description on a node with these parameters, as the editor does. */
function evaluate(expression: string, parameters: Record<string, string>): unknown {
	const nodeTypes: INodeTypes = {
		getByName: () => studio as INodeType,
		getByNameAndVersion: () => studio as INodeType,
		getKnownTypes: () => ({}),
	};
	const node: INode = {
		id: 'n1',
		name: 'Vonage AI Studio',
		type: 'n8n-nodes-vonage-ai-studio.vonageAiStudio',
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	return workflow.expression.getSimpleParameterValue(node, expression, 'internal', {});
}

const everyOperation = OPERATIONS.map((operation) => ({
	resource: operation.resource,
	operation: operation.option.value,
}));

it('the canvas subtitle names the channel as its brand does and the operation in a few words', () => {
	const subtitles = everyOperation.map((values) => evaluate(description.subtitle!, values));
	expect(subtitles).toEqual([
		'WhatsApp · Start Session',
		'WhatsApp · Start and Wait',
		'SMS · Start Session',
		'SMS · Start and Wait',
		'Voice · Call',
		'Voice · Call and Wait',
		'Session · Get',
		'Session · Latest for Contact',
		'Session · Search',
	]);
	// What fits under a node on the canvas without being cut off.
	for (const subtitle of subtitles) expect(String(subtitle).length).toBeLessThanOrEqual(28);
	expect(new QueueVonageAiStudio().description.subtitle).toBe(description.subtitle);
});

it('the actions list writes WhatsApp as the brand does, next to SMS', () => {
	expect(OPERATIONS.map((operation) => operation.option.action)).toEqual([
		'Start an outbound WhatsApp session',
		'Start a WhatsApp session and wait for its status',
		'Start an outbound SMS session',
		'Start an SMS session and wait for its status',
		'Make an outbound call',
		'Make a call and wait for its outcome',
		'Get a session',
		'Get the latest session for a contact',
		'Search sessions',
	]);
	const miswritten = visibleTexts(description).filter((text) => /whatsapp|Whatsapp|WHATSAPP/.test(text));
	expect(miswritten).toEqual([]);
	expect(visibleTexts(description).filter((text) => text.includes('WhatsApp')).length).toBeGreaterThan(10);
});

/** Every text the editor shows of a description: names, actions, descriptions, placeholders, hints and notices. */
function visibleTexts(value: unknown, key = ''): string[] {
	if (typeof value === 'string')
		return ['displayName', 'action', 'description', 'placeholder', 'message', 'option'].includes(key) ? [value] : [];
	if (Array.isArray(value)) return value.flatMap((each) => visibleTexts(each, key === 'options' ? 'options' : key));
	if (!value || typeof value !== 'object') return [];
	const entries = Object.entries(value as Record<string, unknown>);
	// An option of a menu shows its name; a parameter's name is not shown.
	const isOption = key === 'options' && 'value' in (value as object);
	return entries.flatMap(([name, each]) => visibleTexts(each, isOption && name === 'name' ? 'option' : name));
}

it('shows the campaign pacing hint for the operations that start sessions, not for those that wait or read', () => {
	const [hint] = description.hints!;
	expect(hint.message).toMatch(/^Sessions start at the tier set in the credential.*600 contacts take about 10 minutes/);
	const shown = everyOperation.map((values) => [values.operation, evaluate(hint.displayCondition!, values)]);
	expect(shown).toEqual([
		['startOutboundSession', true],
		['startSessionAndWait', false],
		['startOutboundSession', true],
		['startSessionAndWait', false],
		['makeOutboundCall', true],
		['makeCallAndWait', false],
		['get', false],
		['getLatestForContact', false],
		['search', false],
	]);
});

it('writes a unit of milliseconds as ms', () => {
	const names = studioApiProperties('main').map((property) => property.displayName);
	expect(names).toContain('Rate Gate Safety Margin (ms)');
	expect(names.join()).not.toContain('(Ms)');
});

it('says each rule in one sentence and links to the docs for the rest', () => {
	const fieldsOf = (operation: (typeof OPERATIONS)[number]) => operation.properties;
	const tooltips = [
		...SEND_OPERATIONS.flatMap(fieldsOf).filter((field) => ['idempotencyKey', 'reference'].includes(field.name)),
		...(optionsProperty.options as Array<{ name: string; description?: string }>).filter(
			(option) => option.name === 'duplicateGuard',
		),
		...studioApiProperties('main').filter((field) =>
			['sendingProcesses', 'safetyMarginMs', 'sessionsPerSecond'].includes(field.name),
		),
		...studioApiProperties('queue').filter((field) => field.name === 'sendingProcesses'),
	];
	expect(tooltips.length).toBeGreaterThanOrEqual(9);
	for (const { name, description: tooltip } of tooltips) {
		const words = String(tooltip)
			.replace(/<a [^>]*>.*?<\/a>/g, '')
			.split(/\s+/)
			.filter(Boolean);
		expect([name, words.length <= 35]).toEqual([name, true]);
		expect(tooltip).toContain(`<a href="${DOCS_BASE_URL}/`);
	}
});
