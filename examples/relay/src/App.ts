// The root query of a small Relay app: the viewer and the first page of their organizations.
// Compiled by relay-compiler (npm run relay) into src/__generated__; test/graphql-clients.test.ts runs
// the artifacts through relay-runtime against the server.
import { graphql } from 'relay-runtime';

export const AppQuery = graphql`
  query AppQuery($count: Int!) {
    viewer {
      id
      email
      ...OrganizationList_user @arguments(count: $count)
    }
  }
`;
