#!/usr/bin/env node
// npx n8n-nodes-vonage-ai-studio-queue switch-edition --to queue|main workflow.json [more.json ...]
// Rewrites exported n8n workflows in place so their Vonage AI Studio nodes use the other edition's package. The
// credentials stay as they are: both editions use the same credential types.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { switchEdition } = require('../dist/core/switchEdition');

const args = process.argv.slice(2).filter((arg) => arg !== 'switch-edition');
const toAt = args.indexOf('--to');
const to = toAt >= 0 ? args[toAt + 1] : undefined;
const files = args.filter((_, index) => index !== toAt && index !== toAt + 1);
if ((to !== 'queue' && to !== 'main') || files.length === 0) {
	process.stderr.write(
		'Usage: npx n8n-nodes-vonage-ai-studio-queue switch-edition --to queue|main workflow.json [...]\n',
	);
	process.exit(2);
}
for (const file of files) {
	const exported = JSON.parse(readFileSync(file, 'utf8'));
	const changed = switchEdition(exported, to);
	writeFileSync(file, `${JSON.stringify(exported, null, 2)}\n`);
	process.stdout.write(
		`${file}: ${changed} node${changed === 1 ? '' : 's'} now use${changed === 1 ? 's' : ''} the ${to} edition\n`,
	);
}
