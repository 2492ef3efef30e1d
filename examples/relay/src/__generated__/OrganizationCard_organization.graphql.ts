/**
 * @generated SignedSource<<9e6a4aa7a38c8d38046778e9c9ea471c>>
 * @lightSyntaxTransform
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import { ReaderFragment } from 'relay-runtime';
export type OrganizationRole = "ADMIN" | "OWNER" | "USER" | "%future added value";
import { FragmentRefs } from "relay-runtime";
export type OrganizationCard_organization$data = {
  readonly id: string;
  readonly name: string;
  readonly viewerRole: OrganizationRole | null | undefined;
  readonly " $fragmentType": "OrganizationCard_organization";
};
export type OrganizationCard_organization$key = {
  readonly " $data"?: OrganizationCard_organization$data;
  readonly " $fragmentSpreads": FragmentRefs<"OrganizationCard_organization">;
};

import OrganizationCardRefetchQuery_graphql from './OrganizationCardRefetchQuery.graphql';

const node: ReaderFragment = {
  "argumentDefinitions": [],
  "kind": "Fragment",
  "metadata": {
    "refetch": {
      "connection": null,
      "fragmentPathInResult": [
        "node"
      ],
      "operation": OrganizationCardRefetchQuery_graphql,
      "identifierInfo": {
        "identifierField": "id",
        "identifierQueryVariableName": "id"
      }
    }
  },
  "name": "OrganizationCard_organization",
  "selections": [
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "id",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "name",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "viewerRole",
      "storageKey": null
    }
  ],
  "type": "Organization",
  "abstractKey": null
};

(node as any).hash = "580cd079d982721cc264ec1582092bca";

export default node;
