// A freshly initialised PGlite cluster, made once (at install) and copied into each new embedded
// database: initdb in WebAssembly takes seconds, loading the copy a fraction of that.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** node_modules/.cache/trieve-gateway/pglite-<version>.tar.gz, beside the PGlite it was made by. */
export function templatePath(): string {
  const entry = require.resolve('@electric-sql/pglite');
  const marker = `${path.sep}node_modules${path.sep}`;
  const nodeModules = entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
  const pkg = path.join(nodeModules, '@electric-sql', 'pglite', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return path.join(nodeModules, '.cache', 'trieve-gateway', `pglite-${version}.tar.gz`);
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
