// The credential a request carries, resolved to a viewer through a short-lived cache. Making, listing
// and revoking keys is the API-key domain's (../api-keys/api-keys.ts); their shape is ../api-keys/format.ts.
import type { EntityManager } from '@mikro-orm/postgresql';
import { findKeyByHash, type KeyPrincipal } from '../api-keys/api-keys.js';
import { hashApiKey, isWellFormedApiKey } from '../api-keys/format.js';
import type { User } from '../entities/user.entity.js';
import type { Role } from '../organizations/roles.js';

export { ApiKeyStoreError, createApiKey } from '../api-keys/api-keys.js';
export { generateApiKey, hashApiKey } from '../api-keys/format.js';

/**
 * Who a request acts for: a user's key (`user`; acts wherever the user is a member, capped by `role`)
 * or an organization's key (`organizationId`; acts only there, with `role`).
 */
export type Viewer = Readonly<{ apiKeyId: string; role: Role; user: User | null; organizationId: string | null }>;

/** Longer credentials are refused unhashed: no legitimate key is anywhere near this long. */
const MAX_KEY_LENGTH = 256;

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

/**
 * Known keys for a few seconds (API_KEY_CACHE_SECONDS), so a burst from one client costs one lookup.
 * Expiry is still checked on every request against the key's own `expires_at`; a key revoked on this
 * instance is forgotten at once (`forget`), one revoked elsewhere keeps working here for at most the
 * cache's lifetime. Unknown keys are remembered as unknown for as long, so a client retrying a wrong
 * key costs one lookup too: a new key can never be among them, since it is 30 random characters
 * (178 bits) that nobody could present before the key existed. Bounded: the oldest entries go first.
 * Requests that miss while a lookup of the same key is under way wait for that lookup instead of
 * starting their own: when an entry expires under load, every request in flight for that key used to
 * miss at once and queue its own lookup for the pool (with the cache off, each request looks up).
 */
export class ViewerCache {
  private readonly known: BoundedTtlMap<KeyPrincipal>;
  private readonly misses: BoundedTtlMap<true>;
  private readonly pending = new Map<string, Promise<KeyPrincipal | null>>();
  /** Bumped by `forget`: a lookup that started before it must not put back what it read. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    maxEntries = 10_000,
  ) {
    this.known = new BoundedTtlMap(ttlMs, maxEntries);
    this.misses = new BoundedTtlMap(ttlMs, maxEntries);
  }

  /**
   * `load`'s answer for `hash`, shared with every caller that asks while it is under way, and
   * remembered (cache on only) unless a key was forgotten meanwhile.
   */
  lookup(hash: string, now: number, load: () => Promise<KeyPrincipal | null>): Promise<KeyPrincipal | null> {
    if (this.ttlMs <= 0) return load();
    let pending = this.pending.get(hash);
    if (!pending) {
      const generation = this.generation;
      pending = load().then((found) => {
        if (generation === this.generation) {
          if (found) this.known.set(hash, found, now);
          else this.misses.set(hash, true, now);
        }
        return found;
      });
      const settled = pending.finally(() => {
        if (this.pending.get(hash) === settled) this.pending.delete(hash);
      });
      this.pending.set(hash, settled);
      return settled;
    }
    return pending;
  }

  get(hash: string, now: number): KeyPrincipal | undefined {
    return this.known.get(hash, now);
  }

  isKnownMiss(hash: string, now: number): boolean {
    return this.misses.get(hash, now) !== undefined;
  }

  /** Drops what this instance remembers of the key with this id (revoked or rotated here). */
  forget(keyId: string): void {
    this.generation++;
    this.pending.clear();
    this.known.deleteWhere((principal) => principal.keyId === keyId);
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

  deleteWhere(test: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (test(entry.value)) this.entries.delete(key);
  }

  set(key: string, value: V, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: now + this.ttlMs });
  }
}

/** Why a key that exists was refused: told to `onRefused` (the audit log), never the key itself. */
export type KeyRefusal = Readonly<{ keyId: string; reason: 'revoked' | 'expired' }>;

export type ResolveOptions = Readonly<{ cache?: ViewerCache; now?: Date; onRefused?: (refusal: KeyRefusal) => void }>;

/**
 * The viewer for a credential, through the cache when one is given. A credential that is not
 * well-formed (../api-keys/format.ts) is refused before any lookup; unknown, revoked and expired keys
 * give no viewer (the last two told to `onRefused`).
 */
export async function resolveViewer(em: EntityManager, key: string | undefined, options: ResolveOptions = {}): Promise<Viewer | null> {
  if (key === undefined || !isWellFormedApiKey(key)) return null;
  const { cache, now = new Date(), onRefused } = options;
  const hash = hashApiKey(key);
  const at = now.getTime();
  let found: KeyPrincipal | null | undefined = cache?.get(hash, at);
  if (found === undefined) {
    if (cache?.isKnownMiss(hash, at)) return null;
    found = cache ? await cache.lookup(hash, at, () => findKeyByHash(em, hash)) : await findKeyByHash(em, hash);
  }
  if (!found) return null;
  if (found.revoked || (found.expiresAt !== null && found.expiresAt <= now)) {
    onRefused?.({ keyId: found.keyId, reason: found.revoked ? 'revoked' : 'expired' });
    return null;
  }
  return viewerOf(found);
}

const viewers = new WeakMap<KeyPrincipal, Viewer>();

/** One frozen Viewer per cached principal. */
function viewerOf(principal: KeyPrincipal): Viewer {
  let viewer = viewers.get(principal);
  if (!viewer) {
    viewer = Object.freeze({ apiKeyId: principal.keyId, role: principal.role, user: principal.user, organizationId: principal.organizationId });
    viewers.set(principal, viewer);
  }
  return viewer;
}
