// The child-process helpers live in test/support/processes.ts, since the unit tests' redis-server starts with them
// too (e2e may import from test/, never the other way round); the e2e tests, the demo and the benchmark import them
// from here as before.
export * from '../../test/support/processes';
