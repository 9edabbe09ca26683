// Whether a callback really comes from Studio (the trigger's Authentication), checked on the exact bytes received,
// and whether the credential's secrets are usable when it is saved. Fails closed. Pure: no n8n, no I/O.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { readCorrelation } from './statusUrl';

// ---------------------------------------------------------------------------------------------------------------
// Refusals

/** Why a callback was not accepted, with the HTTP status to answer. `reason` is for logs, never for the caller. */
export interface Refusal {
	ok: false;
	statusCode: 400 | 401 | 413;
	reason: string;
}

export const refuse = (statusCode: Refusal['statusCode'], reason: string): Refusal => ({
	ok: false,
	statusCode,
	reason,
});

/** What the caller is told: short, and the same for every authentication failure so it teaches a forger nothing. */
export function publicMessage(refusal: Refusal): string {
	switch (refusal.statusCode) {
		case 401:
			return 'Callback refused: authentication failed';
		case 413:
			return 'Callback refused: body too large';
		default:
			return `Callback refused: ${refusal.reason}`;
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Size

/**
 * n8n has already read and parsed the body when the trigger runs, so the limit is checked on the raw bytes n8n
 * kept and on the declared Content-Length (either one over the limit refuses the callback).
 */
export function checkBodySize(
	rawBodyLength: number,
	contentLengthHeader: string | string[] | undefined,
	maxBytes: number,
): Refusal | undefined {
	const declared = Number(Array.isArray(contentLengthHeader) ? contentLengthHeader[0] : contentLengthHeader);
	if (rawBodyLength > maxBytes || (Number.isFinite(declared) && declared > maxBytes)) {
		return refuse(413, `body is larger than ${maxBytes} bytes`);
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Authenticity

export type AuthenticationMode = 'token' | 'signature' | 'none';

export const VONAGE_ISSUER = 'Vonage';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

/**
 * Token mode: the secret the action node put into the status URL must equal the configured one.
 * Both sides are hashed first so the comparison takes the same time whatever their lengths.
 */
export function verifyStatusUrlToken(expected: string | undefined, presented: string | undefined): Refusal | undefined {
	if (!expected) return refuse(401, 'no token is configured in the credential');
	if (!presented) return refuse(401, 'the status URL carries no token');
	if (!timingSafeEqual(sha256(expected), sha256(presented))) return refuse(401, 'the status URL token does not match');
	return undefined;
}

export interface SignatureCheck {
	authorization: string | string[] | undefined;
	rawBody: Buffer;
	signatureSecret: string | undefined;
	/** How far the issue time (iat) may be from now, either way (the trigger's Signature Tolerance option). */
	toleranceSeconds: number;
	/** Seconds since the epoch; tests pass a fixed clock. */
	nowSeconds?: number;
}

const base64url = (value: Buffer) =>
	value.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

function decodeJson(part: string): Record<string, unknown> | undefined {
	try {
		const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
		return typeof value === 'object' && value !== null && !Array.isArray(value)
			? (value as Record<string, unknown>)
			: undefined;
	} catch {
		return undefined;
	}
}

/**
 * A JSON Web Token signed with HMAC-SHA256 and `secret`: its claims when the signature is right, else why not.
 * Only HS256 is accepted (the header cannot choose "none" or another algorithm), and the signature is compared
 * in constant time.
 */
export function verifyHs256Jwt(
	token: string,
	secret: string,
): { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string } {
	const parts = token.split('.');
	if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part)))
		return { ok: false, reason: 'not a JWT' };
	const [headerPart, payloadPart, signaturePart] = parts;
	const header = decodeJson(headerPart);
	if (!header) return { ok: false, reason: 'the JWT header is not JSON' };
	if (header.alg !== 'HS256') return { ok: false, reason: `algorithm ${String(header.alg)} is not HS256` };
	const expected = Buffer.from(
		base64url(createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest()),
		'utf8',
	);
	const presented = Buffer.from(signaturePart, 'utf8');
	if (expected.length !== presented.length || !timingSafeEqual(expected, presented))
		return { ok: false, reason: 'invalid signature' };
	const claims = decodeJson(payloadPart);
	if (!claims) return { ok: false, reason: 'the JWT payload is not a JSON object' };
	return { ok: true, claims };
}

/**
 * Signature mode: `Authorization: Bearer <JWT>` signed HS256 with the account's signature secret, issued by
 * Vonage, issued within the tolerance (either direction), and carrying the SHA-256 of the exact bytes received.
 */
export function verifySignedCallback(check: SignatureCheck): Refusal | undefined {
	const { rawBody, signatureSecret } = check;
	const tolerance = check.toleranceSeconds;
	const now = check.nowSeconds ?? Math.floor(Date.now() / 1000);
	if (!signatureSecret) return refuse(401, 'no signature secret is configured in the credential');

	const header = Array.isArray(check.authorization) ? check.authorization[0] : check.authorization;
	const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
	if (!match) return refuse(401, 'no Bearer token in the Authorization header');

	const verified = verifyHs256Jwt(match[1], signatureSecret);
	if (!verified.ok) return refuse(401, `signature rejected: ${verified.reason}`);
	const { iss, iat, exp, nbf, payload_hash: payloadHash } = verified.claims;
	if (iss !== VONAGE_ISSUER) return refuse(401, `the token was not issued by ${VONAGE_ISSUER}`);
	if (typeof exp === 'number' && now > exp + tolerance) return refuse(401, 'the token has expired');
	if (typeof nbf === 'number' && now < nbf - tolerance) return refuse(401, 'the token is not valid yet');

	if (typeof iat !== 'number' || !Number.isFinite(iat)) return refuse(401, 'the token has no iat');
	if (Math.abs(now - iat) > tolerance) return refuse(401, `iat is more than ${tolerance} s away from now`);

	if (typeof payloadHash !== 'string') return refuse(401, 'the token has no payload_hash');
	const received = Buffer.from(payloadHash.toLowerCase(), 'utf8');
	const actual = Buffer.from(sha256(rawBody).toString('hex'), 'utf8');
	if (received.length !== actual.length || !timingSafeEqual(received, actual)) {
		return refuse(401, 'payload_hash does not match the body');
	}
	return undefined;
}

export interface AuthenticityCheck {
	mode: AuthenticationMode;
	query: Record<string, unknown>;
	headers: Record<string, string | string[] | undefined>;
	rawBody: Buffer;
	token?: string;
	signatureSecret?: string;
	toleranceSeconds: number;
	nowSeconds?: number;
}

/** One entry point for the three modes. An unknown mode fails closed. */
export function verifyAuthenticity(check: AuthenticityCheck): Refusal | undefined {
	switch (check.mode) {
		case 'none':
			return undefined;
		case 'token':
			return verifyStatusUrlToken(check.token, readCorrelation(check.query).token);
		case 'signature':
			return verifySignedCallback({
				authorization: check.headers.authorization,
				rawBody: check.rawBody,
				signatureSecret: check.signatureSecret,
				toleranceSeconds: check.toleranceSeconds,
				nowSeconds: check.nowSeconds,
			});
		default:
			return refuse(401, `unknown authentication mode "${String(check.mode)}"`);
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Checking the credential when it is saved (it talks to nothing, so only its own values can be checked)

export const MIN_TOKEN_LENGTH = 16;

/** Returns what the user must change, or undefined when the credential is usable. */
export function checkCallbackSecrets(secrets: { token?: unknown; signatureSecret?: unknown }): string | undefined {
	const token = typeof secrets.token === 'string' ? secrets.token : '';
	const signatureSecret = typeof secrets.signatureSecret === 'string' ? secrets.signatureSecret : '';
	if (!token && !signatureSecret) return 'Set a Status URL Token, a Signature Secret, or both';
	if (token && token.length < MIN_TOKEN_LENGTH) {
		return `The Status URL Token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} random ones`;
	}
	if (token && token.trim() !== token) return 'The Status URL Token starts or ends with a space; remove it';
	return undefined;
}
