// Decoding the request body the way upstream (actix-web + serde_json) does, with its
// `Json Deserialization Error` message shapes.
import { isJsonMediaType } from '../src/http/body-limit.js';
import { CONTRACT_ERRORS, type ContractResponse } from './responses.js';

export type CreateOrganizationPayload = Readonly<{ name: string }>;

/** Missing Content-Type is read as JSON (upstream adds it); otherwise JSON or any `+json` type. */
export function isJsonContentType(header: string | null): boolean {
  return header === null || isJsonMediaType(header);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** serde_json's "line L column C" for the end of the text. */
function endPosition(text: string): string {
  const lines = text.split('\n');
  return `line ${lines.length} column ${[...lines.at(-1)!].length}`;
}

/** serde's name for what it found where a string was expected. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
    case 'boolean':
      return `boolean \`${value}\``;
    case 'string':
      return `string ${JSON.stringify(value)}`;
    default:
      return 'map';
  }
}

/** V8 says where JSON.parse stopped; at the end of the input that is serde's EOF, elsewhere a syntax error. */
function isUnexpectedEnd(error: Error, text: string): boolean {
  if (/end of JSON input/i.test(error.message)) return true;
  const position = /at position (\d+)/.exec(error.message);
  return position !== null && Number(position[1]) >= text.trimEnd().length;
}

export function parseCreateOrganizationPayload(bytes: Uint8Array): CreateOrganizationPayload | ContractResponse {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return CONTRACT_ERRORS.json('Syntax error in JSON', 'Json deserialize error: invalid UTF-8 in request body');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (text.trim() === '' || isUnexpectedEnd(error as Error, text)) {
      return CONTRACT_ERRORS.json('Unexpected end of JSON input', `Json deserialize error: EOF while parsing a value at ${endPosition(text)}`);
    }
    return CONTRACT_ERRORS.json('Syntax error in JSON', `Json deserialize error: ${(error as Error).message}`);
  }
  const where = endPosition(text.trimEnd());
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return CONTRACT_ERRORS.json(
      'Data error in JSON',
      `Json deserialize error: invalid type: ${describeValue(value)}, expected struct CreateOrganizationReqPayload at ${where}`,
    );
  }
  if (!Object.hasOwn(value, 'name')) {
    return CONTRACT_ERRORS.json('Data error in JSON', `Json deserialize error: missing field \`name\` at ${where}`);
  }
  const name = (value as { name: unknown }).name;
  if (typeof name !== 'string') {
    return CONTRACT_ERRORS.json('Data error in JSON', `Json deserialize error: invalid type: ${describeValue(name)}, expected a string at ${where}`);
  }
  return { name };
}
