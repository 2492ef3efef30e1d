// The organization domain: validate, create, find, rename, delete. Throws domain errors; knows no HTTP or GraphQL.
import { createHash, randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { MembershipRole } from '../entities/membership.entity.js';
import { ORGANIZATION_NAME_CONSTRAINT, Organization } from '../entities/organization.entity.js';
import { keysetSql, pageWindow, toPage, type Page, type PageArgs } from '../pagination.js';
import { isUuid } from '../uuid.js';
import { NotAllowedError, NotFoundError, OrganizationNameTakenError, ValidationError } from './errors.js';
import { refusal, takeTokenSql, takeTokensSql, type CreateRateLimit } from './rate-limit.js';
import { allows, effectiveRole, REQUIRED_ROLE, type OrganizationAction, type Role } from './roles.js';
import type { ApiKeyRole } from '../entities/api-key.entity.js';
import type { CreateQueue } from './create-queue.js';
import { eventPayload, notifyEachSql, notifySql, publish } from '../live/events.js';

export { LastOwnerError, NotAllowedError, NotFoundError, OrganizationNameTakenError, ValidationError } from './errors.js';

export const MAX_ORGANIZATION_NAME_LENGTH = 255;

const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * The name rules, stated once for GraphQL and REST. Length counts Unicode code points; blank names,
 * control characters (Cc: C0, DEL, C1) and lone surrogates (PostgreSQL cannot store them) are refused.
 * Anything else is stored exactly as sent.
 */
export function validateOrganizationName(name: string): void {
  if (name.trim() === '') throw new ValidationError('name', 'Organization name must not be empty or only white space');
  if (!name.isWellFormed()) throw new ValidationError('name', 'Organization name must not contain lone surrogates');
  if (CONTROL_CHARACTER.test(name)) throw new ValidationError('name', 'Organization name must not contain control characters');
  let length = 0;
  for (const _ of name) length++;
  if (length > MAX_ORGANIZATION_NAME_LENGTH) {
    throw new ValidationError('name', `Organization name must be at most ${MAX_ORGANIZATION_NAME_LENGTH} characters, got ${length}`);
  }
}

/** How long a used idempotency key answers retries with the original response. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Deletes idempotency records past their 24 hours, oldest first, at most `batch` rows (through the
 * created_at index). Safe with many instances at once: rows another purge holds are skipped, not waited
 * for. Returns how many it deleted.
 */
export async function purgeExpiredIdempotencyKeys(em: EntityManager, batch: number): Promise<number> {
  const rows = await em.execute(
    `delete from idempotency_keys where ctid = any(array(
       select ctid from idempotency_keys
       where created_at < now() - interval '${IDEMPOTENCY_KEY_TTL_HOURS} hours'
       order by created_at limit ? for update skip locked))
     returning 1`,
    [batch],
  );
  return rows.length;
}

export function validateIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError('idempotencyKey', 'Idempotency key must be 1 to 255 printable ASCII characters without spaces');
  }
}

/**
 * Claims `key` for this request, or finds who holds it. The primary key (user, key) decides: a
 * concurrent claim waits for the first transaction and then sees its row. An expired claim is
 * taken over. Returns the organization id the key is bound to and whether this request owns it.
 */
async function claimIdempotencyKey(
  tx: EntityManager,
  userId: string,
  key: string,
  requestHash: string,
  organizationId: string,
): Promise<{ owned: true } | { owned: false; requestHash: string; organizationId: string }> {
  const claimed = await tx.execute(
    `insert into idempotency_keys (user_id, key, request_hash, organization_id, created_at) values (?, ?, ?, ?, now())
     on conflict (user_id, key) do update
       set request_hash = excluded.request_hash, organization_id = excluded.organization_id, created_at = excluded.created_at
       where idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_KEY_TTL_HOURS} hours'
     returning organization_id`,
    [userId, key, requestHash, organizationId],
  );
  if (claimed.length > 0) return { owned: true };
  const [held] = await tx.execute<{ request_hash: string; organization_id: string }[]>(
    'select request_hash, organization_id from idempotency_keys where user_id = ? and key = ?',
    [userId, key],
  );
  return { owned: false, requestHash: held!.request_hash, organizationId: held!.organization_id };
}

/**
 * Creates the organization and the creator's owner membership in one transaction. A taken name is
 * decided by the unique constraint, so it holds across instances and under races. With an
 * idempotency key, a retry of the same request by the same user returns the organization the first
 * one created, and the same key with another request is a ValidationError. Only a person can own
 * an organization: an organization's key cannot create one (NotAllowedError).
 */
