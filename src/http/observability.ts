// Access log and Prometheus metrics: one line and one observation per request, plus process,
// GraphQL (Yoga's Prometheus plugin) and database pool metrics on GET /metrics.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { routeTemplate } from '../../rest-adapter/routes.js';
import { jsonResponse } from './json-response.js';
import type { Logger } from '../logger.js';
import { requestScope } from '../request-context.js';

/** Routes outside the REST table (which names its own, rest-adapter/routes.ts). */
const OTHER_ROUTES: ReadonlySet<string> = new Set(['/graphql', '/api/health', '/api/ready', '/api/live', '/metrics']);

/** A request's route label: a known path, or the REST route's template (`/api/organization/:organizationId`), else "other", so the label set stays small. */
export function routeLabel(pathname: string): string {
  return OTHER_ROUTES.has(pathname) ? pathname : (routeTemplate(pathname) ?? 'other');
}

export type Metrics = Readonly<{
  registry: Registry;
  plugins: Plugin[];
  /** Counts one finished HTTP request and its latency. */
  observeRequest(path: string, method: string, status: number, seconds: number): void;
  /** Counts one create statement and the organizations it carried. */
  observeCreateStatement(creates: number): void;
}>;

export function createMetrics(orm: MikroORM): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // The pg.Pool under MikroORM's connection (created on first use).
  const pool = async (): Promise<PoolStats | undefined> => (await orm.em.getConnection().getNativeClient()) as PoolStats;
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state (used, free, pending acquires)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const p = await pool().catch(() => undefined);
      this.set({ state: 'used' }, p ? p.totalCount - p.idleCount : 0);
      this.set({ state: 'free' }, p?.idleCount ?? 0);
      this.set({ state: 'pending' }, p?.waitingCount ?? 0);
    },
  });

  // Concurrent creates sharing statements (src/organizations/create-queue.ts): count = statements, sum = creates.
  const createStatements = new Histogram({
    name: 'organization_create_statement_creates',
    help: 'Organizations one create statement carried (1: alone; more: concurrent creates that shared it)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });

  return Object.freeze({
    registry,
    observeCreateStatement: (creates: number) => createStatements.observe(creates),
    plugins: [
      usePrometheus({
        registry,
        endpoint: false,
        // Labels only from closed sets: no URL (query string, Host), no caller-chosen operation names
        // or aliased paths. Route, method and status are in http_requests_total; names are in the log.
        labels: { url: false, operationName: false, path: false },
        // Per-operation counts, latency and errors; not the per-phase timings or the deprecated-field
        // scan, which walk every document on every request.
        metrics: {
          graphql_yoga_http_duration: true,
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_error_result: true,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_phase_execute: false,
          graphql_envelop_phase_subscribe: false,
          graphql_envelop_schema_change: false,
        },
      }),
    ],
    observeRequest: (path, method, status, seconds) => {
      const labels = { route: routeLabel(path), method, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  });
}

type PoolStats = { totalCount: number; idleCount: number; waitingCount: number };

/**
 * Each finished request once: one access-log line (method, path — never the query string —,
 * operation, status, duration, request id) and one metrics observation, from one measurement.
 */
export function useRequestObservation(logger: Logger, metrics: Metrics): Plugin {
  return {
    onExecute({ args }) {
      const scope = requestScope.getStore();
      const name = args.operationName ?? getOperationAST(args.document, undefined)?.name?.value;
      if (scope && name) scope.operationName = name.slice(0, 100);
    },
    onResponse({ request, response }) {
      const scope = requestScope.getStore();
      if (!scope) return;
      const path = new URL(request.url).pathname;
      const ms = performance.now() - scope.startedAt;
      metrics.observeRequest(path, request.method, response.status, ms / 1000);
      logger.info(
        { method: request.method, path, operation: scope.operationName, status: response.status, durationMs: Math.round(ms * 10) / 10 },
        'request',
      );
    },
  };
}

const LOOPBACK_ADDRESS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const LOOPBACK_HOST_HEADER = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'] as const;

/**
 * Whether a request comes straight from this machine: a loopback peer (`remoteAddress`; undefined for
 * an in-process call, which is this process itself), a Host that names loopback (a DNS-rebinding page
 * sends its own name), and no proxy's forwarding header (a reverse proxy on this machine connects from
 * loopback on behalf of anyone).
 */
export function isDirectLocalRequest(remoteAddress: string | undefined, headers: Headers, inProcess: boolean): boolean {
  if (inProcess) return true;
  if (remoteAddress === undefined || !LOOPBACK_ADDRESS.test(remoteAddress)) return false;
  if (!LOOPBACK_HOST_HEADER.test(headers.get('host') ?? '')) return false;
  return FORWARDING_HEADERS.every((name) => !headers.has(name));
}

/**
 * GET /metrics in Prometheus text format: behind `Authorization: Bearer <METRICS_TOKEN>` when set;
 * without a token, only for direct requests from this machine (see isDirectLocalRequest).
 */
export function useMetricsEndpoint(registry: Registry, token: string | undefined): Plugin {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (url.pathname !== '/metrics') return;
      if (!expected) {
        // node:http requests carry their socket in the server context; app.fetch calls have none.
        const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
        if (!isDirectLocalRequest(req?.socket.remoteAddress, request.headers, req === undefined)) {
          endResponse(jsonResponse(fetchAPI, { message: METRICS_FORBIDDEN }, 403));
          return;
        }
      } else {
        const given = Buffer.from(request.headers.get('authorization') ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          endResponse(jsonResponse(fetchAPI, { message: 'Unauthorized' }, 401, { 'www-authenticate': 'Bearer' }));
          return;
        }
      }
      endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
    },
  };
}

export const METRICS_FORBIDDEN = 'Forbidden: without METRICS_TOKEN, /metrics answers only direct requests from this machine (loopback address and Host, no proxy)';
