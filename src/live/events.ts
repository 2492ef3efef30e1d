// What live updates carry: one event per change of an organization or of a membership, published with
// pg_notify inside the write's own transaction (so it is sent on commit and never for a rolled-back
// write), on one channel every instance LISTENs to. The payload holds ids only: what a subscriber may
// see is decided when the event is delivered to it (./hub.ts), and names are read then.
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

/** The pg_notify call for `event`, as SQL and parameters (for a statement of the caller's transaction). */
export function notifySql(kind: OrganizationEventKind, organizationId: string, userId: string | null = null): { sql: string; params: unknown[] } {
  const payload: OrganizationEvent = { kind, organizationId, userId, at: new Date().toISOString() };
  return { sql: 'select pg_notify(?, ?)', params: [LIVE_CHANNEL, JSON.stringify(payload)] };
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
