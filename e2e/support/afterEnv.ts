// Each e2e test starts real n8n processes: allow minutes, not seconds.
jest.setTimeout(5 * 60_000);
