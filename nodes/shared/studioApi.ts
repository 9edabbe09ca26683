// The one place that names Studio's hosts, paths, header and channel values (see studio-api.md).

export type StudioRegion = 'eu' | 'us';

export const STUDIO_HOSTS: Record<StudioRegion, string> = {
	eu: 'https://studio-api-eu.ai.vonage.com',
	us: 'https://studio-api-us.ai.vonage.com',
};

export const STUDIO_PATHS = {
	messagingConversation: '/messaging/conversation',
	makeCall: '/telephony/make-call',
} as const;

export const API_KEY_HEADER = 'X-Vgai-Key';

export type StudioChannel = 'whatsapp' | 'sms' | 'voice';

/** Sessions per second Studio allows an account: 1 by default, 3 or 5 after approval. */
export const RATE_TIERS = [1, 3, 5] as const;
export type RateTier = (typeof RATE_TIERS)[number];

export const CREDENTIAL_TYPE = 'vonageAiStudioApi';

/** Where requests go: the advanced base-URL override when set, else the region's documented host. */
export function resolveBaseUrl(region: StudioRegion, baseUrlOverride?: string): string {
	const override = baseUrlOverride?.trim();
	return (override ? override : STUDIO_HOSTS[region]).replace(/\/+$/, '');
}
