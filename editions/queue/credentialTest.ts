// "Test" on the queue edition's Studio credential, run by the node (testedBy) with the edition's own HTTP client:
// the request Studio can only refuse (core/keyTest.ts), then, with a Redis URL, that the Redis answers.
import type { ICredentialDataDecryptedObject, INodeCredentialTestResult } from 'n8n-workflow';

import { isError, redact } from '../../core/errors';
import { CREDENTIAL_TEST_BODY, STUDIO_PATHS } from '../../core/studioApi';
import { CONNECT_TIMEOUT_MS } from '../../core/studioHttp';
import { readAccount, type StudioAccount } from '../../core/account';
import { keyTestVerdict } from '../../core/keyTest';
import { redisProblem } from './redisClient';
import { postToStudio } from './transport';

export async function testStudioCredential(data: ICredentialDataDecryptedObject): Promise<INodeCredentialTestResult> {
	const account = readAccount(data);
	const studio = await testStudioKey(account);
	if (studio.status !== 'OK' || !account.redis) return studio;
	// Every send would fail on an unreachable shared gate, so saying so now saves a failed campaign.
	const problem = await redisProblem(account.redis);
	if (!problem) return { status: 'OK', message: `${studio.message} The shared rate gate's Redis answered.` };
	return {
		status: 'Error',
		message: `${studio.message} But the Shared Rate Gate Redis URL does not work: ${problem}. Every send would fail until it does; fix it, or clear it when only one n8n process sends.`,
	};
}

async function testStudioKey(account: StudioAccount): Promise<INodeCredentialTestResult> {
	const host = new URL(account.baseUrl).host;
	const result = (status: 'OK' | 'Error', message: string): INodeCredentialTestResult => ({
		status,
		message: redact(message, account.apiKey),
	});
	if (!account.apiKey)
		return result('Error', 'Enter the API key generated in the AI Studio canvas (user menu, Generate API Key).');
	try {
		await postToStudio(account.baseUrl, STUDIO_PATHS.messagingConversation, CREDENTIAL_TEST_BODY, account.apiKey, {
			connectTimeoutMs: CONNECT_TIMEOUT_MS,
			responseTimeoutMs: 15_000,
		});
		return result('OK', `Connected to ${host}.`);
	} catch (error) {
		if (isError(error, 'StudioHttpError')) {
			const verdict = keyTestVerdict(error.statusCode, host);
			return result(verdict.ok ? 'OK' : 'Error', verdict.message);
		}
		if (isError(error, 'StudioNetworkError')) {
			return result(
				'Error',
				`Could not reach ${host}: ${error.message}. Check the region, the base URL override and this machine's network.`,
			);
		}
		return result('Error', error instanceof Error ? error.message : String(error));
	}
}
