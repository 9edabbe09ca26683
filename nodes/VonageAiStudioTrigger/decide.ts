// The whole decision for one callback request: refuse it (with the status to answer), ignore it (answered 200,
// starts nothing), or accept it (starts an execution with the normalised item).
import {
	checkBodySize,
	verifyAuthenticity,
	type AuthenticationMode,
	type Refusal,
} from '../../core/callbackAuthenticity';
import { isStatusSelected, normaliseCallback, parseCallbackBody, type NormalisedCallback } from '../../core/callbacks';
import type { RepeatMemory } from './repeats';

export interface CallbackRequest {
	/** The exact bytes received. */
	rawBody: Buffer;
	headers: Record<string, string | string[] | undefined>;
	query: Record<string, unknown>;
}

export interface CallbackSettings {
	authentication: AuthenticationMode;
	token?: string;
	signatureSecret?: string;
	toleranceSeconds: number;
	maxBodyBytes: number;
	statuses: readonly string[];
	/** Absent: repeats are not dropped. */
	repeats?: RepeatMemory;
	nowSeconds?: number;
}

export type CallbackOutcome =
	| { kind: 'accepted'; callback: NormalisedCallback }
	| { kind: 'ignored'; reason: 'filtered' | 'duplicate'; callback: NormalisedCallback }
	| { kind: 'refused'; refusal: Refusal };

/**
 * Order matters: the size is checked before hashing anything, authenticity before parsing (a forger learns
 * nothing about what would parse), and only authentic callbacks reach the repeat memory, so forged ones
 * cannot make it drop a real status.
 */
export async function decideCallback(request: CallbackRequest, settings: CallbackSettings): Promise<CallbackOutcome> {
	const tooLarge = checkBodySize(request.rawBody.length, request.headers['content-length'], settings.maxBodyBytes);
	if (tooLarge) return { kind: 'refused', refusal: tooLarge };

	const forged = verifyAuthenticity({
		mode: settings.authentication,
		query: request.query,
		headers: request.headers,
		rawBody: request.rawBody,
		token: settings.token,
		signatureSecret: settings.signatureSecret,
		toleranceSeconds: settings.toleranceSeconds,
		nowSeconds: settings.nowSeconds,
	});
	if (forged) return { kind: 'refused', refusal: forged };

	const parsed = parseCallbackBody(request.rawBody);
	if (!parsed.ok) return { kind: 'refused', refusal: parsed };

	const callback = normaliseCallback(parsed.body, request.query);
	if (!isStatusSelected(callback.status, settings.statuses)) return { kind: 'ignored', reason: 'filtered', callback };

	if (settings.repeats && (await settings.repeats.isRepeat(callback)))
		return { kind: 'ignored', reason: 'duplicate', callback };
	return { kind: 'accepted', callback };
}
