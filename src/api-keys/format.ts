// What an API key looks like: made, hashed, recognised offline and hinted at. Pure functions.
//
// New keys follow GitHub's token format: a prefix that names the kind, 30 random base62 characters
// and a 6-character base62 CRC32 of everything before it, `tru_` (a user's key) or `tro_` (an
// organization's), 40 characters in all. A secret scanner, and the gateway before any database
// lookup, can tell a real key from a random string; a typo is caught before it costs a query. Keys
// made before this format (`tr-` + 32 alphanumerics, upstream's shape) have no checksum and keep working.
import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;

export const KEY_PREFIXES = Object.freeze({ user: 'tru_', organization: 'tro_' } as const);
export type KeyScope = keyof typeof KEY_PREFIXES;

const CHECKSUMMED = /^tr[uo]_[0-9A-Za-z]{36}$/;
const LEGACY = /^tr-[A-Za-z0-9]{32}$/;

/** CRC32 of `text` in base62, left-padded to 6 characters (62^6 > 2^32). */
export function checksum(text: string): string {
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new key of this kind: prefix, 30 crypto-random base62 characters (178 bits), checksum. */
export function generateApiKey(scope: KeyScope = 'user'): string {
  let body = KEY_PREFIXES[scope];
  for (let i = 0; i < RANDOM_LENGTH; i++) body += BASE62[randomInt(62)];
  return body + checksum(body);
}

/** Whether `key` can be a key of ours: a new key with a valid checksum, or a key of the old shape. */
export function isWellFormedApiKey(key: string): boolean {
  if (LEGACY.test(key)) return true;
  return CHECKSUMMED.test(key) && checksum(key.slice(0, -CHECKSUM_LENGTH)) === key.slice(-CHECKSUM_LENGTH);
}

/** SHA-256 of the whole key, hex: all that is ever stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Enough to recognise a key in a list, never enough to use it: its prefix and its last four characters. */
export function keyHint(key: string): string {
  return `${key.slice(0, key.startsWith('tr-') ? 3 : 4)}…${key.slice(-4)}`;
}
