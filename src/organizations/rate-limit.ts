// How many organizations a user may create: a token bucket per user, kept in PostgreSQL and spent inside
// the create statement itself (no extra round trip), so it holds across any number of instances.
import type { EntityManager } from '@mikro-orm/postgresql';

/** `burst` creates at once, refilled at `perMinute`; null: no limit. */
export type CreateRateLimit = Readonly<{ perMinute: number; burst: number }> | null;

/** The default: no person or onboarding script notices it; a leaked key is held to one create a second. */
export const DEFAULT_CREATE_RATE_LIMIT: NonNullable<CreateRateLimit> = Object.freeze({ perMinute: 60, burst: 30 });

export class RateLimitedError extends Error {
  constructor(
    readonly limit: NonNullable<CreateRateLimit>,
    /** Whole seconds until the next create will be allowed (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(`Too Many Requests: at most ${limit.perMinute} new organizations per minute per user (${limit.burst} at once); try again in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

/** Tokens in the bucket right now (refilled since its last write, capped at the burst). Parameters: burst, rate per second. */
const REFILLED = `least(?::float8, b.tokens + ?::float8 * greatest(0, extract(epoch from clock_timestamp() - b.updated_at)))`;

/**
 * A CTE (`bucket`) that takes one token from the user's bucket, creating it full on first use; it yields
 * one row when a token was taken and none when the bucket is empty. The row lock taken by ON CONFLICT DO
 * UPDATE orders concurrent creates of one user across instances, and the WHERE is evaluated again on
 * the latest row, so the count is exact. A statement that fails afterwards (a taken name) rolls the
 * token back with everything else: only organizations actually created are counted.
 */
export function takeTokenSql(limit: NonNullable<CreateRateLimit>, userId: string): { sql: string; params: unknown[] } {
  const rate = limit.perMinute / 60;
  return {
    sql: `bucket as (
       insert into create_rate_limits as b (user_id, tokens, updated_at) values (?, ?::float8 - 1, clock_timestamp())
       on conflict (user_id) do update set tokens = ${REFILLED} - 1, updated_at = clock_timestamp()
       where ${REFILLED} >= 1
       returning 1
     )`,
    params: [userId, limit.burst, limit.burst, rate, limit.burst, rate],
  };
}

/** Only after a refusal (the create statement made nothing): how long until the bucket holds a token. */
export async function refusal(em: EntityManager, limit: NonNullable<CreateRateLimit>, userId: string): Promise<RateLimitedError> {
  const rate = limit.perMinute / 60;
  const [row] = await em.execute<{ tokens: number }[]>(`select ${REFILLED} as tokens from create_rate_limits b where b.user_id = ?`, [limit.burst, rate, userId]);
  const missing = 1 - Number(row?.tokens ?? 0);
  return new RateLimitedError(limit, Math.max(1, Math.ceil(missing / rate)));
}

/**
 * The batched form of takeTokenSql (concurrent creates that share one statement, ./create-queue.ts): a
 * CTE (`bucket`) that takes, for each row `(user_id, n)` of the relation `wants`, all `n` tokens from
 * that user's bucket or none, and yields the user_id of each user it took them from. All or nothing per
 * user keeps the count exact without knowing how many a partly full bucket held: a user it refuses has
 * their creates run one by one (takeTokenSql), which grants exactly what is left. Buckets are locked in
 * user_id order, so two batches cannot deadlock on them.
 */
export function takeTokensSql(limit: NonNullable<CreateRateLimit>, wants: string): { sql: string; params: unknown[] } {
  const rate = limit.perMinute / 60;
  // The proposed row carries n as burst - n (a new bucket starts full): excluded.tokens tells n back.
  return {
    sql: `bucket as (
       insert into create_rate_limits as b (user_id, tokens, updated_at)
       select user_id, ?::float8 - n, clock_timestamp() from ${wants} where n <= ? order by user_id
       on conflict (user_id) do update set tokens = ${REFILLED} - (?::float8 - excluded.tokens), updated_at = clock_timestamp()
       where ${REFILLED} >= ?::float8 - excluded.tokens
       returning b.user_id
     )`,
    params: [limit.burst, limit.burst, limit.burst, rate, limit.burst, limit.burst, rate, limit.burst],
  };
}

/**
 * Gives back tokens a batched create took for an organization it then could not make (its name was
 * taken by a concurrent create after the batch checked it): `refunds` maps user ids to token counts.
 * A bucket never holds more than the burst.
 */
export async function refundTokens(em: EntityManager, limit: NonNullable<CreateRateLimit>, refunds: ReadonlyMap<string, number>): Promise<void> {
  if (refunds.size === 0) return;
  const rows = JSON.stringify([...refunds].map(([user_id, n]) => ({ user_id, n })));
  await em.execute(
    `update create_rate_limits b set tokens = least(?::float8, b.tokens + r.n)
     from json_to_recordset(?::json) as r(user_id uuid, n int) where b.user_id = r.user_id`,
    [limit.burst, rows],
  );
}
