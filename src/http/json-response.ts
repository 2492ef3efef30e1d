// The one way this server writes a JSON answer outside GraphQL (REST contract, health, metrics auth).
import type { Plugin } from 'graphql-yoga';

export type FetchAPI = Parameters<NonNullable<Plugin['onRequest']>>[0]['fetchAPI'];

export function jsonResponse(fetchAPI: FetchAPI, body: unknown, status = 200, headers: Record<string, string> = {}, withBody = true): Response {
  return new fetchAPI.Response(withBody ? JSON.stringify(body) : null, { status, headers: { 'content-type': 'application/json', ...headers } });
}
