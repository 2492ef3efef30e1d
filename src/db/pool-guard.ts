// A pooled connection that dies while checked out must still go back to the pool (to be discarded).
// kysely up to 0.29.8 (which MikroORM 7.2.1 pins at 0.29.6) does not release a transaction's connection
// when BEGIN, COMMIT or ROLLBACK fails on a dead connection (kysely-org/kysely#1990), which is what a
// database failover does to every transaction in flight: each one leaked a pool slot for good, and
// after DB_POOL_SIZE of them the instance answered 503 until restarted. The repository overrides kysely
// to 0.29.9, which releases them; an installed package cannot carry that override, so this guard
// reclaims any such connection itself.
import type { Pool, PoolClient } from 'pg';

/** After a checked-out connection ends, how long its holder has to release it before the pool takes it back. */
export const DEAD_CHECKOUT_GRACE_MS = 1_000;

export function reclaimDeadCheckouts(pool: Pool, graceMs = DEAD_CHECKOUT_GRACE_MS): void {
  const checkedOut = new Set<PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_error, client) => checkedOut.delete(client));
  pool.on('remove', (client) => checkedOut.delete(client as PoolClient));
  pool.on('connect', (client) => {
    client.once('end', () => {
      // Every query on an ended connection fails at once, so a holder that releases it does so well within the grace.
      setTimeout(() => {
        if (!checkedOut.delete(client as PoolClient)) return;
        (client as PoolClient).release(new Error('the connection ended while checked out and was not released'));
      }, graceMs).unref();
    });
  });
}
