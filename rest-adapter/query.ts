// Query strings as upstream's actix `Query<T>` (serde_urlencoded) reads them, with its error texts,
// answered as JSON `{"message": "Query deserialize error: …"}` (upstream: the same text as text/plain;
// see contract-notes-organization §0 and §8).
import { parseUuidLoosely } from '../src/uuid.js';
import { parsePathUuid } from './path-uuid.js';

export type QueryField = Readonly<{ type: 'uuid' | 'i32' }>;
export type QuerySpec = Readonly<Record<string, QueryField>>;

/** Rust's `i32::from_str` errors, as serde_urlencoded reports them. */
function parseI32(text: string): number | string {
  if (text === '') return 'cannot parse integer from empty string';
  if (!/^[+-]?\d+$/.test(text)) return 'invalid digit found in string';
  const value = Number(text);
  if (value > 2 ** 31 - 1) return 'number too large to fit in target type';
  if (value < -(2 ** 31)) return 'number too small to fit in target type';
  return value;
}

/** The declared fields (unknown parameters ignored, as serde does), or the 400 message. */
export function readQuery(search: URLSearchParams, spec: QuerySpec): { values: Record<string, unknown> } | { message: string } {
  const values: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, text] of search) {
    const field = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!field) continue;
    if (seen.has(name)) return { message: `Query deserialize error: duplicate field \`${name}\`` };
    seen.add(name);
    if (field.type === 'i32') {
      const parsed = parseI32(text);
      if (typeof parsed === 'string') return { message: `Query deserialize error: ${parsed}` };
      values[name] = parsed;
    } else {
      const uuid = parseUuidLoosely(text);
      if (uuid === null) return { message: (parsePathUuid(text) as { message: string }).message.replace(/^Path /, 'Query ') };
      values[name] = uuid;
    }
  }
  return { values };
}
