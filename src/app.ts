// The request pipeline: Yoga (GraphQL, GraphiQL), the REST adapter, health, metrics and the access
// log behind one handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import type { MikroORM } from '@mikro-orm/postgresql';
import { sendNodeResponse } from '@whatwg-node/server';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useRestAdapter } from '../rest-adapter/index.js';
import { readApiKey, resolveViewer, ViewerCache } from './auth/api-keys.js';
import { LastUsedRecorder } from './api-keys/last-used.js';
import type { Listen } from './db/listen.js';
import { LiveHub } from './live/hub.js';
import { useLeanEventStreams } from './live/sse.js';
import type { Config } from './config.js';
import type { Audit, Context } from './context.js';
import { isDatabaseUnavailable, loggable } from './db/errors.js';
import type { Logger } from './logger.js';
import { CSRF_SAFE_HEADERS, hardeningPlugins } from './http/hardening.js';
import { CLIENT_ABORT_MESSAGE, isClientAbort } from './http/body-limit.js';
import { useGraphiQLPage } from './http/graphiql-page.js';
import { jsonResponse } from './http/json-response.js';
import { createMetrics, useMetricsEndpoint, useRequestObservation } from './http/observability.js';
import { loadPersistedOperations, useTrustedDocuments } from './http/persisted-operations.js';
import { currentRequestId, newRequestScope, requestScope } from './request-context.js';
import { CreateQueue, DEFAULT_CREATE_STATEMENTS_IN_FLIGHT } from './organizations/create-queue.js';
import { DEFAULT_CREATE_RATE_LIMIT } from './organizations/rate-limit.js';
import { clientClosedRequest, serviceUnavailable } from './schema/errors.js';
import { schema } from './schema/index.js';
import type { Tracing } from './telemetry.js';

export type App = Readonly<{
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  /** In-process entry point (tests, benchmarks): the same pipeline as the HTTP server. */
  fetch(request: Request): Promise<Response>;
  /** The node:http request listener. */
  handleNodeRequest(req: IncomingMessage, res: ServerResponse): void;
  /** From now on readiness answers 503, so load balancers stop sending new requests. */
  startDraining(): void;
  /** Keys' "last used" times, written off the request path (counts for the bench). */
  lastUsed: LastUsedRecorder;
  /** Where concurrent creates share statements (its stats: metrics, tests, the bench). */
  createQueue: CreateQueue;
  /** Live updates (null without a listener). */
  live: LiveHub | null;
  /** After the last request: writes what is left (before the database closes). */
  close(): Promise<void>;
  /** A key revoked outside a request (the CLI through the admin socket): refused here from now on. */
  forgetApiKey(keyId: string): void;
}>;

export type AppConfig = Pick<
  Config,
  'maxBodyBytes' | 'graphqlMaxBodyBytes' | 'graphiql' | 'introspection' | 'persistedOperationsFile' | 'metricsToken' | 'corsOrigins' | 'apiKeyCacheSeconds' | 'createRateLimit' | 'liveStreamsPerKey'
> &
  Partial<Pick<Config, 'createStatementsInFlight'>>;

/** The database pool's size, as the ORM was given it (embedded: 1). */
function poolSize(orm: MikroORM): number {
  return (orm.config.get('pool') as { max?: number } | undefined)?.max ?? 10;
}

export const DEFAULT_APP_CONFIG: AppConfig = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  graphqlMaxBodyBytes: 64 * 1024,
  apiKeyCacheSeconds: 5,
  graphiql: true,
  introspection: true,
  persistedOperationsFile: undefined,
  metricsToken: undefined,
  corsOrigins: [],
  createRateLimit: DEFAULT_CREATE_RATE_LIMIT,
  liveStreamsPerKey: 10,
});

export type AppOptions = Readonly<{
  orm: MikroORM;
  config: AppConfig;
  logger: Logger;
  tracing?: Tracing;
  /** The database's LISTEN (Database.listen); without it, subscriptions answer SERVICE_UNAVAILABLE. */
  listen?: Listen;
}>;