export async function createOrganization(
  em: EntityManager,
  actor: Actor,
  name: string,
  idempotencyKey?: string | null,
  limit: CreateRateLimit = null,
  /** Where concurrent creates share statements (made with the same `limit`); without it each runs alone. */
  queue: CreateQueue | null = null,
): Promise<Organization> {
  if (actor.userId === null) throw new NotAllowedError("An organization's API key cannot create organizations: use a user's key");
  const owner = { id: actor.userId };
  validateOrganizationName(name);
  if (idempotencyKey != null) validateIdempotencyKey(idempotencyKey);
  const organizationId = randomUUID();
  try {
    if (idempotencyKey == null) {
      return await (queue ? queue.insert(em, { userId: owner.id, organizationId, name }) : insertOrganizationWithOwner(em, owner.id, organizationId, name, limit));
    }
    // An idempotent create keeps its own transaction: its key's claim, its create and the read of an
    // earlier answer must commit or roll back together, which a statement shared with others cannot do.
    return await em.transactional(async (tx) => {
      const requestHash = createHash('sha256').update(JSON.stringify({ createOrganization: { name } })).digest('hex');
      const claim = await claimIdempotencyKey(tx, owner.id, idempotencyKey, requestHash, organizationId);
      // A refused create throws inside the transaction: the key's claim is rolled back and stays free.
      if (claim.owned) return insertOrganizationWithOwner(tx, owner.id, organizationId, name, limit);
      if (claim.requestHash !== requestHash) {
        throw new ValidationError('idempotencyKey', 'This idempotency key was already used with a different request');
      }
      const original = await tx.findOne(Organization, { id: claim.organizationId, deleted: 0 });
      if (!original) throw new ValidationError('idempotencyKey', 'The organization created with this idempotency key no longer exists');
      return original;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && isNameConstraint(error)) {
      throw new OrganizationNameTakenError(name);
    }
    throw error;
  }
}

/**
 * The organization and its owner membership in one statement: atomic on its own (or inside the
 * caller's transaction), one round trip. With a create limit, the same statement first takes a token
 * from the user's bucket and inserts nothing when there is none (then a RateLimitedError). Columns as
 * in the entities and the migrations (the schema test holds those two together; the tests of this
 * function hold this statement to them). It also publishes the live update (pg_notify, sent on commit).
 */
export async function insertOrganizationWithOwner(
  em: EntityManager,
  userId: string,
  organizationId: string,
  name: string,
  limit: CreateRateLimit,
): Promise<Organization> {
  const now = new Date();
  const token = limit ? takeTokenSql(limit, userId) : undefined;
  // The live update goes out with the create's commit (src/live/events.ts), in the same statement.
  const created = notifySql('CREATED', organizationId, userId, 'org');
  const rows = await em.execute(
    `with ${token ? `${token.sql}, ` : ''}org as (
       insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
       ${token ? `select ?::uuid, ?::text, ?::timestamptz, ?::timestamptz, true, 0, '{}'::jsonb where exists (select 1 from bucket)` : `values (?, ?, ?, ?, true, 0, '{}'::jsonb)`}
       returning *
     ), owner as (
       insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
       select ?, ?, org.id, ${MembershipRole.owner}, org.created_at, org.created_at from org
     ), notified as (
       ${created.sql}
     )
     select org.*, (select count(*) from notified) as notified from org`,
    [...(token?.params ?? []), organizationId, name, now, now, randomUUID(), userId, ...created.params],
  );
  if (rows.length === 0) throw await refusal(em, limit!, userId);
  return organizationFromRow(rows[0] as OrganizationRow);
}

/** One create of a batch (./create-queue.ts): who creates what, with the ids it will have. */
export type CreateEntry = Readonly<{ userId: string; organizationId: string; name: string }>;

/** What became of a batched create: made, its name taken, or to be run alone (insertOrganizationWithOwner). */
export type BatchOutcome = Organization | 'taken' | 'alone';

/**
 * Several creates in one statement, for creates that arrive together (./create-queue.ts): each
 * organization with its owner membership and its live update, exactly as insertOrganizationWithOwner
 * makes them, in one round trip and one commit. A name that a live organization already has, or that
 * an earlier entry of the batch takes, is `taken` for that entry alone (names are inserted in name
 * order with ON CONFLICT DO NOTHING on the unique index, so a name a concurrent statement takes first
 * is `taken` too, and two batches never wait on each other's names in opposite orders). With a create
 * limit, each user's creates in the batch take their tokens together (takeTokensSql, all or none):
 * a user whose bucket cannot cover them all gets `alone` for those, as does an entry whose name was
 * left to one of those. Outcomes come in the order of `entries`; `refunds` counts, per user, the tokens
 * taken for names lost to a concurrent create, which the caller gives back (refundTokens) once the
 * statement has committed: a refund that fails then must not undo answers that stand.
 */
export async function insertOrganizationsWithOwners(
  em: EntityManager,
  entries: readonly CreateEntry[],
  limit: CreateRateLimit,
): Promise<{ outcomes: BatchOutcome[]; refunds: ReadonlyMap<string, number> }> {
  const now = new Date();
  const input = JSON.stringify(
    entries.map((e, ord) => ({ ord, id: e.organizationId, name: e.name, user_id: e.userId, member_id: randomUUID(), payload: eventPayload('CREATED', e.organizationId, e.userId) })),
  );
  const token = limit ? takeTokensSql(limit, 'wants') : undefined;
  const granted = token ? 'candidate c where c.user_id in (select user_id from bucket)' : 'candidate c';
  const created = notifyEachSql('org join input i on i.id = org.id', 'i.payload');
  // live_names: the batch's names that live organizations have now, one index probe each (= ANY of an
  // array, never a scan of the table); candidate: the first entry of each name not among them.
  const rows = await em.execute<Array<OrganizationRow & { ord: number; taken_before: boolean; candidate: boolean; granted: boolean }>>(
    `with input as (
       select * from json_to_recordset(?::json) as i(ord int, id uuid, name text, user_id uuid, member_id uuid, payload text)
     ), live_names as (
       select o.name from organizations o where o.name = any (array(select name from input)) and o.deleted = 0
     ), checked as (
       select i.*, i.name in (select name from live_names) as taken_before from input i
     ), candidate as (
       select distinct on (i.name) i.* from checked i where not i.taken_before order by i.name, i.ord
     ), wants as (
       select user_id, count(*)::int as n from candidate group by user_id
     ), ${token ? `${token.sql}, ` : ''}granted as (
       select c.* from ${granted}
     ), org as (
       insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
       select g.id, g.name, ?::timestamptz, ?::timestamptz, true, 0, '{}'::jsonb from granted g order by g.name
       on conflict (name) where deleted = 0 do nothing
       returning *
     ), owner as (
       insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
       select g.member_id, g.user_id, org.id, ${MembershipRole.owner}, org.created_at, org.created_at from org join granted g on g.id = org.id
     ), notified as (
       ${created.sql}
     )
     select i.ord, i.taken_before, org.*,
       i.id in (select id from candidate) as candidate,
       i.id in (select id from granted) as granted,
       (select count(*) from notified) as notified
     from checked i left join org on org.id = i.id order by i.ord`,
    [input, ...(token?.params ?? []), now, now, ...created.params],
  );
  const outcomes: BatchOutcome[] = new Array(entries.length);
  const refunds = new Map<string, number>();
  const winners = new Map<string, number>();
  for (const row of rows) if (row.candidate) winners.set(entries[row.ord]!.name, row.ord);
  for (const row of rows) {
    const entry = entries[row.ord]!;
    if (row.id != null) outcomes[row.ord] = organizationFromRow(row);
    else if (row.taken_before) outcomes[row.ord] = 'taken';
    else if (row.candidate && !row.granted) outcomes[row.ord] = 'alone';
    else if (row.candidate) {
      outcomes[row.ord] = 'taken'; // lost to a concurrent create: its token goes back
      if (limit) refunds.set(entry.userId, (refunds.get(entry.userId) ?? 0) + 1);
    }
  }
  // A later entry of a name: taken if the name's first entry made it or lost it, alone if that one runs alone.
  for (const row of rows) {
    if (outcomes[row.ord] !== undefined) continue;
    outcomes[row.ord] = outcomes[winners.get(entries[row.ord]!.name)!] === 'alone' ? 'alone' : 'taken';
  }
  return { outcomes, refunds };
}

type OrganizationRow = {
  id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
  registerable: boolean | null;
  deleted: number;
  partner_configuration: Record<string, unknown>;
};

/** A fresh row as an Organization, without the identity map's bookkeeping (a write result, read once). */
function organizationFromRow(row: OrganizationRow): Organization {
  const organization = new Organization();
  organization.id = row.id;
  organization.name = row.name;
  organization.createdAt = new Date(row.created_at);
  organization.updatedAt = new Date(row.updated_at);
  organization.registerable = row.registerable as Organization['registerable'];
  organization.deleted = row.deleted;
  organization.partnerConfiguration = row.partner_configuration;
  return organization;
}

function isNameConstraint(error: UniqueConstraintViolationException): boolean {
  return (error as unknown as { constraint?: string }).constraint === ORGANIZATION_NAME_CONSTRAINT;
}

/**
 * Who acts: the API key a request carries. A user's key acts as that user (`userId`), its role capping
 * the user's role in every organization; an organization's key (`keyOrganizationId`) acts only in that
 * organization, with its own role. Exactly one of the two is set.
 */
export type Actor = Readonly<{ keyId: string; keyRole: ApiKeyRole; userId: string | null; keyOrganizationId: string | null }>;

/**
 * The actor's stored role in the organization aliased `o` (membership role, or an organization key's
 * role in its own organization), null where it has none: an SQL expression and its parameters. The
 * one place that says which organizations a principal belongs to.
 */
export function memberRoleSql(actor: Actor): { sql: string; params: unknown[] } {
  return actor.userId !== null
    ? { sql: '(select m.role from user_organizations m where m.organization_id = o.id and m.user_id = ?)', params: [actor.userId] }
    : { sql: '(case when o.id = ?::uuid then ?::int end)', params: [actor.keyOrganizationId, actor.keyRole] };
}

/**
 * Inside a transaction: locks the live organization's row (so renames, deletes and membership changes
 * of one organization happen one after another) and returns the actor's role there. Not live, or the
 * actor is not a member: NotFoundError (a non-member learns nothing about it).
 */
export async function lockOrganizationFor(tx: EntityManager, actor: Actor, organizationId: string): Promise<Role> {
  const role = await storedRole(tx, actor, organizationId, { lock: true });
  if (role === null) throw new NotFoundError('organization');
  return effectiveRole(role, actor.keyRole);
}

/** The actor's role in a live organization (capped by its key), or null when not a member of one. */
export async function roleIn(em: EntityManager, actor: Actor, organizationId: string): Promise<Role | null> {
  const role = await storedRole(em, actor, organizationId);
  return role === null ? null : effectiveRole(role, actor.keyRole);
}

/** The actor's stored role in the organization (live only unless `evenDeleted`; row-locked with `lock`), or null. */
async function storedRole(em: EntityManager, actor: Actor, organizationId: string, { lock = false, evenDeleted = false } = {}): Promise<number | null> {
  if (!isUuid(organizationId)) return null;
  const member = memberRoleSql(actor);
  const [row] = await em.execute<Array<{ role: number | null }>>(
    `select ${member.sql} as role from organizations o where o.id = ?${evenDeleted ? '' : ' and o.deleted = 0'}${lock ? ' for update of o' : ''}`,
    [...member.params, organizationId],
  );
  return row?.role ?? null;
}

const WHO = { [MembershipRole.owner]: 'owners', [MembershipRole.admin]: 'admins and owners', [MembershipRole.user]: 'members' } as const;

/** Throws NotAllowedError unless `role` allows `action` (roles.ts), naming who may. */
export function requireRole(role: Role, action: OrganizationAction, what: string): void {
  if (!allows(role, action)) throw new NotAllowedError(`Only ${WHO[REQUIRED_ROLE[action]]} may ${what}`);
}

export type OrganizationChanges = Readonly<{ name?: string | null; partnerConfiguration?: unknown }>;

/**
 * Renames the organization and/or replaces its partner configuration (owners only): one transaction.
 * The name follows the create's rules and uniqueness among live organizations; an omitted field is kept.
 */
export async function updateOrganization(em: EntityManager, actor: Actor, organizationId: string, changes: OrganizationChanges): Promise<Organization> {
  const name = changes.name ?? undefined;
  if (name !== undefined) validateOrganizationName(name);
  const configuration = changes.partnerConfiguration ?? undefined;
  if (configuration !== undefined && (typeof configuration !== 'object' || Array.isArray(configuration))) {
    throw new ValidationError('partnerConfiguration', 'Partner configuration must be a JSON object');
  }
  try {
    return await em.transactional(async (tx) => {
      requireRole(await lockOrganizationFor(tx, actor, organizationId), 'update', 'change an organization');
      const [row] = await tx.execute<OrganizationRow[]>(
        `update organizations set name = coalesce(?, name), partner_configuration = coalesce(?::jsonb, partner_configuration), updated_at = ?
         where id = ? returning *`,
        [name ?? null, configuration === undefined ? null : JSON.stringify(configuration), new Date(), organizationId],
      );
      await publish(tx, 'UPDATED', organizationId);
      return organizationFromRow(row!);
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && isNameConstraint(error)) throw new OrganizationNameTakenError(name!);
    throw error;
  }
}

/**
 * The soft delete upstream does (`deleted = 1`; memberships stay, inert), owners only, one transaction.
 * From then on it is invisible everywhere and its name is free. Returns it as deleted.
 */
export async function deleteOrganization(em: EntityManager, actor: Actor, organizationId: string): Promise<Organization> {
  return em.transactional(async (tx) => {
    requireRole(await lockOrganizationFor(tx, actor, organizationId), 'delete', 'delete an organization');
    const [row] = await tx.execute<OrganizationRow[]>('update organizations set deleted = 1 where id = ? returning *', [organizationId]);
    await publish(tx, 'DELETED', organizationId);
    return organizationFromRow(row!);
  });
}

/** The organization, or null when it does not exist, is deleted, or the actor is not a member. */
export async function findOrganizationForMember(em: EntityManager, actor: Actor, organizationId: string): Promise<Organization | null> {
  const row = await organizationWithRole(em, actor, organizationId);
  return row && row.role !== null ? organizationFromRow(row) : null;
}

/**
 * Whether the actor is a member of the organization (live, or, with `evenDeleted`, deleted since): who
 * hears of its changes (src/live/hub.ts).
 */
export async function isMemberOf(em: EntityManager, actor: Actor, organizationId: string, evenDeleted = false): Promise<boolean> {
  return (await storedRole(em, actor, organizationId, { evenDeleted })) !== null;
}

export type OrganizationAccess = 'MEMBER' | 'NOT_MEMBER' | 'NOT_FOUND';

/**
 * How an actor stands with an organization: member, not a member, or no such live organization. Without
 * an actor (`null`) only NOT_FOUND is told, or null: whether a live organization has this id is what the
 * REST contract's TR-Organization check tells anyone (upstream answers 404 before credentials).
 */
export async function organizationAccess(em: EntityManager, actor: Actor | null, organizationId: string): Promise<OrganizationAccess | null> {
  const row = await organizationWithRole(em, actor, organizationId);
  if (!row) return 'NOT_FOUND';
  if (actor === null) return null;
  return row.role !== null ? 'MEMBER' : 'NOT_MEMBER';
}

async function organizationWithRole(em: EntityManager, actor: Actor | null, organizationId: string): Promise<(OrganizationRow & { role: number | null }) | null> {
  if (!isUuid(organizationId)) return null;
  const member = actor ? memberRoleSql(actor) : { sql: 'null::int', params: [] };
  const [row] = await em.execute<Array<OrganizationRow & { role: number | null }>>(
    `select o.*, ${member.sql} as role from organizations o where o.id = ? and o.deleted = 0`,
    [...member.params, organizationId],
  );
  return row ?? null;
}

/**
 * One page of the live organizations a user is a member of, oldest membership first: `first`/`after`
 * forwards, `last`/`before` backwards (not both directions at once). Keyset pagination: every page
 * is one indexed range scan, page 1,000 costs what page 1 costs, and rows inserted meanwhile never
 * shift or repeat what a client has already seen.
 */
export async function pageOrganizationsForMember(em: EntityManager, userId: string, args: PageArgs): Promise<Page<Organization>> {
  const window = pageWindow(args);
  const keyset = keysetSql(window, 'm');
  const rows = await em.execute<Array<OrganizationRow & { membership_id: string; membership_created_at: Date }>>(
    `select o.*, m.id as membership_id, m.created_at as membership_created_at
     from user_organizations m join organizations o on o.id = m.organization_id
     where m.user_id = ? and o.deleted = 0 ${keyset.where}
     ${keyset.orderLimit}`,
    [userId, ...keyset.whereParams, ...keyset.limitParams],
  );
  return toPage(window, rows, (row) => [new Date(row.membership_created_at), row.membership_id], organizationFromRow);
}

/** How many live organizations the user is a member of. */
export async function countOrganizationsForMember(em: EntityManager, userId: string): Promise<number> {
  const [row] = await em.execute<Array<{ n: number }>>(
    'select count(*)::int as n from user_organizations m join organizations o on o.id = m.organization_id where m.user_id = ? and o.deleted = 0',
    [userId],
  );
  return row!.n;
}
