// A UUID path parameter as upstream's actix `Path<uuid::Uuid>` reads it: the forms Rust's `uuid` crate
// accepts (see parseUuidLoosely), and for anything else the crate's own error text, which upstream
// answers as 400 `Path deserialize error: UUID parsing failed: <text>` (contract-notes-organization §0).
import { parseUuidLoosely } from '../src/uuid.js';

const GROUP_STARTS = [0, 9, 14, 19, 24] as const;
const GROUP_LENGTHS = [8, 4, 4, 4, 12] as const;

/** The uuid crate's `InvalidUuid::into_err` message for text it does not parse (uuid 1.x). */
function uuidCrateError(input: string): string {
  const [body, offset, simple] = input.startsWith('{') && input.endsWith('}') && input.length >= 2
    ? [input.slice(1, -1), 1, false]
    : input.startsWith('urn:uuid:')
      ? [input.slice('urn:uuid:'.length), 'urn:uuid:'.length, false]
      : [input, 0, true];
  let hyphens = 0;
  const bounds: number[] = [];
  let index = 0; // byte index, as Rust's char_indices gives it
  for (const character of body) {
    const code = character.codePointAt(0)!;
    if (code > 0x7f || (character !== '-' && !/[0-9a-fA-F]/.test(character))) {
      return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${character}\` at ${index + offset + 1}`;
    }
    if (character === '-') {
      if (hyphens < 4) bounds.push(index);
      hyphens++;
    }
    index += Buffer.byteLength(character);
  }
  if (hyphens === 0 && simple) return `invalid length: expected length 32 for simple format, found ${Buffer.byteLength(input)}`;
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  for (let group = 0; group < 4; group++) {
    if (bounds[group] !== GROUP_STARTS[group + 1]! - 1) {
      return `invalid group length in group ${group}: expected ${GROUP_LENGTHS[group]}, found ${bounds[group]! - GROUP_STARTS[group]!}`;
    }
  }
  return `invalid group length in group 4: expected 12, found ${Buffer.byteLength(input) - GROUP_STARTS[4]}`;
}

/** The canonical UUID, or upstream's 400 message for the path parameter. */
export function parsePathUuid(segment: string): { uuid: string } | { message: string } {
  const uuid = parseUuidLoosely(segment);
  return uuid ? { uuid } : { message: `Path deserialize error: UUID parsing failed: ${uuidCrateError(segment)}` };
}
