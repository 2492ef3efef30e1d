// The per-request GraphQL context: one forked EntityManager and the viewer, resolved once, beside the
// per-process services resolvers need. (The request id lives in the request scope, src/request-context.ts,
// where logs find it.)
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer, ViewerCache } from './auth/api-keys.js';
import type { LiveHub } from './live/hub.js';
import type { CreateQueue } from './organizations/create-queue.js';
import type { CreateRateLimit } from './organizations/rate-limit.js';

/** One structured audit line (key created, rotated, revoked): ids only, never a secret or a hash. */
export type Audit = (event: 'api_key.created' | 'api_key.rotated' | 'api_key.revoked', fields: Readonly<Record<string, string | null>>) => void;

export type Context = Readonly<{
  em: EntityManager;
  viewer: Viewer | null;
  /** CREATE_LIMIT_PER_MINUTE / CREATE_LIMIT_BURST. */
  createRateLimit: CreateRateLimit;
  /** Where concurrent creates share statements (made with createRateLimit). */
  createQueue: CreateQueue;
  /** This instance's key cache: a revoke or rotation here takes effect here at once. */
  apiKeyCache: ViewerCache;
  audit: Audit;
  /** Live updates (subscriptions); null where the app was made without a listener (some tests, the bench's probes). */
  live: LiveHub | null;
}>;
