// The per-request GraphQL context: one forked EntityManager and the viewer, resolved once.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from './auth/api-keys.js';

export type Context = Readonly<{
  em: EntityManager;
  viewer: Viewer | null;
  requestId: string;
}>;
