// A freshly initialised PGlite cluster, made once at build time (`npm run build`, which `npm install`
// and `npm pack` run) and copied into each new embedded database: initdb in WebAssembly takes
// seconds, loading the copy a fraction of that. It ships inside the package, so an installed
// package needs no install script of its own.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

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

/** dist/embedded/pglite-<version>.tar.gz: made by the PGlite version that will load it. */
export function templatePath(): string {
  // PGlite does not export its package.json: find it beside its resolved entry point.
  const entry = require.resolve('@electric-sql/pglite');
  const marker = `${path.sep}node_modules${path.sep}@electric-sql${path.sep}pglite${path.sep}`;
  const pkg = path.join(entry.slice(0, entry.lastIndexOf(marker) + marker.length), 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return path.join(packageRoot(), 'dist', 'embedded', `pglite-${version}.tar.gz`);
}

/** The template as a Blob for PGlite's `loadDataDir`, or undefined when it has not been made. */
export function loadTemplate(): Blob | undefined {
  const file = templatePath();
  return existsSync(file) ? new Blob([readFileSync(file)]) : undefined;
}

export async function makeTemplate(): Promise<string> {
  const file = templatePath();
  if (existsSync(file)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create('memory://');
  try {
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file); // atomic: a reader never sees half a template
  } finally {
    await db.close();
  }
  return file;
}
