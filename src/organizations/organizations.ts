// The organization domain: validate, create, find. Throws domain errors; knows no HTTP or GraphQL.
import { createHash, randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { Membership, MembershipRole } from '../entities/membership.entity.js';
import { ORGANIZATION_NAME_CONSTRAINT, Organization } from '../entities/organization.entity.js';
import type { User } from '../entities/user.entity.js';
import { isUuid } from '../uuid.js';
import { refusal, takeTokenSql, type CreateRateLimit } from './rate-limit.js';

export const MAX_ORGANIZATION_NAME_LENGTH = 255;

export class OrganizationNameTakenError extends Error {
  constructor(readonly organizationName: string) {
    super(`An organization named "${organizationName}" already exists`);
    this.name = 'OrganizationNameTakenError';
  }
}

export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

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
 * one created, and the same key with another request is a ValidationError.
 */
export async function createOrganization(
  em: EntityManager,
  owner: User,
  name: string,
  idempotencyKey?: string | null,
  limit: CreateRateLimit = null,
): Promise<Organization> {
  validateOrganizationName(name);
  if (idempotencyKey != null) validateIdempotencyKey(idempotencyKey);
  const organizationId = randomUUID();
  try {
    if (idempotencyKey == null) return await insertOrganizationWithOwner(em, owner.id, organizationId, name, limit);
    return await em.transactional(async (tx) => {
      const requestHash = createHash('sha256').update(JSON.stringify({ createOrganization: { name } })).digest('hex');
      const claim = await claimIdempotencyKey(tx, owner.id, idempotencyKey, requestHash, organizationId);
      // A refused create throws inside the transaction: the key's claim is rolled back and stays free.
      if (claim.owned) return insertOrganizationWithOwner(tx, owner.id, organizationId, name, limit);
      if (claim.requestHash !== requestHash) {
        throw new ValidationError('idempotencyKey', 'This idempotency key was already used with a different request');
      }
      const original = await tx.findOne(Organization, { id: claim.organizationId });
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
 * function hold this statement to them).
 */
async function insertOrganizationWithOwner(
  em: EntityManager,
  userId: string,
  organizationId: string,
  name: string,
  limit: CreateRateLimit,
): Promise<Organization> {
  const now = new Date();
  const token = limit ? takeTokenSql(limit, userId) : undefined;
  const rows = await em.execute(
    `with ${token ? `${token.sql}, ` : ''}org as (
       insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
       ${token ? `select ?::uuid, ?::text, ?::timestamptz, ?::timestamptz, true, 0, '{}'::jsonb where exists (select 1 from bucket)` : `values (?, ?, ?, ?, true, 0, '{}'::jsonb)`}
       returning *
     ), owner as (
       insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
       select ?, ?, org.id, ${MembershipRole.owner}, org.created_at, org.created_at from org
     )
     select * from org`,
    [...(token?.params ?? []), organizationId, name, now, now, randomUUID(), userId],
  );
  if (rows.length === 0) throw await refusal(em, limit!, userId);
  return organizationFromRow(rows[0] as OrganizationRow);
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

/** The organization, or null when it does not exist, is deleted, or the user is not a member. */
export async function findOrganizationForMember(em: EntityManager, userId: string, organizationId: string): Promise<Organization | null> {
  if (!isUuid(organizationId)) return null;
  const membership = await em.findOne(
    Membership,
    { user: userId, organization: { id: organizationId, deleted: 0 } },
    { populate: ['organization'] },
  );
  return membership ? membership.organization.getEntity() : null;
}

export type OrganizationAccess = 'MEMBER' | 'NOT_MEMBER' | 'NOT_FOUND';

/**
 * How a user stands with an organization: member, not a member, or no such live organization. Without
 * a user (`null`) only NOT_FOUND is told, or null: whether a live organization has this id is what the
 * REST contract's TR-Organization check tells anyone (upstream answers 404 before credentials).
 */
export async function organizationAccess(em: EntityManager, userId: string | null, organizationId: string): Promise<OrganizationAccess | null> {
  if (!isUuid(organizationId)) return 'NOT_FOUND';
  const organization = await em.findOne(Organization, { id: organizationId, deleted: 0 }, { fields: ['id'] });
  if (!organization) return 'NOT_FOUND';
  if (userId === null) return null;
  const memberships = await em.count(Membership, { user: userId, organization: organizationId });
  return memberships > 0 ? 'MEMBER' : 'NOT_MEMBER';
}

/** Page sizes of `viewer.organizations` (documented in the schema and the README). */
export const ORGANIZATION_PAGE = Object.freeze({ default: 20, max: 100 });

export type OrganizationPageArgs = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };
export type OrganizationPage = {
  edges: Array<{ cursor: string; node: Organization }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};

/**
 * A position in one member's list: the membership's creation time and id, the keyset the index
 * (user_id, created_at, id) serves. Opaque to clients; it names no user, and every page is read for
 * the viewer only, so a cursor taken from another user's list selects nothing of theirs.
 */
function encodeCursor(createdAt: Date, membershipId: string): string {
  return Buffer.from(`m1:${createdAt.toISOString()}:${membershipId}`).toString('base64url');
}

function decodeCursor(cursor: string): [Date, string] {
  const match = /^m1:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const at = match ? new Date(match[1]!) : undefined;
  // Only a time this API could have written: it prints back the same (no 2026-02-30 rolled over), in
  // years PostgreSQL has (JavaScript's year 0000 is not one of them: SQLSTATE 22008, not a bad cursor).
  const issued = at !== undefined && !Number.isNaN(at.getTime()) && at.getUTCFullYear() >= 1 && at.toISOString() === match![1];
  if (!match || !issued || !isUuid(match[2]!)) throw new ValidationError('cursor', 'Invalid cursor: pass a cursor this API returned');
  return [at, match[2]!];
}

function pageSize(name: 'first' | 'last', value: number | null | undefined): number | undefined {
  if (value == null) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > ORGANIZATION_PAGE.max) {
    throw new ValidationError(name, `${name} must be a whole number from 0 to ${ORGANIZATION_PAGE.max}, got ${value}`);
  }
  return value;
}

/**
 * One page of the live organizations a user is a member of, oldest membership first: `first`/`after`
 * forwards, `last`/`before` backwards (not both directions at once). Keyset pagination: every page
 * is one indexed range scan, page 1,000 costs what page 1 costs, and rows inserted meanwhile never
 * shift or repeat what a client has already seen.
 */
export async function pageOrganizationsForMember(em: EntityManager, userId: string, args: OrganizationPageArgs): Promise<OrganizationPage> {
  const first = pageSize('first', args.first);
  const last = pageSize('last', args.last);
  if ((first !== undefined || args.after != null) && (last !== undefined || args.before != null)) {
    throw new ValidationError('last', 'Page forwards (first, after) or backwards (last, before), not both');
  }
  const backwards = last !== undefined || args.before != null;
  const size = (backwards ? last : first) ?? ORGANIZATION_PAGE.default;
  const cursor = backwards ? args.before : args.after;
  const position = cursor != null ? decodeCursor(cursor) : undefined;
  const rows = await em.execute<Array<OrganizationRow & { membership_id: string; membership_created_at: Date }>>(
    `select o.*, m.id as membership_id, m.created_at as membership_created_at
     from user_organizations m join organizations o on o.id = m.organization_id
     where m.user_id = ? and o.deleted = 0 ${position ? `and (m.created_at, m.id) ${backwards ? '<' : '>'} (?, ?)` : ''}
     order by m.created_at ${backwards ? 'desc' : 'asc'}, m.id ${backwards ? 'desc' : 'asc'}
     limit ?`,
    [userId, ...(position ?? []), size + 1],
  );
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (backwards) page.reverse();
  const edges = page.map((row) => ({ cursor: encodeCursor(new Date(row.membership_created_at), row.membership_id), node: organizationFromRow(row) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backwards ? position !== undefined : more,
      hasPreviousPage: backwards ? more : position !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** How many live organizations the user is a member of. */
export async function countOrganizationsForMember(em: EntityManager, userId: string): Promise<number> {
  const [row] = await em.execute<Array<{ n: number }>>(
    'select count(*)::int as n from user_organizations m join organizations o on o.id = m.organization_id where m.user_id = ? and o.deleted = 0',
    [userId],
  );
  return row!.n;
}
