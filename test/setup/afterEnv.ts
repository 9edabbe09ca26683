// n8n-core starts a 60 s interval (SSH clients manager) when the engine is first used; stop it so jest
// can exit without --forceExit.
afterAll(() => {
	const modulePath = 'n8n-core/dist/execution-engine/ssh-clients-manager';
	const loaded = Object.keys(require.cache).some((id) =>
		id.includes('/n8n-core/dist/execution-engine/ssh-clients-manager'),
	);
	if (!loaded) return;
	const { Container } = require('@n8n/di') as typeof import('@n8n/di');
	const { SSHClientsManager } = require(modulePath) as {
		// eslint-disable-next-line @typescript-eslint/no-explicit-any
		SSHClientsManager: new (...args: any[]) => { onShutdown(): void; cleanupTimer?: NodeJS.Timeout };
	};
	if (!Container.has(SSHClientsManager)) return;
	const manager = Container.get(SSHClientsManager) as unknown as { cleanupTimer?: NodeJS.Timeout; onShutdown(): void };
	if (manager.cleanupTimer) clearInterval(manager.cleanupTimer);
	manager.onShutdown();
});
