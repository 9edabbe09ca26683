// Which Redis failures the outage rule waits out and which it reports at once (editions/queue/redisClient.ts): an
// answer saying Redis is busy with itself (loading, failing over, full) or a lost connection is an outage; a wrong
// password, a missing ACL permission or an untrusted certificate is a refusal, with what to change. The real servers
// behind these answers are exercised in redisOutage, redisTls and redisCluster.test.ts.
import { ReplyError } from 'ioredis';

import { refusalOf } from '../../../editions/queue/redisClient';

const reply = (message: string) => new ReplyError(message);
const connectionError = (message: string, code?: string) => Object.assign(new Error(message), { code });

it.each([
	'LOADING Redis is loading the dataset in memory',
	'READONLY You can not write against a read only replica.',
	'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
	'TRYAGAIN Multiple keys request during rehashing of slot',
	'CLUSTERDOWN The cluster is down',
	'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
	"OOM command not allowed when used memory > 'maxmemory'.",
])('waits out "%s"', (message) => {
	expect(refusalOf(reply(message))).toBeUndefined();
});

it('waits out a lost connection, a refused one, and no answer in time', () => {
	expect(refusalOf(new Error('Connection is closed.'))).toBeUndefined();
	expect(refusalOf(new Error('no answer within 3000 ms (rate gate)'))).toBeUndefined();
	expect(
		refusalOf(
			new Error('Reached the max retries per request limit'),
			connectionError('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'),
		),
	).toBeUndefined();
});

it('reports a wrong user or password at once, pointing at the URL', () => {
	for (const message of [
		'WRONGPASS invalid username-password pair or user is disabled.',
		'NOAUTH Authentication required.',
	])
		expect(refusalOf(reply(message))?.advice).toMatch(/^Check the user name and password in the Redis URL/);
});

it('reports a missing ACL permission at once, pointing at the keys and commands needed', () => {
	expect(refusalOf(reply('NOPERM this user has no permissions to run the eval command'))?.advice).toContain(
		'allow it the keys vgai:*',
	);
});

it('reports an untrusted certificate (seen on the connection, not the command) with the credential fields to use', () => {
	const refusal = refusalOf(
		new Error('Reached the max retries per request limit'),
		connectionError('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
	);
	expect(refusal?.cause.message).toBe('self-signed certificate in certificate chain');
	expect(refusal?.advice).toContain('Redis CA Certificate');
	expect(refusal?.advice).toContain('Ignore Redis SSL Issues (Insecure)');
});

it('reports any other answer at once: it would not change by waiting', () => {
	expect(refusalOf(reply('ERR DB index is out of range'))?.advice).toMatch(/database number/);
});
