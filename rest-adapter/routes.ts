// The legacy contract's routes, as upstream registers them (server/src/lib.rs): method, path, the checks
// upstream's extractors make in their argument order, the body it decodes, and the fixed GraphQL
// operations each runs with the mapping of their results (handlers.ts). index.ts runs every route
// through the same pipeline; the metrics and trace labels and the contract tests come from this table.
import type { QuerySpec } from './query.js';
import { CREATE_ORGANIZATION, type StructSpec } from './serde-json.js';

/**
 * One check, in upstream's extractor order (contract-notes-organization §0), each answered at once:
 * - `json`: the content type (a wrong one is 400 before anything else of the handler's);
 * - `path`: every `:param` is a UUID as Rust's uuid crate parses it (400 `Path deserialize error: …`);
 * - `organization`: `TR-Organization` is present (upstream's OrganizationWithSubAndPlan; without it 401 here);
 * - `user`: credentials (401);
 * - `admin` / `owner`: credentials and `TR-Organization` (401), and that role or more there (403);
 * - `sameOrganization`: the path's `:organizationId` is the `TR-Organization` one (403; ours, see §8);
 * - `query`: the route's query string (400 `Query deserialize error: …`).
 */
export type Check = 'json' | 'path' | 'organization' | 'user' | 'admin' | 'owner' | 'sameOrganization' | 'query';

export type HandlerName =
  | 'createOrganization'
  | 'getOrganization'
  | 'updateOrganization'
  | 'deleteOrganization'
  | 'organizationUsers'
  | 'removeUser'
  | 'createOrganizationApiKey'
  | 'organizationApiKeys'
  | 'deleteOrganizationApiKey'
  | 'userApiKeys'
  | 'deleteUserApiKey'
  | 'openapi';

export type Route = Readonly<{
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments; `:name` is a parameter (one segment). */
  path: string;
  checks: readonly Check[];
  /** The JSON body, decoded the way serde decodes this struct, after every check. */
  body?: StructSpec;
  /** The query string's fields (read by the `query` check). */
  query?: QuerySpec;
  handler: HandlerName;
  /** Whether upstream's TR-Organization middleware runs first (every /api route but the OpenAPI document). */
  middleware: boolean;
}>;

export const UPDATE_ORGANIZATION_BODY: StructSpec = {
  name: 'UpdateOrganizationReqPayload',
  fields: { name: { type: 'string', required: false }, partner_configuration: { type: 'object', required: false } },
};

/** Upstream's CreateApiKeyReqPayload (organization_handler.rs:469-483), in declaration order. */
export const CREATE_API_KEY_BODY: StructSpec = {
  name: 'CreateApiKeyReqPayload',
  fields: {
    name: { type: 'string', required: true },
    role: { type: 'i32', required: true },
    dataset_ids: { type: 'array', required: false },
    scopes: { type: 'array', required: false },
    expires_at: { type: 'string', required: false },
    default_params: { type: 'object', required: false },
  },
};

/** GET /api/organization/api_key's query: a key id to continue after, a page size. */
export const API_KEY_PAGE_QUERY: QuerySpec = { cursor: { type: 'uuid' }, limit: { type: 'i32' } };

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/api/organization', checks: ['json', 'user'], body: CREATE_ORGANIZATION, handler: 'createOrganization', middleware: true },
  // Before `/api/organization/:organizationId`, as upstream registers them: `api_key` is never an organization id.
  { method: 'POST', path: '/api/organization/api_key', checks: ['admin', 'json', 'organization'], body: CREATE_API_KEY_BODY, handler: 'createOrganizationApiKey', middleware: true },
  { method: 'GET', path: '/api/organization/api_key', checks: ['query', 'admin', 'organization'], query: API_KEY_PAGE_QUERY, handler: 'organizationApiKeys', middleware: true },
  { method: 'DELETE', path: '/api/organization/api_key/:apiKeyId', checks: ['admin', 'organization', 'path'], handler: 'deleteOrganizationApiKey', middleware: true },
  { method: 'GET', path: '/api/user/api_key', checks: ['user'], handler: 'userApiKeys', middleware: true },
  { method: 'DELETE', path: '/api/user/api_key/:apiKeyId', checks: ['user', 'path'], handler: 'deleteUserApiKey', middleware: true },
  { method: 'PUT', path: '/api/organization', checks: ['json', 'organization', 'owner'], body: UPDATE_ORGANIZATION_BODY, handler: 'updateOrganization', middleware: true },
  { method: 'GET', path: '/api/organization/users/:organizationId', checks: ['path', 'admin', 'sameOrganization'], handler: 'organizationUsers', middleware: true },
  { method: 'GET', path: '/api/organization/:organizationId', checks: ['path', 'admin', 'sameOrganization'], handler: 'getOrganization', middleware: true },
  { method: 'DELETE', path: '/api/organization/:organizationId', checks: ['path', 'owner', 'sameOrganization'], handler: 'deleteOrganization', middleware: true },
  {
    method: 'DELETE',
    path: '/api/organization/:organizationId/user/:userId',
    checks: ['path', 'organization', 'admin', 'sameOrganization'],
    handler: 'removeUser',
    middleware: true,
  },
  { method: 'GET', path: '/api/openapi.json', checks: [], handler: 'openapi', middleware: false },
];

export type Match = Readonly<{ route: Route; params: Readonly<Record<string, string>> }>;

/** The parameters if `pathname` has the pattern's shape (percent-decoded, as actix hands them over). */
function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i]!.startsWith(':')) {
      if (got[i] === '') return undefined;
      try {
        params[want[i]!.slice(1)] = decodeURIComponent(got[i]!);
      } catch {
        params[want[i]!.slice(1)] = got[i]!;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

/** The first path (in table order) that `pathname` has, with the routes on it: one for the method, or the methods to allow. */
export function resolve(method: string, pathname: string): { match: Match } | { allow: string } | undefined {
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    const onPath = ROUTES.filter((other) => other.path === route.path);
    const chosen = onPath.find((other) => other.method === method || (method === 'HEAD' && other.method === 'GET'));
    const methods = onPath.flatMap((other) => (other.method === 'GET' ? ['GET', 'HEAD'] : [other.method]));
    return chosen ? { match: { route: chosen, params } } : { allow: [...new Set(methods)].join(', ') };
  }
  return undefined;
}

/** The route's path template (`/api/organization/:organizationId`), for metrics and trace labels; undefined off the table. */
export function routeTemplate(pathname: string): string | undefined {
  return ROUTES.find((route) => matchPath(route.path, pathname))?.path;
}
