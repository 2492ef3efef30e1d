// Finds statements in a PostgreSQL log (log_statement = all) whose effect outlives their transaction.
// Through PgBouncer in transaction mode the next transaction may run on another server connection
// (and this one may serve another client), so such a statement is a bug wherever it appears.

/** What the server logged, one statement per entry: `execute <name>` for the extended protocol. */
export function loggedStatements(log: string): { portal: string | undefined; text: string }[] {
  const statements: { portal: string | undefined; text: string }[] = [];
  for (const entry of log.split(/\n(?=\[\d+\])/)) {
    const match = /^\[\d+\]\s*LOG:\s+(?:statement|execute ([^:]+)):\s*([\s\S]*)$/.exec(entry.trim());
    if (match) statements.push({ portal: match[1], text: match[2]!.trim() });
  }
  return statements;
}

const SESSION_SCOPED: readonly [string, RegExp][] = [
  ['SET / RESET (not SET LOCAL)', /(^|;)\s*(set(?!\s+local\b)(?!\s+constraints\b)|reset)\s/i],
  ['LISTEN / UNLISTEN', /(^|;)\s*(un)?listen\b/i],
  ['PREPARE / DEALLOCATE', /(^|;)\s*(prepare|deallocate)\b/i],
  ['session advisory lock', /\bpg_(try_)?advisory_(lock|unlock|unlock_all)(_shared)?\s*\(/i],
  ['temporary table', /\bcreate\s+(global\s+|local\s+)?temp(orary)?\s+table\b/i],
  ['set_config for the session', /\bset_config\s*\([^)]*,\s*false\s*\)/i],
  ['cursor WITH HOLD', /\bdeclare\b[\s\S]*\bwith\s+hold\b/i],
  ['LOAD / DISCARD', /(^|;)\s*(load|discard)\b/i],
];

/**
 * The one session-level SET that is harmless: MikroORM's migration runner opens every migration with
 * `set names 'utf8'` (client_encoding), the value node-postgres already asks for at connection start,
 * and a parameter PgBouncer tracks per client and restores on whichever server connection it uses.
 */
const HARMLESS = /^set names 'utf8';?$/i;

/** Each logged statement that is session-scoped, with the reason. */
export function sessionScopedStatements(log: string): { reason: string; statement: string }[] {
  const found: { reason: string; statement: string }[] = [];
  for (const { portal, text } of loggedStatements(log)) {
    if (HARMLESS.test(text)) continue;
    if (portal !== undefined && portal !== '<unnamed>') found.push({ reason: `named prepared statement ${portal}`, statement: text });
    for (const [reason, pattern] of SESSION_SCOPED) if (pattern.test(text)) found.push({ reason, statement: text });
  }
  return found;
}
