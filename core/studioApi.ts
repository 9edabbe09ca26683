// The one place that names Studio's hosts, paths, header and channel values (docs/studio-api.md), and this
// package's own names that other code and saved workflows depend on.

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

/**
 * Studio's Insights API (read-only; docs/insights.md): the sessions search and the session's parameters are
 * documented, the session's details and its transcript are seen only in Vonage's own public samples.
 */
export const INSIGHTS_PATHS = {
	sessions: '/insights/sessions',
	session: (sessionId: string) => `/insights/sessions/${encodeURIComponent(sessionId)}`,
	parameters: (sessionId: string) => `/insights/sessions/${encodeURIComponent(sessionId)}/parameters`,
	transcript: (sessionId: string) => `/insights/sessions/search/${encodeURIComponent(sessionId)}`,
} as const;

/** The query parameters of the Insights API, as Studio spells them. */
export const INSIGHTS_QUERY = {
	from: 'from_date',
	to: 'to_date',
	page: 'page_number',
	pageSize: 'page_size',
	sort: 'sort_by',
	fields: 'project_fields',
	filter: 'filter_by',
	sessionStartTime: 'session_start_time',
} as const;

/** The session document's fields a search can filter and sort on (Elasticsearch field names). */
export const INSIGHTS_FIELDS = {
	id: 'id',
	/** The contact's number (documented for inbound and telephony sessions). */
	source: 'source',
	/** The agent's number. */
	destination: 'destination',
	channel: 'channel',
	agentId: 'agent_information.id',
	startTime: 'session_start_time',
	/** What the contact said (a text field: matched, not compared exactly). */
	saidByContact: 'transcription.client',
} as const;

/** The widest time range one search may cover: Studio refuses from_date and to_date more than 60 days apart. */
export const INSIGHTS_MAX_RANGE_MS = 60 * 24 * 3_600_000;

export type StudioChannel = 'whatsapp' | 'sms' | 'voice';

/** What an item's output shows of a send: never the key, never the status URL's check value. */
export interface SendSummary {
	channel: StudioChannel;
	to: string;
	agentId: string;
	template?: string;
	locale?: string;
	reference?: string;
	statusUrl?: string;
}

/** Sessions per second Studio allows an account: 1 by default, 3 or 5 after approval. */
export const RATE_TIERS = [1, 3, 5] as const;
export type RateTier = (typeof RATE_TIERS)[number];

/**
 * The body the credential test posts: a deliberately incomplete WhatsApp request (no agent, no recipient) that
 * Studio can only refuse, so a test never starts a session. Studio checks the key first: a refusal of the body
 * (400/422) means the key was accepted, 401/403 that it was rejected.
 */
export const CREDENTIAL_TEST_BODY = { channel: 'whatsapp' } as const;

/** Credential type names: the same in both editions, so a workflow moves between them keeping its credentials. */
export const CREDENTIAL_TYPE = 'vonageAiStudioApi';
export const CALLBACK_CREDENTIAL_TYPE = 'vonageAiStudioCallbackApi';

/** The two packages built from this repository (docs/editions.md); node types are `<package>.<node>`. */
export const PACKAGES = { main: 'n8n-nodes-vonage-ai-studio', queue: 'n8n-nodes-vonage-ai-studio-queue' } as const;
export const NODE_NAMES = { action: 'vonageAiStudio', trigger: 'vonageAiStudioTrigger' } as const;

/** Where requests go: the advanced base-URL override when set, else the region's documented host. */
export function resolveBaseUrl(region: StudioRegion, baseUrlOverride?: string): string {
	const override = baseUrlOverride?.trim();
	return (override ? override : STUDIO_HOSTS[region]).replace(/\/+$/, '');
}

/** Whether requests go to Vonage's own Studio hosts (no base-URL override: the simulator, a proxy). */
export function isStudioHost(baseUrl: string): boolean {
	const host = new URL(baseUrl).host;
	return Object.values(STUDIO_HOSTS).some((each) => new URL(each).host === host);
}
