import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, readApiKey } from '../src/auth/api-keys.js';
import { countStatements, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

const VIEWER = '{ viewer { id email } }';

describe('API key authentication', () => {
  it('accepts "Authorization: Bearer <key>"', async () => {
    const { key, userId, email } = await env.newUser();
    const { status, body } = await env.graphql(VIEWER, { headers: { authorization: `Bearer ${key}` } });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { viewer: { id: userId, email } } });
  });

  it('accepts a raw "Authorization: <key>"', async () => {
    const { key, userId } = await env.newUser();
    const { body } = await env.graphql(VIEWER, { headers: { authorization: key } });
    expect(body.data.viewer.id).toBe(userId);
  });

  it('accepts x-api-key when there is no Authorization header', async () => {
    const { key, userId } = await env.newUser();
    const { body } = await env.graphql(VIEWER, { headers: { 'x-api-key': key } });
    expect(body.data.viewer.id).toBe(userId);
  });

  it('prefers a usable Authorization header over x-api-key', async () => {
    const a = await env.newUser();
    const b = await env.newUser();
    const { body } = await env.graphql(VIEWER, { headers: { authorization: `Bearer ${a.key}`, 'x-api-key': b.key } });
    expect(body.data.viewer.id).toBe(a.userId);
  });

  it('treats "bearer " (lower case) as part of the key, as upstream does', async () => {
    const { key } = await env.newUser();
    const { body } = await env.graphql(VIEWER, { headers: { authorization: `bearer ${key}` } });
    expect(body).toEqual({ data: { viewer: null } });
  });

  it('gives no viewer for unknown, malformed or missing keys', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer tr-unknownunknownunknownunknown1234' }, { authorization: 'Bearer ' }, { 'x-api-key': 'x'.repeat(10_000) }]) {
      const { status, body } = await env.graphql(VIEWER, { headers });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { viewer: null } });
    }
  });

  it('refuses an expired key', async () => {
    const { key } = await env.newUser({ expiresAt: new Date(Date.now() - 1000) });
    const viewer = await env.graphql(VIEWER, { headers: { authorization: key } });
    expect(viewer.body).toEqual({ data: { viewer: null } });
    const create = await env.graphql(CREATE_ORGANIZATION, { variables: { name: 'expired-key-org' }, headers: { authorization: key } });
    expect(create.status).toBe(401);
    expect(create.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('accepts a key that has not expired yet', async () => {
    const { key, userId } = await env.newUser({ expiresAt: new Date(Date.now() + 3_600_000) });
    const { body } = await env.graphql(VIEWER, { headers: { authorization: key } });
    expect(body.data.viewer.id).toBe(userId);
  });

  it('answers an unauthenticated createOrganization with UNAUTHENTICATED and HTTP 401, creating nothing', async () => {
    const { status, body } = await env.graphql(CREATE_ORGANIZATION, { variables: { name: 'anonymous-org' } });
    expect(status).toBe(401);
    expect(body).toMatchObject({
      data: null,
      errors: [{ message: expect.stringContaining('Authentication required'), path: ['createOrganization'], extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(await env.sql(`select 1 from organizations where name = 'anonymous-org'`)).toEqual([]);
  });

  it('stores only the SHA-256 hash of a key', async () => {
    const { key, userId } = await env.newUser();
    const rows = await env.sql<{ hash: string }>('select hash from api_keys where user_id = ?', [userId]);
    expect(rows).toEqual([{ hash: hashApiKey(key) }]);
    expect(rows[0]!.hash).not.toContain(key.slice(3));
  });
});

describe('key lookup cost', () => {
  it('finds keys through a unique index on the hash, never by scanning', async () => {
    const rows = await env.sql<{ indexdef: string }>(`select indexdef from pg_indexes where tablename = 'api_keys' and indexdef like '%(hash)%'`);
    expect(rows).toEqual([{ indexdef: expect.stringMatching(/^CREATE UNIQUE INDEX api_keys_hash_key ON (public\.)?api_keys USING btree \(hash\)$/) }]);
  });
});

describe('key format', () => {
  it('is tru_ followed by 30 random base62 characters and a 6-character checksum, different every time', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^tru_[0-9A-Za-z]{36}$/);
  });

  it('reads credentials in upstream order', () => {
    expect(readApiKey(new Headers({ authorization: 'Bearer abc' }))).toBe('abc');
    expect(readApiKey(new Headers({ authorization: 'abc' }))).toBe('abc');
    expect(readApiKey(new Headers({ 'x-api-key': 'xyz' }))).toBe('xyz');
    expect(readApiKey(new Headers({ 'x-api-key': 'Bearer xyz' }))).toBe('xyz');
    // With an Authorization header present it alone counts, even when it carries no usable key.
    expect(readApiKey(new Headers({ authorization: 'abc', 'x-api-key': 'xyz' }))).toBe('abc');
    expect(readApiKey(new Headers({ authorization: 'Bearer ', 'x-api-key': 'xyz' }))).toBeUndefined();
    expect(readApiKey(new Headers({ authorization: '', 'x-api-key': 'xyz' }))).toBeUndefined();
    expect(readApiKey(new Headers({ authorization: `Bearer ${'k'.repeat(300)}`, 'x-api-key': 'xyz' }))).toBeUndefined();
    expect(readApiKey(new Headers())).toBeUndefined();
  });
});

describe('the API key cache (API_KEY_CACHE_SECONDS)', () => {
  it('honours an expiry exactly even while the key is cached', async () => {
    const { key, userId } = await env.newUser({ expiresAt: new Date(Date.now() + 1500) });
    expect((await env.graphql(VIEWER, { headers: { authorization: key } })).body.data.viewer.id).toBe(userId);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await env.graphql(VIEWER, { headers: { authorization: key } })).body).toEqual({ data: { viewer: null } });
  });

  it('costs one lookup for a burst of concurrent requests with one key, known or unknown; with the cache off each request looks', async () => {
    const off = await createTestEnv({ apiKeyCacheSeconds: 0 });
    const [{ key, userId }, { key: offKey, userId: offUserId }] = [await env.newUser(), await off.newUser()];
    const burst = (e: TestEnv, k: string) => Promise.all(Array.from({ length: 20 }, () => e.graphql(VIEWER, { headers: { authorization: k } })));
    const lookups = countStatements('where k.hash = '); // key lookups only (not the once-a-minute last-used write)
    try {
      // The entry is missing (as when it has just expired under load): all 20 miss together.
      expect((await burst(env, key)).map((r) => r.body.data.viewer?.id)).toEqual(Array(20).fill(userId));
      expect(lookups.count()).toBe(1);
      expect((await burst(env, generateApiKey())).map((r) => r.body)).toEqual(Array(20).fill({ data: { viewer: null } }));
      expect(lookups.count()).toBe(2);
      expect((await burst(off, offKey)).map((r) => r.body.data.viewer?.id)).toEqual(Array(20).fill(offUserId));
      expect(lookups.count()).toBe(22);
    } finally {
      lookups.restore();
      await off.close();
    }
  });

  it('stops accepting a deleted key within the cache lifetime, and at once with the cache off', async () => {
    const short = await createTestEnv({ apiKeyCacheSeconds: 1 });
    const off = await createTestEnv({ apiKeyCacheSeconds: 0 });
    try {
      for (const [e, waitMs] of [[short, 1100], [off, 0]] as const) {
        const { key, userId } = await e.newUser();
        expect((await e.graphql(VIEWER, { headers: { authorization: key } })).body.data.viewer.id).toBe(userId);
        await e.sql('delete from api_keys where user_id = ?', [userId]);
        if (waitMs) {
          // Within the lifetime the cached key still works (documented); after it, it does not.
          expect((await e.graphql(VIEWER, { headers: { authorization: key } })).body.data.viewer.id).toBe(userId);
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
        expect((await e.graphql(VIEWER, { headers: { authorization: key } })).body).toEqual({ data: { viewer: null } });
      }
    } finally {
      await short.close();
      await off.close();
    }
  });
});
