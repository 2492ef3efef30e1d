// A real legacy client: the published trieve-ts-sdk, over real HTTP, against the running adapter.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrieveSDK } from 'trieve-ts-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  env = await createTestEnv();
  server = http.createServer(env.app.handleNodeRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await env?.close();
});

it('trieve-ts-sdk creates an organization and gets the contract object back', async () => {
  const { key, userId } = await env.newUser();
  const sdk = new TrieveSDK({ apiKey: key, baseUrl });
  const org = (await sdk.trieve.fetch('/api/organization', 'post', { data: { name: 'Made by the SDK' } })) as Record<string, unknown>;
  expect(org).toEqual({
    id: expect.any(String),
    name: 'Made by the SDK',
    created_at: expect.stringMatching(/Z$/),
    updated_at: expect.stringMatching(/Z$/),
    registerable: true,
    deleted: 0,
    partner_configuration: {},
  });
  expect(await env.sql('select user_id, role from user_organizations where organization_id = ?', [org.id])).toEqual([{ user_id: userId, role: 2 }]);
});

it('trieve-ts-sdk sees the contract errors', async () => {
  const { key } = await env.newUser();
  const sdk = new TrieveSDK({ apiKey: key, baseUrl });
  await sdk.trieve.fetch('/api/organization', 'post', { data: { name: 'SDK Duplicate' } });
  await expect(sdk.trieve.fetch('/api/organization', 'post', { data: { name: 'SDK Duplicate' } })).rejects.toThrow(/already exists/);
  const stranger = new TrieveSDK({ apiKey: 'tr-00000000000000000000000000000000', baseUrl });
  await expect(stranger.trieve.fetch('/api/organization', 'post', { data: { name: 'nope' } })).rejects.toThrow(/Unauthorized/);
});
