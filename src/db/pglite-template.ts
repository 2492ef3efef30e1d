// A freshly initialised and migrated PGlite cluster, made once at build time (`npm run build`, which
// `npm install` and `npm pack` run) and copied into each new embedded database: initdb in WebAssembly
// takes seconds, copying a closed cluster's files and opening them a fraction of a second. It ships
// inside the package, so an installed package needs no install script of its own. The migrations in it
// are this build's own, applied by the same migrator, and recorded in its migration table as usual.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

/** The folder of the nearest package.json above this module: the repository, or the installed package. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the gateway modules');
    dir = parent;
  }
  return dir;
}

/** dist/embedded/pglite-<version>/: a cleanly closed data directory, made by the PGlite version that will open it. */
export function templatePath(): string {
  // PGlite does not export its package.json: find it beside its resolved entry point.
  const entry = require.resolve('@electric-sql/pglite');
  const marker = `${path.sep}node_modules${path.sep}@electric-sql${path.sep}pglite${path.sep}`;
  const pkg = path.join(entry.slice(0, entry.lastIndexOf(marker) + marker.length), 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return path.join(packageRoot(), 'dist', 'embedded', `pglite-${version}`);
}

/** What the build recorded of the template: its folders (npm pack drops empty ones) and each file's SHA-256. */
type Manifest = { dirs: string[]; files: Record<string, string> };

const manifestPath = (template: string) => `${template}.manifest.json`;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every entry below `root`, relative to it, with its lstat. */
function walk(root: string): Array<{ relative: string; stat: Stats }> {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((relative) => ({ relative, stat: lstatSync(path.join(root, relative)) }));
}

/**
 * Why `stat` may not be trusted as part of the template: a link, another user's, or writable by group
 * or others (anyone who can write it can plant a database, and a key in it, in every new data directory).
 */
function distrust(stat: Stats): string | undefined {
  const uid = process.getuid?.();
  if (stat.isSymbolicLink()) return 'is a symbolic link';
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) return `belongs to another user (uid ${stat.uid})`;
  if (stat.mode & 0o022) return 'is writable by group or others';
  return undefined;
}

/** The first reason not to trust the template, its manifest or a folder above them up to `trustedRoot`; undefined if none. */
function templateDistrust(template: string, trustedRoot: string): string | undefined {
  const entries = [template, manifestPath(template)].map((file) => ({ file, stat: lstatSync(file) }));
  for (let dir = path.dirname(template); ; dir = path.dirname(dir)) {
    entries.push({ file: dir, stat: lstatSync(dir) });
    if (dir === trustedRoot || path.dirname(dir) === dir) break;
  }
  entries.push(...walk(template).map(({ relative, stat }) => ({ file: path.join(template, relative), stat })));
  for (const { file, stat } of entries) {
    const reason = distrust(stat);
    if (reason) return `${file} ${reason}`;
  }
  return undefined;
}

/** Whether the copy holds exactly the manifest's files with their recorded contents. */
function copyMismatch(copy: string, manifest: Manifest): string | undefined {
  const seen = new Set<string>();
  for (const { relative, stat } of walk(copy)) {
    if (stat.isDirectory()) continue;
    const expected = manifest.files[relative];
    if (!stat.isFile() || expected === undefined) return `${relative} is not in the template's manifest`;
    if (sha256(path.join(copy, relative)) !== expected) return `${relative} differs from the template's manifest`;
    seen.add(relative);
  }
  const missing = Object.keys(manifest.files).find((file) => !seen.has(file));
  return missing === undefined ? undefined : `${missing} is missing`;
}

export type TemplateCopy = { copied: true } | { copied: false; refused?: string };

/**
 * Makes `pgdata` a copy of the template, when there is one the gateway can trust: the template, its
 * manifest and the folders above them up to the package are this user's or root's and writable by
 * nobody else (dist/ and dist/embedded/ are made so by the build), and the copy's files match the SHA-256s the build recorded (checked on the copy itself,
 * so a change between the check and the copy is caught too). The copy is made beside `pgdata` and
 * renamed into place, so a crash mid-copy never leaves a half database behind. A refused template is
 * not used (the caller initialises a new database instead) and the reason is returned.
 */