export const EXAMPLE_OPERATION = `# Create an API key in another terminal (this server keeps running):
#   npm run --silent cli -- create-api-key --email you@example.com --role owner
#   (installed as a package: npx trieve-gateway create-api-key --email you@example.com --role owner)
# then put it in the Headers pane below: {"Authorization": "Bearer tru_..."}

mutation CreateOrganization {
  createOrganization(input: { name: "My organization" }) {
    __typename
    ... on Organization { id name createdAt registerable deleted partnerConfiguration }
    ... on Error { message }
  }
}

query Viewer {
  viewer { id email organizations(first: 20) { totalCount edges { cursor node { id name createdAt viewerRole } } pageInfo { hasNextPage endCursor } } }
}

# Paste an id from Viewer in place of ORGANIZATION_ID (owners rename and delete; admins add and remove members).
mutation RenameOrganization {
  updateOrganization(input: { id: "ORGANIZATION_ID", name: "A better name" }) {
    __typename
    ... on Organization { id name updatedAt }
    ... on Error { message }
  }
}

query Members {
  organization(id: "ORGANIZATION_ID") { name members { totalCount edges { node { role joinedAt user { id email } } } } }
}

mutation AddMember {
  addMember(input: { organizationId: "ORGANIZATION_ID", email: "colleague@example.com", role: USER }) {
    __typename
    ... on Membership { role user { id email } }
    ... on Error { message }
  }
}

# An organization's key (acts only there; its secret is shown this once), then the keys and their last use.
mutation CreateOrganizationKey {
  createApiKey(input: { organizationId: "ORGANIZATION_ID", name: "ci", role: READ }) {
    __typename
    ... on CreatedApiKey { secret apiKey { id hint status } }
    ... on Error { message }
  }
}

query ApiKeys {
  viewer { apiKeys { edges { node { id name role scope status hint lastUsedAt } } } }
  organization(id: "ORGANIZATION_ID") { apiKeys { edges { node { id name role status hint lastUsedAt } } } }
}

# Paste a key id from ApiKeys in place of KEY_ID: rotate (the old key works for the grace period) or revoke.
mutation RotateApiKey {
  rotateApiKey(input: { id: "KEY_ID", gracePeriodSeconds: 3600 }) { __typename ... on CreatedApiKey { secret apiKey { id } } ... on Error { message } }
}

mutation RevokeApiKey {
  revokeApiKey(id: "KEY_ID") { __typename ... on ApiKey { id status revokedAt } ... on Error { message } }
}

mutation DeleteOrganization {
  deleteOrganization(id: "ORGANIZATION_ID") { __typename ... on Organization { id deleted } ... on Error { message } }
}

# Run this in a second tab and keep it open: your organizations' changes arrive as they happen (SSE).
subscription OrganizationEvents {
  organizationEvents { kind organizationId userId at organization { name } }
}
`;

/** Echoes the request id on every response. */
function useRequestIdHeader(): Plugin {
  return {
    onResponse({ response }) {
      const requestId = currentRequestId();
      if (requestId) response.headers.set('x-request-id', requestId);
    },
  };
}

/**
 * GET /api/health (liveness + database): 200 when the database answers, 503 otherwise.
 * GET /api/ready (readiness): the same, and 503 once the instance is draining for shutdown.
 */
function useHealth(orm: MikroORM, logger: Logger, isDraining: () => boolean): Plugin {
  const probes: Record<string, (databaseUp: boolean) => [number, Record<string, string>]> = {
    '/api/health': (up) => (up ? [200, { status: 'ok' }] : [503, { status: 'unavailable' }]),
    '/api/ready': (up) => (isDraining() ? [503, { status: 'draining' }] : up ? [200, { status: 'ready' }] : [503, { status: 'unavailable' }]),
  };
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const probe = probes[url.pathname];
      if (!probe) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(jsonResponse(fetchAPI, { message: 'Method Not Allowed' }, 405, { allow: 'GET, HEAD' }));
        return;
      }
      let up = true;
      try {
        await orm.em.getConnection().execute('select 1');
      } catch (error) {
        up = false;
        logger.warn({ err: loggable(error) }, 'health check: database unavailable');
      }
      const [status, body] = probe(up);
      endResponse(jsonResponse(fetchAPI, body, status));
    },
  };
}

