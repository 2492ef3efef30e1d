// The package as a user gets it: `npm pack`, `npm install <tarball>` into an empty folder, then the
// installed bin creates a key and serves on the embedded database, as plain compiled JavaScript.
// Embedded runs only (it needs no PostgreSQL, and one proof is enough).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from './helpers.js';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  run('npm', args, { cwd, timeout: 300_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

/** Every process below `pid` (itself included), with its command line. */
function processTree(pid: number): string[] {
  const lines: string[] = [];
  const visit = (p: number) => {
    try {
      lines.push(readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const child of children ? children.split(' ') : []) visit(Number(child));
      }
    } catch {
      // the process ended meanwhile
    }
  };
  visit(pid);
  return lines;
}

describe.skipIf(usingPostgres)('the packed tarball (embedded runs only)', () => {
  let work: string;
  let app: string;
  let tarball: string;
  let installOutput: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'gateway-package-'));
    const packed = await npm(['pack', '--json', '--pack-destination', work], process.cwd());
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info!.filename);
    writeFileSync(path.join(work, 'files.json'), JSON.stringify(info!.files.map((f) => f.path)));
    app = path.join(work, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'gateway-user', private: true }));
    const installed = await npm(['install', tarball], app);
    installOutput = `${installed.stdout}\n${installed.stderr}`;
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the build, the bin and the embedded template, and no tests, bench or TypeScript sources', () => {
    const files = JSON.parse(readFileSync(path.join(work, 'files.json'), 'utf8')) as string[];
    expect(files).toEqual(expect.arrayContaining(['bin/trieve-gateway.js', 'dist/src/cli.js', 'dist/rest-adapter/openapi.json', 'schema.graphql', 'README.md']));
    expect(files.some((f) => /^dist\/embedded\/pglite-[\d.]+\/PG_VERSION$/.test(f))).toBe(true);
    expect(files.some((f) => /^dist\/embedded\/pglite-[\d.]+\.manifest\.json$/.test(f))).toBe(true);
    expect(files.filter((f) => /^(test|bench|src|scripts|rest-adapter)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('installs with no warning to act on and without tsx or a compiler', () => {
    expect(installOutput).not.toMatch(/npm warn/i);
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
  });

  it('creates a key with `npx trieve-gateway create-api-key` and serves it with `npx trieve-gateway serve`', async () => {
    const env = { ...process.env, DATA_DIR: path.join(app, 'data'), PORT: '0', LOG_LEVEL: 'warn' } as NodeJS.ProcessEnv;
    delete env.DATABASE_URL;
    const created = await run('npx', ['trieve-gateway', 'create-api-key', '--email', 'packaged@example.com'], { cwd: app, env, timeout: 60_000 });
    const key = created.stdout.trimEnd().split('\n').at(-1)!;
    expect(key).toMatch(/^tru_[0-9A-Za-z]{36}$/);
    // The packaged template passed its checks (ownership, modes, manifest) and made the new database.
    expect(created.stdout + created.stderr).not.toContain('template not used');

    const server = spawn(path.join(app, 'node_modules', '.bin', 'trieve-gateway'), ['serve'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const pattern = /GraphQL and GraphiQL: (http:\/\/127\.0\.0\.1:\d+)\/graphql/;
      await expect.poll(() => pattern.test(output) || server.exitCode !== null, { timeout: 30_000 }).toBe(true);
      const url = pattern.exec(output)?.[1];
      expect(url, output).toBeDefined();

      const tree = processTree(server.pid!);
      expect(tree.length).toBeGreaterThan(0);
      expect(tree.filter((cmd) => /tsx|esbuild|--import|--loader/.test(cmd))).toEqual([]);
      // `serve` made itself again with 32 MB semi-spaces (bin/trieve-gateway.js), as the same process.
      expect(tree[0]).toMatch(/^\S*node --max-semi-space-size=32 \S*trieve-gateway serve$/);

      const response = await fetch(`${url}/api/organization`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ name: 'From the packaged gateway' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: 'From the packaged gateway', deleted: 0 });
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    // A size chosen in NODE_OPTIONS is left as it is: no second start, no flag added.
    const chosen = spawn(path.join(app, 'node_modules', '.bin', 'trieve-gateway'), ['serve'], { cwd: app, env: { ...env, NODE_OPTIONS: '--max-semi-space-size=16' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let chosenOutput = '';
    chosen.stdout.on('data', (chunk) => (chosenOutput += chunk));
    const chosenExited = new Promise<number | null>((resolve) => chosen.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => /GraphQL and GraphiQL/.test(chosenOutput) || chosen.exitCode !== null, { timeout: 30_000 }).toBe(true);
      expect(processTree(chosen.pid!)[0]).toMatch(/^\S*node \S*trieve-gateway serve$/);
    } finally {
      chosen.kill('SIGTERM');
    }
    expect(await chosenExited).toBe(0);
  });
});
