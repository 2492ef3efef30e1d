// The API-key domain: the one module that knows the `api_keys` table. Making keys (for a user or for an
// organization), finding the key a request carries, listing, revoking and rotating them, and noting when
// each was last used, under the rules of ../organizations/roles.ts. Knows no HTTP or GraphQL.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../db/errors.js';
import { ApiKeyRole, type ApiKeyRoleName } from '../entities/api-key.entity.js';
import { User } from '../entities/user.entity.js';
import { NotAllowedError, NotFoundError, ValidationError } from '../organizations/errors.js';
import { roleIn, type Actor } from '../organizations/organizations.js';
import { allows, mayCreateKey, mayRevokeKey, type Role } from '../organizations/roles.js';
import { pageWindow, toPage, type Page, type PageArgs } from '../pagination.js';
import { isUuid } from '../uuid.js';
import { generateApiKey, hashApiKey, keyHint, type KeyScope } from './format.js';

/**
 * A database failure while reading or writing keys. The driver's message quotes the SQL with its
 * parameters, the key hash among them, so only the error code travels on (to logs and callers).
 */
export class ApiKeyStoreError extends Error {
  readonly code: string | undefined;
  constructor(cause: unknown) {
    const code = (cause as { code?: unknown })?.code;
    const name = (cause as Error)?.name ?? 'Error';
    super(`API key store failed (${name}${typeof code === 'string' ? ` ${code}` : ''})`);
    this.name = 'ApiKeyStoreError';
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** Runs a statement on the key table; a failure is re-thrown without its SQL (see ApiKeyStoreError). */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof NotAllowedError || error instanceof ValidationError) throw error;
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : new ApiKeyStoreError(error);
  }
}

/** A key as its managers see it: never the secret or its hash. */
export type ApiKeyRecord = Readonly<{
  id: string;
  name: string;
  role: Role;
  scope: KeyScope;
  /** The user whose key it is (user keys). */
  userId: string | null;
  /** The organization whose key it is (organization keys). */
  organizationId: string | null;
  /** Who made an organization key (null when the key was made by an operator or another key, or that user is gone). */
  createdById: string | null;
  hint: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}>;

export type KeyStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED';

export function keyStatus(key: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, now = new Date()): KeyStatus {
  if (key.revokedAt !== null) return 'REVOKED';
  return key.expiresAt !== null && key.expiresAt <= now ? 'EXPIRED' : 'ACTIVE';
}

/** A new key: the secret, shown this once, and its record. */
export type CreatedKey = Readonly<{ secret: string; apiKey: ApiKeyRecord }>;

type KeyRow = {
  id: string;
  user_id: string | null;
  organization_id: string | null;
  created_by_id: string | null;
  label: string;
  role: number;
  hint: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

/** Every column but the hash, which never leaves this module. */
const KEY_COLUMNS = 'k.id, k.user_id, k.organization_id, k.created_by_id, k.label, k.role, k.hint, k.created_at, k.updated_at, k.expires_at, k.last_used_at, k.revoked_at';

const date = (value: Date | null) => (value === null ? null : new Date(value));
const roleOf = (stored: number): Role => (stored === ApiKeyRole.owner || stored === ApiKeyRole.admin ? stored : ApiKeyRole.read);

function recordFromRow(row: KeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    name: row.label,
    role: roleOf(row.role),
    scope: row.organization_id !== null ? 'organization' : 'user',
    userId: row.user_id,
    organizationId: row.organization_id,
    createdById: row.created_by_id,
    hint: row.hint,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    expiresAt: date(row.expires_at),
    lastUsedAt: date(row.last_used_at),
    revokedAt: date(row.revoked_at),
  });
}

// ---------------------------------------------------------------------------------------------------
// The key a request carries

/** Who a key stands for, as the request pipeline needs it (plain data, shared between requests). */
export type KeyPrincipal = Readonly<{
  keyId: string;
  role: Role;
  expiresAt: Date | null;
  revoked: boolean;
  /** A user's key: the user. */
  user: User | null;
  /** An organization's key: the organization. */
  organizationId: string | null;
}>;

