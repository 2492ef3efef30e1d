// What each route does once its checks passed (routes.ts): the fixed operations it runs and how their
// results become the contract's answer. Only GraphQL and the response table: no domain, no database.
import openapi from './openapi.json' with { type: 'json' };
import type { RestOperationName } from './operation.js';
import {
  NO_CONTENT,
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
  /** TR-Organization, canonical, when sent. */
  organizationId: string | null;
}>;

const OPENAPI_DOCUMENT = openapi as Record<string, unknown>;

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

  async openapi({ url }) {
    return { status: 200, body: { ...OPENAPI_DOCUMENT, servers: [{ url: url.origin, description: 'This gateway' }] } };
  },
};
