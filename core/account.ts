// The Studio credential's values, read and checked once: the one place the rate tier is read.
import { RATE_TIERS, resolveBaseUrl, type StudioRegion } from './studioApi';

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
	redisUrl?: string;
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** `credentials`: the Studio credential's decrypted values, as n8n hands them to a node. */
export function readAccount(credentials: Readonly<Record<string, unknown>>): StudioAccount {
	const region: StudioRegion = credentials.region === 'us' ? 'us' : 'eu';
	const tier = Number(credentials.sessionsPerSecond ?? 1);
	const processes = Number(credentials.sendingProcesses ?? 1);
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
		redisUrl: text(credentials.redisUrl),
	};
}
