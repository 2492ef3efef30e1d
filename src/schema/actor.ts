// The request's viewer as the domain's actor (src/organizations/organizations.ts, Actor).
import type { Viewer } from '../auth/api-keys.js';
import type { Actor } from '../organizations/organizations.js';
import { unauthenticated } from './errors.js';

/** The viewer as the domain's actor; mutations need one (UNAUTHENTICATED otherwise). */
export function actorOf(viewer: Viewer | null): Actor {
  if (!viewer) throw unauthenticated();
  return maybeActor(viewer)!;
}

/** The viewer as the domain's actor, or null when the request is not authenticated. */
export function maybeActor(viewer: Viewer | null): Actor | null {
  return viewer && { keyId: viewer.apiKeyId, keyRole: viewer.role, userId: viewer.user?.id ?? null, keyOrganizationId: viewer.organizationId };
}
