// What each route does once its checks passed (routes.ts): the fixed operations it runs and how their
// results become the contract's answer. Only GraphQL and the response table: no domain, no database.
import openapi from './openapi.json' with { type: 'json' };
import type { RestOperationName } from './operation.js';
import { readExpiry } from './expiry.js';
import {
  KEY_ROLE_NAMES,
  NIL_UUID,
  NO_CONTENT,
  toApiKeyRespBody,
  type GraphQLApiKey,
  toContractOrganization,
  toOrganizationWithPlan,
  toSlimUser,
  unionResponse,
  ORGANIZATION_ACCESS_RESPONSES,
  sortedKeys,
  type ContractResponse,
  type GraphQLMember,
  type GraphQLOrganization,
} from './responses.js';
import type { HandlerName } from './routes.js';

/** Runs one of the fixed operations; its data, or the contract's answer for a GraphQL error (thrown). */
export type Run = (operation: RestOperationName, variables?: Record<string, unknown>) => Promise<Record<string, any>>;

export type HandlerInput = Readonly<{
  request: Request;
  url: URL;
  run: Run;
  /** The path's UUID parameters, canonical. */
  uuids: Readonly<Record<string, string>>;
  /** The decoded body (routes with one). */
  body: Readonly<Record<string, unknown>>;
  /** The decoded query string (routes with one). */
  query: Readonly<Record<string, unknown>>;
  /** TR-Organization, canonical, when sent. */
  organizationId: string | null;
}>;

const OPENAPI_DOCUMENT = openapi as Record<string, unknown>;

const message = (status: number, text: string): ContractResponse => ({ status, body: { message: text } });

/** The largest `limit` of a key list (upstream has none). */
export const MAX_KEY_LIST_LIMIT = 1000;

