// The per-request GraphQL context: one forked EntityManager and the viewer, resolved once.
// (The request id lives in the request scope, src/request-context.ts, where logs find it.)
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from './auth/api-keys.js';
import type { CreateRateLimit } from './organizations/rate-limit.js';

export type Context = Readonly<{
  em: EntityManager;
  viewer: Viewer | null;
  /** CREATE_LIMIT_PER_MINUTE / CREATE_LIMIT_BURST. */
  createRateLimit: CreateRateLimit;
}>;
