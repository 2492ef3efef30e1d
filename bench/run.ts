// npm run bench: the gateway's REST and GraphQL creates (the compiled build) against a minimal
// node:http + pg floor and against PostGraphile v5 doing the same job (the peer), measured alternately
// in one run on one PostgreSQL, reported as ratios. Writes bench/results.md.
//   DATABASE_URL  server to use (scratch databases are created on it and dropped), default local
//   BENCH_SECONDS measured seconds per window (5), BENCH_REPS windows per path and level (3),
//   BENCH_QUICK=1 levels 32 only and no 1M-row step, WORKERS gateway processes (1)
//   BENCH_ONLY=live only the idle live update streams' memory (results.md untouched)
//   PEER_DIR      the PostGraphile peer (default ../shared/peers/postgraphile); skipped when absent
//   Load: Debian's wrk (C, one thread) when installed, else autocannon (which burns a core itself).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync, cpSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { createApp, DEFAULT_APP_CONFIG } from '../src/app.js';
import type { CreateRateLimit } from '../src/organizations/rate-limit.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { initORM } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { countStatements } from '../test/helpers.js';
import { sparePort } from '../test/private-postgres.js';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
// Odd, so the median is a measured window (with 2 it was the higher of the two).
const REPS = Number(process.env.BENCH_REPS ?? 3);
const QUICK = process.env.BENCH_QUICK === '1';
/** BENCH_ONLY=live: only what idle live update streams cost (a minute; results.md untouched). */
const ONLY = process.env.BENCH_ONLY;
const WORKERS = Number(process.env.WORKERS ?? 1);
const LEVELS = QUICK ? [32] : [1, 32, 128];
const CREATE_MUTATION = 'mutation Create($name: String!) { createOrganization(input: { name: $name }) { __typename ... on Organization { id name createdAt updatedAt registerable deleted partnerConfiguration } ... on Error { message } } }';

type Path = 'floor' | 'rest' | 'graphql' | 'postgraphile';
/**
 * The gateway as users run it, defaults on: the per-user create limit is on, high enough never to refuse
 * here and spread over 64 users (every path sends their keys in turn), so every create does the bucket's work.
 */
const GATEWAY_ENV = { PORT: '0', LOG_LEVEL: 'info', MIGRATE_ON_START: 'false', CREATE_LIMIT_PER_MINUTE: '1000000', CREATE_LIMIT_BURST: '1000000' };
/** The headline gateway process, in a feature row. */
const DEFAULT = 'the gateway as measured above';
type Feature = { label: string; off: Record<string, string> | typeof DEFAULT; on: Record<string, string> | typeof DEFAULT; keys: string };
/** Optional features and choices, on against off (c=32); `otlp` is a local sink's URL. */
const features = (otlp: string, oneUser: string, manyUsers: string): Feature[] => [
  // The limit (on above) against none; and all creates from one user, the case the limit exists for,
  // far above any sane rate: a batch then takes that user's tokens at once.
  { label: 'create limit on (never reached), 64 users', off: { CREATE_LIMIT_PER_MINUTE: '0' }, on: DEFAULT, keys: manyUsers },
  { label: 'create limit on (never reached), 1 user', off: { CREATE_LIMIT_PER_MINUTE: '0' }, on: DEFAULT, keys: oneUser },
  // Concurrent creates sharing statements (on by default) against every create alone (as many
  // statements in flight and connections as wrk's connections: nobody ever waits to share).
  { label: 'creates share statements (off: CREATE_STATEMENTS_IN_FLIGHT=32, DB_POOL_SIZE=32)', off: { CREATE_STATEMENTS_IN_FLIGHT: '32', DB_POOL_SIZE: '32' }, on: DEFAULT, keys: manyUsers },
  // Every request traced and exported (OTLP/HTTP JSON to a sink in this process that reads and drops it).
  { label: 'tracing on (100% sampled)', off: DEFAULT, on: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_TRACES_SAMPLER: 'always_on' }, keys: manyUsers },
  { label: 'tracing on (10% sampled)', off: DEFAULT, on: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, keys: manyUsers },
  // Memory for speed: V8 sizes its young generation from the machine's memory (64 MB semi-spaces here);
  // `serve` starts with 32 MB ones (bin/trieve-gateway.js), against V8's own size and a smaller one.
  { label: 'V8 young generation at 32 MB semi-spaces, the default (off: V8\'s own size here, NODE_OPTIONS=--max-semi-space-size=64)', off: { NODE_OPTIONS: '--max-semi-space-size=64' }, on: DEFAULT, keys: manyUsers },
  { label: 'V8 young generation at 16 MB semi-spaces (NODE_OPTIONS=--max-semi-space-size=16)', off: DEFAULT, on: { NODE_OPTIONS: '--max-semi-space-size=16' }, keys: manyUsers },
];

