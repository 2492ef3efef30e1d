/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type CreateOrganizationInput = {
  /** Optional. Retrying with the same key and the same input returns the organization the first request created (for 24 hours) instead of creating another; the same key with other input is a ValidationError. */
  idempotencyKey?: string | null | undefined;
  /** The arbitrary name which will be used to identify the organization. This name must be unique: 1 to 255 characters, not blank, no control characters. */
  name: string;
};

export type CreateOrganizationMutationVariables = Exact<{
  input: CreateOrganizationInput;
}>;


export type CreateOrganizationMutation = { createOrganization:
    | { __typename: 'NotAllowedError', message: string }
    | { __typename: 'Organization', id: string, name: string, createdAt: string }
    | { __typename: 'OrganizationNameTakenError', message: string }
    | { __typename: 'ValidationError', message: string }
   };

export type MyOrganizationsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type MyOrganizationsQuery = { viewer: { organizations: { totalCount: number, edges: Array<{ node: { id: string, name: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } | null };


export const CreateOrganizationDocument = {"__meta__":{"hash":"sha256:cd0d68bfbd94138b37fa593f4b2179f6f0cf87c4f6a0d95f1dd172db4f9bb596"}} as unknown as DocumentNode<CreateOrganizationMutation, CreateOrganizationMutationVariables>;
export const MyOrganizationsDocument = {"__meta__":{"hash":"sha256:45830a8109b34e1b9500435fc40b73605f6e5458f177d012f1aab0a8c291ad5e"}} as unknown as DocumentNode<MyOrganizationsQuery, MyOrganizationsQueryVariables>;