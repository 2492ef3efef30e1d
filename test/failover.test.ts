// The failover drill: a primary with a synchronous standby behind PgBouncer (transaction pooling); the
// primary dies (SIGKILL, every server process) in the middle of a burst of creates; PgBouncer is pointed
// at the standby before and after its promotion, as a failover manager would do it. The gateway answers
// 503 with Retry-After while there is no primary (never a 500, never a hang), recovers with no restart,
// and a client that retries every failed create with its idempotency key ends with every acknowledged
// organization on the new primary and exactly one organization per key. Logs stay free of SQL and values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.js';
import { initORM } from '../src/db/orm.js';
import { usingPostgres } from './helpers.js';
import { createPrivatePostgres, createStandby, queryOnce, requireBinaries, startPgBouncer, type PgBouncer, type PrivatePostgres } from './private-postgres.js';
import { postJson, startServerProcess, type ServerProcess } from './processes.js';

const runs = usingPostgres && requireBinaries('failover.test.ts', { postgres: true, pgbouncer: true });

const CREATE = `mutation Create($name: String!, $key: String) {
  createOrganization(input: { name: $name, idempotencyKey: $key }) { __typename ... on Organization { id name } ... on Error { message } }
}`;

type Job = Readonly<{ index: number; name: string; key: string; via: 'rest' | 'graphql' }>;
type Answer = { status: number; id?: string; code?: string; retryAfter: string | null; ms: number } | { error: string; ms: number };