/** An OTLP/HTTP receiver that reads every export and drops it, counting spans' bytes. */
async function startOtlpSink(): Promise<{ url: string; bytes(): number; close(): Promise<void> }> {
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
const PEER_DIR = path.resolve(process.env.PEER_DIR ?? '../shared/peers/postgraphile');
const PEER_MUTATION = 'mutation($n: String!) { createOrganization(input: { name: $n }) { result { id } } }';
const WRK = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();
/** One measured window: throughput, client-side latency, errors, and the server process's own cost over it. */
type Window = { rps: number; p50: number; p99: number; errors: number; cpuUsPerRequest?: number; dbCpuUsPerRequest?: number; peakRssMb?: number; statementsPerCreate?: number };

const log = (line: string) => process.stdout.write(`${line}\n`);

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

type Proc = { child: ChildProcess; url: string; peakRss: number; windowRss: number; sample(): void };

function rssOf(pid: number): number {
  // The process and, under WORKERS, its children: whole-server memory.
  let total = 0;
  const pids = [pid, ...childPids(pid)];
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) the server has used so far: the process and, under WORKERS, its children. */
function cpuMsOf(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...childPids(pid)]) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * CPU time of PostgreSQL on this machine (backends, WAL writer, checkpointer, autovacuum: all that a
 * create costs the database), in ms: every running postgres process's own, plus what the postmaster
 * has collected from its children that exited (a pool closing an idle connection, an autovacuum worker
 * finishing). Taken around one path's window, it is that path's: the other servers are idle meanwhile.
 */
function postgresCpuMs(): number {
  const processes = new Map<number, { ppid: number; own: number; reaped: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes(' (postgres) ')) continue;
      // After the command name: state, ppid, …; utime, stime, cutime, cstime are the 12th to 15th.
      const fields = stat.split(') ')[1]!.split(' ');
      processes.set(Number(entry), { ppid: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]) });
    } catch {
      // exited
    }
  }
  let ticks = 0;
  for (const { ppid, own, reaped } of processes.values()) ticks += own + (processes.has(ppid) ? 0 : reaped);
  return (ticks * 1000) / CLOCK_TICKS;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function startProcess(command: string[], env: Record<string, string>, pattern: RegExp): Promise<Proc> {
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk) => {
      if (out.length < 10_000) out += chunk;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const proc: Proc = { child, url, peakRss: 0, windowRss: 0, sample: () => sampleRss(proc) };
  return proc;
}

/** Peak RSS over the whole run and over the current window. */
function sampleRss(proc: Proc): void {
  const rss = rssOf(proc.child.pid!);
  proc.peakRss = Math.max(proc.peakRss, rss);
  proc.windowRss = Math.max(proc.windowRss, rss);
}

let counter = 0;
/** What each path sends: URL path, Authorization (keys separated by "|" are used in turn), and the body with a %s for the name. */
function requestShape(kind: Path, key: string): { path: string; auth: string; body: string } {
  const auth = key.split('|').map((k) => `Bearer ${k}`).join('|');
  if (kind === 'postgraphile') return { path: '/graphql', auth: 'bench-key', body: JSON.stringify({ query: PEER_MUTATION, variables: { n: '%s' } }) };
  if (kind === 'graphql') return { path: '/graphql', auth, body: JSON.stringify({ query: CREATE_MUTATION, variables: { name: '%s' } }) };
  return { path: '/api/organization', auth, body: JSON.stringify({ name: '%s' }) };
}

