// LISTEN for live updates (src/live/): a session of its own, so it never goes through the request pool
// or PgBouncer's transaction pooling (LIVE_DATABASE_URL, by default DATABASE_URL). Embedded, PGlite is
// one session for everyone: it LISTENs in process, and a NOTIFY comes back on the pool's own connection.
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../logger.js';

/** Calls `onPayload` for every notification on `channel` until the returned stop function is called. */
export type Listen = (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;

const RETRY_MS = { first: 500, max: 10_000 };

/**
 * A dedicated client that LISTENs, and reconnects (500 ms, doubling to 10 s) when the session is lost:
 * a failover, a restart. Notifications sent while it was away are not replayed (subscribers are told
 * in the README to refetch after reconnecting their own streams).
 */
export function postgresListen(url: string, logger?: Logger): Listen {
  return async (channel, onPayload) => {
    let client: pg.Client | undefined;
    let stopped = false;
    let delay = RETRY_MS.first;
    let timer: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url, application_name: 'trieve-gateway live' });
      next.on('notification', (message) => {
        if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
      });
      next.on('error', (error) => {
        logger?.warn({ err: { name: error.name, code: (error as { code?: string }).code } }, 'live updates: listener connection lost; reconnecting');
        retry(next);
      });
      next.on('end', () => retry(next));
      await next.connect();
      await next.query(`listen "${channel.replaceAll('"', '""')}"`);
      client = next;
      delay = RETRY_MS.first;
    };
    const retry = (failed: pg.Client) => {
      if (stopped || client !== failed || timer) return;
      client = undefined;
      failed.end().catch(() => {});
      const attempt = () => {
        timer = undefined;
        if (stopped) return;
        connect().catch(() => {
          delay = Math.min(delay * 2, RETRY_MS.max);
          timer = setTimeout(attempt, delay);
          timer.unref();
        });
      };
      timer = setTimeout(attempt, delay);
      timer.unref();
    };
    await connect();
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => {});
    };
  };
}

/**
 * Embedded: the one PGlite session LISTENs (src/db/embedded.ts), so every NOTIFY, sent on the pool's one
 * connection, comes back on it; orm.ts hands those notifications to `notifications`, by channel.
 */
export function embeddedListen(embedded: { listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> }, notifications: EventEmitter): Listen {
  return async (channel, onPayload) => {
    const handler = (payload: string | undefined) => {
      if (payload !== undefined) onPayload(payload);
    };
    notifications.on(channel, handler);
    const unlisten = await embedded.listen(channel, () => {});
    return async () => {
      notifications.off(channel, handler);
      await unlisten();
    };
  };
}
