// The Studio credential's values, read and checked once: the one place the rate tier is read. Also the Redis
// connection of the queue edition's credentials (both the Studio and the callback credential carry one).
import { RATE_TIERS, resolveBaseUrl, type StudioRegion } from './studioApi';

/** Queue edition: how to reach the Redis that n8n's processes share. */
export interface RedisConnectionSettings {
	/** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
	url: string;
	/** PEM text of the certificate authority that signed Redis's certificate, when Node.js does not trust it already. */
	caCertificate?: string;
	/** rediss:// without checking Redis's certificate (a self-signed one): encrypted, but not authenticated. */
	allowUnauthorizedCerts: boolean;
	/** The URL names one node (or the configuration endpoint) of a Redis Cluster. */
	cluster: boolean;
}

/** The queue edition's Redis fields as the user sees them in the credentials, for messages that point at one. */
export const REDIS_FIELDS = {
	url: 'Shared Rate Gate Redis URL',
	callbackUrl: 'Shared Repeat Memory Redis URL',
	caCertificate: 'Redis CA Certificate',
	allowUnauthorizedCerts: 'Ignore Redis SSL Issues (Insecure)',
	cluster: 'Redis Cluster',
	outageTolerance: 'Redis Outage Tolerance (Seconds)',
} as const;

/** How long a send waits for an unreachable shared Redis before its item fails, unless the credential says otherwise. */
export const DEFAULT_REDIS_OUTAGE_TOLERANCE_S = 30;

export interface StudioAccount {
	apiKey: string;
	region: StudioRegion;
	/** Sessions per second Vonage approved (1, 3 or 5). */
	tier: number;
	baseUrl: string;
	/** The floor of the gate's learnt margin (Rate Gate Safety Margin); undefined: automatic. */
	floorMs?: number;
	/** Main edition: n8n processes sending with this account without a shared gate; each paces at tier ÷ this. */
	processes: number;
	/** Queue edition: the Redis the gate and the send ledger share. */
	redis?: RedisConnectionSettings;
	/** Queue edition: how long a send waits for that Redis when it stops answering (0: fail at once). */
	redisOutageToleranceMs: number;
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** The Redis connection of a queue-edition credential (Studio or callback), or undefined without a Redis URL. */
export function readRedisConnection(
	credentials: Readonly<Record<string, unknown>>,
): RedisConnectionSettings | undefined {
	const url = text(credentials.redisUrl);
	if (!url) return undefined;
	return {
		url,
		caCertificate: text(credentials.redisCaCertificate),
		allowUnauthorizedCerts: credentials.redisAllowUnauthorizedCerts === true,
		cluster: credentials.redisCluster === true,
	};
}

/** `credentials`: the Studio credential's decrypted values, as n8n hands them to a node. */
export function readAccount(credentials: Readonly<Record<string, unknown>>): StudioAccount {
	const region: StudioRegion = credentials.region === 'us' ? 'us' : 'eu';
	const tier = Number(credentials.sessionsPerSecond ?? 1);
	const processes = Number(credentials.sendingProcesses ?? 1);
	const toleranceS = Number(credentials.redisOutageTolerance ?? DEFAULT_REDIS_OUTAGE_TOLERANCE_S);
	return {
		apiKey: String(credentials.apiKey ?? ''),
		region,
		tier: (RATE_TIERS as readonly number[]).includes(tier) ? tier : 1,
		baseUrl: resolveBaseUrl(region, text(credentials.baseUrl)),
		floorMs:
			typeof credentials.safetyMarginMs === 'number' && credentials.safetyMarginMs > 0
				? credentials.safetyMarginMs
				: undefined,
		processes: Number.isInteger(processes) && processes >= 1 ? processes : 1,
		redis: readRedisConnection(credentials),
		redisOutageToleranceMs:
			Number.isFinite(toleranceS) && toleranceS >= 0 ? toleranceS * 1000 : DEFAULT_REDIS_OUTAGE_TOLERANCE_S * 1000,
	};
}
