// Reading a request body with a hard size limit, declared (Content-Length) or streamed (chunked).
import { causes } from '../cause-chain.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function declaredLengthExceeds(request: Request, limit: number): boolean {
  const declared = request.headers.get('content-length');
  return declared !== null && Number(declared) > limit;
}

/** Reads at most `limit` bytes; more is a BodyTooLargeError, and the rest is not read. */
export async function readBodyWithLimit(request: Request, limit: number): Promise<Uint8Array> {
  if (declaredLengthExceeds(request, limit)) throw new BodyTooLargeError(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** JSON, or any `+json` media type. */
export function isJsonMediaType(header: string): boolean {
  const essence = header.split(';', 1)[0]!.trim().toLowerCase();
  const [type, subtype] = essence.split('/');
  return type === 'application' && subtype !== undefined && (subtype === 'json' || subtype.endsWith('+json'));
}

/**
 * The client went away before its request was read (closed the connection mid-body): not a failure
 * of ours. Node reports it as "aborted" (ECONNRESET); streams as AbortError or a premature close.
 */
export function isClientAbort(error: unknown): boolean {
  return causes(error).some((e) => {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    return name === 'AbortError' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR' || (code === 'ECONNRESET' && message === 'aborted');
  });
}

/** The log line for a client abort (debug level), wherever it is noticed. */
export const CLIENT_ABORT_MESSAGE = 'client closed the request before it was read';
