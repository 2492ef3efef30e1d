// How subscriptions are served over SSE (src/live/sse.ts): over a real socket an idle stream keeps its
// connection and its source, not its request's context; each event runs through envelop's execute
// (Yoga's error masking included); a subscription nobody can read ends at once; clients that speak
// GraphQL over SSE with GET (EventSource) and POST get the same stream.
import http from 'node:http';
import v8 from 'node:v8';
import { EntityManager } from '@mikro-orm/postgresql';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveStream } from '../src/live/hub.js';
import { EventStream, useLeanEventStreams } from '../src/live/sse.js';
import { createLogger } from '../src/logger.js';
import { bearer, CREATE_ORGANIZATION, createTestEnv, serveOnLoopback, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null, liveStreamsPerKey: 40 });
});
afterAll(async () => {
  await env?.close();
});
const server = serveOnLoopback(() => env);

/** Open SSE streams over real sockets; resolves once each has its first ping (the subscription is registered). */
function openStreams(key: string, count: number, query = 'subscription { organizationEvents { kind organizationId organization { name } } }') {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  const received: string[][] = [];
  const opened = Array.from(
    { length: count },
    (_, i) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ query });
        received.push([]);
        const request = http.request(
          `${server.url()}/graphql`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(key), 'content-length': Buffer.byteLength(body) } },
          (response) => {
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              received[i]!.push(chunk);
              resolve(response.statusCode!);
            });
            response.on('end', () => resolve(response.statusCode!));
          },
        );
        request.on('error', reject);
        request.end(body);
        requests.push(request);
      }),
  );
  return {
    opened: Promise.all(opened),
    received,
    close: () => {
      for (const request of requests) request.destroy();
      agent.destroy();
    },
  };
}

const live = (kind: Function) => v8.queryObjects(kind, { format: 'count' }) as number;

