// Live updates for subscribers (GraphQL subscriptions over SSE): one LISTEN per process (started with the
// first subscriber) fans every event out to the open streams. Each event is checked against the
// subscriber's rights when it is delivered: its key must still be accepted and the viewer a member of
// the organization, live or deleted since (a member who was removed hears of their own removal, then
// nothing more from it; members hear of a delete). A stream holds at most QUEUE_LIMIT undelivered events: a subscriber that
// falls further behind is ended (it reconnects and refetches), so a slow reader cannot grow memory
// without bound. Streams of a key revoked here end at once; of a key revoked elsewhere, or expired,
// within CHECK_INTERVAL_MS. Yoga pings every stream every 12 s, so proxies keep idle streams open.
import type { MikroORM } from '@mikro-orm/postgresql';
import { acceptedKeys } from '../api-keys/api-keys.js';
import type { Listen } from '../db/listen.js';
import type { Logger } from '../logger.js';
import { isMemberOf, type Actor } from '../organizations/organizations.js';
import { randomUUID } from 'node:crypto';
import { announceListener, LIVE_CHANNEL, LISTENER_REFRESH_MS, parseEvent, withdrawListener, type OrganizationEvent } from './events.js';

/** Undelivered events one stream may hold before it is ended. */
export const QUEUE_LIMIT = 256;
/** How often every open stream's key is checked (revoked elsewhere, expired). */
export const CHECK_INTERVAL_MS = 5_000;

export class TooManyStreamsError extends Error {
  constructor(readonly limit: number) {
    super(`At most ${limit} live update streams per API key on one server: close one first`);
    this.name = 'TooManyStreamsError';
  }
}

const ENDED = Symbol('ended');

/** One subscriber's events, in order, filtered by its rights at delivery. */
export class LiveStream implements AsyncIterableIterator<OrganizationEvent> {
  private queue: OrganizationEvent[] = [];
  private waiting: ((event: OrganizationEvent | typeof ENDED) => void) | undefined;
  private ended = false;

  constructor(
    readonly actor: Actor,
    private readonly mayHear: (event: OrganizationEvent) => Promise<boolean>,
    private readonly onEnd: (stream: LiveStream, reason: string) => void,
  ) {}

  push(event: OrganizationEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const deliver = this.waiting;
      this.waiting = undefined;
      deliver(event);
    } else if (this.queue.length >= QUEUE_LIMIT) {
      this.end('fell behind');
    } else {
      this.queue.push(event);
    }
  }

  private take(): Promise<OrganizationEvent | typeof ENDED> | OrganizationEvent | typeof ENDED {
    if (this.queue.length > 0) return this.queue.shift()!;
    if (this.ended) return ENDED;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async next(): Promise<IteratorResult<OrganizationEvent>> {
    for (;;) {
      const event = await this.take();
      if (event === ENDED) return { done: true, value: undefined };
      if (await this.mayHear(event)) return { done: false, value: event };
    }
  }

  async return(): Promise<IteratorResult<OrganizationEvent>> {
    this.end('closed');
    return { done: true, value: undefined };
  }

  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(ENDED);
    this.onEnd(this, reason);
  }

  get open(): boolean {
    return !this.ended;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<OrganizationEvent> {
    return this;
  }
}

export type LiveHubOptions = Readonly<{ streamsPerKey: number; checkIntervalMs?: number }>;

export class LiveHub {
  private readonly streams = new Set<LiveStream>();
  private readonly perKey = new Map<string, number>();
  private listening: Promise<() => Promise<void>> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly presence: NodeJS.Timeout;
  /** This process in `live_listeners`, while it has subscribers. */
  private readonly processId = randomUUID();
  /** Streams opened and ended since start, by reason (for tests and logs). */
  readonly counts = { opened: 0, ended: new Map<string, number>() };

