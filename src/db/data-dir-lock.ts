// Guards an embedded data directory against a second process: PGlite opened twice corrupts it.
// The lock file holds the holder's pid and, once a server runs, the path of its admin socket, through
// which the CLI reaches the database while the server holds it (src/admin-socket.ts).
import fs from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    /** The running server's admin socket, when it has one. */
    readonly adminSocket: string | undefined,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by another process (pid ${pid}), probably a running server. ` +
        `Stop it first, or point DATABASE_URL at a PostgreSQL server to share one database between processes.`,
    );
    this.name = 'DataDirInUseError';
  }
}

export type DataDirLock = Readonly<{
  /** Records the admin socket in the lock file, for the CLI to find. */
  advertise(adminSocket: string): void;
  release(): void;
}>;

/** Directories this process holds: its own pid in a lock file is only stale when not listed here. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "<pid>\n[<admin socket path>\n]"; undefined when there is no lock file (released meanwhile). */
function readLock(lockPath: string): { pid: number; adminSocket: string | undefined } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pid, adminSocket] = text.split('\n');
  return { pid: Number.parseInt(pid ?? '', 10), adminSocket: adminSocket || undefined };
}

/** Creates `file` with `content` only if it does not exist (O_EXCL); false if it does. */
function createExclusive(file: string, content: string): boolean {
  try {
    fs.writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A breaker older than this was left by a process that died while breaking a lock (that takes microseconds). */
const ABANDONED_BREAKER_MS = 10_000;

/**
 * PGlite must never be opened by two processes at once: that corrupts it. An O_EXCL lock file with
 * our pid guards the directory. A lock left by a dead process (e.g. after SIGKILL) is taken over, but
 * only under a second O_EXCL file, the breaker: whoever holds it reads the lock again and removes it
 * only if it is still the dead process's. So of several processes that find the same stale lock, one
 * removes it and makes its own, and the others find that new lock alive; nobody removes a lock it did
 * not prove stale.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const lockPath = path.join(dataDir, 'gateway.lock');
  const breakerPath = `${lockPath}.break`;
  const isLive = (holder: { pid: number }) =>
    holder.pid === process.pid ? heldHere.has(lockPath) : Number.isInteger(holder.pid) && isAlive(holder.pid);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(lockPath, `${process.pid}\n`)) {
      heldHere.add(lockPath);
      return Object.freeze({
        advertise: (adminSocket: string) => {
          // Written beside and renamed over: a reader sees the old or the new content, never half.
          const partial = `${lockPath}.${process.pid}.tmp`;
          fs.writeFileSync(partial, `${process.pid}\n${adminSocket}\n`, { mode: 0o600 });
          fs.renameSync(partial, lockPath);
        },
        release: () => {
          heldHere.delete(lockPath);
          fs.rmSync(lockPath, { force: true });
        },
      });
    }
    const holder = readLock(lockPath);
    if (!holder) continue; // released meanwhile
    if (isLive(holder)) throw new DataDirInUseError(dataDir, holder.pid, holder.adminSocket);
    if (createExclusive(breakerPath, `${process.pid}\n`)) {
      try {
        const again = readLock(lockPath);
        if (again && again.pid === holder.pid && !isLive(again)) fs.rmSync(lockPath, { force: true });
      } finally {
        fs.rmSync(breakerPath, { force: true });
      }
    } else {
      // Another process is breaking it: look again shortly (its new lock, or the lock freed).
      try {
        if (Date.now() - fs.statSync(breakerPath).mtimeMs > ABANDONED_BREAKER_MS) fs.rmSync(breakerPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      pause(5);
    }
  }
  throw new Error(`Could not take the lock ${lockPath}`);
}
