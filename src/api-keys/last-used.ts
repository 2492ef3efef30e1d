// "Last used" for API keys, off the request's path: a request notes its key in memory (one Map lookup);
// a timer made when the app starts (so outside any request's scope, logs and traces) writes the keys
// noted since its last run in one statement. Each key is written at most once a minute: this process
// notes a key once a minute, and the statement skips keys another instance wrote within the minute.
import type { MikroORM } from '@mikro-orm/postgresql';
import { dbFailure } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { recordLastUsed } from './api-keys.js';

/** How coarse "last used" is: a key is written at most this often. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const FLUSH_INTERVAL_MS = 1000;
const MAX_REMEMBERED = 10_000;

export class LastUsedRecorder {
  /** When each key was last noted (insertion order = age, so the oldest go first when full). */
  private readonly noted = new Map<string, number>();
  private queued = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Statements written and keys updated since start (reported by the bench). */
  readonly counts = { statements: 0, updated: 0 };

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** A request used this key now. */
  touch(keyId: string, now = Date.now()): void {
    const last = this.noted.get(keyId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.noted.delete(keyId);
    if (this.noted.size >= MAX_REMEMBERED) this.noted.delete(this.noted.keys().next().value!);
    this.noted.set(keyId, now);
    this.queued.add(keyId);
  }

  /** Writes what was noted; a failure is logged and those keys are noted again by their next use. */
  flush(): Promise<void> {
    if (this.queued.size === 0) return this.flushing;
    const ids = [...this.queued];
    this.queued = new Set();
    this.flushing = this.flushing.then(async () => {
      try {
        this.counts.statements++;
        this.counts.updated += await recordLastUsed(this.orm.em.fork(), ids);
      } catch (error) {
        for (const id of ids) this.noted.delete(id);
        this.logger.warn({ err: dbFailure(error), keys: ids.length }, 'recording API keys last use failed');
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (before the database closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