describe.runIf(runs)('(PostgreSQL runs only) failover: primary killed, synchronous standby promoted behind PgBouncer', () => {
  let primary: PrivatePostgres;
  let standby: PrivatePostgres;
  let bouncer: PgBouncer;
  let gateway: ServerProcess;
  let apiKey: string;

  beforeAll(async () => {
    primary = await createPrivatePostgres({ settings: { synchronous_standby_names: 'standby1', synchronous_commit: 'on' } });
    standby = await createStandby(primary, 'standby1');
    for (const deadline = Date.now() + 20_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const [replica] = await queryOnce<{ sync_state: string }>(primary.url, 'select sync_state from pg_stat_replication');
      if (replica?.sync_state === 'sync') break;
      if (Date.now() > deadline) throw new Error(`the standby did not become synchronous: ${JSON.stringify(replica)}`);
    }
    bouncer = await startPgBouncer(primary, { poolSize: 10 });
    gateway = await startServerProcess({ DATABASE_URL: bouncer.url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'info', DB_POOL_SIZE: '10', CREATE_LIMIT_PER_MINUTE: '0' /* 400 creates by one user */ });
    const db = await initORM({ databaseUrl: bouncer.url, dataDir: '' });
    try {
      apiKey = (await createApiKey(db.orm.em.fork(), { email: 'failover@example.com' })).key;
    } finally {
      await db.close();
    }
  });

  afterAll(async () => {
    if (gateway?.child.exitCode === null) gateway.child.kill('SIGKILL');
    await gateway?.exited;
    await bouncer?.stop();
    primary?.destroy();
    standby?.destroy();
  });

  async function send(job: Job): Promise<Answer> {
    const started = performance.now();
    const [path, headers, body] =
      job.via === 'rest'
        ? ['/api/organization', { 'idempotency-key': job.key }, { name: job.name }]
        : ['/graphql', {}, { query: CREATE, variables: { name: job.name, key: job.key } }];
    try {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const answer = await response.json();
      const id = job.via === 'rest' ? answer?.id : answer?.data?.createOrganization?.id;
      return { status: response.status, id, code: answer?.errors?.[0]?.extensions?.code, retryAfter: response.headers.get('retry-after'), ms: performance.now() - started };
    } catch (error) {
      return { error: String(error), ms: performance.now() - started };
    }
  }

  it('no acknowledged create is lost, each idempotency key makes one organization, 503 while there is no primary', { timeout: 120_000 }, async () => {
    const jobs: Job[] = Array.from({ length: 400 }, (_, index) => ({ index, name: `Failover ${index}`, key: `failover-key-${index}`, via: index % 2 ? 'graphql' : 'rest' }));
    const first = new Map<number, Answer>();
    let acknowledged = 0;
    let killed = false;

    // 16 clients in a burst; the primary dies once 100 creates have been acknowledged.
    let next = 0;
    const burst = Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let job = jobs[next++]; job; job = jobs[next++]) {
          const answer = await send(job);
          first.set(job.index, answer);
          if ('status' in answer && answer.status === 200 && ++acknowledged >= 100 && !killed) {
            killed = true;
            primary.kill();
          }
          // Once the primary is gone, keep the burst going slowly enough that the drill does not just race through.
          if (killed) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    await burst;
    expect(killed).toBe(true);
    const answers = [...first.values()];
    // Never a hang: every answer came well within PgBouncer's query_wait_timeout (5 s) plus our own 2 s.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(10_000);
    // Only 200 (before the kill, or just before it) and 503 (after it); never a 500, never a dropped connection.
    expect(answers.filter((a) => !('status' in a) || (a.status !== 200 && a.status !== 503))).toEqual([]);
    const failed = jobs.filter((job) => (first.get(job.index) as { status: number }).status === 503);
    expect(failed.length).toBeGreaterThan(0);
    for (const job of failed) expect((first.get(job.index) as { retryAfter: string }).retryAfter).toBe('1');
    for (const job of failed.filter((j) => j.via === 'graphql')) expect((first.get(job.index) as { code?: string }).code).toBe('SERVICE_UNAVAILABLE');

    // The failover manager points PgBouncer at the standby before it is promoted: it is read-only
    // (SQLSTATE 25006), and a write there is an outage answer, not a failure of ours.
    await bouncer.repoint(standby);
    const readOnly = await postJson(gateway.url, '/api/organization', { authorization: `Bearer ${apiKey}`, 'idempotency-key': 'failover-read-only' }, { name: 'Failover read-only' });
    expect(readOnly).toEqual({ status: 503, body: { message: 'Service Unavailable: the database is not reachable, try again shortly' } });

    standby.promote();
    await expect.poll(async () => (await fetch(`${gateway.url}/api/ready`)).status, { timeout: 20_000, interval: 100 }).toBe(200);

    // The client retries every create that failed, with the same idempotency key, until it is answered.
    const final = new Map<number, Answer>(first);
    for (const job of failed) {
      let answer: Answer = first.get(job.index)!;
      for (let attempt = 0; attempt < 20 && !('status' in answer && answer.status === 200); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        answer = await send(job);
      }
      expect(answer).toMatchObject({ status: 200 });
      final.set(job.index, answer);
    }
    // An acknowledged create retried after the failover answers the same organization (replayed, not made again).
    const acknowledgedJobs = jobs.filter((job) => (first.get(job.index) as { status: number }).status === 200);
    for (const job of acknowledgedJobs.slice(0, 20)) expect((await send(job) as { id?: string }).id).toBe((first.get(job.index) as { id?: string }).id);

    // On the new primary: every acknowledged organization, with the id it was acknowledged with; one per key.
    const rows = await queryOnce<{ id: string; name: string }>(standby.url, `select id, name from organizations where name like 'Failover %'`);
    expect(rows).toHaveLength(jobs.length);
    const byName = new Map(rows.map((r) => [r.name, r.id]));
    for (const job of jobs) expect(byName.get(job.name)).toBe((final.get(job.index) as { id?: string }).id);
    const owners = await queryOnce(standby.url, `select o.name from organizations o where o.name like 'Failover %' and not exists (select 1 from user_organizations m where m.organization_id = o.id and m.role = 2)`);
    expect(owners).toEqual([]);
    const keys = await queryOnce<{ n: number }>(standby.url, `select count(*)::int as n from idempotency_keys where key like 'failover-key-%'`);
    expect(keys).toEqual([{ n: jobs.length }]);
    console.info(`failover drill: ${jobs.length - failed.length} creates acknowledged, ${failed.length} answered 503 and retried with their keys, all ${jobs.length} on the new primary exactly once`);
  });

  it('the gateway logged the outage by SQLSTATE, with no SQL, key, hash or name in any line', () => {
    const output = gateway.output();
    const lines = output.split('\n').filter(Boolean);
    const failures = lines.filter((line) => line.includes('"DatabaseError"'));
    expect(failures.length).toBeGreaterThan(0);
    // Every error line is a database failure logged by name and SQLSTATE: no message, no stack.
    const errorLines = lines.filter((line) => line.startsWith('{') && JSON.parse(line).level >= 50).map((line) => JSON.parse(line));
    expect(errorLines.length).toBeGreaterThan(0);
    for (const line of errorLines) expect(Object.keys(line.err).sort()).toEqual(expect.arrayContaining(['name', 'type', 'unavailable']));
    expect(errorLines.filter((line) => line.err.type !== 'DatabaseError' || 'message' in line.err || 'stack' in line.err)).toEqual([]);
    expect(output).toContain('"sqlState":"25006"');
    for (const forbidden of [/insert into/i, /select .* from/i, /failover-key-/, /Failover \d/, /Failover read-only/, new RegExp(apiKey), /\\\$\d/]) {
      expect(lines.filter((line) => forbidden.test(line))).toEqual([]);
    }
  });
});
