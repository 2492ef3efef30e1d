// GraphiQL on GET /graphql for browsers, rendered once and served compressed and revalidated: the
// offline page (Yoga's bundle, inlined: no CDN) is ~9 MB, so each answer is brotli or gzip, tagged
// with an ETag, and a repeat visit is a 304 with no body.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

export type GraphiQLPageOptions = Readonly<{ title: string; defaultQuery: string; headers: string }>;

type Rendered = { html: Buffer; etag: string; br?: Promise<Buffer>; gzip?: Promise<Buffer> };

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Which encoding the client takes, best first: br, gzip, or none. */
function pickEncoding(acceptEncoding: string | null): 'br' | 'gzip' | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    if (name) accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : undefined;
}

export function useGraphiQLPage(endpoint: string, options: GraphiQLPageOptions): Plugin {
  let rendered: Promise<Rendered> | undefined;
  const render = async (): Promise<Rendered> => {
    // The bundle is large (tens of MB in memory while rendering): loaded on the first page view only.
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    const html = Buffer.from(renderGraphiQL({ ...options, endpoint }));
    return { html, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"` };
  };
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' || url.pathname !== endpoint || !request.headers.get('accept')?.includes('text/html')) return;
      const page = await (rendered ??= render());
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        etag: page.etag,
        // Revalidate every time: the ETag makes that a 304 of a few hundred bytes.
        'cache-control': 'no-cache',
        vary: 'Accept-Encoding',
        // The page keeps a pasted key (localStorage) and runs a `?query=` it is given: no other site may
        // frame it and lure clicks onto it.
        'x-frame-options': 'DENY',
        'content-security-policy': "frame-ancestors 'none'",
      };
      if (request.headers.get('if-none-match') === page.etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const encoding = pickEncoding(request.headers.get('accept-encoding'));
      let body = page.html;
      if (encoding === 'br') {
        body = await (page.br ??= brotli(page.html, { params: { [constants.BROTLI_PARAM_QUALITY]: 6 } }));
      } else if (encoding === 'gzip') {
        body = await (page.gzip ??= gz(page.html, { level: 9 }));
      }
      if (encoding) headers['content-encoding'] = encoding;
      // A Buffer is a Uint8Array: sent as it is, the cached page is not copied per request.
      endResponse(new fetchAPI.Response(body as unknown as BodyInit, { status: 200, headers }));
    },
  };
}
