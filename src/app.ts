// The request pipeline: Yoga (GraphQL + GraphiQL), health, and the REST adapter behind one handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useRestAdapter } from '../rest-adapter/index.js';
import { readApiKey, resolveViewer } from './auth/api-keys.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Logger } from './logger.js';
import { currentRequestId, requestIdFrom, requestScope } from './request-context.js';
import { schema } from './schema/index.js';

export type App = Readonly<{
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  /** In-process entry point (tests, benchmarks): the same pipeline as the HTTP server. */
  fetch(request: Request): Promise<Response>;
  /** The node:http request listener. */
  handleNodeRequest(req: IncomingMessage, res: ServerResponse): void;
}>;

export type AppOptions = Readonly<{
  orm: MikroORM;
  config: Pick<Config, 'maxBodyBytes'>;
  logger: Logger;
}>;

const EXAMPLE_OPERATION = `# Create an API key first:
#   npm run --silent cli -- create-api-key --email you@example.com
# then put it in the Headers pane below: {"Authorization": "Bearer tr-..."}

mutation CreateOrganization {
  createOrganization(input: { name: "My organization" }) {
    __typename
    ... on Organization { id name createdAt registerable deleted partnerConfiguration }
    ... on Error { message }
  }
}

query Viewer {
  viewer { id email organizations { id name createdAt } }
}
`;

type FetchAPI = Parameters<NonNullable<Plugin['onRequest']>>[0]['fetchAPI'];

export function jsonResponse(fetchAPI: FetchAPI, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Echoes the request id on every response. */
function useRequestIdHeader(): Plugin {
  return {
    onResponse({ response }) {
      const requestId = currentRequestId();
      if (requestId) response.headers.set('x-request-id', requestId);
    },
  };
}

/** GET /api/health: 200 when the database answers, 503 otherwise. */
function useHealth(orm: MikroORM, logger: Logger): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/api/health') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(jsonResponse(fetchAPI, { message: 'Method Not Allowed' }, 405, { allow: 'GET, HEAD' }));
        return;
      }
      try {
        await orm.em.getConnection().execute('select 1');
        endResponse(jsonResponse(fetchAPI, { status: 'ok' }));
      } catch (error) {
        logger.warn({ err: error }, 'health check: database unavailable');
        endResponse(jsonResponse(fetchAPI, { status: 'unavailable' }, 503));
      }
    },
  };
}

/** Yoga's logger on pino. Yoga logs each error it masks (a failure of ours) here, once. */
function yogaLogger(logger: Logger) {
  const level =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error) logger[name]({ err: first }, name === 'error' ? 'internal error' : first.message);
      else if (typeof first === 'string') logger[name](rest.length > 0 ? { args: rest } : {}, first);
      else logger[name]({ args }, 'yoga');
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

export function createApp({ orm, config, logger }: AppOptions): App {
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Yoga's built-in liveness probe (no database) matches any URL ending in this path; ours is
    // /api/health, which also asks the database.
    healthCheckEndpoint: '/api/live',
    maskedErrors: true,
    logging: yogaLogger(logger),
    graphiql: {
      title: 'Trieve organization gateway',
      defaultQuery: EXAMPLE_OPERATION,
      headers: JSON.stringify({ Authorization: 'Bearer tr-paste-your-api-key-here' }),
    },
    renderGraphiQL,
    context: async ({ request }): Promise<Context> => {
      const em = orm.em.fork();
      return Object.freeze({
        em,
        viewer: await resolveViewer(em, readApiKey(request.headers)),
        requestId: currentRequestId() ?? requestIdFrom(null),
      });
    },
    plugins: [
      useRequestIdHeader(),
      useHealth(orm, logger),
      useRestAdapter({ maxBodyBytes: config.maxBodyBytes, logError: (err) => logger.error({ err }, 'internal error') }),
    ],
  });

  return Object.freeze({
    yoga,
    fetch: (request: Request) =>
      requestScope.run({ requestId: requestIdFrom(request.headers.get('x-request-id')) }, async () => yoga.fetch(request)),
    handleNodeRequest: (req: IncomingMessage, res: ServerResponse) => {
      const header = req.headers['x-request-id'];
      requestScope.run({ requestId: requestIdFrom(Array.isArray(header) ? header[0] : header) }, () => {
        void yoga.requestListener(req, res);
      });
    },
  });
}
