// Decoding `{"name": string}` the way upstream's serde_json (`from_slice` into the derived
// `CreateOrganizationReqPayload`) does, so that refusals carry serde's own text and position:
// `<message> at line L column C` (1-based line; C counts bytes, 0 before the first byte of a line).
//
// Covered, with serde's wording: EOF while parsing a value / string / object / list; expected value;
// key must be a string; expected `:`; expected `,` or `}` / `]`; trailing comma; trailing characters;
// expected ident (bad true/false/null); invalid number; invalid escape; control character in a string;
// invalid unicode code point (invalid UTF-8 inside a string); lone leading surrogate in hex escape;
// unexpected end of hex escape; recursion limit exceeded; missing field `name`; duplicate field `name`;
// invalid type: <found>, expected a string / expected struct CreateOrganizationReqPayload.
// Unknown fields are skipped (they must still be valid JSON). A byte-order mark is not whitespace to
// serde: "expected value at line 1 column 1". Numbers are reported as JavaScript prints them, which
// matches Rust for integers and plain decimals (not for exponents or very long fractions).
//
// One deliberate difference: serde lets a JSON array stand for the struct (`["Acme"]` creates
// "Acme" upstream); here it is refused as `invalid type: sequence, expected struct …`.

export type SerdeCategory = 'Syntax error in JSON' | 'Data error in JSON' | 'Unexpected end of JSON input';
export type SerdeError = Readonly<{ category: SerdeCategory; message: string }>;

const RECURSION_LIMIT = 128;

