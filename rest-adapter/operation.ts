// The fixed GraphQL operations behind the REST contract: parsed and validated once, at start-up.
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

// One operation per document, so each is validated, cached and logged on its own.
export const REST_OPERATIONS = {
  RestCallerInOrganization: /* GraphQL */ `
  query RestCallerInOrganization($organizationId: ID!) {
    viewer { id }
    organizationAccess(id: $organizationId)
  }`,
  RestCreateOrganization: /* GraphQL */ `
  mutation RestCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization { id name createdAt updatedAt registerable deleted partnerConfiguration }
      ... on Error { message }
      ... on ValidationError { field }
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