async function measure(proc: Proc, kind: Path, key: string, connections: number, seconds: number): Promise<Window> {
  const prefix = `${kind}-${randomBytes(4).toString('hex')}`;
  const shape = requestShape(kind, key);
  proc.windowRss = 0;
  const sampler = setInterval(() => proc.sample(), 200);
  const gateway = kind === 'rest' || kind === 'graphql';
  const statementsBefore = gateway ? await createStatements(proc) : undefined;
  const cpuBefore = cpuMsOf(proc.child.pid!);
  const dbCpuBefore = postgresCpuMs();
  let window: Window;
  try {
    if (WRK) {
      window = await runWrk(proc.url, shape, prefix, connections, seconds);
    } else {
      const result = await autocannon({
        url: proc.url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: shape.path,
            headers: { 'content-type': 'application/json', authorization: shape.auth.split('|')[0]! },
            setupRequest: (req) => ({ ...req, body: shape.body.replace('%s', `${prefix}-${counter++}`) }),
          },
        ],
      });
      window = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx };
    }
  } finally {
    clearInterval(sampler);
    proc.sample();
  }
  const requests = window.rps * seconds;
  const perRequest = (ms: number) => (requests > 0 ? (ms * 1000) / requests : undefined);
  const cpu = { cpuUsPerRequest: perRequest(cpuMsOf(proc.child.pid!) - cpuBefore), dbCpuUsPerRequest: perRequest(postgresCpuMs() - dbCpuBefore) };
  const statementsAfter = gateway ? await createStatements(proc) : undefined;
  const statementsPerCreate =
    statementsBefore && statementsAfter && statementsAfter.creates > statementsBefore.creates
      ? (statementsAfter.statements - statementsBefore.statements) / (statementsAfter.creates - statementsBefore.creates)
      : undefined;
  return { ...window, ...cpu, peakRssMb: proc.windowRss / 2 ** 20, statementsPerCreate };
}

