// Decoding the request body the way upstream (actix-web + serde_json) does, with its
// `Json Deserialization Error` message shapes (serde's own texts: ./serde-json.ts).
import { isJsonMediaType } from '../src/http/body-limit.js';
import { CONTRACT_ERRORS, type ContractResponse } from './responses.js';
import { CREATE_ORGANIZATION, decodeSimpleCreateOrganization, readStruct, type StructSpec } from './serde-json.js';

/** Missing Content-Type is read as JSON (upstream adds it); otherwise JSON or any `+json` type. */
export function isJsonContentType(header: string | null): boolean {
  return header === null || isJsonMediaType(header);
}

/** The struct's fields, or upstream's 400 for the body. A create's usual `{"name": "…"}` takes the fast path. */
export function decodeBody(bytes: Uint8Array, spec: StructSpec): { fields: Record<string, unknown> } | { refused: ContractResponse } {
  const simple = spec === CREATE_ORGANIZATION ? decodeSimpleCreateOrganization(bytes) : undefined;
  if (simple) return { fields: simple };
  const read = readStruct(bytes, spec);
  return 'error' in read ? { refused: CONTRACT_ERRORS.json(read.error.category, `Json deserialize error: ${read.error.message}`) } : read;
}
