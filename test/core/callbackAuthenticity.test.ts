// Proves the trigger's authenticity checks refuse every forged callback, with vectors built here from node:crypto.
import { createHash, createHmac } from 'node:crypto';

import {
	verifyAuthenticity,
	verifySignedCallback,
	verifyStatusUrlToken,
	type SignatureCheck,
} from '../../core/callbackAuthenticity';
import { triggerDescription } from '../../nodes/VonageAiStudioTrigger/description';
import { defaultOf } from '../../nodes/shared/defaults';

const signatureSecret = 'example-signature-secret';
const now = 1_741_215_101; // 2025-03-05T22:51:41Z
const rawBody = Buffer.from(
	'{"to":"447700900000","message_uuid":"aaaaaaaa-1356-4540-9f3b-ddb1564dc008","status":"delivered","channel":"whatsapp"}',
);

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const bodyHash = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** header.payload.HMAC-SHA256(header.payload), written out by hand. */
function signJwt(
	payload: Record<string, unknown>,
	secret = signatureSecret,
	header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
) {
	const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
	return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

const vonageClaims = (overrides: Record<string, unknown> = {}) => ({
	iat: now,
	jti: 'c5d3ab2f-5c1a-4e55-9a0b-1d0b6a4f3b11',
	iss: 'Vonage',
	payload_hash: bodyHash(rawBody),
	api_key: 'abcd1234',
	application_id: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
	...overrides,
});

/** The trigger's default Signature Tolerance (Seconds). */
const TOLERANCE = defaultOf<number>(triggerDescription.properties, 'signatureToleranceSeconds');

const check = (authorization: string | undefined, overrides: Partial<SignatureCheck> = {}) =>
	verifySignedCallback({
		authorization,
		rawBody,
		signatureSecret,
		nowSeconds: now,
		toleranceSeconds: TOLERANCE,
		...overrides,
	});

describe('signed callbacks (Authorization: Bearer JWT, HS256)', () => {
	it('accepts a callback signed with the secret, issued now, hashing these exact bytes', () => {
		expect(check(`Bearer ${signJwt(vonageClaims())}`)).toBeUndefined();
	});

	it('accepts the scheme name in any case', () => {
		expect(check(`bearer ${signJwt(vonageClaims())}`)).toBeUndefined();
	});

	it('refuses a token signed with another secret', () => {
		expect(check(`Bearer ${signJwt(vonageClaims(), 'example-other-secret')}`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses a body changed after signing (payload_hash no longer matches)', () => {
		const tampered = Buffer.from(rawBody.toString().replace('delivered', 'read'));
		expect(check(`Bearer ${signJwt(vonageClaims())}`, { rawBody: tampered })).toMatchObject({
			statusCode: 401,
			reason: expect.stringContaining('payload_hash'),
		});
	});

	it('refuses a token without payload_hash', () => {
		expect(check(`Bearer ${signJwt(vonageClaims({ payload_hash: undefined }))}`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses a stale iat and accepts one exactly at the tolerance', () => {
		expect(check(`Bearer ${signJwt(vonageClaims({ iat: now - 301 }))}`)).toMatchObject({
			statusCode: 401,
			reason: expect.stringContaining('iat'),
		});
		expect(check(`Bearer ${signJwt(vonageClaims({ iat: now - 300 }))}`)).toBeUndefined();
	});

	it('refuses an iat in the future beyond the tolerance', () => {
		expect(check(`Bearer ${signJwt(vonageClaims({ iat: now + 301 }))}`)).toMatchObject({ statusCode: 401 });
		expect(check(`Bearer ${signJwt(vonageClaims({ iat: now + 30 }))}`)).toBeUndefined();
	});

	it('uses the configured tolerance', () => {
		const token = `Bearer ${signJwt(vonageClaims({ iat: now - 500 }))}`;
		expect(check(token)).toMatchObject({ statusCode: 401 });
		expect(check(token, { toleranceSeconds: 600 })).toBeUndefined();
	});

	it('refuses a token without iat', () => {
		expect(check(`Bearer ${signJwt(vonageClaims({ iat: undefined }))}`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses a token not issued by Vonage', () => {
		expect(check(`Bearer ${signJwt(vonageClaims({ iss: 'Nexmo' }))}`)).toMatchObject({ statusCode: 401 });
		expect(check(`Bearer ${signJwt(vonageClaims({ iss: undefined }))}`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses an unsigned token (alg none)', () => {
		const header = base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
		const payload = base64url(JSON.stringify(vonageClaims()));
		expect(check(`Bearer ${header}.${payload}.`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses a token whose header names another algorithm, even with a valid HMAC', () => {
		const rs256 = signJwt(vonageClaims(), signatureSecret, { alg: 'RS256', typ: 'JWT' });
		const hs512 = signJwt(vonageClaims(), signatureSecret, { alg: 'HS512', typ: 'JWT' });
		expect(check(`Bearer ${rs256}`)).toMatchObject({ statusCode: 401 });
		expect(check(`Bearer ${hs512}`)).toMatchObject({ statusCode: 401 });
	});

	it('refuses a missing or non-Bearer Authorization header', () => {
		expect(check(undefined)).toMatchObject({ statusCode: 401 });
		expect(check('')).toMatchObject({ statusCode: 401 });
		expect(check(`Basic ${base64url('user:pass')}`)).toMatchObject({ statusCode: 401 });
		expect(check(signJwt(vonageClaims()))).toMatchObject({ statusCode: 401 });
	});

	it('refuses malformed tokens', () => {
		for (const token of ['abc', 'abc.def', 'abc.def.ghi', `${signJwt(vonageClaims())}x`, '...']) {
			expect(check(`Bearer ${token}`)).toMatchObject({ statusCode: 401 });
		}
	});

	it('fails closed when no signature secret is configured', () => {
		expect(check(`Bearer ${signJwt(vonageClaims(), '')}`, { signatureSecret: '' })).toMatchObject({
			statusCode: 401,
		});
		expect(check(`Bearer ${signJwt(vonageClaims())}`, { signatureSecret: undefined })).toMatchObject({
			statusCode: 401,
		});
	});
});

describe('secret token in the status URL', () => {
	it('accepts the configured token', () => {
		expect(verifyStatusUrlToken('example-url-token', 'example-url-token')).toBeUndefined();
	});

	it('refuses a wrong token, whatever its length', () => {
		expect(verifyStatusUrlToken('example-url-token', 'example-url-tokeN')).toMatchObject({ statusCode: 401 });
		expect(verifyStatusUrlToken('example-url-token', 'x')).toMatchObject({ statusCode: 401 });
		expect(verifyStatusUrlToken('example-url-token', 'example-url-token-and-more')).toMatchObject({
			statusCode: 401,
		});
	});

	it('refuses a missing token', () => {
		expect(verifyStatusUrlToken('example-url-token', undefined)).toMatchObject({ statusCode: 401 });
		expect(verifyStatusUrlToken('example-url-token', '')).toMatchObject({ statusCode: 401 });
	});

	it('fails closed when the credential has no token', () => {
		expect(verifyStatusUrlToken('', '')).toMatchObject({ statusCode: 401 });
		expect(verifyStatusUrlToken(undefined, 'anything')).toMatchObject({ statusCode: 401 });
	});
});

describe('choosing the check', () => {
	const request = { headers: {}, rawBody, token: 'example-url-token', signatureSecret, toleranceSeconds: TOLERANCE };

	it('token mode reads vgai_token from the query', () => {
		expect(
			verifyAuthenticity({ ...request, mode: 'token', query: { vgai_token: 'example-url-token' } }),
		).toBeUndefined();
		expect(verifyAuthenticity({ ...request, mode: 'token', query: { vgai_token: 'nope' } })).toMatchObject({
			statusCode: 401,
		});
		expect(verifyAuthenticity({ ...request, mode: 'token', query: {} })).toMatchObject({ statusCode: 401 });
	});

	it('signature mode ignores a correct URL token', () => {
		expect(
			verifyAuthenticity({
				...request,
				mode: 'signature',
				query: { vgai_token: 'example-url-token' },
				nowSeconds: now,
			}),
		).toMatchObject({ statusCode: 401 });
		expect(
			verifyAuthenticity({
				...request,
				mode: 'signature',
				query: {},
				headers: { authorization: `Bearer ${signJwt(vonageClaims())}` },
				nowSeconds: now,
			}),
		).toBeUndefined();
	});

	it('none accepts anything; an unknown mode fails closed', () => {
		expect(verifyAuthenticity({ ...request, mode: 'none', query: {} })).toBeUndefined();
		expect(verifyAuthenticity({ ...request, mode: 'basic' as never, query: {} })).toMatchObject({ statusCode: 401 });
	});
});
