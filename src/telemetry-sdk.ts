// The OpenTelemetry SDK, loaded only when tracing is on (src/telemetry.ts). Spans: the HTTP server
// request (@opentelemetry/instrumentation-http, continuing an incoming W3C `traceparent`), the GraphQL
// operation, or the REST adapter's fixed operation (@envelop/opentelemetry), and every SQL statement
// (@opentelemetry/instrumentation-pg). Exported over OTLP/HTTP (JSON) in batches. Configured by the
// standard variables: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT / _HEADERS / _TIMEOUT (read by the exporter),
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG,
// OTEL_BSP_SCHEDULE_DELAY / _MAX_QUEUE_SIZE / _MAX_EXPORT_BATCH_SIZE / _EXPORT_TIMEOUT.
// (Not @opentelemetry/sdk-node: it would add gRPC and protobuf exporters, the metrics and logs SDKs and
// an install script, none of which we use.)
import { createRequire } from 'node:module';
import { useOpenTelemetry } from '@envelop/opentelemetry';
import { context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, getNumberFromEnv, getStringFromEnv, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, resourceAttributesEnvDetector, resourceFromAttributes, serviceNameEnvDetector } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Plugin } from 'graphql-yoga';
import { routeLabel } from './http/observability.js';
import type { Tracing } from './telemetry.js';
import type { BatchTracing, BatchWait } from './organizations/create-queue.js';

/** OTEL_TRACES_SAMPLER as the specification names them; the default is parentbased_always_on. */
function samplerFromEnv(): Sampler {
  const name = getStringFromEnv('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  const ratio = () => {
    const value = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
    return value !== undefined && value >= 0 && value <= 1 ? value : 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      throw new Error(`OTEL_TRACES_SAMPLER: unknown sampler "${name}" (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)`);
  }
}

/**
 * SQL text without its values. MikroORM sends statements with their parameters written in as literals,
 * so the text the pg instrumentation records would carry key hashes, e-mail addresses and organization
 * names: every string, dollar-quoted and numeric literal becomes `?` (identifiers and `$n` stay).
 */
export function sanitizeSql(text: string): string {
  return text
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '?')
    .replace(/(?:\b[eE])?'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$."])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g, '?');
}

const SQL_ATTRIBUTES = ['db.query.text', 'db.statement'];

/** URL attributes without their query string: a GET /graphql query string is caller data. */
const URL_ATTRIBUTES = ['url.full', 'http.url', 'http.target', 'url.query'];

/**
 * What leaves the process: SQL without values, no query string in URL attributes, and no exception
 * message or stack (GraphQL errors can quote the variables a client sent). A view of each span, made
 * before the batch holds it.
 */
class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Parameters<SpanProcessor['onStart']>[0], parentContext: Parameters<SpanProcessor['onStart']>[1]): void {
    this.next.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    const attributes: Attributes = { ...span.attributes };
    for (const name of SQL_ATTRIBUTES) if (typeof attributes[name] === 'string') attributes[name] = sanitizeSql(attributes[name]);
    for (const name of URL_ATTRIBUTES) {
      const value = attributes[name];
      if (typeof value !== 'string') continue;
      if (name === 'url.query') delete attributes[name];
      else attributes[name] = value.split('?')[0]!;
    }
    const events = span.events.map((event) =>
      event.name === 'exception' || event.attributes?.['exception.message'] !== undefined
        ? { ...event, attributes: { 'exception.type': event.attributes?.['exception.type'] ?? 'error' } }
        : event,
    );
    // A plain object with the ReadableSpan's fields (the span itself is frozen once ended).
    const view: ReadableSpan = {
      name: span.name,
      kind: span.kind,
      spanContext: () => span.spanContext(),
      parentSpanContext: span.parentSpanContext,
      startTime: span.startTime,
      endTime: span.endTime,
      status: span.status,
      attributes,
      links: span.links,
      events,
      duration: span.duration,
      ended: span.ended,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    };
    this.next.onEnd(view);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** The HTTP server span named and labelled by route template (as in the metrics), never the raw path. */
function useRouteOnSpan(): Plugin {
  return {
    onRequest({ request, url }) {
      const span = trace.getActiveSpan();
      if (!span) return;
      const route = routeLabel(url.pathname);
      span.setAttribute('http.route', route);
      span.updateName(`${request.method} ${route}`);
    },
  };
}

export function startTracing(): Tracing {
  const resource = resourceFromAttributes({ 'service.name': 'trieve-gateway' }).merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
  const fromEnv = (name: string, option: string) => {
    const value = getNumberFromEnv(name);
    return value === undefined ? {} : { [option]: value };
  };
  const batch = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter(),
    ...fromEnv('OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis'),
    ...fromEnv('OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'),
    ...fromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'),
    ...fromEnv('OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis'),
  });
  const provider = new TracerProvider({ resource, sampler: samplerFromEnv(), spanProcessors: [new RedactingSpanProcessor(batch)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Only the server side: the gateway makes no outgoing HTTP requests of its own (the exporter's are not traced).
        disableOutgoingRequestInstrumentation: true,
        // Probes and scrapes would drown the traces that matter.
        ignoreIncomingRequestHook: (request) => /^\/(api\/(health|ready|live)|metrics)(\?|$)/.test(request.url ?? ''),
      }),
      // Statements with their placeholders, never their values (enhancedDatabaseReporting stays off);
      // only inside a traced request, not the pool's or the purge's housekeeping.
      // No pool-checkout spans (a third of all spans; pool waits show in db_pool_connections{state="pending"}).
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true }),
    ],
  });
  // The instrumentations patch `http` and `pg` when they are required. The server imports them as ES
  // modules, which share the CommonJS module objects: requiring them here patches those objects
  // (prototypes), whatever loads them later, with no ESM loader hook.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('pg');
  // GraphQL operation spans: name and type only; no document, variables, result or resolvers.
  const envelop = useOpenTelemetry({ resolvers: false, variables: false, result: false, document: false }, provider) as unknown as Plugin;
  return Object.freeze({
    plugins: [useRouteOnSpan(), envelop],
    createBatches: batchTracing(),
    currentTraceId: () => {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
    },
    shutdown: () => provider.shutdown(),
  });
}

/**
 * Shared create statements in traces (src/organizations/create-queue.ts): `organization.create.wait`
 * in each waiting request's trace, from its arrival to its statement's start; the statement in a trace
 * of its own (`organization.create.batch`, its SQL span under it), linked to every wait, each wait
 * linked back to it. A request's trace shows what it waited for and where that went, and none of them
 * claims the batch's whole time.
 */
function batchTracing(): BatchTracing {
  const tracer = trace.getTracer('trieve-gateway');
  return {
    wait: () => {
      const active = trace.getActiveSpan();
      return (active?.isRecording() ? tracer.startSpan('organization.create.wait') : undefined) as BatchWait;
    },
    shared: (waits, run) => {
      const spans = waits.filter((w): w is BatchWait & Span => w !== undefined);
      if (spans.length === 0) return run();
      const batch = tracer.startSpan('organization.create.batch', {
        root: true,
        links: spans.map((span) => ({ context: span.spanContext() })),
        attributes: { 'gateway.batch.size': waits.length },
      });
      for (const span of spans) span.addLink({ context: batch.spanContext() }).setAttribute('gateway.batch.size', waits.length).end();
      return context.with(trace.setSpan(context.active(), batch), run).finally(() => batch.end());
    },
  };
}
