// A small typed client: sends a persisted document by its hash (`documentId`), with typed variables,
// and returns typed data. What a TypeScript app needs beyond this is its own fetch and retry policy.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { MyOrganizationsQuery } from './gql/graphql.js';
import { CreateOrganization, MyOrganizations } from './operations.js';

type Persisted = { __meta__?: { hash?: string } };

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly errors: Array<{ message: string; extensions?: Record<string, unknown> }>,
  ) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
  }
}

export function createClient(endpoint: string, apiKey: string) {
  async function execute<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): Promise<TData> {
    // "sha256:<hex>", as in persisted-documents.json.
    const hash = (document as Persisted).__meta__?.hash;
    if (!hash) throw new Error('not a persisted document: run npm run codegen');
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ documentId: hash, variables }),
    });
    const body = (await response.json()) as { data?: TData; errors?: GatewayError['errors'] };
    if (body.errors?.length || !body.data) throw new GatewayError(response.status, body.errors ?? []);
    return body.data;
  }

  return {
    execute,
    createOrganization: (name: string, idempotencyKey?: string) => execute(CreateOrganization, { input: { name, idempotencyKey } }),
    /** Every organization of the viewer, a page at a time. */
    async *organizations(pageSize = 50) {
      let after: string | null = null;
      for (;;) {
        const data: MyOrganizationsQuery = await execute(MyOrganizations, { first: pageSize, after });
        const connection = data.viewer?.organizations;
        if (!connection) return;
        for (const edge of connection.edges) yield edge.node;
        if (!connection.pageInfo.hasNextPage) return;
        after = connection.pageInfo.endCursor ?? null;
      }
    },
  };
}
