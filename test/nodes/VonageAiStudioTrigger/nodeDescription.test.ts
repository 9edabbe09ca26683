// Proves the trigger's description offers every documented status, asks for the credential only when a check
// needs it, and that saving the credential checks its secrets locally.
import { NodeHelpers, type ICredentialTestFunctions, type INodeProperties } from 'n8n-workflow';

import { VonageAiStudioCallbackApi } from '../../../credentials/VonageAiStudioCallbackApi.credentials';
import { CALL_STATUSES, MESSAGE_STATUSES } from '../../../core/callbacks';
import { VonageAiStudioTrigger } from '../../../nodes/VonageAiStudioTrigger/VonageAiStudioTrigger.node';

const trigger = new VonageAiStudioTrigger();
const { description } = trigger;
const property = (name: string) => description.properties.find((p) => p.name === name) as INodeProperties;

it('offers every documented Messages and call status, plus All Statuses, which is the default', () => {
	const values = (property('statuses').options as Array<{ value: string }>).map((option) => option.value);
	expect(new Set(values)).toEqual(new Set(['*', ...MESSAGE_STATUSES, ...CALL_STATUSES]));
	expect(property('statuses').default).toEqual(['*']);
});

it('requires the credential for token and signature checks only', () => {
	const [credential] = description.credentials!;
	expect(credential.name).toBe(new VonageAiStudioCallbackApi().name);
	const shown = (authentication: string) =>
		NodeHelpers.displayParameter({ authentication }, credential, { typeVersion: 1 }, description);
	expect([shown('token'), shown('signature'), shown('none')]).toEqual([true, true, false]);
});

it('shows the warning only when no authentication is chosen', () => {
	expect(property('noAuthenticationWarning')).toMatchObject({
		type: 'notice',
		displayOptions: { show: { authentication: ['none'] } },
	});
});

describe('credential test (local, nothing is contacted)', () => {
	const test = (data: Record<string, unknown>) =>
		trigger.methods.credentialTest.vonageAiStudioCallbackSecrets.call({} as ICredentialTestFunctions, {
			id: 'c1',
			name: 'Callback',
			type: 'vonageAiStudioCallbackApi',
			data: data as never,
		});

	it('accepts a long token, a signature secret, or both', async () => {
		expect(await test({ token: 'example-status-url-token', signatureSecret: '' })).toMatchObject({ status: 'OK' });
		expect(await test({ token: '', signatureSecret: 'abc' })).toMatchObject({ status: 'OK' });
	});

	it('says what to change otherwise', async () => {
		expect(await test({ token: '', signatureSecret: '' })).toEqual({
			status: 'Error',
			message: 'Set a Status URL Token, a Signature Secret, or both',
		});
		expect(await test({ token: 'short' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('at least 16'),
		});
		expect(await test({ token: ' example-status-url-token' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('space'),
		});
	});
});
