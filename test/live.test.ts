// Live updates over Server-Sent Events (subscription organizationEvents): across two app instances on one
// database (PostgreSQL's LISTEN/NOTIFY; embedded, PGlite's own listen), in order, filtered by the
// subscriber's rights at delivery, ended when the key is revoked, bounded per key and per stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_APP_CONFIG, type App } from '../src/app.js';
import type { OrganizationEvent } from '../src/live/events.js';
import { LiveStream, QUEUE_LIMIT } from '../src/live/hub.js';
import { createLogger } from '../src/logger.js';
import { bearer, CREATE_ORGANIZATION, createTestEnv, makeTeam, type TestEnv } from './helpers.js';

let env: TestEnv;
let other: App;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null, liveStreamsPerKey: 3 });
  // A second instance on the same database, with its own listener.
  other = createApp({ orm: env.db.orm, config: { ...DEFAULT_APP_CONFIG, createRateLimit: null }, logger: createLogger('silent'), listen: env.db.listen });
});
afterAll(async () => {
  await other?.close();
  await env?.close();
});

const SUBSCRIPTION = 'subscription { organizationEvents { kind organizationId userId at organization { name } } }';

type Received = { kind: string; organizationId: string; userId: string | null; organization: { name: string } | null };

/** A subscriber as a fetch-based SSE client is: POST /graphql, Accept: text/event-stream; events as they come. */
async function subscribe(app: Pick<App, 'fetch'>, key: string | null) {
  const controller = new AbortController();
  const response = await app.fetch(
    new Request('http://live.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? bearer(key) : {}) },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal: controller.signal,
    }),
  );
  const events: Received[] = [];
  const errors: unknown[] = [];
  let pings = 0;
  let completed = false;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) pings++;
          const event = /^event: (\w+)/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'complete') completed = true;
          if (event === 'next' && data) {
            const payload = JSON.parse(data) as { data?: { organizationEvents: Received }; errors?: unknown[] };
            if (payload.errors) errors.push(...payload.errors);
            else events.push(payload.data!.organizationEvents);
          }
        }
      }
    } catch {
      // aborted
    }
    completed = true;
  })();
  // The stream is open once Yoga's first ping arrived (the subscription is registered before it).
  await expect.poll(() => pings > 0 || completed, { timeout: 5000 }).toBe(true);
  return {
    status: response.status,
    events,
    errors,
    pings: () => pings,
    completed: () => completed,
    close: async () => {
      // Cancelling the body is what a client closing the stream does: the server ends the subscription.
      await reader.cancel().catch(() => {});
      controller.abort();
      await reading;
    },
  };
}

