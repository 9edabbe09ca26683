// When one item's answer shows that the others cannot succeed either, the batch stops at once instead of sending
// every remaining item into the same refusal (a wrong key on a 10 000-contact campaign would otherwise take hours to
// say so). What counts, in the order Studio checks it:
// - the key was rejected (401/403): no item with this credential can go;
// - the agent does not exist or has no published version: no item for that agent can go;
// - the same 400 naming a field every item of a group shares (template, namespace, locale), three items in a row:
//   no item of that template can go. A 400 about one item's own values (its number) stays that item's error.
// Only items not yet sent stop; the ones on the way finish and keep their own outcome.
import { isError } from './errors';
import { isAgentMissing, studioMessage } from './studioHttp';

/** The groups an item belongs to, for stops narrower than the whole batch. */
export interface StopGroups {
	/** The agent ID. */
	agent?: string;
	/** What every item of one template shares: agent, namespace, template name and locale. */
	template?: string;
}

export interface BatchStop {
	/** Which items stop: every one, or those of one group. */
	group?: { kind: keyof StopGroups; value: string };
	/** In a user's words, for the items not sent: "Studio rejected the API key". */
	reason: string;
}

/** Words of a 400 that name a field the items of one template share. */
const SHARED_FIELD = /\b(template|namespace|locale|language)\b/i;

/** How many of the same shared-field 400 in a row, within one template group, stop that group. */
export const SHARED_FIELD_STOP_AFTER = 3;

export class BatchStopRule {
	/** Per template group: the last 400 message and how many in a row. */
	private readonly streaks = new Map<string, { message: string; count: number }>();

	/** An item finished: its error (undefined when it was sent) and its groups. Returns a stop, when one follows. */
	observe(error: unknown, groups: StopGroups): BatchStop | undefined {
		if (error === undefined) {
			if (groups.template !== undefined) this.streaks.delete(groups.template);
			return undefined;
		}
		if (!isError(error, 'StudioHttpError')) return undefined;
		const said = studioMessage(error.body);
		if (error.statusCode === 401 || error.statusCode === 403) {
			return { reason: `Studio rejected the API key (HTTP ${error.statusCode})` };
		}
		if (isAgentMissing(error.statusCode, said) && groups.agent !== undefined) {
			return {
				group: { kind: 'agent', value: groups.agent },
				reason: `agent ${groups.agent} was not found or has no published version`,
			};
		}
		if (error.statusCode === 400 && said !== undefined && groups.template !== undefined) {
			if (!SHARED_FIELD.test(said)) {
				this.streaks.delete(groups.template);
				return undefined;
			}
			const streak = this.streaks.get(groups.template);
			const count = streak?.message === said ? streak.count + 1 : 1;
			this.streaks.set(groups.template, { message: said, count });
			if (count >= SHARED_FIELD_STOP_AFTER) {
				return {
					group: { kind: 'template', value: groups.template },
					reason: `Studio refused the template every item shares ("${said}", ${count} items in a row)`,
				};
			}
		}
		return undefined;
	}
}

/** Whether a stop applies to an item of these groups. */
export function stops(stop: BatchStop, groups: StopGroups | undefined): boolean {
	if (!stop.group) return true;
	return groups?.[stop.group.kind] === stop.group.value;
}
