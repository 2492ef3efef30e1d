// GraphQL Code Generator, client preset: typed documents for the operations in src/, and the
// persisted-documents.json that the server loads with PERSISTED_OPERATIONS_FILE (trusted documents).
// Run from the repository root: npm run codegen
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/client/src/**/*.ts', '!examples/client/src/gql/**'],
  ignoreNoDocuments: false,
  // NodeNext: generated imports carry their .js extension.
  emitLegacyCommonJSImports: false,
  generates: {
    'examples/client/src/gql/': {
      preset: 'client',
      presetConfig: { persistedDocuments: { mode: 'replaceDocumentWithHash', hashAlgorithm: 'sha256' }, fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', JSON: 'unknown' } },
    },
  },
};

export default config;
