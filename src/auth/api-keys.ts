// API keys: generate, hash, parse the request's credentials, and resolve them to a viewer.
import { createHash, randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../db/errors.js';
import { ApiKey, ApiKeyRole, type ApiKeyRoleName } from '../entities/api-key.entity.js';
import { User } from '../entities/user.entity.js';

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

export type Viewer = Readonly<{ user: User; apiKeyId: string; role: ApiKeyRole }>;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_BODY_LENGTH = 32;
/** Longer credentials are refused unhashed: no legitimate key is anywhere near this long. */
const MAX_KEY_LENGTH = 256;

/** `tr-` + 32 crypto-random alphanumerics, upstream's shape. */
export function generateApiKey(): string {
  let body = '';
  for (let i = 0; i < KEY_BODY_LENGTH; i++) body += ALPHABET[randomInt(ALPHABET.length)];
  return `tr-${body}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The credential a request carries, as upstream reads it: when an `Authorization` header is present
 * it alone counts, as `Bearer <key>` ("Bearer " exactly) or the raw key; only without one is
 * `x-api-key` read, with a `Bearer ` prefix stripped there too. Empty or overlong: no key.
 */
export function readApiKey(headers: Headers): string | undefined {
  const authorization = headers.get('authorization');
  const value = authorization ?? headers.get('x-api-key');
  if (value === null) return undefined;
  // Headers arrive trimmed, so "Bearer " with nothing after it is just "Bearer": no key.
  const key = value === 'Bearer' ? '' : value.startsWith('Bearer ') ? value.slice('Bearer '.length) : value;
  return key === '' || key.length > MAX_KEY_LENGTH ? undefined : key;
}

type CachedKey = Readonly<{ viewer: Viewer; expiresAt: Date | null }>;

/** The only shape `generateApiKey` makes (and upstream's): anything else cannot be a key of ours. */
const KEY_SHAPE = /^tr-[A-Za-z0-9]{32}$/;

/**
 * Known keys for a few seconds, so a burst from one client costs one lookup. Expiry is still checked
 * on every request against the key's own `expires_at`; a deleted key keeps working for at most the
 * cache's lifetime. Unknown keys are remembered as unknown for as long, so a client retrying a wrong
 * key costs one lookup too: a new key can never be among them, since it is 32 random characters
 * (190 bits) that nobody could present before the key existed. Bounded: the oldest entries go first.
 * Requests that miss while a lookup of the same key is under way wait for that lookup instead of
 * starting their own: when an entry expires under load, every request in flight for that key used to
 * miss at once and queue its own lookup for the pool (with the cache off, each request looks up).
 */
export class ViewerCache {
  private readonly known: BoundedTtlMap<CachedKey>;
  private readonly misses: BoundedTtlMap<true>;
  private readonly pending = new Map<string, Promise<CachedKey | null>>();

  constructor(
    private readonly ttlMs: number,
    maxEntries = 10_000,
  ) {
    this.known = new BoundedTtlMap(ttlMs, maxEntries);
    this.misses = new BoundedTtlMap(ttlMs, maxEntries);
  }

  /** `load`'s answer for `hash`, shared with every caller that asks while it is under way (cache on only). */
  lookup(hash: string, load: () => Promise<CachedKey | null>): Promise<CachedKey | null> {
    if (this.ttlMs <= 0) return load();
    let pending = this.pending.get(hash);
    if (!pending) {
      pending = load().finally(() => this.pending.delete(hash));
      this.pending.set(hash, pending);
    }
    return pending;
  }

  get(hash: string, now: number): CachedKey | undefined {
    return this.known.get(hash, now);
  }

  set(hash: string, viewer: Viewer, expiresAt: Date | null, now: number): void {
    this.known.set(hash, Object.freeze({ viewer, expiresAt }), now);
  }

  isKnownMiss(hash: string, now: number): boolean {
    return this.misses.get(hash, now) !== undefined;
  }

  setMiss(hash: string, now: number): void {
    this.misses.set(hash, true, now);
  }
}

/** Entries that expire `ttlMs` after they are set (0: nothing is kept); at most `maxEntries`, the oldest go first. */
class BoundedTtlMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until <= now) this.entries.delete(key);
    return entry && entry.until > now ? entry.value : undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: now + this.ttlMs });
  }
}

/** A copy of the user that belongs to no EntityManager, safe to share between requests. */
function detachedUser(user: User): User {
  const copy = new User();
  Object.assign(copy, { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt, updatedAt: user.updatedAt });
  return Object.freeze(copy);
}

/**
 * Looks the key up by its hash (a unique index: one indexed probe, and equality on a hash, so no
 * timing leak of the key), through the cache when one is given. Unknown and expired keys give no viewer.
 */
export async function resolveViewer(em: EntityManager, key: string | undefined, cache?: ViewerCache, now = new Date()): Promise<Viewer | null> {
  // A credential of another shape cannot be one of our keys: refused without a database lookup.
  if (key === undefined || !KEY_SHAPE.test(key)) return null;
  const hash = hashApiKey(key);
  const expired = (expiresAt: Date | null) => expiresAt !== null && expiresAt <= now;
  const at = now.getTime();
  const cached = cache?.get(hash, at);
  if (cached) return expired(cached.expiresAt) ? null : cached.viewer;
  if (cache?.isKnownMiss(hash, at)) return null;
  // Remembered once, by the lookup itself, not again by every request that waited for it.
  const find = async () => {
    const found = await findKey(em, hash);
    if (found) cache?.set(hash, found.viewer, found.expiresAt, at);
    else cache?.setMiss(hash, at);
    return found;
  };
  const found = cache ? await cache.lookup(hash, find) : await find();
  if (!found) return null;
  return expired(found.expiresAt) ? null : found.viewer;
}

/** One indexed probe by hash; the viewer detached from the EntityManager, so requests can share it. */
async function findKey(em: EntityManager, hash: string): Promise<CachedKey | null> {
  let apiKey: ApiKey | null;
  try {
    apiKey = await em.findOne(ApiKey, { hash }, { populate: ['user'], strategy: 'joined' });
  } catch (error) {
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : new ApiKeyStoreError(error);
  }
  if (!apiKey) return null;
  return Object.freeze({ viewer: Object.freeze({ user: detachedUser(apiKey.user.getEntity()), apiKeyId: apiKey.id, role: apiKey.role }), expiresAt: apiKey.expiresAt });
}

export type CreatedApiKey = Readonly<{ key: string; apiKey: ApiKey; user: User }>;

/** Creates the user if needed and a new key for them. The plain key is returned once, never stored. */
export async function createApiKey(
  em: EntityManager,
  input: { email: string; label?: string; role?: ApiKeyRoleName; expiresAt?: Date | null },
): Promise<CreatedApiKey> {
  const key = generateApiKey();
  try {
    return await em.transactional(async (tx) => {
      // Upsert, so two concurrent first keys for one email still make one user.
      const fresh = new User();
      fresh.email = input.email;
      const user = await tx.upsert(User, fresh, { onConflictFields: ['email'], onConflictAction: 'merge', onConflictMergeFields: ['email'] });
      const apiKey = tx.create(ApiKey, {
        user,
        label: input.label ?? 'default',
        role: ApiKeyRole[input.role ?? 'read'],
        hash: hashApiKey(key),
        expiresAt: input.expiresAt ?? null,
      });
      await tx.flush();
      return Object.freeze({ key, apiKey, user });
    });
  } catch (error) {
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : new ApiKeyStoreError(error);
  }
}