const create = async (key: string, name: string, app?: App) => {
  const body = JSON.stringify({ query: CREATE_ORGANIZATION, variables: { name } });
  const response = app
    ? await app.fetch(new Request('http://other.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body }))
    : (await env.graphql(CREATE_ORGANIZATION, { variables: { name }, headers: bearer(key) })).response;
  void response;
  const [row] = await env.sql<{ id: string }>('select id from organizations where name = ?', [name]);
  return row!.id;
};

describe('organizationEvents', () => {
  it('reaches a subscriber on another instance within a second, in order, with heartbeats', async () => {
    const person = await env.newUser({ role: 'owner' });
    const subscriber = await subscribe(other, person.key);
    expect(subscriber.status).toBe(200);
    const ids: string[] = [];
    const started = Date.now();
    for (const name of ['live one', 'live two', 'live three']) ids.push(await create(person.key, name));
    await expect.poll(() => subscriber.events.length, { timeout: 1000, interval: 20 }).toBe(3);
    expect(Date.now() - started).toBeLessThan(1000 + 500);
    expect(subscriber.events.map((e) => [e.kind, e.organizationId, e.organization?.name])).toEqual([
      ['CREATED', ids[0], 'live one'],
      ['CREATED', ids[1], 'live two'],
      ['CREATED', ids[2], 'live three'],
    ]);
    // Yoga's keep-alive comments (every 12 s; every 300 ms under NODE_ENV=test, as here).
    const pings = subscriber.pings();
    await expect.poll(() => subscriber.pings(), { timeout: 3000 }).toBeGreaterThan(pings);
    await subscriber.close();
  });

  it('tells members of renames, deletes and membership changes; a removed member hears nothing more; others hear nothing', async () => {
    const t = await makeTeam(env, 'Live Team');
    const stranger = await env.newUser({ role: 'owner' });
    const [user, outsider, admin] = [await subscribe(other, t.user.key), await subscribe(other, stranger.key), await subscribe(env.app, t.admin.key)];
    const rename = (name: string) => env.graphql('mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }', { variables: { input: { id: t.id, name } }, headers: bearer(t.owner.key) });
    await rename('Live Team renamed');
    await expect.poll(() => user.events.length, { timeout: 1000 }).toBe(1);
    expect(user.events[0]).toMatchObject({ kind: 'UPDATED', organizationId: t.id, organization: { name: 'Live Team renamed' } });
    const remove = await env.graphql('mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { __typename } }', { variables: { input: { organizationId: t.id, userId: t.user.userId } }, headers: bearer(t.owner.key) });
    expect(remove.body.data.removeMember.__typename).toBe('Membership');
    await expect.poll(() => user.events.length, { timeout: 1000 }).toBe(2);
    expect(user.events[1]).toMatchObject({ kind: 'MEMBER_REMOVED', organizationId: t.id, userId: t.user.userId, organization: null });
    await rename('Live Team again');
    const deleted = await env.graphql('mutation ($id: ID!) { deleteOrganization(id: $id) { __typename } }', { variables: { id: t.id }, headers: bearer(t.owner.key) });
    expect(deleted.body.data.deleteOrganization.__typename).toBe('Organization');
    await create(t.owner.key, 'Live Team after');
    // The admin, still a member, hears everything of this organization, in order, and nothing of the
    // owner's new one; the removed user nothing after their removal; the stranger nothing at all.
    await expect.poll(() => admin.events.map((e) => [e.kind, e.organizationId === t.id]), { timeout: 1000 }).toEqual([['UPDATED', true], ['MEMBER_REMOVED', true], ['UPDATED', true], ['DELETED', true]]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(admin.events).toHaveLength(4);
    expect(user.events).toHaveLength(2);
    expect(outsider.events).toEqual([]);
    for (const s of [user, outsider, admin]) await s.close();
  });

  it('hears of a delete as a member, and ends the stream of a key revoked on this instance at once', async () => {
    const t = await makeTeam(env, 'Live Delete');
    const admin = await subscribe(env.app, t.admin.key);
    await env.graphql('mutation ($id: ID!) { deleteOrganization(id: $id) { __typename } }', { variables: { id: t.id }, headers: bearer(t.owner.key) });
    await expect.poll(() => admin.events.map((e) => e.kind), { timeout: 1000 }).toEqual(['DELETED']);
    const { body } = await env.graphql('{ viewer { apiKeys { edges { node { id } } } } }', { headers: bearer(t.admin.key) });
    const keyId = body.data.viewer.apiKeys.edges[0].node.id;
    await env.graphql('mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }', { variables: { id: keyId }, headers: bearer(t.admin.key) });
    await expect.poll(() => admin.completed(), { timeout: 1000 }).toBe(true);
    await admin.close();
  });

  it('refuses anonymous subscribers and more than LIVE_STREAMS_PER_KEY streams of one key', async () => {
    const anonymous = await subscribe(env.app, null);
    await expect.poll(() => anonymous.errors.length + (anonymous.completed() ? 1 : 0), { timeout: 2000 }).toBeGreaterThan(0);
    await anonymous.close();
    const person = await env.newUser({ role: 'owner' });
    const open = [await subscribe(env.app, person.key), await subscribe(env.app, person.key), await subscribe(env.app, person.key)];
    const fourth = await subscribe(env.app, person.key);
    await expect.poll(() => fourth.errors.length, { timeout: 2000 }).toBe(1);
    expect(fourth.errors[0]).toMatchObject({ extensions: { code: 'TOO_MANY_STREAMS' } });
    await fourth.close();
    await open[0]!.close();
    await expect.poll(() => env.app.live!.openStreams, { timeout: 2000 }).toBeLessThanOrEqual(2);
    const again = await subscribe(env.app, person.key);
    expect(again.errors).toEqual([]);
    for (const s of [...open.slice(1), again]) await s.close();
  });
});

describe('publishing', () => {
  it('sends no NOTIFY while no server process has subscribers (a create pays nothing for it), and does once one has', async () => {
    await env.sql('delete from live_listeners');
    const heard: string[] = [];
    const stop = await env.db.listen('trieve_gateway_live', (payload) => heard.push(payload));
    try {
      const person = await env.newUser({ role: 'owner' });
      await create(person.key, 'unheard');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heard).toEqual([]);
      const subscriber = await subscribe(env.app, person.key);
      const id = await create(person.key, 'heard');
      await expect.poll(() => heard.map((payload) => (JSON.parse(payload) as { organizationId: string }).organizationId), { timeout: 1000 }).toEqual([id]);
      await subscriber.close();
    } finally {
      await stop();
    }
  });
});

describe('a slow subscriber', () => {
  it('is ended once it holds QUEUE_LIMIT undelivered events: memory stays bounded', async () => {
    const reasons: string[] = [];
    const stream = new LiveStream({ keyId: 'k', keyRole: 2, userId: 'u', keyOrganizationId: null }, async () => true, (_s, reason) => reasons.push(reason));
    const event: OrganizationEvent = { kind: 'CREATED', organizationId: 'o', userId: null, at: new Date().toISOString() };
    for (let i = 0; i < QUEUE_LIMIT; i++) stream.push(event);
    expect(stream.open).toBe(true);
    stream.push(event);
    expect(stream.open).toBe(false);
    expect(reasons).toEqual(['fell behind']);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
