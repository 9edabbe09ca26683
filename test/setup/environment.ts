// The test environment of every test file (unit and e2e): jest's node environment, plus one duty at the end. A test
// that failed half-way may leave child processes running (a redis-server, a worker waiting for its stdin to close);
// their open pipes would keep jest from exiting, and a CI run would hang until its time limit instead of failing.
// Once the file's own afterAll hooks are done, whatever harness/processes still lists as running is killed, and
// named on stderr so the leak is seen.
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

import { runningChildren } from '../../harness/processes';

export default class TestEnvironmentEndingLeftovers extends TestEnvironment {
	private readonly testPath: string;

	constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
		super(config, context);
		this.testPath = context.testPath;
	}

	async teardown(): Promise<void> {
		const left = [...runningChildren(this.global)];
		if (left.length > 0) {
			process.stderr.write(
				`[test environment] ${this.testPath}: ended ${left.length} process(es) left running: ${left.map((child) => child.name).join(', ')}\n`,
			);
			for (const child of left) child.kill();
			await Promise.all(left.map((child) => child.ended));
		}
		await super.teardown();
	}
}