class Failure extends Error {
  constructor(readonly category: SerdeCategory, text: string) {
    super(text);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Keeps a byte-order mark in the text (JSON.parse then refuses it, as serde does). */
const utf8KeepingBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  index = 0;
  constructor(private readonly bytes: Uint8Array) {}

  peek(): number | undefined {
    return this.bytes[this.index];
  }

  /** Line and column after the last consumed byte (serde's `position`), or after the peeked one (`peek_position`). */
  private at(end: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < end && i < this.bytes.length; i++) {
      if (this.bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return `at line ${line} column ${Math.min(end, this.bytes.length) - lineStart}`;
  }

  /** An error at the last consumed byte. */
  error(category: SerdeCategory, text: string): Failure {
    return new Failure(category, `${text} ${this.at(this.index)}`);
  }

  /** An error at the byte just peeked. */
  peekError(category: SerdeCategory, text: string): Failure {
    return new Failure(category, `${text} ${this.at(this.index + 1)}`);
  }

  skipWhitespace(): number | undefined {
    for (;;) {
      const b = this.peek();
      if (b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d) this.index++;
      else return b;
    }
  }

  /** After an opening quote: the string's value. */
  string(): string {
    const parts: string[] = [];
    let runStart = this.index;
    const flush = (end: number) => {
      if (end === runStart) return;
      try {
        parts.push(utf8.decode(this.bytes.subarray(runStart, end)));
      } catch {
        // serde checks UTF-8 when the string ends; it reports the position of the end.
        this.index = end;
        throw this.error('Syntax error in JSON', 'invalid unicode code point');
      }
    };
    for (;;) {
      const b = this.peek();
      if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a string');
      if (b === 0x22) {
        flush(this.index);
        this.index++;
        return parts.join('');
      }
      if (b < 0x20) {
        this.index++;
        throw this.error('Syntax error in JSON', 'control character (\\u0000-\\u001F) found while parsing a string');
      }
      if (b === 0x5c) {
        flush(this.index);
        this.index++;
        parts.push(this.escape());
        runStart = this.index;
        continue;
      }
      this.index++;
    }
  }

  private hex4(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.peek();
      if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a string');
      this.index++;
      const digit = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
      if (digit < 0) throw this.error('Syntax error in JSON', 'invalid escape');
      value = value * 16 + digit;
    }
    return value;
  }

  private escape(): string {
    const b = this.peek();
    if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a string');
    this.index++;
    const simple: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
    if (simple[b] !== undefined) return simple[b]!;
    if (b !== 0x75) throw this.error('Syntax error in JSON', 'invalid escape');
    const first = this.hex4();
    if (first >= 0xdc00 && first <= 0xdfff) throw this.error('Syntax error in JSON', 'lone leading surrogate in hex escape');
    if (first < 0xd800 || first > 0xdbff) return String.fromCharCode(first);
    if (this.peek() !== 0x5c) {
      if (this.peek() === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a string');
      this.index++;
      throw this.error('Syntax error in JSON', 'unexpected end of hex escape');
    }
    this.index++;
    if (this.peek() !== 0x75) {
      if (this.peek() === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a string');
      this.index++;
      throw this.error('Syntax error in JSON', 'unexpected end of hex escape');
    }
    this.index++;
    const second = this.hex4();
    if (second < 0xdc00 || second > 0xdfff) throw this.error('Syntax error in JSON', 'lone leading surrogate in hex escape');
    return String.fromCharCode(first, second);
  }

  /** A literal after its first letter was peeked: true, false or null. */
  ident(word: string): void {
    for (const char of word) {
      const b = this.peek();
      if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
      this.index++;
      if (b !== char.charCodeAt(0)) throw this.error('Syntax error in JSON', 'expected ident');
    }
  }

  /** A number, first byte peeked (`-` or a digit); returns its text. */
  number(): string {
    const start = this.index;
    const digits = () => {
      const from = this.index;
      while ((this.peek() ?? 0) >= 0x30 && (this.peek() ?? 0) <= 0x39) this.index++;
      return this.index - from;
    };
    if (this.peek() === 0x2d) this.index++;
    const first = this.peek();
    if (first === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
    if (first < 0x30 || first > 0x39) {
      this.index++;
      throw this.error('Syntax error in JSON', 'invalid number');
    }
    if (first === 0x30) {
      this.index++;
      const next = this.peek();
      if (next !== undefined && next >= 0x30 && next <= 0x39) throw this.peekError('Syntax error in JSON', 'invalid number');
    } else digits();
    if (this.peek() === 0x2e) {
      this.index++;
      if (digits() === 0) {
        if (this.peek() === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
        this.index++;
        throw this.error('Syntax error in JSON', 'invalid number');
      }
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.index++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.index++;
      if (digits() === 0) {
        if (this.peek() === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
        this.index++;
        throw this.error('Syntax error in JSON', 'invalid number');
      }
    }
    return new TextDecoder().decode(this.bytes.subarray(start, this.index));
  }

  /** Any JSON value, checked and thrown away (an unknown field's value). */
  ignoreValue(depth: number): void {
    const b = this.skipWhitespace();
    if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
    if (b === 0x22) {
      this.index++;
      this.string();
    } else if (b === 0x7b || b === 0x5b) {
      if (depth >= RECURSION_LIMIT) throw this.peekError('Syntax error in JSON', 'recursion limit exceeded');
      this.index++;
      if (b === 0x7b) this.mapEntries(() => {
        this.colon();
        this.ignoreValue(depth + 1);
      });
      else this.seqElements(depth + 1);
    } else if (b === 0x74) this.ident('true');
    else if (b === 0x66) this.ident('false');
    else if (b === 0x6e) this.ident('null');
    else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) this.number();
    else throw this.peekError('Syntax error in JSON', 'expected value');
  }

  private seqElements(depth: number): void {
    this.elements(0x5d, 'a list', () => this.ignoreValue(depth));
  }

  /** After `{`: each key handed to `onValue` with the reader before its value; returns at `}`. */
  mapEntries(onValue: (key: string) => void): void {
    this.elements(0x7d, 'an object', (b) => {
      if (b !== 0x22) throw this.peekError('Syntax error in JSON', 'key must be a string');
      this.index++;
      onValue(this.string());
    });
  }

  /** The comma-separated items of a list or an object up to `close`, serde's errors between them. */
  private elements(close: number, what: string, onItem: (next: number) => void): void {
    let first = true;
    for (;;) {
      let b = this.skipWhitespace();
      if (b === undefined) throw this.error('Unexpected end of JSON input', `EOF while parsing ${what}`);
      if (b === close) {
        this.index++;
        return;
      }
      if (!first) {
        if (b !== 0x2c) throw this.peekError('Syntax error in JSON', `expected \`,\` or \`${String.fromCharCode(close)}\``);
        this.index++;
        b = this.skipWhitespace();
        if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing a value');
        if (b === close) throw this.peekError('Syntax error in JSON', 'trailing comma');
      }
      first = false;
      onItem(b);
    }
  }

  colon(): void {
    const b = this.skipWhitespace();
    if (b === undefined) throw this.error('Unexpected end of JSON input', 'EOF while parsing an object');
    if (b !== 0x3a) throw this.peekError('Syntax error in JSON', 'expected `:`');
    this.index++;
  }

  /** serde's `peek_invalid_type`: what was found where `expected` was wanted, consumed where serde consumes it. */
  invalidType(expected: string): Failure {
    const b = this.peek()!;
    let found: string;
    if (b === 0x22) {
      this.index++;
      found = `string ${JSON.stringify(this.string())}`;
    } else if (b === 0x74 || b === 0x66) {
      const word = b === 0x74 ? 'true' : 'false';
      this.ident(word);
      found = `boolean \`${word}\``;
    } else if (b === 0x6e) {
      this.ident('null');
      found = 'null';
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const text = this.number();
      found = /[.eE]/.test(text) ? `floating point \`${Number(text)}\`` : `integer \`${text}\``;
    } else if (b === 0x5b) found = 'sequence';
    else if (b === 0x7b) found = 'map';
    else return this.peekError('Syntax error in JSON', 'expected value');
    return this.error('Data error in JSON', `invalid type: ${found}, expected ${expected}`);
  }
}

/**
 * The common case at native speed: a body that is exactly `{"name": "<text>"}` (any JSON whitespace)
 * with no escapes anywhere. Without a backslash no key or string can be spelled two ways, so one
 * `"name"` in the text and one key after JSON.parse mean serde reads the same single field; every
 * other body (and every malformed one) is left to the byte reader, which gives serde's answer.
 * Returns undefined when the body is not of that shape.
 */
export function decodeSimpleCreateOrganization(bytes: Uint8Array): { name: string } | undefined {
  if (bytes.includes(0x5c)) return undefined; // a backslash: escapes
  let text: string;
  let value: unknown;
  try {
    text = utf8KeepingBom.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const name = (value as { name?: unknown }).name;
  if (keys.length !== 1 || typeof name !== 'string' || text.indexOf('"name"') !== text.lastIndexOf('"name"')) return undefined;
  return { name };
}

/** The byte reader alone: serde's answer for any body, byte by byte. */
export function readCreateOrganization(bytes: Uint8Array): { name: string } | SerdeError {
  const read = readStruct(bytes, CREATE_ORGANIZATION);
  return 'error' in read ? read.error : (read.fields as { name: string });
}

/**
 * A struct as serde derives it: its name (for `expected struct …`) and fields in declaration order.
 * `string` is a JSON string (`Option<String>` when not required: null or absent is undefined); `object`
 * is any JSON object (null or absent is undefined; anything else `invalid type: …, expected a map`);
 * `i32` a JSON integer in i32's range; `array` any JSON array (its elements are the handler's business).
 */
export type StructSpec = Readonly<{ name: string; fields: Readonly<Record<string, Readonly<{ type: 'string' | 'object' | 'i32' | 'array'; required: boolean }>>> }>;

export const CREATE_ORGANIZATION: StructSpec = { name: 'CreateOrganizationReqPayload', fields: { name: { type: 'string', required: true } } };

/** The struct's fields by name (absent optional ones left out), or serde's error for the body. */
export function readStruct(bytes: Uint8Array, spec: StructSpec): { fields: Record<string, unknown> } | { error: SerdeError } {
  const reader = new Reader(bytes);
  try {
    const b = reader.skipWhitespace();
    if (b === undefined) throw reader.error('Unexpected end of JSON input', 'EOF while parsing a value');
    if (b !== 0x7b) throw reader.invalidType(`struct ${spec.name}`);
    reader.index++;
    const values: Record<string, unknown> = {};
    const seen = new Set<string>();
    reader.mapEntries((key) => {
      const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
      if (field && seen.has(key)) throw reader.error('Data error in JSON', `duplicate field \`${key}\``);
      reader.colon();
      if (!field) return reader.ignoreValue(1);
      seen.add(key);
      const v = reader.skipWhitespace();
      if (v === undefined) throw reader.error('Unexpected end of JSON input', 'EOF while parsing a value');
      if (v === 0x6e && !field.required) {
        reader.ident('null');
        return;
      }
      if (field.type === 'string') {
        if (v !== 0x22) throw reader.invalidType('a string');
        reader.index++;
        values[key] = reader.string();
      } else if (field.type === 'i32') {
        if (v !== 0x2d && !(v >= 0x30 && v <= 0x39)) throw reader.invalidType('i32');
        const start = reader.index;
        const text = reader.number();
        if (/[.eE]/.test(text)) {
          reader.index = start;
          throw reader.invalidType('i32');
        }
        const value = Number(text);
        if (!Number.isSafeInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) throw reader.error('Data error in JSON', `invalid value: integer \`${text}\`, expected i32`);
        values[key] = value;
      } else if (field.type === 'array') {
        if (v !== 0x5b) throw reader.invalidType('a sequence');
        const start = reader.index;
        reader.ignoreValue(1);
        values[key] = JSON.parse(utf8.decode(bytes.subarray(start, reader.index)));
      } else {
        if (v !== 0x7b) throw reader.invalidType('a map');
        const start = reader.index;
        reader.ignoreValue(1);
        values[key] = JSON.parse(utf8.decode(bytes.subarray(start, reader.index)));
      }
    });
    const missing = Object.entries(spec.fields).find(([name, field]) => field.required && !seen.has(name));
    if (missing) throw reader.error('Data error in JSON', `missing field \`${missing[0]}\``);
    if (reader.skipWhitespace() !== undefined) throw reader.peekError('Syntax error in JSON', 'trailing characters');
    return { fields: values };
  } catch (error) {
    if (error instanceof Failure) return { error: { category: error.category, message: error.message } };
    throw error;
  }
}
