// Limits for hostile input on /graphql: body size and media type, document size and shape
// (graphql-armor), no batching, CSRF prevention (Yoga's plugin). A document over a limit fails
// validation: 400 for clients that accept application/graphql-response+json, and (as the
// GraphQL-over-HTTP spec has it) 200 with only `errors` for legacy application/json clients.
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { BodyTooLargeError, isClientAbort, isJsonMediaType, readBodyWithLimit } from './http/body-limit.js';

/** The documented limits (README, "Limits and guarantees"). */
export const GRAPHQL_LIMITS = Object.freeze({ depth: 10, aliases: 10, tokens: 1000, directives: 10, cost: 5000 });

const decoder = new TextDecoder('utf-8', { fatal: true });

const httpError = (status: number, message: string, code: string) => createGraphQLError(message, { extensions: { code, http: { status } } });

/**
 * POST bodies must be JSON objects of at most `maxBodyBytes`: a bigger body is 413 (read no
 * further), another media type 415, an array (a batch) 400.
 */
function useJsonBodyOnly(maxBodyBytes: number): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      const type = request.headers.get('content-type');
      if (type === null || !isJsonMediaType(type)) {
        throw httpError(415, 'Unsupported Media Type: send the GraphQL request as application/json', 'UNSUPPORTED_MEDIA_TYPE');
      }
      setRequestParser(async (req) => {
        let text: string;
        try {
          text = decoder.decode(await readBodyWithLimit(req, maxBodyBytes));
        } catch (error) {
          if (error instanceof BodyTooLargeError) throw httpError(413, `Payload Too Large: ${error.message}`, 'PAYLOAD_TOO_LARGE');
          if (isClientAbort(error)) throw error; // the client left: 499 (see maskError in app.ts)
          throw httpError(400, 'The request body is not valid UTF-8', 'BAD_REQUEST');
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw httpError(400, 'POST body sent invalid JSON.', 'BAD_REQUEST');
        }
        if (Array.isArray(body)) throw httpError(400, 'Batched operations are not supported: send one operation per request', 'BAD_REQUEST');
        if (typeof body !== 'object' || body === null) throw httpError(400, 'POST body must be a JSON object', 'BAD_REQUEST');
        return body as Record<string, unknown>;
      });
    },
  };
}

/**
 * graphql-armor's rules throw their GraphQLError out of validation; returned as validation results
 * instead, they get Yoga's status handling for validation errors (400, or 200 for legacy clients).
 */
const useThrownValidationErrorsAsResults: Plugin = {
  onValidate({ validateFn, setValidationFn }) {
    setValidationFn((...args: Parameters<typeof validateFn>) => {
      try {
        return validateFn(...args);
      } catch (error) {
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
    });
  },
};

export function hardeningPlugins(maxBodyBytes: number): Plugin[] {
  return [
    useThrownValidationErrorsAsResults,
    // GET needs this header (or any preflighted request): a cross-site page cannot send it.
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
    useJsonBodyOnly(maxBodyBytes),
    maxTokensPlugin({ n: GRAPHQL_LIMITS.tokens }) as Plugin,
    maxDepthPlugin({ n: GRAPHQL_LIMITS.depth, ignoreIntrospection: true, flattenFragments: false }) as Plugin,
    maxAliasesPlugin({ n: GRAPHQL_LIMITS.aliases }) as Plugin,
    maxDirectivesPlugin({ n: GRAPHQL_LIMITS.directives }) as Plugin,
    costLimitPlugin({ maxCost: GRAPHQL_LIMITS.cost, ignoreIntrospection: true }) as Plugin,
  ];
}
