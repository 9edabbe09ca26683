// The fields of the two credentials, written once for both editions: the queue edition adds its Redis URLs.
// Field names are what saved credentials hold: never rename.
import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_REDIS_OUTAGE_TOLERANCE_S, REDIS_FIELDS } from '../../core/account';
import { MAX_FLOOR_MS } from '../../core/rateGate';
import { docsLink } from './docs';

const REDIS_PLACEHOLDER = 'redis://127.0.0.1:6379/0';

/** Shown only once a Redis URL is set. */
const onlyWithUrl = { hide: { redisUrl: [''] } };

/** Queue edition only: the fields that say how to reach Redis, after its URL (both credentials have them). */
function redisConnectionProperties(): INodeProperties[] {
	return [
		{
			displayName: REDIS_FIELDS.caCertificate,
			name: 'redisCaCertificate',
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			displayOptions: onlyWithUrl,
			description:
				"Only for rediss:// (TLS): the PEM text of the certificate authority that signed your Redis server's certificate, when it is a private one (your own CA). Leave empty for managed Redis services whose certificates Node.js already trusts.",
		},
		{
			displayName: REDIS_FIELDS.allowUnauthorizedCerts,
			name: 'redisAllowUnauthorizedCerts',
			type: 'boolean',
			default: false,
			displayOptions: onlyWithUrl,
			description:
				'Whether to connect to a rediss:// Redis whose certificate cannot be verified (self-signed). The connection stays encrypted, but nothing proves it reaches your Redis: prefer the Redis CA Certificate above.',
		},
		{
			displayName: REDIS_FIELDS.cluster,
			name: 'redisCluster',
			type: 'boolean',
			default: false,
			displayOptions: onlyWithUrl,
			description:
				"Whether the URL names one node, or the configuration endpoint, of a Redis Cluster (as n8n's QUEUE_BULL_REDIS_CLUSTER_NODES does); the other nodes are found from it. A cluster has only database 0.",
		},
	];
}

/** Names of the fields only the queue edition's credentials have. */
export const QUEUE_ONLY_CREDENTIAL_FIELDS = [
	'redisUrl',
	'redisCaCertificate',
	'redisAllowUnauthorizedCerts',
	'redisCluster',
	'redisOutageTolerance',
] as const;

export function studioApiProperties(edition: 'main' | 'queue'): INodeProperties[] {
	const properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Generated in the AI Studio canvas: user menu, Generate API Key',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'EU', value: 'eu', description: 'Host studio-api-eu.ai.vonage.com' },
				{ name: 'US', value: 'us', description: 'Host studio-api-us.ai.vonage.com' },
			],
			default: 'eu',
			description: 'The region chosen when the agents were created',
		},
		{
			displayName: 'Approved Sessions per Second',
			name: 'sessionsPerSecond',
			type: 'options',
			// The values are RATE_TIERS (core/studioApi.ts); the account reader refuses any other.
			options: [
				{ name: '1 Per Second (Default Tier)', value: 1 },
				{ name: '3 Per Second (On Request)', value: 3 },
				{ name: '5 Per Second (On Request)', value: 5 },
			],
			default: 1,
			description: `The outbound rate tier Vonage approved for this account, shared by every node using this credential (ask ai.support@vonage.com for 3 or 5). ${docsLink('rate-gate')}.`,
		},
	];
	properties.push({
		displayName: 'n8n Processes Sending With This Account',
		name: 'sendingProcesses',
		type: 'number',
		typeOptions: { minValue: 1, numberPrecision: 0 },
		default: 1,
		description:
			edition === 'main'
				? `How many n8n processes send with this account (1 unless queue-mode workers or several n8n instances do), so that together they stay under the tier. ${docsLink('editions')}.`
				: `Without a Shared Rate Gate Redis URL only: how many n8n processes send with this account, so that together they stay under the tier. ${docsLink('editions')}.`,
	});
	if (edition === 'queue') {
		// A Redis URL usually carries the Redis password (redis://:password@host), so it is masked like one.
		properties.push(
			{
				displayName: REDIS_FIELDS.url,
				name: 'redisUrl',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				placeholder: REDIS_PLACEHOLDER,
				description:
					'For n8n queue mode (several workers): the Redis that all workers reach, so they share one rate budget and one record of sent sessions. redis://host:6379, redis://user:password@host:6379/2 (an ACL user, database 2), or rediss://… for TLS. Leave empty for a single n8n process.',
			},
			...redisConnectionProperties(),
			{
				displayName: REDIS_FIELDS.outageTolerance,
				name: 'redisOutageTolerance',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 0 },
				default: DEFAULT_REDIS_OUTAGE_TOLERANCE_S,
				displayOptions: onlyWithUrl,
				description:
					'How long sends wait for Redis when it stops answering (a restart, a failover) before their items fail. Within it, the campaign goes on once Redis is back, nothing lost or sent twice. 0 = fail at once. n8n itself exits after QUEUE_BULL_REDIS_TIMEOUT_THRESHOLD (10 s by default) without Redis: raise that too.',
			},
		);
	}
	properties.push(
		{
			displayName: 'Rate Gate Safety Margin (ms)',
			name: 'safetyMarginMs',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: MAX_FLOOR_MS },
			default: 0,
			description: `Advanced: leave 0 and the gate learns the margin your link to Studio needs; a number sets the least margin it may use. ${docsLink('rate-gate')}.`,
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. http://127.0.0.1:4010',
			description:
				'Advanced: send to this URL instead of the region host, e.g. the Studio simulator or your own proxy. Leave empty for Vonage.',
		},
	);
	return properties;
}

export function callbackApiProperties(edition: 'main' | 'queue'): INodeProperties[] {
	const properties: INodeProperties[] = [
		{
			displayName: 'Status URL Token',
			name: 'token',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"A long random secret of your own (at least 16 characters). Put the same value into the Vonage AI Studio node's Status URL Token option: it travels in the status URL as vgai_token. Used when the trigger's Authentication is Secret Token in Status URL.",
		},
		{
			displayName: 'Signature Secret',
			name: 'signatureSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"Your Vonage account's signature secret (Vonage API Dashboard, Settings). Used when the trigger's Authentication is Vonage Signed Callbacks.",
		},
	];
	if (edition === 'queue') {
		properties.push(
			{
				displayName: REDIS_FIELDS.callbackUrl,
				name: 'redisUrl',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				placeholder: REDIS_PLACEHOLDER,
				description:
					'Only when several n8n processes receive webhooks (queue mode with webhook processes behind a load balancer): a Redis all of them reach, so a callback Studio repeats to another process is still dropped as a repeat. Same forms as in the Studio credential (rediss:// for TLS). Leave empty for one n8n process. If Redis cannot be reached, callbacks are let through: a repeat is better than a lost status.',
			},
			...redisConnectionProperties(),
		);
	}
	return properties;
}
