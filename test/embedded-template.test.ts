// The embedded database template (dist/embedded, made by the build): every new data directory starts
// as a copy of it, so it must be writable by nobody else, and the copy must be what the build made.
// 0.2.0 built it mode 0666 and copied it unchecked: another local user planted a database (and a key).
// Each case works on a copy of the built template, never on dist/ itself.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyTemplateTo, packageRoot, templatePath } from '../src/db/pglite-template.js';

const built = templatePath();
const asRoot = process.getuid?.() === 0;

describe('the built template', () => {
  it('exists after the build, with its manifest, and nothing in it or above it up to dist/ is writable by group or others', () => {
    expect(existsSync(path.join(built, 'PG_VERSION'))).toBe(true);
    expect(existsSync(`${built}.manifest.json`)).toBe(true);
    const entries = [built, `${built}.manifest.json`, path.dirname(built), path.join(packageRoot(), 'dist')];
    entries.push(...readdirSync(built, { recursive: true, encoding: 'utf8' }).map((entry) => path.join(built, entry)));
    expect(entries.filter((entry) => lstatSync(entry).mode & 0o022)).toEqual([]);
  });
});

describe('a new data directory from a template', () => {
  let root: string;
  let dist: string;
  let template: string;
  let pgdata: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'gateway-template-'));
    dist = path.join(root, 'dist');
    template = path.join(dist, 'embedded', path.basename(built));
    mkdirSync(path.dirname(template), { recursive: true, mode: 0o755 });
    for (const dir of [root, dist, path.dirname(template)]) chmodSync(dir, 0o755);
    execFileSync('cp', ['-Rp', built, template]);
    execFileSync('cp', ['-p', `${built}.manifest.json`, `${template}.manifest.json`]);
    pgdata = path.join(root, 'data', 'pgdata');
    mkdirSync(path.dirname(pgdata), { mode: 0o700 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const copy = () => copyTemplateTo(pgdata, template, dist);

  it('is a copy of it when it is intact', async () => {
    expect(await copy()).toEqual({ copied: true });
    expect(existsSync(path.join(pgdata, 'global', 'pg_control'))).toBe(true);
    expect(readdirSync(pgdata).sort()).toEqual(readdirSync(template).sort());
  });

  it.each([
    ['a file writable by others', () => chmodSync(path.join(template, 'global', 'pg_control'), 0o666), /pg_control is writable by group or others/],
    ['a folder writable by others', () => chmodSync(path.join(template, 'base'), 0o777), /base is writable by group or others/],
    ['dist/embedded writable by others', () => chmodSync(path.dirname(template), 0o777), /embedded is writable by group or others/],
    ['a manifest writable by others', () => chmodSync(`${template}.manifest.json`, 0o666), /manifest\.json is writable by group or others/],
    ['a planted symbolic link', () => symlinkSync('/etc/passwd', path.join(template, 'base', 'planted')), /planted is a symbolic link/],
    ['a rewritten file (its mode intact)', () => appendFileSync(path.join(template, 'global', 'pg_control'), 'x'), /global\/pg_control differs from the template's manifest/],
    ['a planted file', () => writeFileSync(path.join(template, 'base', 'extra'), 'x', { mode: 0o644 }), /base\/extra is not in the template's manifest/],
    ['a removed file', () => rmSync(path.join(template, 'global', 'pg_filenode.map')), /global\/pg_filenode\.map is missing/],
  ])('is refused (and no database is made from it) with %s', async (_what, tamper, reason) => {
    tamper();
    expect(await copy()).toEqual({ copied: false, refused: expect.stringMatching(reason) });
    expect(existsSync(pgdata)).toBe(false);
    expect(readdirSync(path.dirname(pgdata))).toEqual([]);
  });

  it.runIf(asRoot)("is refused when a file in it is another user's", async () => {
    chownSync(path.join(template, 'global', 'pg_control'), 65534, 65534);
    const result = await copy();
    expect(result).toEqual({ copied: false, refused: expect.stringMatching(/pg_control belongs to another user \(uid 65534\)/) });
    expect(existsSync(pgdata)).toBe(false);
  });
});
