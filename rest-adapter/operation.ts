// The fixed GraphQL operations behind the REST contract: parsed and validated once, at start-up.
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

const ORGANIZATION_FIELDS = 'id name createdAt updatedAt registerable deleted partnerConfiguration';
const API_KEY_FIELDS = 'id name role createdAt updatedAt';

// One operation per document, so each is validated, cached and logged on its own.
export const REST_OPERATIONS = {
  /** Upstream's auth middleware for TR-Organization: does it name a live organization, and the caller's role there. */
  RestCallerInOrganization: /* GraphQL */ `
  query RestCallerInOrganization($organizationId: ID!) {
    organizationAccess(id: $organizationId)
    organization(id: $organizationId) { viewerRole }
  }`,
  RestCreateOrganization: /* GraphQL */ `
  mutation RestCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization { ${ORGANIZATION_FIELDS} }
      ... on Error { message }
      ... on ValidationError { field }
    }
  }`,
  RestGetOrganization: /* GraphQL */ `
  query RestGetOrganization($id: ID!) {
    organization(id: $id) { ${ORGANIZATION_FIELDS} }
  }`,
  RestUpdateOrganization: /* GraphQL */ `
  mutation RestUpdateOrganization($input: UpdateOrganizationInput!) {
    updateOrganization(input: $input) {
      __typename
      ... on Organization { ${ORGANIZATION_FIELDS} }
      ... on Error { message }
      ... on ValidationError { field }
      ... on NotFoundError { resource }
    }
  }`,
  RestDeleteOrganization: /* GraphQL */ `
  mutation RestDeleteOrganization($id: ID!) {
    deleteOrganization(id: $id) {
      __typename
      ... on Error { message }
      ... on NotFoundError { resource }
    }
  }`,
  RestOrganizationMembers: /* GraphQL */ `
  query RestOrganizationMembers($id: ID!, $after: String) {
    organization(id: $id) {
      ${ORGANIZATION_FIELDS}
      members(first: 100, after: $after) {
        edges { node { id role joinedAt updatedAt user { id email name createdAt } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`,
  RestRemoveMember: /* GraphQL */ `
  mutation RestRemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input) {
      __typename
      ... on Error { message }
      ... on NotFoundError { resource }
    }
  }`,
  RestCreateApiKey: /* GraphQL */ `
  mutation RestCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      __typename
      ... on CreatedApiKey { secret }
      ... on Error { message }
      ... on ValidationError { field }
      ... on NotFoundError { resource }
    }
  }`,
  RestOrganizationApiKeys: /* GraphQL */ `
  query RestOrganizationApiKeys($id: ID!, $first: Int!, $after: String) {
    organization(id: $id) {
      apiKeys(first: $first, after: $after) {
        edges { node { ${API_KEY_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`,
  RestUserApiKeys: /* GraphQL */ `
  query RestUserApiKeys($after: String) {
    viewer {
      apiKeys(first: 100, after: $after) {
        edges { node { ${API_KEY_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`,
  RestRevokeApiKey: /* GraphQL */ `
  mutation RestRevokeApiKey($id: ID!, $organizationId: ID, $scope: ApiKeyScope) {
    revokeApiKey(id: $id, organizationId: $organizationId, scope: $scope) {
      __typename
      ... on Error { message }
      ... on NotFoundError { resource }
    }
  }`,
} as const;

export type RestOperationName = keyof typeof REST_OPERATIONS;

/** Parses and validates each operation against the schema; a mismatch stops the start-up. */
export function prepareRestDocuments(schema: GraphQLSchema): Record<RestOperationName, DocumentNode> {
  const documents = {} as Record<RestOperationName, DocumentNode>;
  for (const [name, source] of Object.entries(REST_OPERATIONS) as [RestOperationName, string][]) {
    const document = parse(source);
    const errors = validate(schema, document);
    if (errors.length > 0) {
      throw new Error(`The REST adapter's ${name} does not fit the schema: ${errors.map((e) => e.message).join('; ')}`);
    }
    documents[name] = document;
  }
  return documents;
}
