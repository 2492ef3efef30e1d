// One organization as a refetchable fragment: relay-compiler writes OrganizationCardRefetchQuery,
// which fetches it again by its id through node(id:).
import { graphql } from 'relay-runtime';

export const OrganizationCard = graphql`
  fragment OrganizationCard_organization on Organization @refetchable(queryName: "OrganizationCardRefetchQuery") {
    id
    name
    viewerRole
  }
`;
