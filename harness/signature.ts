// The Authorization header of a signed callback, as Vonage sends it: Bearer and an HS256 JWT whose payload_hash is
// the SHA-256 of the exact body bytes. Written out with node:crypto, not the JWT library the simulator signs with.
import { createHash, createHmac, randomUUID } from 'node:crypto';

/** Signed with secret and issued at iat (seconds, now unless given); a new jti each time, like Vonage's. */
export function signedAuthorization(rawBody: string, secret: string, iat = Math.floor(Date.now() / 1000)): string {
	const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
		iat,
		jti: randomUUID(),
		iss: 'Vonage',
		payload_hash: createHash('sha256').update(rawBody).digest('hex'),
		api_key: 'abcd1234',
	})}`;
	return `Bearer ${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
