// Every relative link in the repository's Markdown leads somewhere: scripts/checkLinks.mjs (run by `npm run lint`),
// run here as a child process the way npm runs it, on fixtures and on the repository itself.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CHECKER = join(ROOT, 'scripts', 'checkLinks.mjs');

function check(folder?: string): { status: number | null; lines: string[] } {
	const child = spawnSync(process.execPath, folder ? [CHECKER, folder] : [CHECKER], {
		cwd: ROOT,
		encoding: 'utf8',
		timeout: 60_000,
	});
	if (child.error) throw child.error;
	return { status: child.status, lines: child.stdout.split('\n').filter((line) => line.trim() !== '') };
}

describe('the link checker', () => {
	let folder: string;
	beforeAll(() => {
		folder = mkdtempSync(join(tmpdir(), 'vgai-links-'));
		mkdirSync(join(folder, 'docs'));
		writeFileSync(
			join(folder, 'docs', 'guide.md'),
			[
				'# Guide',
				'',
				'## Setup',
				'',
				'## Setup',
				'',
				'## Many callbacks a second: `N8N_LAZY=true`',
				'',
				'```',
				'[inside a code block](nowhere.md)',
				'```',
			].join('\n'),
		);
		writeFileSync(
			join(folder, 'README.md'),
			[
				'# Project',
				'',
				// Good: a duplicate heading's -1 and a heading with code and punctuation, as GitHub slugs them.
				'See [the second setup](docs/guide.md#setup-1) and [callbacks](docs/guide.md#many-callbacks-a-second-n8n_lazytrue).',
				'Not links: `[code](missing.md)` and [the web](https://example.com/missing.md).',
				'A [missing page](docs/missing.md) and',
				'a [missing anchor](docs/guide.md#set-up).',
			].join('\n'),
		);
	});
	afterAll(() => rmSync(folder, { recursive: true, force: true }));

	it('reports exactly the broken file link and the broken anchor, with file and line, and fails', () => {
		const { status, lines } = check(folder);
		expect(status).toBe(1);
		const broken = lines.filter((line) => line.includes(' — '));
		expect(broken).toEqual([
			'README.md:5: docs/missing.md — docs/missing.md does not exist',
			'README.md:6: docs/guide.md#set-up — docs/guide.md has no heading with the anchor #set-up',
		]);
	});

	it('passes on the repository itself', () => {
		const { status, lines } = check();
		expect(lines).toEqual([]);
		expect(status).toBe(0);
	});
});