/**
 * The key with this hash, by the unique index (one indexed probe, equality on a hash, so no timing
 * leak of the key). An organization's key counts only while its organization is live.
 */
export async function findKeyByHash(em: EntityManager, hash: string): Promise<KeyPrincipal | null> {
  const [row] = await guarded(() =>
    em.execute<Array<KeyRow & { email: string | null; user_name: string | null; user_created_at: Date | null; user_updated_at: Date | null }>>(
      `select ${KEY_COLUMNS}, u.email, u.name as user_name, u.created_at as user_created_at, u.updated_at as user_updated_at
       from api_keys k left join users u on u.id = k.user_id left join organizations o on o.id = k.organization_id
       where k.hash = ? and (k.organization_id is null or o.deleted = 0)`,
      [hash],
    ),
  );
  if (!row) return null;
  let user: User | null = null;
  if (row.user_id !== null) {
    user = new User();
    Object.assign(user, { id: row.user_id, email: row.email, name: row.user_name, createdAt: new Date(row.user_created_at!), updatedAt: new Date(row.user_updated_at!) });
    Object.freeze(user);
  }
  return Object.freeze({ keyId: row.id, role: roleOf(row.role), expiresAt: date(row.expires_at), revoked: row.revoked_at !== null, user, organizationId: row.organization_id });
}

/** A `uuid[]` parameter (PostgreSQL's array literal) for `= any(?::uuid[])`. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/**
 * Notes that these keys were used now, at most once a minute per key across every instance (the
 * condition is in the statement). Called off the request's path (./last-used.ts).
 */
export async function recordLastUsed(em: EntityManager, keyIds: readonly string[]): Promise<number> {
  if (keyIds.length === 0) return 0;
  const rows = await em.execute<Array<{ id: string }>>(
    `update api_keys set last_used_at = now() where id = any(?::uuid[]) and (last_used_at is null or last_used_at <= now() - interval '1 minute') returning id`,
    [uuidArray(keyIds)],
  );
  return rows.length;
}

/** Which of these keys are still accepted: not revoked, not expired, and (organization keys) of a live organization. */
export async function acceptedKeys(em: EntityManager, keyIds: readonly string[]): Promise<Set<string>> {
  if (keyIds.length === 0) return new Set();
  const rows = await guarded(() =>
    em.execute<Array<{ id: string }>>(
      `select k.id from api_keys k left join organizations o on o.id = k.organization_id
       where k.id = any(?::uuid[]) and k.revoked_at is null and (k.expires_at is null or k.expires_at > now()) and (k.organization_id is null or o.deleted = 0)`,
      [uuidArray(keyIds)],
    ),
  );
  return new Set(rows.map((row) => row.id));
}

// ---------------------------------------------------------------------------------------------------
// Making keys

export const MAX_KEY_NAME_LENGTH = 255;
/** The longest grace period of a rotation (7 days). */
export const MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600;

function validateName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if ([...name].length > MAX_KEY_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError('name', `A key's name has at most ${MAX_KEY_NAME_LENGTH} characters and no control characters`);
  }
}

function validateExpiry(expiresAt: Date | null | undefined, now: Date): void {
  if (expiresAt == null) return;
  if (Number.isNaN(expiresAt.getTime()) || expiresAt <= now) throw new ValidationError('expiresAt', 'The expiry must lie in the future');
}

type Insert = { userId: string | null; organizationId: string | null; createdById: string | null; name: string; role: Role; expiresAt: Date | null };

async function insertKey(em: EntityManager, input: Insert, now: Date): Promise<CreatedKey> {
  const secret = generateApiKey(input.organizationId !== null ? 'organization' : 'user');
  const [row] = await em.execute<KeyRow[]>(
    `insert into api_keys as k (id, user_id, organization_id, created_by_id, label, role, hash, hint, created_at, updated_at, expires_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning ${KEY_COLUMNS}`,
    [randomUUID(), input.userId, input.organizationId, input.createdById, input.name, input.role, hashApiKey(secret), keyHint(secret), now, now, input.expiresAt],
  );
  return Object.freeze({ secret, apiKey: recordFromRow(row!) });
}

