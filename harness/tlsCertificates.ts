// Certificates for TLS tests, made with the openssl command line (Debian package `openssl`) in a folder of their
// own: a private certificate authority and a server certificate it signs for 127.0.0.1 and localhost.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { run } from './processes';

export interface TestCertificates {
	caFile: string;
	/** The authority's certificate as PEM text, as a user pastes it into a credential. */
	caPem: string;
	certFile: string;
	keyFile: string;
	remove(): void;
}

export async function makeCertificates(): Promise<TestCertificates> {
	const folder = mkdtempSync(join(tmpdir(), 'vgai-tls-'));
	const file = (name: string) => join(folder, name);
	const openssl = (...args: string[]) => run('openssl', args, { timeoutMs: 30_000 });
	try {
		await openssl('version');
	} catch (error) {
		rmSync(folder, { recursive: true, force: true });
		throw new Error(`The TLS tests need the openssl command (apt-get install -y openssl): ${(error as Error).message}`);
	}
	await openssl(
		'req',
		'-x509',
		'-newkey',
		'rsa:2048',
		'-nodes',
		'-days',
		'2',
		'-subj',
		'/CN=vgai test CA',
		'-keyout',
		file('ca.key'),
		'-out',
		file('ca.crt'),
	);
	await openssl(
		'req',
		'-newkey',
		'rsa:2048',
		'-nodes',
		'-subj',
		'/CN=localhost',
		'-keyout',
		file('server.key'),
		'-out',
		file('server.csr'),
	);
	writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
	await openssl(
		'x509',
		'-req',
		'-in',
		file('server.csr'),
		'-CA',
		file('ca.crt'),
		'-CAkey',
		file('ca.key'),
		'-CAcreateserial',
		'-days',
		'2',
		'-extfile',
		file('server.ext'),
		'-out',
		file('server.crt'),
	);
	return {
		caFile: file('ca.crt'),
		caPem: readFileSync(file('ca.crt'), 'utf8'),
		certFile: file('server.crt'),
		keyFile: file('server.key'),
		remove: () => rmSync(folder, { recursive: true, force: true }),
	};
}
