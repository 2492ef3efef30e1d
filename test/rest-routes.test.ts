// The REST route table (rest-adapter/routes.ts) is the contract's one list: it and /api/openapi.json
// name the same routes, and the adapter reaches the domain only through GraphQL.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ROUTES, routeTemplate } from '../rest-adapter/routes.js';
import { openapi } from './contract.js';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const documented = (path: string) => path.replace(/:(\w+)/g, (_, name: string) => `{${snake(name)}}`);

it('names exactly the routes openapi.json documents (the document itself aside)', () => {
  const table = ROUTES.filter((route) => route.handler !== 'openapi').map((route) => `${route.method} ${documented(route.path)}`).sort();
  const document = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  expect(table).toEqual(document);
});

it('labels requests by route template, so metrics and traces never carry an id', () => {
  expect(routeTemplate('/api/organization/3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b')).toBe('/api/organization/:organizationId');
  expect(routeTemplate('/api/organization/a/user/b')).toBe('/api/organization/:organizationId/user/:userId');
  expect(routeTemplate('/api/unknown')).toBeUndefined();
});

it('never imports the domain, the entities or the database: it runs GraphQL operations only', () => {
  for (const file of readdirSync('rest-adapter').filter((name) => name.endsWith('.ts'))) {
    const imports = [...readFileSync(`rest-adapter/${file}`, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    expect(imports.filter((path) => /src\/(organizations|memberships|entities|db|auth|api-keys)\//.test(path)), file).toEqual([]);
  }
});