export type NewKey = Readonly<{ name: string; role: Role; expiresAt?: Date | null; organizationId?: string | null }>;

/**
 * A new key for the caller (no `organizationId`: a user's key, role at most the caller key's role) or
 * for an organization (admins and owners there, role at most their own). An organization's key makes
 * only keys of its own organization.
 */
export async function createKey(em: EntityManager, actor: Actor, input: NewKey, now = new Date()): Promise<CreatedKey> {
  validateName(input.name);
  validateExpiry(input.expiresAt, now);
  const organizationId = input.organizationId ?? null;
  return guarded(() =>
    em.transactional(async (tx) => {
      let caller: Role;
      if (organizationId === null) {
        if (actor.userId === null) throw new NotAllowedError("An organization's API key makes only keys of its organization: pass organizationId");
        caller = actor.keyRole;
      } else {
        const role = await roleIn(tx, actor, organizationId);
        if (role === null) throw new NotFoundError('organization');
        caller = role;
      }
      if (!mayCreateKey(caller, input.role)) throw new NotAllowedError('Only admin and owner keys make keys, with a role at most their own');
      return insertKey(
        tx,
        { userId: organizationId === null ? actor.userId : null, organizationId, createdById: actor.userId, name: input.name, role: input.role, expiresAt: input.expiresAt ?? null },
        now,
      );
    }),
  );
}

export type OperatorKey = Readonly<{ name: string; role: ApiKeyRoleName; expiresAt?: Date | null }>;

/** The operator's (CLI) user key: creates the user if needed. The secret is returned once, never stored. */
export async function createApiKey(
  em: EntityManager,
  input: { email: string; label?: string; role?: ApiKeyRoleName; expiresAt?: Date | null },
  now = new Date(),
): Promise<CreatedKey & { key: string; user: User }> {
  return guarded(() =>
    em.transactional(async (tx) => {
      // Upsert, so two concurrent first keys for one email still make one user.
      const fresh = new User();
      fresh.email = input.email;
      const user = await tx.upsert(User, fresh, { onConflictFields: ['email'], onConflictAction: 'merge', onConflictMergeFields: ['email'] });
      const created = await insertKey(
        tx,
        { userId: user.id, organizationId: null, createdById: null, name: input.label ?? 'default', role: ApiKeyRole[input.role ?? 'read'], expiresAt: input.expiresAt ?? null },
        now,
      );
      return Object.freeze({ ...created, key: created.secret, user });
    }),
  );
}

