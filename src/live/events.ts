// What live updates carry: one event per change of an organization or of a membership, published with
// pg_notify inside the write's own transaction (so it is sent on commit and never for a rolled-back
// write), on one channel every instance LISTENs to. The payload holds ids only: what a subscriber may
// see is decided when the event is delivered to it (./hub.ts), and names are read then. Events are
// published only while a server process with subscribers was seen lately (`live_listeners`, this file
// alone knows its SQL): NOTIFY takes a lock at commit that serializes notifying commits, which a
// deployment without subscribers should not pay for on every create.
import type { EntityManager } from '@mikro-orm/postgresql';

export const LIVE_CHANNEL = 'trieve_gateway_live';

export type OrganizationEventKind = 'CREATED' | 'UPDATED' | 'DELETED' | 'MEMBER_ADDED' | 'MEMBER_REMOVED';

export type OrganizationEvent = Readonly<{
  kind: OrganizationEventKind;
  organizationId: string;
  /** The member added or removed (membership events). */
  userId: string | null;
  at: string;
}>;

/** How long a process that stopped refreshing its `live_listeners` row still counts as listening. */
export const LISTENER_TTL_SECONDS = 30;
/** How often a process with subscribers refreshes its row. */
export const LISTENER_REFRESH_MS = 5_000;

const SOMEONE_LISTENS = `exists (select 1 from live_listeners where seen_at > now() - interval '${LISTENER_TTL_SECONDS} seconds')`;

/**
 * The pg_notify call for an event, as SQL and parameters for a statement of the caller's transaction
 * (`from` names a relation to select from, e.g. a CTE of the row just written): it notifies only while
 * someone listens.
 */
export function notifySql(kind: OrganizationEventKind, organizationId: string, userId: string | null = null, from = ''): { sql: string; params: unknown[] } {
  return { sql: `select pg_notify(?, ?) ${from ? `from ${from} ` : ''}where ${SOMEONE_LISTENS}`, params: [LIVE_CHANNEL, eventPayload(kind, organizationId, userId)] };
}

/** An event as the channel carries it (for notifyEachSql's payload column). */
export function eventPayload(kind: OrganizationEventKind, organizationId: string, userId: string | null = null): string {
  const event: OrganizationEvent = { kind, organizationId, userId, at: new Date().toISOString() };
  return JSON.stringify(event);
}

/**
 * One pg_notify per row of `from` (e.g. the rows a batched insert returned, joined to their payloads),
 * the payload read from `payloadColumn` (made by eventPayload): notifies only while someone listens.
 */
export function notifyEachSql(from: string, payloadColumn: string): { sql: string; params: unknown[] } {
  return { sql: `select pg_notify(?, ${payloadColumn}) from ${from} where ${SOMEONE_LISTENS}`, params: [LIVE_CHANNEL] };
}

/** This process has subscribers: writes publish from now on (the row is committed before this returns). */
export async function announceListener(em: EntityManager, processId: string): Promise<void> {
  await em.execute('insert into live_listeners (id, seen_at) values (?, now()) on conflict (id) do update set seen_at = now()', [processId]);
}

/** This process has no subscribers any more (also: stale rows of processes that died, after a while). */
export async function withdrawListener(em: EntityManager, processId: string): Promise<void> {
  await em.execute(`delete from live_listeners where id = ? or seen_at < now() - interval '1 day'`, [processId]);
}

/** Publishes `event` in the caller's transaction (sent when it commits). */
export async function publish(tx: EntityManager, kind: OrganizationEventKind, organizationId: string, userId: string | null = null): Promise<void> {
  const { sql, params } = notifySql(kind, organizationId, userId);
  await tx.execute(sql, params);
}

/** A payload from the channel, or null when it is not one of ours. */
export function parseEvent(payload: string): OrganizationEvent | null {
  try {
    const event = JSON.parse(payload) as Partial<OrganizationEvent>;
    const kinds: OrganizationEventKind[] = ['CREATED', 'UPDATED', 'DELETED', 'MEMBER_ADDED', 'MEMBER_REMOVED'];
    if (!kinds.includes(event.kind as OrganizationEventKind) || typeof event.organizationId !== 'string' || typeof event.at !== 'string') return null;
    return Object.freeze({ kind: event.kind!, organizationId: event.organizationId, userId: typeof event.userId === 'string' ? event.userId : null, at: event.at });
  } catch {
    return null;
  }
}