/** The gateway's create statements so far and the creates they carried (its /metrics, from loopback). */
async function createStatements(proc: Proc): Promise<{ statements: number; creates: number } | undefined> {
  const text = await fetch(`${proc.url}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const [statements, creates] = [value('organization_create_statement_creates_count'), value('organization_create_statement_creates_sum')];
  return Number.isFinite(statements) && Number.isFinite(creates) ? { statements, creates } : undefined;
}

/** One wrk window (one thread: the load generator takes as little of the 2 cores as it can). */
function runWrk(url: string, shape: { path: string; auth: string; body: string }, prefix: string, connections: number, seconds: number): Promise<Window> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', 'bench/create.lua', url], {
      env: { ...process.env, BENCH_PATH: shape.path, BENCH_AUTH: shape.auth, BENCH_BODY: shape.body.replaceAll('%', '%%').replace('%%s', '%s'), BENCH_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      const m = /RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)/.exec(out);
      if (code !== 0 || !m) return reject(new Error(`wrk failed (${code}): ${out}`));
      const [, requests, micros, p50, p99, errors] = m.map(Number) as number[];
      resolve({ rps: requests! / (micros! / 1e6), p50: p50!, p99: p99!, errors: errors! });
    });
  });
}

/** PostGraphile v5 (the peer) in its own database, installed from its lock file in a scratch folder. */
async function startPeer(baseUrl: string): Promise<{ proc: Proc; url: string; cleanup(): Promise<void> } | undefined> {
  if (!existsSync(path.join(PEER_DIR, 'server.mjs'))) {
    log(`peer: ${PEER_DIR} not found, PostGraphile column skipped`);
    return undefined;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-peer-'));
  cpSync(PEER_DIR, dir, { recursive: true });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  const name = `gateway_bench_peer_${randomBytes(4).toString('hex')}`;
  await admin(baseUrl, (c) => c.query(`create database "${name}"`));
  const url = withDatabase(baseUrl, name);
  await admin(url, (c) => c.query(readFileSync(path.join(dir, 'schema.sql'), 'utf8')));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['server.mjs'], { cwd: dir, env: { ...process.env, DATABASE_URL: url, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' }).then(() => true, () => false);
    if (up) break;
    if (i > 300) throw new Error('PostGraphile did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const proc: Proc = { child, url: base, peakRss: 0, windowRss: 0, sample: () => sampleRss(proc) };
  return {
    proc,
    url,
    cleanup: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
      await admin(baseUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Database statements per create, counted by a hook on the pg driver, in-process. */
async function roundTrips(databaseUrl: string, key: string, createRateLimit: CreateRateLimit): Promise<Record<Path, number>> {
  const statements = countStatements();
  const db = await initORM({ databaseUrl, dataDir: '' });
  const app = createApp({ orm: db.orm, config: { ...DEFAULT_APP_CONFIG, createRateLimit }, logger: createLogger('silent') });
  const perCreate = async (send: (i: number) => Promise<Response>) => {
    await send(-1); // warm the pool and caches
    await app.lastUsed.flush(); // the key's "last used" (once a minute) is written now, not among the creates counted
    const before = statements.count();
    for (let i = 0; i < 20; i++) if ((await send(i)).status !== 200) throw new Error('round-trip probe failed');
    return (statements.count() - before) / 20;
  };
  const tag = randomBytes(4).toString('hex');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  try {
    const rest = await perCreate((i) => app.fetch(new Request('http://bench/api/organization', { method: 'POST', headers, body: JSON.stringify({ name: `rt-rest-${tag}-${i}` }) })));
    const graphql = await perCreate((i) =>
      app.fetch(new Request('http://bench/graphql', { method: 'POST', headers, body: JSON.stringify({ query: CREATE_MUTATION, variables: { name: `rt-gql-${tag}-${i}` } }) })),
    );
    return { floor: 1, rest, graphql, postgraphile: 1 };
  } finally {
    statements.restore();
    await app.close();
    await db.close();
  }
}

type Memory = { rss: number; heap: number };

/** The gateway's memory after a full GC, asked through its inspector (Chrome DevTools protocol): RSS from /proc, V8 heap used. */
async function settledMemory(inspectPort: number, pid: number): Promise<Memory> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ((socket.onopen = resolve), (socket.onerror = reject)));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<{ result?: { result?: { value?: string } } }>((resolve) => {
      const mine = ++id;
      socket.addEventListener('message', function onMessage(message) {
        const reply = JSON.parse(String(message.data)) as { id?: number };
        if (reply.id !== mine) return;
        socket.removeEventListener('message', onMessage);
        resolve(reply as never);
      });
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const reply = await call('Runtime.evaluate', { expression: 'String(process.memoryUsage().heapUsed)', returnByValue: true });
    return { rss: rssOf(pid) / 2 ** 20, heap: Number(reply.result!.result!.value) / 2 ** 20 };
  } finally {
    socket.close();
  }
}

/**
 * What idle live update streams cost the gateway: a process of its own (LIVE_STREAMS_PER_KEY raised so
 * one key holds them all) that first serves 2 s of creates and one stream (as a running server has: the
 * listener, code paths, pools and a used heap exist), then 1,000 streams opened over their own
 * connections and 1,000 more, each past its first ping. After each step, 3 s of quiet and a full GC
 * (through the inspector): RSS, and the V8 heap in use, which is what the streams hold. RSS also moves
 * with V8's young generation, which V8 resizes for bursts like opening 1,000 streams; so the same steps
 * run again with the young generation fixed at 16 MB semi-spaces (`pinned`).
 */
async function idleStreams(url: string, key: string, pinned: boolean): Promise<{ steps: Memory[] }> {
  const inspectPort = await sparePort();
  const flags = [`--inspect=127.0.0.1:${inspectPort}`, ...(pinned ? ['--max-semi-space-size=16', '--min-semi-space-size=16'] : [])];
  const proc = await startProcess(
    [process.execPath, ...flags, 'bin/trieve-gateway.js', 'serve'],
    { ...GATEWAY_ENV, DATABASE_URL: url, LIVE_STREAMS_PER_KEY: '2001' },
    /GraphQL and GraphiQL: (http:\/\/[^/\s]+)\/graphql/,
  );
  proc.child.stdout!.resume();
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ query: 'subscription { organizationEvents { kind organizationId } }' });
      const request = http.request(`${proc.url}/graphql`, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) } }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`subscription answered ${response.statusCode}`));
        response.once('data', () => resolve()); // the first ping: the stream is open
      });
      request.on('error', reject);
      request.end(body);
      requests.push(request);
    });
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return settledMemory(inspectPort, proc.child.pid!);
  };
  try {
    // As a server that has been serving: 2 s of creates first (V8 has sized and touched its heap), and one stream.
    await measure(proc, 'graphql', key, 32, 2);
    await open();
    requests.pop()!.destroy();
    const steps = [await settle()];
    for (let thousand = 0; thousand < 2; thousand++) {
      for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, open));
      steps.push(await settle());
    }
    return { steps };
  } finally {
    for (const request of requests) request.destroy();
    agent.destroy();
    proc.child.kill('SIGTERM');
    await new Promise((resolve) => (proc.child.exitCode !== null ? resolve(null) : proc.child.on('exit', resolve)));
  }
}

/** What one primary takes of the create statements with nothing in front (pgbench, when installed): one per statement and ten per shared statement, as a sentence. */
function pgbenchCeiling(): string | undefined {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
  } catch {
    log('pgbench not found: the PostgreSQL ceiling is skipped');
    return undefined;
  }
  const out = execFileSync('bash', ['bench/pgbench-create.sh', '32', '10'], { env: { ...process.env, DATABASE_URL: BASE_URL }, encoding: 'utf8' });
  const [one, shared] = [...out.matchAll(/creates\/s = (\d+)/g)].map((m) => Number(m[1]));
  return one && shared ? `${one} creates/s one per statement, ${shared} creates/s ten per shared statement (${(shared / one).toFixed(1)}×), at 32 clients` : undefined;
}

/** Both runs of idleStreams, as the results' table. */
async function idleStreamsTable(url: string, key: string): Promise<string> {
  const mb = (n: number) => n.toFixed(1);
  let rows = '';
  for (const pinned of [false, true]) {
    const { steps } = await idleStreams(url, key, pinned);
    log(`  idle live update streams${pinned ? ' (young generation fixed)' : ''}: ${steps.map((m) => `RSS ${m.rss.toFixed(0)} MB, heap ${m.heap.toFixed(1)} MB`).join(' -> ')}`);
    const [none, one, two] = steps as [Memory, Memory, Memory];
    rows += `| ${pinned ? 'young generation fixed (16 MB semi-spaces)' : 'defaults'} | ${mb(none.rss)} MB / ${mb(none.heap)} MB | ${mb(one.rss - none.rss)} MB / ${mb(one.heap - none.heap)} MB | ${mb(two.rss - one.rss)} MB / ${mb(two.heap - one.heap)} MB |\n`;
  }
  return `\nIdle live update streams (subscriptions over SSE, one connection each) on one gateway process, after 3 s of quiet and a full GC; RSS / V8 heap in use:\n\n| gateway | none open | the first 1,000 add | the next 1,000 add |\n|---|---|---|---|\n${rows}`;
}

async function embeddedStartMs(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-start-'));
  const started = performance.now();
  const proc = await startProcess([process.execPath, 'bin/trieve-gateway.js', 'serve'], { DATA_DIR: dir, PORT: '0', DATABASE_URL: '', LOG_LEVEL: 'warn' }, /GraphQL and GraphiQL: (http:\/\/[^/\s]+)\/graphql/);
  for (;;) {
    const ok = await fetch(`${proc.url}/api/health`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - started;
  proc.child.kill('SIGTERM');
  await new Promise((r) => proc.child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function main() {
  const name = `gateway_bench_${randomBytes(4).toString('hex')}`;
  await admin(BASE_URL, (c) => c.query(`create database "${name}"`));
  const url = withDatabase(BASE_URL, name);
  const procs: Proc[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const setup = await initORM({ databaseUrl: url, dataDir: '' }, { migrate: true });
    const { key } = await createApiKey(setup.orm.em.fork(), { email: 'bench@example.com' });
    // 64 users' keys, used in turn (wrk's script takes them separated by "|").
    const many: string[] = [];
    for (let i = 0; i < 64; i++) many.push((await createApiKey(setup.orm.em.fork(), { email: `bench-${i}@example.com` })).key);
    const manyKeys = many.join('|');
    await setup.close();
    if (ONLY === 'live') {
      log(await idleStreamsTable(url, key));
      return;
    }

    log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}, ${SECONDS}s windows × ${REPS}, workers ${WORKERS}, load ${WRK ? 'wrk -t1' : 'autocannon'}`);
    const peer = await startPeer(BASE_URL);
    if (peer) cleanups.push(peer.cleanup);
    const floor = await startProcess([process.execPath, 'bench/floor.mjs'], { DATABASE_URL: url, PORT: '0' }, /FLOOR (http:\/\/\S+)/);
    const gateway = await startProcess(
      [process.execPath, 'bin/trieve-gateway.js', 'serve'],
      // Defaults on, the create limit included (what it costs is measured below, side by side).
      { ...GATEWAY_ENV, DATABASE_URL: url, WORKERS: String(WORKERS) },
      /GraphQL and GraphiQL: (http:\/\/[^/\s]+)\/graphql/,
    );
    procs.push(floor, gateway);
    // The gateway's access log goes to a pipe we drain, as a log shipper would.
    gateway.child.stdout!.resume();

    const targets: Partial<Record<Path, Proc>> = { floor, rest: gateway, graphql: gateway, ...(peer && { postgraphile: peer.proc }) };
    const kinds = (['floor', 'rest', 'graphql', 'postgraphile'] as Path[]).filter((kind) => targets[kind]);
    const results: Record<number, Record<Path, Window[]>> = {};
    for (const connections of LEVELS) {
      for (const kind of kinds) await measure(targets[kind]!, kind, manyKeys, connections, 2); // warm-up
      results[connections] = { floor: [], rest: [], graphql: [], postgraphile: [] };
      for (let rep = 0; rep < REPS; rep++) {
        const order: Path[] = rep % 2 ? [...kinds].reverse() : kinds;
        for (const kind of order) {
          const w = await measure(targets[kind]!, kind, manyKeys, connections, SECONDS);
          results[connections]![kind].push(w);
          log(`  c=${connections} ${kind.padEnd(7)} ${w.rps.toFixed(0).padStart(6)} req/s  p50 ${w.p50} ms  p99 ${w.p99} ms  errors ${w.errors}`);
        }
      }
    }

    const trips = await roundTrips(url, key, null);
    // The same with a create limit on (high enough never to refuse): it rides in the create statement.
    const limitedTrips = await roundTrips(url, key, { perMinute: 1_000_000, burst: 1_000_000 });

    // WORKERS: the same REST load on one process and on two (node:cluster), side by side.
    let scaling = '';
    if (WORKERS === 1) {
      const two = await startProcess(
        [process.execPath, 'bin/trieve-gateway.js', 'serve'],
        { ...GATEWAY_ENV, DATABASE_URL: url, WORKERS: '2' },
        /GraphQL and GraphiQL: (http:\/\/[^/\s]+)\/graphql/,
      );
      procs.push(two);
      two.child.stdout!.resume();
      await measure(two, 'rest', key, 32, 2);
      const one = await measure(gateway, 'rest', key, 32, SECONDS);
      const both = await measure(two, 'rest', key, 32, SECONDS);
      scaling = `\nREST create at 32 connections, WORKERS=1: ${one.rps.toFixed(0)} req/s; WORKERS=2: ${both.rps.toFixed(0)} req/s (${(both.rps / one.rps).toFixed(2)}×; peak RSS of the two workers and their supervisor ${(two.peakRss / 2 ** 20).toFixed(0)} MB).\n`;
      two.child.kill('SIGTERM');
    }

    // What optional features cost: the same gateway with one feature on, against it off, alternating.
    let featureRows = '';
    const sink = await startOtlpSink();
    cleanups.push(sink.close);
    for (const { label, off: offEnv, on: onEnv, keys } of features(sink.url, key, manyKeys)) {
      const variant = await startProcess(
        [process.execPath, 'bin/trieve-gateway.js', 'serve'],
        { ...GATEWAY_ENV, DATABASE_URL: url, ...(offEnv === DEFAULT ? onEnv : offEnv) as Record<string, string> },
        /GraphQL and GraphiQL: (http:\/\/[^/\s]+)\/graphql/,
      );
      procs.push(variant);
      variant.child.stdout!.resume();
      const [off, on] = offEnv === DEFAULT ? [gateway, variant] : [variant, gateway];
      const windows: Record<'off' | 'on', Record<'rest' | 'graphql', Window[]>> = { off: { rest: [], graphql: [] }, on: { rest: [], graphql: [] } };
      for (const kind of ['rest', 'graphql'] as const) await measure(variant, kind, keys, 32, 2);
      for (let rep = 0; rep < REPS; rep++) {
        for (const [which, proc] of (rep % 2 ? [['on', on], ['off', off]] : [['off', off], ['on', on]]) as [('off' | 'on'), Proc][]) {
          for (const kind of ['rest', 'graphql'] as const) windows[which][kind].push(await measure(proc, kind, keys, 32, SECONDS));
        }
      }
      for (const kind of ['rest', 'graphql'] as const) {
        const offRps = median(windows.off[kind].map((w) => w.rps));
        const onRps = median(windows.on[kind].map((w) => w.rps));
        const errors = windows.on[kind].reduce((n, w) => n + w.errors, 0);
        const rss = (which: 'off' | 'on') => Math.max(...windows[which][kind].map((w) => w.peakRssMb ?? 0)).toFixed(0);
        const both = (which: 'off' | 'on') => median(windows[which][kind].map((w) => (w.cpuUsPerRequest ?? NaN) + (w.dbCpuUsPerRequest ?? NaN))).toFixed(0);
        featureRows += `| ${label} | ${kind === 'rest' ? 'REST' : 'GraphQL'} | ${offRps.toFixed(0)} req/s | ${onRps.toFixed(0)} req/s | ${(onRps / offRps).toFixed(2)}× | ${median(windows.on[kind].map((w) => w.p99))} ms | ${errors} | ${both('off')} µs | ${both('on')} µs | ${rss('off')} MB | ${rss('on')} MB |\n`;
        log(`  ${label} ${kind}: off ${offRps.toFixed(0)} req/s, on ${onRps.toFixed(0)} req/s`);
      }
      variant.child.kill('SIGTERM');
    }

    let growth = '';
    if (!QUICK) {
      const before = { floor: await measure(floor, 'floor', key, 32, SECONDS), rest: await measure(gateway, 'rest', key, 32, SECONDS) };
      const [{ n }] = (await admin(url, (c) => c.query('select count(*)::int as n from organizations'))).rows;
      log(`filling organizations to 1,000,000 rows (has ${n})`);
      await admin(url, async (c) => {
        // The gateway set STATEMENT_TIMEOUT_MS as its role's default here; the fill takes longer.
        await c.query('set statement_timeout = 0');
        await c.query(`insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
          select gen_random_uuid(), 'filler-' || g, now(), now(), true, 0, '{}'::jsonb from generate_series(1, ${Math.max(0, 1_000_000 - n)}) g`);
        await c.query('vacuum analyze organizations');
      });
      const after = { floor: await measure(floor, 'floor', key, 32, SECONDS), rest: await measure(gateway, 'rest', key, 32, SECONDS) };
      growth =
        `| REST create at 32 connections | ${before.rest.rps.toFixed(0)} req/s | ${after.rest.rps.toFixed(0)} req/s | ${(after.rest.rps / before.rest.rps).toFixed(2)}× |\n` +
        `| floor at 32 connections | ${before.floor.rps.toFixed(0)} req/s | ${after.floor.rps.toFixed(0)} req/s | ${(after.floor.rps / before.floor.rps).toFixed(2)}× |\n`;
    }

    const startMs = await embeddedStartMs();
    const live = await idleStreamsTable(url, key);
    const ceiling = pgbenchCeiling();

    // API keys' "last used": every row update of api_keys in the run is one (nothing else updates keys here).
    const [usage] = (
      await admin(url, (c) =>
        c.query(`select (select n_tup_upd from pg_stat_user_tables where relname = 'api_keys')::int as updates,
                        (select count(*) from organizations where name not like 'filler-%')::int as creates,
                        (select count(*) from api_keys where last_used_at is not null)::int as keys`),
      )
    ).rows as Array<{ updates: number; creates: number; keys: number }>;

    let table = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, Node ${process.version}, PostgreSQL on loopback, ${WORKERS} gateway process(es), load from ${WRK ? '`wrk -t1` (C, one thread)' : 'autocannon'}; medians of ${REPS} alternating ${SECONDS}s windows after a 2s warm-up. The gateway runs with its defaults, the per-user create limit on (never reached: every path sends 64 users' keys in turn).\n\n`;
    table += '| connections | path | req/s | × floor | × PostGraphile | p50 ms | p99 ms | p99 × floor | errors | server CPU µs per request | PostgreSQL CPU µs per request | both, × floor | create statements per create |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
    for (const connections of LEVELS) {
      const r = results[connections]!;
      const f = { rps: median(r.floor.map((w) => w.rps)), p99: median(r.floor.map((w) => w.p99)) };
      const peerRps = r.postgraphile.length ? median(r.postgraphile.map((w) => w.rps)) : undefined;
      for (const kind of kinds) {
        const rps = median(r[kind].map((w) => w.rps));
        const p50 = median(r[kind].map((w) => w.p50));
        const p99 = median(r[kind].map((w) => w.p99));
        const errors = r[kind].reduce((s, w) => s + w.errors, 0);
        const vsPeer = peerRps && (kind === 'graphql' || kind === 'postgraphile') ? (rps / peerRps).toFixed(2) : '';
        const cpuOf = (windows: Window[], field: 'cpuUsPerRequest' | 'dbCpuUsPerRequest') => (windows.some((w) => w[field] === undefined) ? undefined : median(windows.map((w) => w[field]!)));
        const [cpu, dbCpu] = [cpuOf(r[kind], 'cpuUsPerRequest'), cpuOf(r[kind], 'dbCpuUsPerRequest')];
        const floorBoth = (cpuOf(r.floor, 'cpuUsPerRequest') ?? NaN) + (cpuOf(r.floor, 'dbCpuUsPerRequest') ?? NaN);
        const both = cpu !== undefined && dbCpu !== undefined ? ((cpu + dbCpu) / floorBoth).toFixed(2) : '';
        const perCreate = r[kind].some((w) => w.statementsPerCreate === undefined) ? (kind === 'floor' ? '1' : '') : median(r[kind].map((w) => w.statementsPerCreate!)).toFixed(2);
        table += `| ${connections} | ${kind} | ${rps.toFixed(0)} | ${(rps / f.rps).toFixed(2)} | ${vsPeer} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${(p99 / f.p99).toFixed(2)} | ${errors} | ${cpu?.toFixed(0) ?? ''} | ${dbCpu?.toFixed(0) ?? ''} | ${both} | ${perCreate} |\n`;
      }
    }
    table += `\n| | floor | REST | GraphQL |\n|---|---|---|---|\n`;
    table += `| database statements per create | ${trips.floor} | ${trips.rest.toFixed(1)} | ${trips.graphql.toFixed(1)} |\n`;
    table += `| … with the create limit on | | ${limitedTrips.rest.toFixed(1)} | ${limitedTrips.graphql.toFixed(1)} |\n`;
    table += `| API keys' "last used" writes in the whole run (off the request path, at most one per key per minute) | | ${usage!.updates} row updates (${usage!.keys} keys) for ${usage!.creates} creates: ${((usage!.updates / Math.max(1, usage!.creates)) * 100).toFixed(3)} % of a statement per create | |\n`;
    table += `| server peak RSS | ${(floor.peakRss / 2 ** 20).toFixed(0)} MB | ${(gateway.peakRss / 2 ** 20).toFixed(0)} MB (REST and GraphQL share the process) | |\n`;
    if (peer) table += `| PostGraphile peak RSS | | | ${(peer.proc.peakRss / 2 ** 20).toFixed(0)} MB |\n`;
    table += `\n| | empty table | 1,000,000 organizations | ratio |\n|---|---|---|---|\n${growth || '| (skipped: BENCH_QUICK) | | | |\n'}`;
    table += scaling;
    if (featureRows) table += `\n| feature (c=32) | path | off | on | on ÷ off | p99 on | errors on | CPU per create off (gateway + PostgreSQL) | on | peak RSS off | peak RSS on |\n|---|---|---|---|---|---|---|---|---|---|---|\n${featureRows}`;
    if (sink.bytes() > 0) table += `\nTraces exported while tracing was on: ${(sink.bytes() / 2 ** 20).toFixed(1)} MB of OTLP/HTTP JSON.\n`;
    table += live;
    if (ceiling) table += `\nPostgreSQL alone, the gateway's create statements run by pgbench with the create limit on (\`bash bench/pgbench-create.sh 32 10\`, no gateway in front): ${ceiling}.\n`;
    table += `\nEmbedded start on an empty data directory to a healthy \`/api/health\`: ${(startMs / 1000).toFixed(2)} s.\n`;
    writeFileSync('bench/results.md', table);
    log(`\n${table}`);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.on('exit', r)))));
    await admin(BASE_URL, (c) => c.query(`drop database if exists "${name}" with (force)`));
  }
}

await main();
