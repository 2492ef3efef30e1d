// The viewer's organizations as a Relay pagination fragment: @refetchable on User (a Node) makes
// relay-compiler write OrganizationListPaginationQuery, which fetches the next page through node(id:).
import { graphql } from 'relay-runtime';

export const OrganizationList = graphql`
  fragment OrganizationList_user on User
  @refetchable(queryName: "OrganizationListPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    organizations(first: $count, after: $cursor) @connection(key: "OrganizationList_organizations") {
      edges {
        node {
          id
          ...OrganizationCard_organization
        }
      }
    }
  }
`;
