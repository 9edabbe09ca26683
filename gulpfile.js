// Copies what tsc does not emit next to the compiled nodes: the icons, and each node's codex (.node.json,
// which n8n reads for categories and documentation links).
const { src, dest, task, parallel } = require('gulp');

task('build:icons', () =>
	src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist')),
);

task('build:codex', () => src(['nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist')));

task('build:assets', parallel('build:icons', 'build:codex'));