/** Yoga's logger on pino. Yoga logs each error it masks (a failure of ours) here, once. */
function yogaLogger(logger: Logger) {
  const level =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error && isClientAbort(first)) {
        logger.debug(CLIENT_ABORT_MESSAGE);
      } else if (first instanceof Error) {
        const what = name !== 'error' ? first.message : isDatabaseUnavailable(first) ? 'database unavailable' : 'internal error';
        // A database failure is logged by SQLSTATE and class, never with its statement or values.
        logger[name]({ err: loggable(first) }, what);
      }
      else if (typeof first === 'string') logger[name](rest.length > 0 ? { args: rest } : {}, first);
      else logger[name]({ args }, 'yoga');
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

/** CORS_ORIGINS: none (default) answers no CORS headers; `*` any origin; else the listed ones. Never credentials. */
function corsOptions(origins: readonly string[]) {
  if (origins.length === 0) return false;
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    credentials: false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'tr-organization', 'x-organization', 'idempotency-key', 'x-request-id', ...CSRF_SAFE_HEADERS],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  };
}

export function createApp({ orm, config, logger, tracing, listen }: AppOptions): App {
  let draining = false;
  const viewers = new ViewerCache(config.apiKeyCacheSeconds * 1000);
  const lastUsed = new LastUsedRecorder(orm, logger);
  const live = listen ? new LiveHub(orm, listen, logger, { streamsPerKey: config.liveStreamsPerKey }) : null;
  const audit: Audit = (event, fields) => logger.info({ audit: event, ...fields }, event);
  const onRefused = ({ keyId, reason }: { keyId: string; reason: string }) => logger.warn({ audit: 'api_key.refused', keyId, reason }, `API key refused: ${reason}`);
  const metrics = createMetrics(orm);
  const trusted = config.persistedOperationsFile ? loadPersistedOperations(config.persistedOperationsFile, schema) : undefined;
  // GraphiQL sends arbitrary documents, which a trusted-documents server refuses: it is off there.
  const graphiql = config.graphiql && !trusted;

  // Concurrent creates share statements once CREATE_STATEMENTS_IN_FLIGHT are in flight (default 2: one
  // committing while the next is sent; never more than the pool has connections).
  const createQueue = new CreateQueue(orm.em.fork(), config.createRateLimit, {
    concurrency: Math.min(config.createStatementsInFlight ?? DEFAULT_CREATE_STATEMENTS_IN_FLIGHT, poolSize(orm)),
    observe: metrics.observeCreateStatement,
    tracing: tracing?.createBatches,
    onError: (error, what) => logger.error({ err: loggable(error) }, what),
  });
  const contextFor = (viewer: Context['viewer'], em = orm.em.fork()): Context =>
    Object.freeze({ em, viewer, createRateLimit: config.createRateLimit, createQueue, apiKeyCache: viewers, audit, live });
  // Subscriptions over SSE: an idle stream holds its connection and its source, not its request (src/live/sse.ts).
  const eventStreams = useLeanEventStreams<Context>({
    execute: () => yoga.getEnveloped().execute,
    contextForEvents: ({ viewer }) => () => contextFor(viewer),
    logger,
  });

  const yoga: YogaServerInstance<Record<string, unknown>, Context> = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Our own parsers enforce MAX_BODY_BYTES on /graphql and REST (413); Yoga's limit would wrap every
    // POST body in another stream and Request for nothing.
    maxRequestBodySize: false,
    // Yoga's built-in liveness probe (no database) matches any URL ending in this path; ours is
    // /api/health, which also asks the database.
    healthCheckEndpoint: '/api/live',
    // Database outages are the client's business (503, retry); every other unexpected error is masked.
    maskedErrors: {
      // Never unmasked, whatever NODE_ENV says: readable logs must not change what clients see.
      isDev: false,
      maskError: (error, message) =>
        // A client abort first: its ECONNRESET is the client's socket, not the database's.
        isClientAbort(error) ? clientClosedRequest() : isDatabaseUnavailable(error) ? serviceUnavailable() : maskError(error, message, false),
    },
    // We authenticate by header, never by cookie: no credentials in CORS, and only listed origins.
    cors: corsOptions(config.corsOrigins),
    logging: yogaLogger(logger),
    // GraphiQL is served by our own plugin (compressed, with an ETag); Yoga's is off.
    graphiql: false,
    context: async ({ request }): Promise<Context> => {
      const em = orm.em.fork();
      const viewer = await resolveViewer(em, readApiKey(request.headers), { cache: viewers, onRefused });
      if (viewer) lastUsed.touch(viewer.apiKeyId);
      return contextFor(viewer, em);
    },
    plugins: [
      // Before the plugins that wrap execution, so they wrap an event's too.
      eventStreams,
      // First of the rest, so the GraphQL (and REST) operation span is a child of the HTTP span (tracing on only).
      ...(tracing?.plugins ?? []),
      useRequestIdHeader(),
      ...(graphiql
        ? [useGraphiQLPage('/graphql', { title: 'Trieve organization gateway', defaultQuery: EXAMPLE_OPERATION, headers: JSON.stringify({ Authorization: 'Bearer tru_paste-your-api-key-here' }) })]
        : []),
      useRequestObservation(logger, metrics),
      ...hardeningPlugins(config.graphqlMaxBodyBytes),
      ...metrics.plugins,
      useMetricsEndpoint(metrics.registry, config.metricsToken),
      useHealth(orm, logger, () => draining),
      useRestAdapter({
        maxBodyBytes: config.maxBodyBytes,
        logError: (err, message) => logger.error({ err: loggable(err) }, message),
        logClientAbort: () => logger.debug(CLIENT_ABORT_MESSAGE),
      }),
      ...(trusted ? [useTrustedDocuments(trusted)] : []),
      ...(config.introspection ? [] : [useDisableIntrospection(), blockFieldSuggestionsPlugin() as Plugin]),
    ],
  });

  return Object.freeze({
    yoga,
    fetch: (request: Request) => requestScope.run(newRequestScope(request.headers.get('x-request-id')), async () => yoga.fetch(request)),
    handleNodeRequest: (req: IncomingMessage, res: ServerResponse) => {
      const header = req.headers['x-request-id'];
      requestScope.run(newRequestScope(Array.isArray(header) ? header[0] : header), () => {
        // Yoga's requestListener, except that a subscription's stream is written to the socket by us.
        void (async () => {
          const response = await yoga.handleNodeRequestAndResponse(req, res, { req, res });
          const stream = eventStreams.streamOf(response);
          if (stream) stream.sendTo(res, response.status, response.headers);
          else await sendNodeResponse(response, res, req, true);
        })().catch((error: unknown) => {
          if (isClientAbort(error)) logger.debug(CLIENT_ABORT_MESSAGE);
          else logger.error({ err: loggable(error) }, 'internal error');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ message: 'Internal Server Error' }));
          else res.destroy();
        });
      });
    },
    startDraining: () => {
      draining = true;
      // Open streams would hold the drain until its timeout: they end now (clients reconnect elsewhere).
      void live?.close();
    },
    lastUsed,
    createQueue,
    live,
    close: async () => {
      eventStreams.close();
      await live?.close();
      await lastUsed.close();
    },
    forgetApiKey: (keyId: string) => {
      viewers.forget(keyId);
      live?.endStreamsOfKey(keyId);
    },
  });
}
