// The process-wide structured logger (pino). Every line inside a request carries its request id.
// Never log keys, hashes or request bodies.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { currentRequestId } from './request-context.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'trieve-gateway' },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'apiKey', 'key', 'hash'], censor: '[redacted]' },
    },
    destination,
  );
}
