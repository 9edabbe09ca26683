#!/usr/bin/env node
// n8n's verification scan of the main package, run here the way n8n runs it (@n8n/scan-community-package):
//   1. the source leg: its lint over package.json, nodes/ and credentials/ of this repository;
//   2. the tarball leg: `npm pack` of the main package, unpacked, its lint over the compiled .js and package.json
//      (and, stricter than the scanner today, over every .js, .ts and .json the tarball holds: older scanners did);
//   3. what the scanner cannot see: its import rule lets any devDependency through, so a require() of ioredis in
//      the shipped code would pass the scan and then fail on n8n Cloud, where nothing is installed beside the
//      package. We read every require() of the tarball's .js and allow only n8n-workflow, zod (n8n ships it),
//      node:crypto and relative paths.
// Provenance, the scanner's first check, is what the release workflow adds when it publishes (npm --provenance).
// Usage: node scripts/scan.mjs        (exit 1 on any error, with every finding printed)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_FILE_PATTERNS, analyzePackage } from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALLOWED_RUNTIME_IMPORTS = new Set(['n8n-workflow', 'zod', 'crypto', 'node:crypto']);

function unpackMainTarball() {
	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vgai-scan-'));
	const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
	const tarball = path.join(work, out.trim().split('\n').pop());
	const dir = path.join(work, 'package');
	fs.mkdirSync(dir);
	execFileSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
	return { work, dir };
}

function runtimeImports(dir) {
	const found = [];
	const walk = (d) => {
		for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, entry.name);
			if (entry.isDirectory()) walk(p);
			else if (entry.name.endsWith('.js')) {
				const text = fs.readFileSync(p, 'utf8');
				for (const m of text.matchAll(/\brequire\(\s*([^)]*?)\s*\)|\bimport\(\s*([^)]*?)\s*\)/g)) {
					const arg = (m[1] ?? m[2]).trim();
					const literal = /^(['"`])([^'"`]*)\1$/.exec(arg);
					if (!literal) found.push({ file: path.relative(dir, p), what: `require(${arg}) (not a literal)` });
					else if (!literal[2].startsWith('.') && !ALLOWED_RUNTIME_IMPORTS.has(literal[2])) {
						found.push({ file: path.relative(dir, p), what: `require('${literal[2]}')` });
					}
				}
			}
		}
	};
	walk(dir);
	return found;
}

async function leg(name, dir, patterns) {
	const result = await analyzePackage(dir, patterns);
	console.log(
		`${result.passed ? 'ok  ' : 'FAIL'} ${name}${result.message && !result.passed ? `: ${result.message}` : ''}`,
	);
	if (!result.passed && result.details) console.log(result.details);
	return result.passed;
}

const { work, dir } = unpackMainTarball();
try {
	const results = [
		await leg('source: package.json, nodes/, credentials/', root, SOURCE_FILE_PATTERNS),
		await leg('tarball: compiled .js and package.json', dir, ['**/*.js', 'package.json']),
		await leg('tarball: every .js, .ts and .json', dir, ['**/*.js', '**/*.ts', '**/*.json']),
	];
	const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
	const deps = Object.keys(pkg.dependencies ?? {});
	const imports = runtimeImports(dir);
	const selfContained = deps.length === 0 && imports.length === 0;
	console.log(
		`${selfContained ? 'ok  ' : 'FAIL'} tarball needs nothing n8n does not ship (dependencies: ${deps.join(', ') || 'none'})`,
	);
	for (const i of imports) console.log(`     ${i.file}: ${i.what}`);
	results.push(selfContained);
	if (results.includes(false)) process.exitCode = 1;
} finally {
	fs.rmSync(work, { recursive: true, force: true });
}
