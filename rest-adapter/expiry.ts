// `expires_at` as upstream's `dateparser` reads the formats callers send: RFC 3339 (any offset), a
// date-time without a zone or a date alone (UTC here; upstream: the server's zone), unix seconds (or
// milliseconds, 13 digits). Anything else is refused (upstream silently makes a key that never expires).

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** The instant, or null when the text is not one of the accepted forms (or names no real time). */
export function readExpiry(text: string): Date | null {
  const trimmed = text.trim();
  if (/^\d{1,13}$/.test(trimmed)) {
    const value = Number(trimmed);
    return new Date(trimmed.length === 13 ? value : value * 1000);
  }
  const match = DATE_TIME.exec(trimmed);
  if (!match) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone] = match;
  const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const local = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), ms);
  const check = new Date(local);
  // No rolling over: 2030-02-30 or 25:00 are not dates.
  if (check.getUTCFullYear() !== Number(year) || check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || check.getUTCHours() !== Number(hour) || check.getUTCMinutes() !== Number(minute)) {
    return null;
  }
  if (!zone || zone.toUpperCase() === 'Z') return check;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return new Date(local - sign * offsetMinutes * 60_000);
}
