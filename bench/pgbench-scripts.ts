// Writes pgbench scripts of the gateway's own create statements into the folder given: `create.sql`
// (one create: insertOrganizationWithOwner) and `create-batch.sql` (ten creates sharing one statement:
// insertOrganizationsWithOwners), both with the create limit on (never reached), as by default. The
// statements are taken from src/organizations/organizations.ts as it sends them (a stand-in
// EntityManager records them), with each value replaced by what pgbench makes per transaction: a new
// name, new ids, one of 64 users (bench/pgbench-create.sh makes them). No SQL is copied here.
// Usage: tsx bench/pgbench-scripts.ts <folder>
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { insertOrganizationsWithOwners, insertOrganizationWithOwner } from '../src/organizations/organizations.js';

const LIMIT = { perMinute: 1_000_000, burst: 1_000_000 };
const PER_BATCH = 10;
const USER = '00000000-0000-4000-8000-00000000ffff';
const ORGANIZATION = '00000000-0000-4000-8000-00000000eeee';
const NAME = 'pgbench name';
/** User :u (0–63) of the 64 that bench/pgbench-create.sh makes, the `k`th after it as an SQL expression. */
const user = (k: string) => `('00000000-0000-4000-8000-0000000000' || lpad((1 + (:u + ${k}) % 64)::text, 2, '0'))::uuid`;
const name = (k: string) => `'pgbench ' || :client_id || ' ' || :n || ' ' || ${k} || ' ' || txid_current()`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The first statement `run` sends, with its values as pgbench expressions. */
async function statementOf(run: (em: EntityManager) => Promise<unknown>): Promise<string> {
  let sent: { sql: string; params: unknown[] } | undefined;
  const em = { execute: async (sql: string, params: unknown[]) => ((sent ??= { sql, params }), []) } as unknown as EntityManager;
  await run(em).catch(() => undefined); // nothing comes back: the create reads as refused, which is fine here
  const { sql, params } = sent!;
  let i = 0;
  const text = sql.replace(/\?/g, () => {
    const value = params[i++];
    if (value instanceof Date) return 'now()';
    if (typeof value === 'number') return String(value);
    if (value === USER) return user('0');
    if (value === NAME) return name('0');
    if (typeof value !== 'string') throw new Error(`unexpected parameter ${String(value)}`);
    if (UUID.test(value)) return 'gen_random_uuid()';
    if (value.startsWith('{')) return `'{}'`; // a live update's payload (nobody listens here)
    if (value.startsWith('[')) {
      // the batch's entries, made per transaction
      return `(select json_agg(json_build_object('ord', g, 'id', gen_random_uuid(), 'name', ${name('g')}, 'user_id', ${user('g')}, 'member_id', gen_random_uuid(), 'payload', '{}')) from generate_series(0, ${PER_BATCH - 1}) g)`;
    }
    return `'${value.replaceAll("'", "''")}'`; // the live updates' channel
  });
  if (i !== params.length) throw new Error('parameters left over');
  return `${text.trim()};\n`;
}

const folder = process.argv[2];
if (!folder) throw new Error('usage: tsx bench/pgbench-scripts.ts <folder>');
const header = '\\set n random(1, 2000000000)\n\\set u random(0, 63)\n';
writeFileSync(path.join(folder, 'create.sql'), header + (await statementOf((em) => insertOrganizationWithOwner(em, USER, ORGANIZATION, NAME, LIMIT))));
const entries = Array.from({ length: PER_BATCH }, (_, k) => ({ userId: USER, organizationId: ORGANIZATION, name: `${NAME} ${k}` }));
writeFileSync(path.join(folder, 'create-batch.sql'), header + (await statementOf((em) => insertOrganizationsWithOwners(em, entries, LIMIT))));