type KeyPage = { edges: Array<{ node: GraphQLApiKey }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null;

/** A key delete: 204 whether or not such a key was there (upstream's answer), 403 when the caller's role is not enough. */
const keyDeleteResponse = (result: { __typename: string }): ContractResponse => (result.__typename === 'NotFoundError' ? NO_CONTENT : unionResponse(result, () => NO_CONTENT));

/** The contract's Organization object, with the stored partner configuration printed as serde prints it. */
const organizationResponse = (org: GraphQLOrganization): ContractResponse => ({
  status: 200,
  body: { ...toContractOrganization(org), partner_configuration: sortedKeys(org.partnerConfiguration) },
});

export const HANDLERS: Record<HandlerName, (input: HandlerInput) => Promise<ContractResponse>> = {
  async createOrganization({ request, run, body }) {
    const data = await run('RestCreateOrganization', { input: { name: body.name, idempotencyKey: request.headers.get('idempotency-key') } });
    return unionResponse(data.createOrganization, organizationResponse);
  },

  async getOrganization({ run, uuids }) {
    const data = await run('RestGetOrganization', { id: uuids.organizationId });
    if (!data.organization) return ORGANIZATION_ACCESS_RESPONSES.NOT_FOUND;
    return { status: 200, body: toOrganizationWithPlan(data.organization, new Date().toISOString()) };
  },

  async updateOrganization({ run, body, organizationId }) {
    const input = { id: organizationId, name: body.name ?? null, partnerConfiguration: body.partner_configuration ?? null };
    const data = await run('RestUpdateOrganization', { input });
    return unionResponse(data.updateOrganization, organizationResponse);
  },

  async deleteOrganization({ run, uuids }) {
    const data = await run('RestDeleteOrganization', { id: uuids.organizationId });
    return unionResponse(data.deleteOrganization, () => NO_CONTENT);
  },

  async organizationUsers({ run, uuids }) {
    // Upstream answers every member at once: the pages of the members connection, in joining order.
    const users: unknown[] = [];
    for (let after: string | null = null; ; ) {
      const data = await run('RestOrganizationMembers', { id: uuids.organizationId, after });
      const org = data.organization as (GraphQLOrganization & { members: { edges: Array<{ node: GraphQLMember }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }) | null;
      if (!org) return { status: 200, body: [] }; // deleted meanwhile: upstream's empty list
      users.push(...org.members.edges.map(({ node }) => toSlimUser(node, org)));
      if (!org.members.pageInfo.hasNextPage) return { status: 200, body: users };
      after = org.members.pageInfo.endCursor;
    }
  },

  async removeUser({ run, uuids }) {
    const data = await run('RestRemoveMember', { input: { organizationId: uuids.organizationId, userId: uuids.userId } });
    return unionResponse(data.removeMember, () => NO_CONTENT);
  },

  async createOrganizationApiKey({ run, body, organizationId }) {
    const role = body.role as number;
    if (role !== 0 && role !== 1 && role !== 2) return message(400, 'role must be 0 (read), 1 (admin) or 2 (owner)');
    for (const field of ['scopes', 'dataset_ids'] as const) {
      const list = body[field] as unknown[] | undefined;
      if (list && list.length > 0) return message(400, `${field} cannot be honoured by this gateway: leave it out (or empty) rather than have a key that ignores its restriction`);
    }
    let expiresAt: Date | null = null;
    if (body.expires_at !== undefined) {
      expiresAt = readExpiry(body.expires_at as string);
      if (expiresAt === null) return message(400, 'expires_at is not a date: use RFC 3339 (2030-01-01T00:00:00Z), a date (2030-01-01) or unix seconds');
    }
    const input = { name: body.name, role: KEY_ROLE_NAMES[role], expiresAt, organizationId };
    const data = await run('RestCreateApiKey', { input });
    return unionResponse(data.createApiKey, (created) => ({ status: 200, body: { api_key: (created as unknown as { secret: string }).secret } }));
  },

  async organizationApiKeys({ run, query, organizationId }) {
    const limit = (query.limit as number | undefined) ?? 10;
    if (limit < 0 || limit > MAX_KEY_LIST_LIMIT) return message(400, `Query deserialize error: limit must be from 0 to ${MAX_KEY_LIST_LIMIT}`);
    const keys: unknown[] = [];
    let after = query.cursor === undefined || query.cursor === NIL_UUID ? null : (query.cursor as string);
    while (keys.length < limit) {
      const data = await run('RestOrganizationApiKeys', { id: organizationId, first: Math.min(limit - keys.length, 100), after });
      const page = data.organization?.apiKeys as KeyPage;
      if (!page) break;
      keys.push(...page.edges.map(({ node }) => toApiKeyRespBody(node, organizationId!)));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    return { status: 200, body: { api_keys: keys, cursor: (keys.at(-1) as { id: string } | undefined)?.id ?? null } };
  },

  async deleteOrganizationApiKey({ run, uuids, organizationId }) {
    const data = await run('RestRevokeApiKey', { id: uuids.apiKeyId, organizationId, scope: 'ORGANIZATION' });
    return keyDeleteResponse(data.revokeApiKey);
  },

  async userApiKeys({ run }) {
    const keys: unknown[] = [];
    for (let after: string | null = null; ; ) {
      const data = await run('RestUserApiKeys', { after });
      const page = data.viewer?.apiKeys as KeyPage;
      // An organization's key belongs to no user: upstream's fake user has no keys.
      if (!page) return { status: 200, body: keys };
      keys.push(...page.edges.map(({ node }) => toApiKeyRespBody(node, NIL_UUID)));
      if (!page.pageInfo.hasNextPage) return { status: 200, body: keys };
      after = page.pageInfo.endCursor;
    }
  },

  async deleteUserApiKey({ run, uuids }) {
    const data = await run('RestRevokeApiKey', { id: uuids.apiKeyId, scope: 'USER' });
    return keyDeleteResponse(data.revokeApiKey);
  },

  async openapi({ url }) {
    return { status: 200, body: { ...OPENAPI_DOCUMENT, servers: [{ url: url.origin, description: 'This gateway' }] } };
  },
};
