// Decoding the request body the way upstream (actix-web + serde_json) does, with its
// `Json Deserialization Error` message shapes (serde's own texts: ./serde-json.ts).
import { isJsonMediaType } from '../src/http/body-limit.js';
import { CONTRACT_ERRORS, type ContractResponse } from './responses.js';
import { decodeCreateOrganization } from './serde-json.js';

export type CreateOrganizationPayload = Readonly<{ name: string }>;

/** Missing Content-Type is read as JSON (upstream adds it); otherwise JSON or any `+json` type. */
export function isJsonContentType(header: string | null): boolean {
  return header === null || isJsonMediaType(header);
}

export function parseCreateOrganizationPayload(bytes: Uint8Array): CreateOrganizationPayload | ContractResponse {
  const decoded = decodeCreateOrganization(bytes);
  if ('category' in decoded) return CONTRACT_ERRORS.json(decoded.category, `Json deserialize error: ${decoded.message}`);
  return decoded;
}
