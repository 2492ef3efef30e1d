// Trusted documents: an allow-list of operations (hash -> document), loaded and validated at start.
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export class PersistedOperationsError extends Error {
  constructor(file: string, reason: string) {
    super(`PERSISTED_OPERATIONS_FILE ${file}: ${reason}`);
    this.name = 'PersistedOperationsError';
  }
}

/** Reads `{ "<hash>": "<document>" }` (graphql-codegen's persisted-documents.json) and checks each document. */
export function loadPersistedOperations(file: string, schema: GraphQLSchema): Map<string, DocumentNode> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PersistedOperationsError(file, `cannot be read as JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PersistedOperationsError(file, 'must be a JSON object mapping hashes to GraphQL documents');
  }
  const operations = new Map<string, DocumentNode>();
  for (const [hash, source] of Object.entries(raw)) {
    if (typeof source !== 'string') throw new PersistedOperationsError(file, `entry ${hash} is not a string`);
    let document: DocumentNode;
    try {
      document = parse(source);
    } catch (error) {
      throw new PersistedOperationsError(file, `entry ${hash} does not parse: ${(error as Error).message}`);
    }
    const errors = validate(schema, document);
    if (errors.length > 0) throw new PersistedOperationsError(file, `entry ${hash} does not fit the schema: ${errors[0]!.message}`);
    // graphql-codegen writes its keys as "sha256:<hex>" (or bare hex with other settings): one key either way.
    operations.set(hash.replace(/^sha256:/, ''), document);
  }
  return operations;
}

/**
 * Only listed operations run, named by `extensions.persistedQuery.sha256Hash` (Apollo's form) or a
 * top-level `documentId` (the GraphQL-over-HTTP form graphql-codegen's client preset sends).
 */
export function useTrustedDocuments(operations: Map<string, DocumentNode>): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (key) => operations.get(key) ?? null,
    extractPersistedOperationId: (params) => {
      const documentId = (params as { documentId?: unknown }).documentId;
      if (typeof documentId === 'string') return documentId.replace(/^sha256:/, '');
      const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
      return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
    },
    skipDocumentValidation: true, // validated once, at load
    customErrors: {
      persistedQueryOnly: {
        message: 'This server only runs trusted (persisted) operations: send the operation hash, not a document',
        extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
      },
      keyNotFound: {
        message: 'Send a persisted operation hash (extensions.persistedQuery.sha256Hash or documentId)',
        extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } },
      },
      notFound: {
        message: 'This operation is not in the list of trusted operations',
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
      },
    },
  });
}