/** The operator's (CLI) organization key. No such live organization: NotFoundError. */
export async function createOrganizationApiKey(em: EntityManager, organizationId: string, input: OperatorKey, now = new Date()): Promise<CreatedKey> {
  validateName(input.name);
  validateExpiry(input.expiresAt, now);
  return guarded(() =>
    em.transactional(async (tx) => {
      const live = isUuid(organizationId) && (await tx.execute('select 1 from organizations where id = ? and deleted = 0', [organizationId])).length > 0;
      if (!live) throw new NotFoundError('organization');
      return insertKey(tx, { userId: null, organizationId, createdById: null, name: input.name, role: ApiKeyRole[input.role], expiresAt: input.expiresAt ?? null }, now);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Lists

export type KeyListOptions = Readonly<{ includeRevoked?: boolean }>;

/** A keys connection's cursor is the key's id: creation time and id never change, so pages never shift. */
function decodeKeyCursor(cursor: string): string {
  if (!isUuid(cursor)) throw new ValidationError('cursor', 'Invalid cursor: pass a cursor this API returned');
  return cursor.toLowerCase();
}

async function pageKeys(em: EntityManager, owner: { column: 'user_id' | 'organization_id'; id: string }, args: PageArgs, options: KeyListOptions): Promise<Page<ApiKeyRecord>> {
  const window = pageWindow(args, decodeKeyCursor);
  const direction = window.backwards ? 'desc' : 'asc';
  // A cursor that names no key of this owner compares with null: an empty page.
  const after = window.position
    ? `and (k.created_at, k.id) ${window.backwards ? '<' : '>'} (select c.created_at, c.id from api_keys c where c.id = ? and c.${owner.column} = k.${owner.column})`
    : '';
  const rows = await guarded(() =>
    em.execute<KeyRow[]>(
      `select ${KEY_COLUMNS} from api_keys k where k.${owner.column} = ? ${after} ${options.includeRevoked ? '' : 'and k.revoked_at is null'}
       order by k.created_at ${direction}, k.id ${direction} limit ?`,
      [owner.id, ...(window.position ? [window.position] : []), window.size],
    ),
  );
  return toPage(window, rows, (row) => row.id, recordFromRow);
}

/** The actor's own user keys (its user's, whichever key asks); null for an organization's key. */
export async function pageOwnKeys(em: EntityManager, actor: Actor, args: PageArgs, options: KeyListOptions = {}): Promise<Page<ApiKeyRecord> | null> {
  return actor.userId === null ? null : pageKeys(em, { column: 'user_id', id: actor.userId }, args, options);
}

/** An organization's keys, for its admins and owners (and its admin and owner keys); null for anyone else. */
export async function pageOrganizationKeys(em: EntityManager, actor: Actor, organizationId: string, args: PageArgs, options: KeyListOptions = {}): Promise<Page<ApiKeyRecord> | null> {
  const role = await roleIn(em, actor, organizationId);
  if (role === null || !allows(role, 'manageKeys')) return null;
  return pageKeys(em, { column: 'organization_id', id: organizationId }, args, options);
}

/** The keys of the user with this e-mail address (operator: CLI), oldest first, revoked ones included. */
export async function listKeysForEmail(em: EntityManager, email: string): Promise<ApiKeyRecord[]> {
  const rows = await guarded(() =>
    em.execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys k join users u on u.id = k.user_id where u.email = ? order by k.created_at, k.id`, [email]),
  );
  return rows.map(recordFromRow);
}

/** An organization's keys (operator: CLI), oldest first, revoked ones included. */
export async function listKeysForOrganization(em: EntityManager, organizationId: string): Promise<ApiKeyRecord[]> {
  if (!isUuid(organizationId)) return [];
  const rows = await guarded(() => em.execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys k where k.organization_id = ? order by k.created_at, k.id`, [organizationId]));
  return rows.map(recordFromRow);
}

// ---------------------------------------------------------------------------------------------------
// Revoking and rotating

/** Which keys a revoke may touch: any the caller may manage, or only one of an organization's, or only a user's. */
export type KeyExpectation = Readonly<{ organizationId?: string | null; scope?: KeyScope | null }>;

/**
 * Inside a transaction: locks the key and returns it with the caller's role where it acts (the key's
 * organization, or the caller key's own role for the caller's user keys). A key the caller cannot see,
 * or not the expected kind: NotFoundError.
 */
async function lockKeyFor(tx: EntityManager, actor: Actor, keyId: string, expect: KeyExpectation): Promise<{ key: ApiKeyRecord; caller: Role; self: boolean }> {
  if (!isUuid(keyId)) throw new NotFoundError('apiKey');
  const [row] = await tx.execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys k where k.id = ? for update`, [keyId]);
  const key = row ? recordFromRow(row) : null;
  if (!key || (expect.scope && key.scope !== expect.scope) || (expect.organizationId && key.organizationId !== expect.organizationId.toLowerCase())) {
    throw new NotFoundError('apiKey');
  }
  const self = key.id === actor.keyId;
  const caller = key.organizationId !== null ? await roleIn(tx, actor, key.organizationId) : key.userId === actor.userId ? actor.keyRole : null;
  if (caller === null && !self) throw new NotFoundError('apiKey');
  return { key, caller: caller ?? actor.keyRole, self };
}

/**
 * Revokes a key: from then on it is refused (at once on this instance, everywhere within the key
 * cache's lifetime). A key may revoke itself; otherwise the caller needs to manage keys and a role at
 * least the key's. Revoking a revoked key changes nothing. Returns the key as it now is.
 */
export async function revokeKey(em: EntityManager, actor: Actor, keyId: string, expect: KeyExpectation = {}, now = new Date()): Promise<ApiKeyRecord> {
  return guarded(() =>
    em.transactional(async (tx) => {
      const { key, caller, self } = await lockKeyFor(tx, actor, keyId, expect);
      if (!mayRevokeKey(caller, key.role, self)) throw new NotAllowedError('Revoking a key takes an admin or owner key whose role is at least that key’s (any key may revoke itself)');
      return key.revokedAt !== null ? key : setRevoked(tx, key.id, now);
    }),
  );
}

async function setRevoked(tx: EntityManager, keyId: string, now: Date): Promise<ApiKeyRecord> {
  const [row] = await tx.execute<KeyRow[]>(`update api_keys k set revoked_at = ?, updated_at = ? where k.id = ? returning ${KEY_COLUMNS}`, [now, now, keyId]);
  return recordFromRow(row!);
}

/** The operator's (CLI) revoke: any key. Unknown id: NotFoundError. */
export async function revokeKeyAsOperator(em: EntityManager, keyId: string, now = new Date()): Promise<ApiKeyRecord> {
  return guarded(() =>
    em.transactional(async (tx) => {
      if (!isUuid(keyId)) throw new NotFoundError('apiKey');
      const [row] = await tx.execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys k where k.id = ? for update`, [keyId]);
      if (!row) throw new NotFoundError('apiKey');
      return row.revoked_at !== null ? recordFromRow(row) : setRevoked(tx, keyId, now);
    }),
  );
}

