// The client's operations. `graphql()` is generated: each document is typed from schema.graphql, and
// in the build it is only a hash (persisted document), which is all the client sends.
import { graphql } from './gql/index.js';

export const CreateOrganization = graphql(`
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization {
        id
        name
        createdAt
      }
      ... on Error {
        message
      }
    }
  }
`);

export const MyOrganizations = graphql(`
  query MyOrganizations($first: Int, $after: String) {
    viewer {
      organizations(first: $first, after: $after) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);
