// WORKERS > 1 (node:cluster): a worker that cannot start ends the supervisor instead of leaving it
// looking healthy, and a shutdown signal sent to the whole process group (a terminal's Ctrl-C, systemd)
// drains each worker once. 0.2.0 kept a failed worker alive on its cluster channel, never replaced, and
// sent workers that already had the signal a second one, so they exited without draining.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { usingPostgres } from './helpers.js';
import { CLI, sharedDatabase } from './processes.js';

describe.runIf(usingPostgres)('(PostgreSQL only) WORKERS=2', () => {
  const db = sharedDatabase('workers@example.com');

  it('a worker that fails to start ends the supervisor with exit code 1 and the reason', async () => {
    const child = spawn(CLI[0], [...CLI.slice(1), 'serve'], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', WORKERS: '2', DATABASE_URL: db.url, MIGRATE_ON_START: 'false', PERSISTED_OPERATIONS_FILE: '/nonexistent/operations.json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null); // still running after 30 s: it never noticed
      }, 30_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, output).toBe(1);
    expect(output).toContain('/nonexistent/operations.json');
    expect(output).toContain('worker failed to start; stopping the others');
  });

  it('SIGTERM to the whole process group: a request in flight in a worker is answered, then everything exits 0', async () => {
    const server = await db.start({ WORKERS: '2', LOG_LEVEL: 'info' }, { detached: true });
    const { port } = new URL(server.url);
    // Both workers listen before the signal (the supervisor printed the URL when the first one did).
    await expect.poll(() => (server.output().match(/"msg":"listening"/g) ?? []).length, { timeout: 20_000 }).toBe(2);
    const body = JSON.stringify({ name: 'Drained once' });
    const socket = net.connect(Number(port), '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (response += chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /api/organization HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${db.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`);
    // The request has reached a worker (its handler waits for the rest of the body) before the signal.
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(-server.child.pid!, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write(body.slice(5));
    await closed;
    expect(response, server.output()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toContain('second signal');
    expect(await db.sql(`select 1 from organizations where name = 'Drained once'`)).toHaveLength(1);
  });
});
