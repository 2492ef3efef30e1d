// Concurrent creates share statements (smart batching). While fewer than `concurrency` create
// statements are in flight, a create runs at once, alone, as it always did (a lone create waits for
// nothing: there is no timer). Past that, creates wait here; when a statement in flight finishes, the
// next one takes every create waiting (up to `maxBatch`) as one statement (insertOrganizationsWithOwners):
// one parse, one plan, one round trip, one commit for all. The busier the database, the larger the
// batches, and each create costs it less. Every create still gets its own answer, decided by the
// database's constraints as before, and none is answered before its statement committed.
import type { EntityManager } from '@mikro-orm/postgresql';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { Organization } from '../entities/organization.entity.js';
import { OrganizationNameTakenError } from './errors.js';
import { insertOrganizationsWithOwners, insertOrganizationWithOwner, type CreateEntry } from './organizations.js';
import { refundTokens, type CreateRateLimit } from './rate-limit.js';

export type CreateQueueOptions = Readonly<{
  /** Create statements in flight at once before creates wait to share one. */
  concurrency: number;
  /** The most creates one statement takes. */
  maxBatch?: number;
  /** Told of each statement run and how many creates it carried (metrics). */
  observe?: (creates: number) => void;
  /** Traces each wait and each shared statement (only when tracing is on: src/telemetry-sdk.ts). */
  tracing?: BatchTracing;
  /** Told of a failure that answers no request (a token refund after a committed statement). */
  onError?: (error: unknown, what: string) => void;
}>;

/**
 * How shared statements appear in traces: each waiting create's wait in its request's trace, and the
 * statement in a span of its own (its SQL under it), linked both ways, so that no request's trace
 * claims the batch's whole time.
 */
export type BatchTracing = Readonly<{
  /** A create starts waiting, in its request's context. */
  wait(): BatchWait;
  /** Runs a shared statement in its own span, linked to `waits`, which end now. */
  shared<T>(waits: readonly BatchWait[], run: () => Promise<T>): Promise<T>;
}>;
export type BatchWait = { readonly __brand?: 'BatchWait' };

export const DEFAULT_MAX_BATCH = 64;

/**
 * Statements in flight before creates wait to share one (CREATE_STATEMENTS_IN_FLIGHT). Two keep the
 * database busy (one commits while the next is sent) and let batches grow with the load: measured
 * against 1, 3, 4 and 10 (the pool's size) on PostgreSQL 15, 2 gave the most creates a second
 * (README, "Benchmarks").
 */
export const DEFAULT_CREATE_STATEMENTS_IN_FLIGHT = 2;

type Waiting = {
  entry: CreateEntry;
  resolve(organization: Organization): void;
  reject(error: unknown): void;
  /** Its wait in its request's trace (tracing on only). */
  traced: BatchWait | undefined;
};

export class CreateQueue {
  readonly #batchEm: EntityManager;
  readonly #limit: CreateRateLimit;
  readonly #concurrency: number;
  readonly #maxBatch: number;
  readonly #observe: ((creates: number) => void) | undefined;
  readonly #tracing: BatchTracing | undefined;
  readonly #onError: ((error: unknown, what: string) => void) | undefined;
  readonly #waiting: Waiting[] = [];
  #inFlight = 0;
  /** Statements run and creates they carried (metrics, tests, the bench). */
  readonly stats = { statements: 0, batches: 0, batchedCreates: 0, retriedAlone: 0 };

  /** `em`: an EntityManager of its own for the shared statements (raw SQL only, nothing managed). */
  constructor(em: EntityManager, limit: CreateRateLimit, { concurrency, maxBatch = DEFAULT_MAX_BATCH, observe, tracing, onError }: CreateQueueOptions) {
    if (!(concurrency >= 1) || !(maxBatch >= 1)) throw new RangeError('concurrency and maxBatch must be at least 1');
    this.#batchEm = em;
    this.#limit = limit;
    this.#concurrency = concurrency;
    this.#maxBatch = maxBatch;
    this.#observe = observe;
    this.#tracing = tracing;
    this.#onError = onError;
  }

  /**
   * Creates the organization with its owner (as insertOrganizationWithOwner), alone on the request's
   * own `em` while there is room, or else in the next shared statement. Rejects with the same errors.
   */
  insert(em: EntityManager, entry: CreateEntry): Promise<Organization> {
    if (this.#inFlight < this.#concurrency) return this.#alone(em, entry);
    return new Promise<Organization>((resolve, reject) => this.#waiting.push({ entry, resolve, reject, traced: this.#tracing?.wait() }));
  }

  async #alone(em: EntityManager, entry: CreateEntry): Promise<Organization> {
    this.#inFlight++;
    this.stats.statements++;
    this.#observe?.(1);
    try {
      return await this.#insertOne(em, entry);
    } finally {
      this.#done();
    }
  }

  #insertOne(em: EntityManager, entry: CreateEntry): Promise<Organization> {
    return insertOrganizationWithOwner(em, entry.userId, entry.organizationId, entry.name, this.#limit);
  }

  /** A statement finished: the next takes every create waiting (up to maxBatch). */
  #done(): void {
    this.#inFlight--;
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting.splice(0, this.#maxBatch);
    void this.#shared(batch);
  }

  async #shared(batch: Waiting[]): Promise<void> {
    this.#inFlight++;
    this.stats.statements++;
    this.#observe?.(batch.length);
    try {
      const run = () => (batch.length === 1 ? this.#one(batch[0]!) : this.#many(batch));
      await (this.#tracing ? this.#tracing.shared(batch.map((w) => w.traced!), run) : run());
    } catch (error) {
      // Never expected (every path above settles its creates); if it happens, none is left waiting.
      for (const w of batch) w.reject(error);
    } finally {
      this.#done();
    }
  }

  async #one(w: Waiting): Promise<void> {
    try {
      w.resolve(await this.#insertOne(this.#batchEm, w.entry));
    } catch (error) {
      w.reject(error);
    }
  }

  async #many(batch: Waiting[]): Promise<void> {
    this.stats.batches++;
    this.stats.batchedCreates += batch.length;
    let result;
    try {
      result = await insertOrganizationsWithOwners(this.#batchEm, batch.map((w) => w.entry), this.#limit);
    } catch (error) {
      // The database unreachable (or the statement's fate unknown): each would have failed alone too.
      if (isDatabaseUnavailable(error)) for (const w of batch) w.reject(error);
      // The statement failed and was rolled back: each create is tried alone, so only its culprit fails.
      else await this.#eachAlone(batch);
      return;
    }
    const { outcomes, refunds } = result;
    // Committed: a refund that fails leaves those tokens spent (the limit errs strict) and changes no answer.
    if (this.#limit && refunds.size > 0) await refundTokens(this.#batchEm, this.#limit, refunds).catch((error: unknown) => this.#onError?.(error, 'create limit refund failed'));
    const alone: Waiting[] = [];
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome === 'alone') alone.push(w);
      else if (outcome === 'taken') w.reject(new OrganizationNameTakenError(w.entry.name));
      else w.resolve(outcome);
    });
    await this.#eachAlone(alone);
  }

  async #eachAlone(batch: Waiting[]): Promise<void> {
    this.stats.retriedAlone += batch.length;
    this.stats.statements += batch.length;
    for (const _ of batch) this.#observe?.(1);
    await Promise.all(batch.map((w) => this.#one(w)));
  }
}
