// Several server processes on one PostgreSQL: races decided by the database, crash safety (SIGKILL),
// and graceful shutdown (SIGTERM) under a burst of creates.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { usingPostgres } from './helpers.js';
import { postJson, sharedDatabase, type Outcome, type ServerProcess } from './processes.js';

// Two processes can only share a database server: this file needs DATABASE_URL (CI's second run).
describe.runIf(usingPostgres)('(PostgreSQL only) several instances', () => {
  const shared = sharedDatabase('instances@example.com');
  const { servers, sql } = shared;
  const create = (server: ServerProcess, name: string, agent: http.Agent | false = false) =>
    postJson(server.url, '/api/organization', { authorization: `Bearer ${shared.key}` }, { name }, agent);
  const start = () => shared.start({ CREATE_LIMIT_PER_MINUTE: '0' /* bursts of 1,000 by one user */ });

  /** 300 creates at once; the signal goes out mid-burst, once 20 have been answered and others are in flight. */
  async function burstThenSignal(server: ServerProcess, prefix: string, signal: NodeJS.Signals): Promise<Outcome[]> {
    let answered200 = 0;
    const burst = Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const outcome = await create(server, `${prefix} ${i}`);
        if ('status' in outcome && outcome.status === 200) answered200++;
        return outcome;
      }),
    );
    await expect.poll(() => answered200, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(20);
    server.child.kill(signal);
    return burst;
  }

  it('two instances: 100 concurrent creates of one name give exactly one 200 and 99 clean 400s', async () => {
    const [a, b] = [await start(), await start()];
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => create(i % 2 ? a : b, 'One Name, Many Instances')));
    const statuses = outcomes.map((o) => ('status' in o ? o.status : JSON.stringify(o)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(99);
    for (const o of outcomes) if ('status' in o && o.status === 400) expect(o.body).toEqual({ message: 'An organization named "One Name, Many Instances" already exists' });
    expect(await sql(`select count(*)::int as n from organizations where name = 'One Name, Many Instances'`)).toEqual([{ n: 1 }]);
  });

  it('two instances: 1,000 concurrent distinct creates all succeed, each with exactly one owner', async () => {
    const [a, b] = servers;
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 64 }), new http.Agent({ keepAlive: true, maxSockets: 64 })];
    try {
      const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => create(i % 2 ? a! : b!, `Distinct ${i}`, agents[i % 2])));
      const failures = outcomes.filter((o) => !('status' in o) || o.status !== 200);
      expect(failures).toEqual([]);
      const ids = outcomes.map((o) => (o as { body: { id: string } }).body.id);
      const rows = await sql<{ id: string; owners: number }>(
        `select o.id, count(m.id)::int as owners from organizations o left join user_organizations m on m.organization_id = o.id and m.role = 2 where o.name like 'Distinct %' group by o.id`,
      );
      expect(rows).toHaveLength(1000);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
      expect(rows.every((r) => r.owners === 1)).toBe(true);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it('two processes: a subscriber on one hears the creates made on the other within a second, in order', async () => {
    const [a, b] = servers;
    const events: Array<{ kind: string; organizationId: string }> = [];
    let opened = false;
    const body = JSON.stringify({ query: 'subscription { organizationEvents { kind organizationId } }' });
    const request = http.request(`${b!.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${shared.key}` } }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        opened = true;
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.+)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data) events.push((JSON.parse(data) as { data: { organizationEvents: { kind: string; organizationId: string } } }).data.organizationEvents);
        }
      });
    });
    request.end(body);
    try {
      await expect.poll(() => opened, { timeout: 5000 }).toBe(true);
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const outcome = await create(a!, `Heard elsewhere ${i}`);
        ids.push((outcome as { body: { id: string } }).body.id);
      }
      await expect.poll(() => events.length, { timeout: 1000, interval: 10 }).toBe(3);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(events).toEqual(ids.map((organizationId) => ({ kind: 'CREATED', organizationId })));
    } finally {
      request.destroy();
    }
  });

  it('SIGKILL in the middle of a burst leaves no organization without its owner, and every 200 exists', async () => {
    const outcomes = await burstThenSignal(await start(), 'Crash', 'SIGKILL');
    const answered = outcomes.filter((o): o is { status: number; body: any } => 'status' in o && o.status === 200);
    const ids = answered.map((o) => o.body.id as string);
    expect(ids.length).toBeGreaterThan(0);
    const found = await sql<{ id: string }>(`select id from organizations where id in (${ids.map(() => '?').join(', ')})`, ids);
    expect(found).toHaveLength(ids.length);
    expect(await sql(`select o.id from organizations o where not exists (select 1 from user_organizations m where m.organization_id = o.id and m.role = 2)`)).toEqual([]);
    expect(outcomes.every((o) => !('status' in o) || o.status === 200)).toBe(true);
  });

  it('SIGTERM in the middle of a burst answers every request it accepted, then exits 0', async () => {
    const server = await start();
    const outcomes = await burstThenSignal(server, 'Shutdown', 'SIGTERM');
    // Connections still in the kernel's accept queue when the listener closes are refused or reset
    // before the server ever reads them (what SHUTDOWN_DELAY_MS and /api/ready exist for). A response
    // that began and broke would be an accepted request dropped: there must be none.
    expect(outcomes.filter((o) => 'truncated' in o)).toEqual([]);
    expect(outcomes.filter((o) => 'error' in o && o.error !== 'ECONNREFUSED' && o.error !== 'ECONNRESET')).toEqual([]);
    const answered = outcomes.filter((o) => 'status' in o);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((o) => 'status' in o && o.status === 200)).toBe(true);
    expect(await server.exited).toBe(0);
    const [row] = await sql<{ n: number }>(`select count(*)::int as n from organizations where name like 'Shutdown %'`);
    expect(row!.n).toBe(answered.length);
  });
});
