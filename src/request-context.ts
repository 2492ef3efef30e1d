// Request-scoped data that every log line and error answer can reach without threading it through.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export type RequestScope = {
  readonly requestId: string;
  readonly startedAt: number;
  /** The GraphQL operation name, once known (for the access log). */
  operationName?: string;
};

export const requestScope = new AsyncLocalStorage<RequestScope>();

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` when it is sane (short, printable, no spaces); a fresh UUID otherwise. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

export function newRequestScope(requestIdHeader: string | null | undefined): RequestScope {
  return { requestId: requestIdFrom(requestIdHeader), startedAt: performance.now() };
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}
