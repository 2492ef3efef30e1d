// OpenTelemetry tracing, when the standard environment asks for it. This module is all that loads
// otherwise: without OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) no SDK,
// instrumentation or plugin is loaded, and requests pay nothing.
import type { Plugin } from 'graphql-yoga';
import type { BatchTracing } from './organizations/create-queue.js';

export type Tracing = Readonly<{
  /** Yoga/envelop plugins: the GraphQL operation span, the route on the HTTP span. */
  plugins: readonly Plugin[];
  /** Concurrent creates that share a statement: their waits and the statement's own span. */
  createBatches: BatchTracing;
  /** The trace id of the active span, for log lines. */
  currentTraceId(): string | undefined;
  /** Export what is buffered, then stop. */
  shutdown(): Promise<void>;
}>;

/** Tracing is on when an OTLP endpoint is configured, unless OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says otherwise. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Starts tracing if requested (loading the SDK only then); undefined when off. */
export async function startTracingIfRequested(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const { startTracing } = await import('./telemetry-sdk.js');
  return startTracing();
}
