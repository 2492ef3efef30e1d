// A freshly initialised and migrated PGlite cluster, made once at build time (`npm run build`, which
// `npm install` and `npm pack` run) and copied into each new embedded database: initdb in WebAssembly
// takes seconds, copying a closed cluster's files and opening them a fraction of a second. It ships
// inside the package, so an installed package needs no install script of its own. The migrations in it
// are this build's own, applied by the same migrator, and recorded in its migration table as usual.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

/** The folder of the nearest package.json above this module: the repository, or the installed package. */
function packageRoot(): string {
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

/**
 * Makes `pgdata` a copy of the template, when there is one. The copy is made beside it and renamed
 * into place, so a crash mid-copy never leaves a half database behind. Returns whether it copied.
 */
export async function copyTemplateTo(pgdata: string): Promise<boolean> {
  const template = templatePath();
  if (!existsSync(path.join(template, 'PG_VERSION')) || !existsSync(`${template}.dirs.json`)) return false;
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
  // npm pack leaves empty folders out of the package, and PostgreSQL needs them: recreate them.
  for (const dir of JSON.parse(readFileSync(`${template}.dirs.json`, 'utf8')) as string[]) {
    mkdirSync(path.join(partial, dir), { recursive: true });
  }
  renameSync(partial, pgdata);
  return true;
}

/**
 * Makes the template with `init`, which gets an empty data directory to create a database in (and
 * migrate it) and must have closed it when it returns. Made beside the template and renamed into place.
 */
export async function makeTemplate(init: (dataDir: string) => Promise<void>, migrations: readonly string[]): Promise<string> {
  const template = templatePath();
  // Made again when this build's migrations differ from the ones the template holds (a working copy
  // that gained a migration); a stale template would still work, the start migrating the rest.
  const recorded = `${template}.migrations.json`;
  const current = `${JSON.stringify(migrations)}\n`;
  if (existsSync(path.join(template, 'PG_VERSION')) && existsSync(recorded) && readFileSync(recorded, 'utf8') === current) return template;
  mkdirSync(path.dirname(template), { recursive: true });
  const partial = mkdtempSync(`${template}.partial-`);
  try {
    await init(partial);
    const pgdata = path.join(partial, 'pgdata');
    const dirs = readdirSync(pgdata, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.relative(pgdata, path.join(entry.parentPath, entry.name)));
    rmSync(template, { recursive: true, force: true });
    writeFileSync(`${template}.dirs.json`, `${JSON.stringify(dirs.sort())}\n`);
    renameSync(pgdata, template);
    writeFileSync(recorded, current);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return template;
}
