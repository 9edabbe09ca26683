// Runs before any test module imports n8n-core: keep n8n's config and logs out of the user's home.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const userFolder = (process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'vgai-n8n-')));
process.env.N8N_LOG_LEVEL = 'silent';
process.env.N8N_DIAGNOSTICS_ENABLED = 'false';

// n8n-core writes its settings file (the encryption key) the first time it needs it, with a plain write, and reads
// it when it exists. The cross-process tests' workers inherit this folder: two of them starting at once could read
// the file while another is still writing it, and fail a webhook request with "It does not seem to be valid JSON".
// Written here, once, before any of them starts.
const settingsFile = join(userFolder, '.n8n', 'config');
if (!existsSync(settingsFile)) {
	mkdirSync(join(userFolder, '.n8n'), { recursive: true });
	writeFileSync(settingsFile, JSON.stringify({ encryptionKey: randomBytes(24).toString('base64') }), { mode: 0o600 });
}
