// Prints the commands at the top of README.md (the lines of its first ```bash block, comments dropped), one per
// line, so that CI runs exactly what a new user reads there.
import { readFileSync } from 'node:fs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = /```bash\n([\s\S]*?)```/.exec(readme);
if (!block) {
	console.error('README.md has no ```bash block');
	process.exit(1);
}
for (const line of block[1].split('\n')) {
	const command = line.replace(/\s+#.*$/, '').trim();
	if (command && !command.startsWith('#')) console.log(command);
}
