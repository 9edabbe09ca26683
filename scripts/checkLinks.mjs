#!/usr/bin/env node
// Checks that every relative link and image in the repository's Markdown leads somewhere: the file exists and, when
// the link names an anchor in a Markdown file, that file has a heading with that GitHub slug. Run by `npm run lint`
// (so by CI); external links (http, https, mailto, any scheme) are not fetched.
//
//   node scripts/checkLinks.mjs           the repository (the .md files git tracks or would add)
//   node scripts/checkLinks.mjs FOLDER    every .md file under FOLDER (the tests' fixtures)
//
// Prints each broken link as `file:line: link — reason` and exits 1 if there is any.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIPPED = [/^node_modules\//, /\/node_modules\//, /^e2e\/runtime\//];

/** The files of `root`, as POSIX paths relative to it: git's view in a work tree (ignored files left out). */
function listFiles(root) {
	try {
		const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
			cwd: root,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		// A folder inside a larger work tree (a test fixture) is walked instead: it is not what git lists.
		const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' }).trim();
		if (resolve(top) === resolve(root)) return out.split('\0').filter(Boolean);
	} catch {
		// Not a git work tree: walk the folder.
	}
	const files = [];
	const walk = (dir) => {
		for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
			const path = dir ? `${dir}/${entry.name}` : entry.name;
			if (entry.isDirectory()) {
				if (entry.name !== 'node_modules' && entry.name !== '.git') walk(path);
			} else files.push(path);
		}
	};
	walk('');
	return files;
}

/**
 * A heading's anchor as GitHub makes it (github-slugger): lower case, every character that is not a letter, a
 * digit, a mark, '_', '-' or a space dropped, each space turned into '-'.
 */
export function githubSlug(text) {
	return text
		.toLowerCase()
		.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
		.replace(/ /g, '-');
}

/** A heading's text as GitHub renders it: code spans' content, links' text, no emphasis markers or HTML tags. */
function headingText(markdown) {
	const parts = markdown.split(/(`+)([^`]|[^`][\s\S]*?[^`])\1/);
	let text = '';
	// split() with two groups gives: text, ticks, code, text, ticks, code, ...
	for (let i = 0; i < parts.length; i += 3) {
		text += parts[i]
			.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
			.replace(/<[^>]+>/g, '')
			.replace(/\*+/g, '')
			.replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, '$1')
			.replace(/\\(.)/g, '$1');
		if (i + 2 < parts.length) text += parts[i + 2];
	}
	return text.trim();
}

/** Each line of `source` with fenced code blocks and HTML comments blanked, so nothing in them counts. */
function proseLines(source) {
	const lines = source.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' ')).split('\n');
	let fence;
	return lines.map((line) => {
		const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
		if (fence) {
			if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker)
				fence = undefined;
			return '';
		}
		if (marker) {
			fence = marker;
			return '';
		}
		return line;
	});
}

/** The anchors a Markdown file offers: its headings' slugs (duplicates get -1, -2 …) and explicit HTML ids. */
function anchorsOf(source) {
	const anchors = new Set();
	const seen = new Map();
	for (const line of proseLines(source)) {
		const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
		if (heading) {
			const base = githubSlug(headingText(heading[1]));
			let slug = base;
			// As github-slugger: a taken slug gets the next free -N of its base.
			while (anchors.has(slug)) {
				const count = (seen.get(base) ?? 0) + 1;
				seen.set(base, count);
				slug = `${base}-${count}`;
			}
			anchors.add(slug);
		}
		for (const match of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
	}
	return anchors;
}

/** The link destinations of a Markdown file with their line numbers: inline links, images and definitions. */
function linksOf(source) {
	const links = [];
	proseLines(source).forEach((line, index) => {
		// Code spans are not links.
		const prose = line.replace(/(`+)[\s\S]*?\1/g, (code) => ' '.repeat(code.length));
		for (const match of prose.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
			links.push({ line: index + 1, target: match[1].replace(/^<|>$/g, '') });
		}
		const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(prose);
		if (definition) links.push({ line: index + 1, target: definition[1].replace(/^<|>$/g, '') });
	});
	return links;
}

/** Why `target`, written in `file`, leads nowhere; undefined when it is fine or not ours to check. */
function problemWith(target, file, files, folders, read) {
	if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
	const hash = target.indexOf('#');
	const rawPath = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
	const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
	let path;
	try {
		path = decodeURIComponent(rawPath);
	} catch {
		return 'the path is not valid percent-encoding';
	}
	// GitHub resolves /path from the repository's root, anything else from the linking file's folder.
	const resolved =
		path === ''
			? file
			: posix
					.normalize(path.startsWith('/') ? path.slice(1) : posix.join(posix.dirname(file), path))
					.replace(/\/$/, '');
	if (resolved.startsWith('..')) return 'it leads outside the repository';
	const isFile = files.has(resolved);
	if (!isFile && !folders.has(resolved) && resolved !== '.') return `${resolved} does not exist`;
	if (anchor === undefined || anchor === '' || !isFile || !/\.md$/i.test(resolved)) return undefined;
	if (!read(resolved).has(anchor)) return `${resolved} has no heading with the anchor #${anchor}`;
	return undefined;
}

/** Every broken link under `root`: [{ file, line, link, reason }]. */
export function checkLinks(root) {
	// A file git lists but the work tree lacks (deleted, not committed yet) is not there to link to.
	const all = listFiles(root).filter(
		(file) => !SKIPPED.some((skip) => skip.test(file)) && statSync(join(root, file), { throwIfNoEntry: false }),
	);
	const files = new Set(all);
	const folders = new Set();
	for (const file of all) for (let dir = posix.dirname(file); dir !== '.'; dir = posix.dirname(dir)) folders.add(dir);
	const anchors = new Map();
	const read = (file) => {
		if (!anchors.has(file)) anchors.set(file, anchorsOf(readFileSync(join(root, file), 'utf8')));
		return anchors.get(file);
	};
	const broken = [];
	for (const file of all.filter((each) => /\.md$/i.test(each)).sort()) {
		for (const { line, target } of linksOf(readFileSync(join(root, file), 'utf8'))) {
			const reason = problemWith(target, file, files, folders, read);
			if (reason) broken.push({ file, line, link: target, reason });
		}
	}
	return broken;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
	const broken = checkLinks(root);
	for (const { file, line, link, reason } of broken) console.log(`${file}:${line}: ${link} — ${reason}`);
	if (broken.length > 0) {
		console.log(
			`${broken.length} broken link${broken.length === 1 ? '' : 's'} in ${relative(process.cwd(), root) || '.'}`,
		);
		process.exit(1);
	}
}
