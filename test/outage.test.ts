// When PostgreSQL goes away: fast 503s on REST and GraphQL, health says so, the process stays up,
// and the next requests after it returns succeed with no restart. Nothing half-written.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, DEFAULT_APP_CONFIG, type App } from '../src/app.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { initORM, type Database } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { bearer, CREATE_ORGANIZATION } from './helpers.js';
import { createPrivatePostgres, postgresBinDir, type PrivatePostgres } from './private-postgres.js';

const available = Boolean(postgresBinDir());
if (!available && !process.env.CI) console.warn('SKIPPED outage.test.ts: no PostgreSQL server binaries (initdb, pg_ctl) on this machine');

let pg: PrivatePostgres;
let db: Database;
let app: App;
let key: string;
const logLines: string[] = [];

beforeAll(async () => {
  if (!available && !process.env.CI) return;
  pg = await createPrivatePostgres();
  const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
  db = await initORM({ databaseUrl: pg.url, dataDir: '' }, { migrate: true, logger });
  app = createApp({ orm: db.orm, config: DEFAULT_APP_CONFIG, logger });
  key = (await createApiKey(db.orm.em.fork(), { email: 'outage@example.com' })).key;
});

afterAll(async () => {
  await db?.close();
  pg?.destroy();
});

const rest = (name: string) =>
  app.fetch(new Request('http://gateway.test/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify({ name }) }));
const graphql = (name: string) =>
  app.fetch(new Request('http://gateway.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify({ query: CREATE_ORGANIZATION, variables: { name } }) }));
const health = () => app.fetch(new Request('http://gateway.test/api/health'));

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

it.skipIf(!available && !process.env.CI)('fails fast with 503 while the database is down, and recovers without a restart', async () => {
  expect((await rest('before the outage')).status).toBe(200);

  pg.stop();

  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await timed(() => rest(`during the outage ${attempt}`));
    expect(r.ms).toBeLessThan(2_000);
    expect(r.value.status).toBe(503);
    expect(r.value.headers.get('retry-after')).toBe('1');
    expect(r.value.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.value.json()).toEqual({ message: 'Service Unavailable: the database is not reachable, try again shortly' });

    const g = await timed(() => graphql(`graphql during the outage ${attempt}`));
    expect(g.ms).toBeLessThan(2_000);
    expect(g.value.status).toBe(503);
    expect(g.value.headers.get('retry-after')).toBe('1');
    const body = await g.value.json();
    expect(body.errors).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE' } })]);
  }
  const down = await timed(health);
  expect(down.ms).toBeLessThan(2_000);
  expect([down.value.status, await down.value.json()]).toEqual([503, { status: 'unavailable' }]);

  pg.start();

  await expect.poll(async () => (await health()).status, { timeout: 10_000 }).toBe(200);
  const after = await rest('after the outage');
  expect(after.status).toBe(200);
  expect((await graphql('graphql after the outage')).status).toBe(200);

  const names = await db.orm.em.fork().getConnection().execute('select o.name, count(m.id)::int as owners from organizations o left join user_organizations m on m.organization_id = o.id and m.role = 2 group by o.name order by o.name');
  expect(names).toEqual([
    { name: 'after the outage', owners: 1 },
    { name: 'before the outage', owners: 1 },
    { name: 'graphql after the outage', owners: 1 },
  ]);
  expect(logLines.join('\n')).not.toContain(key);
});