describe('subscriptions over SSE', () => {
  it('keep neither their request nor its context while idle: 30 open streams hold 30 sources and no EntityManager', async () => {
    const person = await env.newUser({ role: 'owner' });
    // queryObjects collects garbage first: what it counts is what is held.
    const before = { managers: live(EntityManager), sources: live(LiveStream), streams: live(EventStream) };
    const streams = openStreams(person.key, 30);
    expect(new Set(await streams.opened)).toEqual(new Set([200]));
    try {
      expect(env.app.live!.openStreams).toBe(30);
      expect(live(LiveStream) - before.sources).toBe(30);
      // Before, every stream held its request's context with its EntityManager for its whole life.
      expect(live(EntityManager) - before.managers).toBeLessThan(5);
      expect(live(EventStream) - before.streams).toBe(30);
      // And still each one hears its events, executed then with a context of their own.
      const body = JSON.stringify({ query: CREATE_ORGANIZATION, variables: { name: 'heard by thirty' } });
      await fetch(`${server.url()}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(person.key) }, body });
      await expect.poll(() => streams.received.filter((chunks) => chunks.join('').includes('"name":"heard by thirty"')).length, { timeout: 2000 }).toBe(30);
    } finally {
      streams.close();
    }
    await expect.poll(() => env.app.live!.openStreams, { timeout: 2000 }).toBe(0);
  });

  it('ends a subscription whose result nobody can read (Accept without text/event-stream): 406, and the key keeps its stream slots', async () => {
    const person = await env.newUser({ role: 'owner' });
    const before = env.app.live!.openStreams;
    for (let i = 0; i < 45; i++) {
      const response = await fetch(`${server.url()}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...bearer(person.key) },
        body: JSON.stringify({ query: 'subscription { organizationEvents { kind } }' }),
      });
      expect(response.status).toBe(406);
      await response.body?.cancel();
    }
    expect(env.app.live!.openStreams).toBe(before);
    // 45 refused above, more than the 40 slots of LIVE_STREAMS_PER_KEY: none was kept.
    const streams = openStreams(person.key, 1);
    expect(await streams.opened).toEqual([200]);
    streams.close();
  });

  it('serves EventSource-style GET (query in the URL, key in a header) like POST', async () => {
    const person = await env.newUser({ role: 'owner' });
    const url = `${server.url()}/graphql?query=${encodeURIComponent('subscription { organizationEvents { kind organization { name } } }')}`;
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...bearer(person.key) }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe(':\n\n');
    await fetch(`${server.url()}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(person.key) }, body: JSON.stringify({ query: CREATE_ORGANIZATION, variables: { name: 'heard over GET' } }) });
    let text = '';
    while (!text.includes('event: next')) text += (await reader.read()).value ?? '';
    expect(text).toContain('{"data":{"organizationEvents":{"kind":"CREATED","organization":{"name":"heard over GET"}}}}');
    controller.abort();
    await expect.poll(() => env.app.live!.openStreams, { timeout: 2000 }).toBe(0);
  });
});

describe('an event that fails', () => {
  // A small Yoga with the same plugin: the event's execution goes through envelop's execute, so Yoga's
  // masking turns an unexpected error into "Unexpected error." (logged, never sent), and a client's
  // error keeps its message and code but not Yoga's internal `http` extension.
  it('is masked as any execution is, and the stream goes on', async () => {
    const events: Array<{ id: number; fail: 'unexpected' | 'client' | null }> = [];
    let push: (() => void) | undefined;
    const logged: string[] = [];
    const schema = createSchema({
      typeDefs: 'type Query { ok: Boolean } type Event { id: Int, detail: String } type Subscription { events: Event }',
      resolvers: {
        Subscription: {
          events: {
            subscribe: async function* () {
              for (;;) {
                while (events.length === 0) await new Promise<void>((resolve) => (push = resolve));
                yield events.shift();
              }
            },
            resolve: (event: unknown) => event,
          },
        },
        Event: {
          detail: ({ fail }: { fail: string | null }) => {
            if (fail === 'unexpected') throw new Error('connection string postgres://secret@db');
            if (fail === 'client') throw new GraphQLError('Bad page size', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
            return 'fine';
          },
        },
      },
    });
    let yoga: ReturnType<typeof createYoga>;
    const streams = useLeanEventStreams<Record<string, unknown>>({
      execute: () => yoga.getEnveloped().execute as never,
      contextForEvents: () => () => ({}),
      logger: createLogger('silent'),
    });
    yoga = createYoga({ schema, plugins: [streams], logging: { debug: () => {}, info: () => {}, warn: () => {}, error: (...args: unknown[]) => void logged.push(String(args[0])) } });
    const response = await yoga.fetch('http://yoga.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: 'subscription { events { id detail } }' }) });
    expect(streams.streamOf(response)).toBeInstanceOf(EventStream);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const payloads: unknown[] = [];
    const reading = (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (const match of buffer.matchAll(/event: next\ndata: (.*)\n\n/g)) payloads.push(JSON.parse(match[1]!));
        buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2);
      }
    })();
    events.push({ id: 1, fail: 'unexpected' }, { id: 2, fail: 'client' }, { id: 3, fail: null });
    push?.();
    await expect.poll(() => payloads.length, { timeout: 2000 }).toBe(3);
    expect(payloads[0]).toEqual({ data: { events: { id: 1, detail: null } }, errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 28 }], path: ['events', 'detail'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(payloads[1]).toEqual({ data: { events: { id: 2, detail: null } }, errors: [{ message: 'Bad page size', locations: [{ line: 1, column: 28 }], path: ['events', 'detail'], extensions: { code: 'BAD_USER_INPUT' } }] });
    expect(payloads[2]).toEqual({ data: { events: { id: 3, detail: 'fine' } } });
    expect(JSON.stringify(payloads)).not.toContain('secret');
    expect(logged.some((line) => line.includes('postgres://secret@db'))).toBe(true);
    await reader.cancel();
    await reading.catch(() => {});
    streams.close();
  });
});
