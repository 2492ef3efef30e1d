// The process-wide structured logger (pino). Every line inside a request carries its request id.
// Never log keys, hashes or request bodies.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { currentRequestId } from './request-context.js';

export type { Logger };

/** `pretty`: human-readable lines (pino-pretty) when writing to a terminal; JSON otherwise. */
/** `traceId`: with tracing on, the active trace's id goes on every line (`trace_id`) beside the request id. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream, pretty = false, traceId?: () => string | undefined): Logger {
  if (!destination && pretty && process.stdout.isTTY) {
    destination = pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } });
  }
  // Asynchronous writes to stdout: under load, lines written while one write is in flight go out
  // together; pino flushes what is left when the process exits.
  destination ??= pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level,
      base: { service: 'trieve-gateway' },
      mixin: () => {
        const requestId = currentRequestId();
        const trace_id = traceId?.();
        if (!trace_id) return requestId ? { requestId } : {};
        return requestId ? { requestId, trace_id } : { trace_id };
      },
      redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'apiKey', 'key', 'hash'], censor: '[redacted]' },
    },
    destination,
  );
}
