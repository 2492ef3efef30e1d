// The fixed GraphQL operations behind the REST contract: parsed and validated once, at start-up.
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

export const REST_DOCUMENT_SOURCE = /* GraphQL */ `
  query RestCaller {
    viewer { id }
  }

  query RestCallerInOrganization($organizationId: ID!) {
    viewer { id }
    organizationAccess(id: $organizationId)
  }

  mutation RestCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization { id name createdAt updatedAt registerable deleted partnerConfiguration }
      ... on Error { message }
      ... on ValidationError { field }
    }
  }
`;

export type RestOperationName = 'RestCaller' | 'RestCallerInOrganization' | 'RestCreateOrganization';

/** Parses and validates the document against the schema; a mismatch stops the start-up. */
export function prepareRestDocument(schema: GraphQLSchema): DocumentNode {
  const document = parse(REST_DOCUMENT_SOURCE);
  const errors = validate(schema, document);
  if (errors.length > 0) {
    throw new Error(`The REST adapter's operations do not fit the schema: ${errors.map((e) => e.message).join('; ')}`);
  }
  return document;
}
