// Copies what tsc does not emit next to the compiled nodes of both packages: the icons, and each node's codex
// (.node.json, which n8n reads for categories and documentation links). The queue package's node files live in
// queue/dist/queue/nodes and use the same icons and codex as the main package's.
const { src, dest, task, parallel } = require('gulp');

task('build:icons', () =>
	src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist')),
);
task('build:codex', () => src(['nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist')));
task('build:assets', parallel('build:icons', 'build:codex'));

task('build:queue-icons', () =>
	src(['nodes/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('queue/dist/queue')),
);
task('build:queue-codex', () => src(['nodes/**/*.node.json'], { base: '.' }).pipe(dest('queue/dist/queue')));
// The queue package is published from queue/: it ships the repository's license.
task('build:queue-license', () => src(['LICENSE']).pipe(dest('queue')));
task('build:queue-assets', parallel('build:queue-icons', 'build:queue-codex', 'build:queue-license'));
