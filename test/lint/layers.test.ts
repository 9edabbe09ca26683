// The layer rules are lint rules: `npm run lint` (ESLint with eslint.config.mjs, run here as a child process the way
// npm runs it) fails on an import that crosses a layer the wrong way, and passes the arrows the layers allow.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface Case {
	file: string;
	code: string;
}

/** Lints each snippet as if it were the file named, with the repository's own ESLint configuration. */
function lintAll(cases: Case[]): string[][] {
	const script = `
		import { ESLint } from 'eslint';
		const cases = JSON.parse(process.argv[1]);
		const eslint = new ESLint({ cwd: process.cwd() });
		const out = [];
		for (const { file, code } of cases) {
			const [result] = await eslint.lintText(code, { filePath: file });
			out.push(result.messages.filter((m) => m.ruleId === 'layers/allowed-imports').map((m) => m.message));
		}
		console.log(JSON.stringify(out));`;
	const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], {
		cwd: ROOT,
		encoding: 'utf8',
		timeout: 120_000,
	});
	if (child.status !== 0) throw new Error(`eslint failed: ${child.stderr}`);
	return JSON.parse(child.stdout) as string[][];
}

const use = (file: string, specifier: string): Case => ({
	file,
	code: `import { x } from '${specifier}';\nexport const y = x;\n`,
});

describe('npm run lint enforces the layers', () => {
	const wrong: Array<[string, Case]> = [
		['the core imports a node', use('core/bad.ts', '../nodes/shared/credentialFields')],
		['the core imports n8n', use('core/bad.ts', 'n8n-workflow')],
		['the core imports an edition', use('core/bad.ts', '../editions/main')],
		['an edition imports a node', use('editions/queue/bad.ts', '../../nodes/VonageAiStudio/apiErrors')],
		['one edition imports the other', use('editions/main/bad.ts', '../queue/transport')],
		['the action node imports the trigger', use('nodes/VonageAiStudio/bad.ts', '../VonageAiStudioTrigger/description')],
		['a node file other than the entry imports an edition', use('nodes/VonageAiStudio/bad.ts', '../../editions/main')],
		['product code imports the test harness', use('nodes/shared/bad.ts', '../../harness/until')],
		['the simulator imports the node', use('simulator/bad.ts', '../nodes/VonageAiStudio/send')],
	];
	const right: Array<[string, Case]> = [
		['the core imports the core', use('core/good.ts', './studioApi')],
		['an edition imports the core and the edition interface', use('editions/main/good.ts', '../edition')],
		['a node imports the core', use('nodes/VonageAiStudio/good.ts', '../../core/errors')],
		['a node imports nodes/shared', use('nodes/VonageAiStudioTrigger/good.ts', '../shared/credentialFields')],
		[
			'the entry file wires the main edition',
			use('nodes/VonageAiStudio/VonageAiStudio.node.ts', '../../editions/main'),
		],
		['the queue package wires the queue edition', use('queue/nodes/X/X.node.ts', '../../../editions/queue')],
		['a test imports anything', use('test/core/good.test.ts', '../../nodes/VonageAiStudio/send')],
	];
	let results: string[][];
	beforeAll(() => {
		results = lintAll([...wrong, ...right].map(([, each]) => each));
	}, 120_000);

	it.each(wrong.map(([name], index) => [name, index] as const))('fails when %s', (_name, index) => {
		expect(results[index]).toHaveLength(1);
		expect(results[index][0]).toMatch(/may not import .*CONTRIBUTING\.md, "Layers"/);
	});

	it.each(right.map(([name], index) => [name, wrong.length + index] as const))('passes when %s', (_name, index) => {
		expect(results[index]).toEqual([]);
	});
});
