#!/usr/bin/env node
// The compiled CLI (npm run build, run by npm install and npm pack): plain node, no loader. Node's
// on-disk compile cache lets every start after the first skip compiling the modules again.
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * The compile cache holds code Node runs without compiling it again, so it must be a folder only this
 * user can write: `$XDG_CACHE_HOME/trieve-gateway/compile-cache` (or `~/.cache/…`), this user's, mode
 * 0700, in a parent writable by this user alone; never Node's default in the shared temporary folder,
 * where another local user can plant entries. No such folder (no home, another owner, loose modes): no
 * cache, only a slower start.
 */
function privateCompileCache() {
  const uid = process.getuid?.();
  try {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    const dir = path.join(base, 'trieve-gateway', 'compile-cache');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ours = (folder) => {
      const stat = fs.lstatSync(folder);
      return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
    };
    if (!ours(path.dirname(dir)) || !ours(dir)) return undefined;
    fs.chmodSync(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * The server's young generation. V8 sizes it from the memory it sees (two 64 MB semi-spaces on a large
 * machine), which made a busy gateway peak above PostGraphile's RSS at no gain in throughput: with 32 MB
 * semi-spaces it peaks 30–50 MB lower at the same CPU per request (README, Benchmarks). V8 reads the size
 * only when a process starts, so `serve` executes itself again once with the flag, as the same process
 * (`process.execve`: same process id, same open files), unless a size was chosen already, on node's
 * command line or in NODE_OPTIONS (which is how to choose another, e.g. --max-semi-space-size=64).
 */
const SEMI_SPACE_MB = 32;
const chosen = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag));
if (process.argv[2] === 'serve' && !chosen && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, `--max-semi-space-size=${SEMI_SPACE_MB}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

// NODE_COMPILE_CACHE (a folder the user chose) and NODE_DISABLE_COMPILE_CACHE keep their meaning.
if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  const cache = privateCompileCache();
  if (cache) module.enableCompileCache?.(cache);
}
await import('../dist/src/cli.js');