export async function copyTemplateTo(pgdata: string, template = templatePath(), trustedRoot = path.join(packageRoot(), 'dist')): Promise<TemplateCopy> {
  if (!existsSync(path.join(template, 'PG_VERSION')) || !existsSync(manifestPath(template))) return { copied: false };
  const refused = templateDistrust(template, trustedRoot);
  if (refused) return { copied: false, refused };
  const manifest = JSON.parse(readFileSync(manifestPath(template), 'utf8')) as Manifest;
  const partial = `${pgdata}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  // POSIX cp in a child process: the 40 MB of disk writes run beside the server's module loading
  // instead of blocking it (fs.cpSync blocks the event loop; fs.promises.cp is several times slower).
  try {
    await execFileAsync('cp', ['-R', template, partial]);
  } catch {
    rmSync(partial, { recursive: true, force: true });
    cpSync(template, partial, { recursive: true });
  }
  const mismatch = copyMismatch(partial, manifest);
  if (mismatch) {
    rmSync(partial, { recursive: true, force: true });
    return { copied: false, refused: `${template}: ${mismatch}` };
  }
  // npm pack leaves empty folders out of the package, and PostgreSQL needs them: recreate them.
  for (const dir of manifest.dirs) mkdirSync(path.join(partial, dir), { recursive: true });
  renameSync(partial, pgdata);
  return { copied: true };
}

/**
 * Makes the template with `init`, which gets an empty data directory to create a database in (and
 * migrate it) and must have closed it when it returns. Made beside the template and renamed into place,
 * writable by its owner only (PGlite writes its files 0666), with a manifest of every file's SHA-256.
 */
export async function makeTemplate(init: (dataDir: string) => Promise<void>, migrations: readonly string[]): Promise<string> {
  const template = templatePath();
  // Made again when this build's migrations differ from the ones the template holds (a working copy
  // that gained a migration); a stale template would still work, the start migrating the rest.
  const recorded = `${template}.migrations.json`;
  const current = `${JSON.stringify(migrations)}\n`;
  if (existsSync(path.join(template, 'PG_VERSION')) && existsSync(manifestPath(template)) && existsSync(recorded) && readFileSync(recorded, 'utf8') === current) {
    return template;
  }
  mkdirSync(path.dirname(template), { recursive: true, mode: 0o755 });
  // dist/ and dist/embedded/ hold the template: writable by their owner only, whatever the build's umask.
  for (const dir of [path.dirname(template), path.dirname(path.dirname(template))]) chmodSync(dir, lstatSync(dir).mode & ~0o022 & 0o7777);
  const partial = mkdtempSync(`${template}.partial-`);
  try {
    await init(partial);
    const pgdata = path.join(partial, 'pgdata');
    const manifest: Manifest = { dirs: [], files: {} };
    for (const { relative, stat } of walk(pgdata)) {
      const file = path.join(pgdata, relative);
      chmodSync(file, stat.isDirectory() ? 0o755 : 0o644);
      if (stat.isDirectory()) manifest.dirs.push(relative);
      else manifest.files[relative] = sha256(file);
    }
    chmodSync(pgdata, 0o755);
    manifest.dirs.sort();
    rmSync(template, { recursive: true, force: true });
    rmSync(`${template}.dirs.json`, { force: true }); // the folder list of earlier builds, now in the manifest
    writeFileSync(manifestPath(template), `${JSON.stringify(manifest)}\n`);
    renameSync(pgdata, template);
    writeFileSync(recorded, current);
    // Readable by every user who runs the package, whatever the umask (the embedded database sets 077).
    for (const file of [manifestPath(template), recorded]) chmodSync(file, 0o644);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return template;
}
