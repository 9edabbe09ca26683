// "Test" on the credential. Studio documents no read-only endpoint, so this posts a deliberately incomplete
// WhatsApp request (no agent, no recipient) that Studio can only refuse: no session can ever start. Studio
// checks the key first, so a refusal of the body (400/422) means the key was accepted, 401/403 that it was
// rejected, and a failure below HTTP that the host is unreachable.
import type { ICredentialDataDecryptedObject, ICredentialTestFunctions, ICredentialsDecrypted, INodeCredentialTestResult } from 'n8n-workflow';

import { redact } from './apiErrors';
import { readAccount, type StudioAccount } from './send';
import { StudioHttpError, StudioNetworkError } from '../shared/errors';
import { redisProblem } from '../shared/redisRateGate';
import { STUDIO_PATHS } from '../shared/studioApi';
import { postToStudio } from '../shared/transport';

export const CREDENTIAL_TEST_BODY = { channel: 'whatsapp' } as const;

export async function testStudioCredential(data: ICredentialDataDecryptedObject): Promise<INodeCredentialTestResult> {
	const account = readAccount(data);
	const studio = await testStudioKey(account);
	if (studio.status !== 'OK' || !account.redisUrl) return studio;
	// Every send would fail on an unreachable shared gate, so saying so now saves a failed campaign.
	const problem = await redisProblem(account.redisUrl);
	if (!problem) return { status: 'OK', message: `${studio.message} The shared rate gate's Redis answered.` };
	return {
		status: 'Error',
		message: `${studio.message} But the Shared Rate Gate Redis URL does not work: ${problem}. Every send would fail until it does; fix it, or clear it when only one n8n process sends.`,
	};
}

async function testStudioKey(account: StudioAccount): Promise<INodeCredentialTestResult> {
	const host = new URL(account.baseUrl).host;
	const result = (status: 'OK' | 'Error', message: string): INodeCredentialTestResult => ({ status, message: redact(message, account.apiKey) });
	if (!account.apiKey) return result('Error', 'Enter the API key generated in the AI Studio canvas (user menu, Generate API Key).');
	try {
		await postToStudio(account.baseUrl, STUDIO_PATHS.messagingConversation, CREDENTIAL_TEST_BODY, account.apiKey, {
			connectTimeoutMs: 10_000,
			responseTimeoutMs: 15_000,
		});
		return result('OK', `Connected to ${host}.`);
	} catch (error) {
		if (error instanceof StudioHttpError) {
			const code = error.statusCode;
			if (code === 400 || code === 422) return result('OK', `Key accepted by ${host} (it refused the deliberately incomplete test request, so nothing was sent).`);
			if (code === 429) return result('OK', `Key accepted by ${host}; it is rate limiting this account right now.`);
			if (code === 401 || code === 403) return result('Error', `Studio rejected this API key (HTTP ${code}). Generate a new key in the AI Studio canvas and check the region.`);
			if (code === 404) return result('Error', `${host} answered but is not Vonage AI Studio (HTTP 404). Check the region or the base URL override.`);
			return result('Error', `${host} answered HTTP ${code}. Vonage AI Studio may be having trouble; try again later.`);
		}
		if (error instanceof StudioNetworkError) {
			return result('Error', `Could not reach ${host}: ${error.message}. Check the region, the base URL override and this machine's network.`);
		}
		return result('Error', error instanceof Error ? error.message : String(error));
	}
}

/** The function n8n calls for "Test" (the node names it in `testedBy`). */
export async function vonageAiStudioApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return testStudioCredential(credential.data ?? {});
}
