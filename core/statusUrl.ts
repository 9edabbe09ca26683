// How the action node carries correlation data in the status URL, and how the trigger reads it back.
// Studio overwrites client_ref, so the status URL itself is the only thing that travels with a session.

export const STATUS_URL_REFERENCE_PARAM = 'vgai_ref';
export const STATUS_URL_TOKEN_PARAM = 'vgai_token';

export interface StatusUrlCorrelation {
	reference?: string;
	token?: string;
}

/** Adds the reference and the secret token as query parameters, keeping everything already in the URL. */
export function withCorrelation(statusUrl: string, { reference, token }: StatusUrlCorrelation): string {
	if (!reference && !token) return statusUrl;
	const url = new URL(statusUrl);
	if (reference) url.searchParams.set(STATUS_URL_REFERENCE_PARAM, reference);
	if (token) url.searchParams.set(STATUS_URL_TOKEN_PARAM, token);
	return url.toString();
}

/** Reads the reference and token back from a callback's query parameters. */
export function readCorrelation(query: Record<string, unknown>): StatusUrlCorrelation {
	const pick = (name: string) => {
		const value = query[name];
		const first = Array.isArray(value) ? value[0] : value;
		return typeof first === 'string' && first !== '' ? first : undefined;
	};
	return { reference: pick(STATUS_URL_REFERENCE_PARAM), token: pick(STATUS_URL_TOKEN_PARAM) };
}
