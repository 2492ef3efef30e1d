import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { printSchemaSDL } from '../src/schema/index.js';
import { createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

it('schema.graphql is the SDL the code builds (run `npm run print-schema` after a schema change)', () => {
  const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
  expect(printSchemaSDL()).toBe(committed);
});

it('the checked-in migrations produce exactly the schema the entities describe', async () => {
  const diff = await env.db.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.trim()).toBe('');
});

it('exposes the documented operations', () => {
  const sdl = printSchemaSDL();
  expect(sdl).toContain('createOrganization(input: CreateOrganizationInput!): CreateOrganizationResult!');
  expect(sdl).toContain('union CreateOrganizationResult = NotAllowedError | Organization | OrganizationNameTakenError | ValidationError');
  expect(sdl).toContain('organization(id: ID!): Organization');
  expect(sdl).toContain('viewer: User');
});

it("GraphiQL's example operations fit the schema", async () => {
  const { parse, validate } = await import('graphql');
  const { EXAMPLE_OPERATION } = await import('../src/app.js');
  const { schema } = await import('../src/schema/index.js');
  expect(validate(schema, parse(EXAMPLE_OPERATION)).map((error) => error.message)).toEqual([]);
});
