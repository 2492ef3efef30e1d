const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its canonical text form (what PostgreSQL's uuid type accepts here). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

const SIMPLE = /^[0-9a-f]{32}$/i;

/**
 * A UUID in any text form Rust's `uuid` crate parses (upstream's TR-Organization header): hyphenated,
 * 32 hex digits, braced `{…}` or `urn:uuid:…`, any case. Returns the canonical lower-case form, or
 * null when the text is none of these.
 */
export function parseUuidLoosely(text: string): string | null {
  let body = text;
  if (text.length === 38 && text.startsWith('{') && text.endsWith('}')) body = text.slice(1, -1);
  else if (text.length === 45 && text.startsWith('urn:uuid:')) body = text.slice('urn:uuid:'.length);
  if (isUuid(body)) return body.toLowerCase();
  if (body === text && SIMPLE.test(text)) {
    const hex = text.toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return null;
}
