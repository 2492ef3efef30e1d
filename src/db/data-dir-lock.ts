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

/** "<pid>\n[<admin socket path>\n]" */
function readLock(lockPath: string): { pid: number; adminSocket: string | undefined } {
  const [pid, adminSocket] = fs.readFileSync(lockPath, 'utf8').split('\n');
  return { pid: Number.parseInt(pid ?? '', 10), adminSocket: adminSocket || undefined };
}

/**
 * PGlite must never be opened by two processes at once: that corrupts it. An O_EXCL lock file with
 * our pid guards the directory; a lock left by a dead process (e.g. after SIGKILL) is taken over.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const lockPath = path.join(dataDir, 'gateway.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
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
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: ReturnType<typeof readLock>;
      try {
        holder = readLock(lockPath);
      } catch (readError) {
        if ((readError as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw readError;
      }
      const live = holder.pid === process.pid ? heldHere.has(lockPath) : Number.isInteger(holder.pid) && isAlive(holder.pid);
      if (live) {
        throw new DataDirInUseError(dataDir, holder.pid, holder.adminSocket);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${lockPath}`);
}