/**
 * Rotates a key: a successor with the same name, role, scope and expiry, and the old key expiring after
 * the grace period (0 to 7 days; never later than it already would). Whoever may make a key of that role
 * there may rotate it. Only an active key rotates. Returns the successor and its secret.
 */
export async function rotateKey(em: EntityManager, actor: Actor, keyId: string, gracePeriodSeconds: number, now = new Date()): Promise<CreatedKey & { previous: ApiKeyRecord }> {
  if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > MAX_GRACE_PERIOD_SECONDS) {
    throw new ValidationError('gracePeriodSeconds', `gracePeriodSeconds must be a whole number from 0 to ${MAX_GRACE_PERIOD_SECONDS} (7 days)`);
  }
  return guarded(() =>
    em.transactional(async (tx) => {
      const { key, caller } = await lockKeyFor(tx, actor, keyId, {});
      if (!mayCreateKey(caller, key.role)) throw new NotAllowedError('Rotating a key takes an admin or owner key whose role is at least that key’s');
      if (keyStatus(key, now) !== 'ACTIVE') throw new ValidationError('id', 'Only an active key can be rotated; this one is expired or revoked');
      const successor = await insertKey(
        tx,
        { userId: key.userId, organizationId: key.organizationId, createdById: key.scope === 'organization' ? actor.userId : null, name: key.name, role: key.role, expiresAt: key.expiresAt },
        now,
      );
      const graceEnd = new Date(now.getTime() + gracePeriodSeconds * 1000);
      const [row] = await tx.execute<KeyRow[]>(
        `update api_keys k set expires_at = least(coalesce(expires_at, 'infinity'::timestamptz), ?::timestamptz), updated_at = ? where k.id = ? returning ${KEY_COLUMNS}`,
        [graceEnd, now, key.id],
      );
      return Object.freeze({ ...successor, previous: recordFromRow(row!) });
    }),
  );
}