  constructor(
    private readonly orm: MikroORM,
    private readonly listen: Listen,
    private readonly logger: Logger,
    private readonly options: LiveHubOptions,
  ) {
    this.timer = setInterval(() => void this.checkKeys(), options.checkIntervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
    this.presence = setInterval(() => void this.announce(), LISTENER_REFRESH_MS);
    this.presence.unref();
  }

  /** Keeps this process counted as listening while it has subscribers (writes publish only then). */
  private async announce(): Promise<void> {
    if (this.streams.size === 0) return;
    try {
      await announceListener(this.orm.em.fork(), this.processId);
    } catch (error) {
      this.logger.warn({ err: { name: (error as Error).name } }, 'live updates: refreshing this process as a listener failed; will try again');
    }
  }

  /** A stream of the organization events `actor` may hear, from now on. */
  async open(actor: Actor): Promise<LiveStream> {
    const held = this.perKey.get(actor.keyId) ?? 0;
    if (held >= this.options.streamsPerKey) throw new TooManyStreamsError(this.options.streamsPerKey);
    this.perKey.set(actor.keyId, held + 1);
    try {
      this.listening ??= this.listen(LIVE_CHANNEL, (payload) => this.dispatch(payload));
      await this.listening;
      // Listening first, then counted: every write that starts from now on publishes, and is heard.
      await announceListener(this.orm.em.fork(), this.processId);
    } catch (error) {
      this.listening = undefined;
      this.release(actor.keyId);
      throw error;
    }
    const stream = new LiveStream(actor, (event) => this.mayHear(actor, event), (ended, reason) => this.forget(ended, reason));
    this.streams.add(stream);
    this.counts.opened++;
    return stream;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private dispatch(payload: string): void {
    const event = parseEvent(payload);
    if (!event) return;
    for (const stream of this.streams) stream.push(event);
  }

  /** At delivery: the key is still accepted, and the viewer may hear of this organization. */
  private async mayHear(actor: Actor, event: OrganizationEvent): Promise<boolean> {
    const em = this.orm.em.fork();
    if (!(await acceptedKeys(em, [actor.keyId])).has(actor.keyId)) {
      this.endStreamsOfKey(actor.keyId, 'key no longer accepted');
      return false;
    }
    if (event.kind === 'MEMBER_REMOVED' && actor.userId !== null && event.userId === actor.userId) return true;
    // Deleted organizations count: their memberships stay (inert), and an event made just before a delete
    // is still delivered to its members, in order, before the delete's.
    return isMemberOf(em, actor, event.organizationId, true);
  }

  /** Ends the streams of a key (revoked or rotated away on this server). */
  endStreamsOfKey(keyId: string, reason = 'key revoked'): void {
    for (const stream of this.streams) if (stream.actor.keyId === keyId) stream.end(reason);
  }

  private async checkKeys(): Promise<void> {
    if (this.streams.size === 0) return;
    const keyIds = [...new Set([...this.streams].map((stream) => stream.actor.keyId))];
    try {
      const accepted = await acceptedKeys(this.orm.em.fork(), keyIds);
      for (const keyId of keyIds) if (!accepted.has(keyId)) this.endStreamsOfKey(keyId, 'key no longer accepted');
    } catch (error) {
      this.logger.warn({ err: { name: (error as Error).name } }, 'live updates: checking the keys of open streams failed; will try again');
    }
  }

  private forget(stream: LiveStream, reason: string): void {
    if (!this.streams.delete(stream)) return;
    this.release(stream.actor.keyId);
    this.counts.ended.set(reason, (this.counts.ended.get(reason) ?? 0) + 1);
    if (reason === 'fell behind') this.logger.warn({ keyId: stream.actor.keyId }, 'live updates: a subscriber fell behind; its stream was ended');
  }

  private release(keyId: string): void {
    const held = (this.perKey.get(keyId) ?? 1) - 1;
    if (held > 0) this.perKey.set(keyId, held);
    else this.perKey.delete(keyId);
  }

  /** Ends every stream (shutdown: their requests would hold the drain) and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.presence);
    for (const stream of [...this.streams]) stream.end('server shutting down');
    const stop = await this.listening?.catch(() => undefined);
    this.listening = undefined;
    if (stop) {
      await stop();
      await withdrawListener(this.orm.em.fork(), this.processId).catch(() => {});
    }
  }
}
