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
import { coerceInputValue, getOperationAST, GraphQLError, isInputType, typeFromAST, type GraphQLSchema } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { BodyTooLargeError, isClientAbort, isJsonMediaType, readBodyWithLimit } from './body-limit.js';

/** The documented limits (README, "Limits and guarantees"). */
export const GRAPHQL_LIMITS = Object.freeze({ depth: 10, aliases: 10, tokens: 1000, directives: 10, cost: 5000 });

/**
 * Variables: at most `values` JSON values in all (every object member and array item counts), nested
 * at most `depth` deep; at most `errors` coercion errors are reported, each naming the path and the
 * reason in at most `messageChars` characters. graphql-js reports up to 50 errors and prints the
 * whole offending object in each, so 1 MB of unknown fields answered 49 MB.
 */
export const VARIABLE_LIMITS = Object.freeze({ values: 1000, depth: 10, errors: 5, messageChars: 300 });

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

const badVariables = (message: string) => createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

/** Whether `value` has more than `maxValues` JSON values or nests deeper than `maxDepth`; stops at the first excess. */
function exceedsVariableLimits(value: unknown, maxValues: number, maxDepth: number): boolean {
  let count = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (++count > maxValues || depth > maxDepth) return true;
    if (item !== null && typeof item === 'object') {
      for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
    }
  }
  return false;
}

const shorten = (text: string) => (text.length <= VARIABLE_LIMITS.messageChars ? text : `${text.slice(0, VARIABLE_LIMITS.messageChars - 1)}…`);

/**
 * Coerces each provided variable as the executor will, collecting at most VARIABLE_LIMITS.errors short
 * errors; like the executor's own, they are request errors (HTTP 400).
 */
function variableErrors(schema: GraphQLSchema, args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null; variableValues?: unknown }): GraphQLError[] {
  const values = args.variableValues as Record<string, unknown> | null | undefined;
  if (!values) return [];
  const operation = getOperationAST(args.document, args.operationName);
  const errors: GraphQLError[] = [];
  const enough = new Error('enough');
  try {
    for (const definition of operation?.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const type = typeFromAST(schema, definition.type);
      // Missing, null and ill-typed variables: the executor's own single error per variable.
      if (!type || !isInputType(type) || !Object.hasOwn(values, name) || values[name] === null) continue;
      coerceInputValue(values[name], type, (path, _invalid, error) => {
        const at = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
        errors.push(createGraphQLError(shorten(`Variable "$${name}" got invalid value at "${name}${at}"; ${error.message}`), { nodes: definition, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }));
        if (errors.length >= VARIABLE_LIMITS.errors) throw enough;
      });
    }
  } catch (error) {
    if (error !== enough) throw error;
  }
  return errors;
}

/**
 * Bounded variables: too many values or too deep is a 400 before anything runs; coercion errors are
 * few and short. Runs for /graphql and for the REST adapter's operations (both execute through envelop).
 */
const useBoundedVariables: Plugin = {
  onParams({ params }) {
    if (params.variables != null && exceedsVariableLimits(params.variables, VARIABLE_LIMITS.values, VARIABLE_LIMITS.depth)) {
      throw badVariables(`Variables too large: at most ${VARIABLE_LIMITS.values} values, nested at most ${VARIABLE_LIMITS.depth} deep`);
    }
  },
  onExecute({ args, setResultAndStopExecution }) {
    const errors = variableErrors(args.schema, args);
    if (errors.length > 0) setResultAndStopExecution({ errors });
  },
};

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

/**
 * The CSRF rule (README, "The CSRF rule"): a request without a preflighted content type (a GET, a
 * form post) runs only when it carries one of these headers. None is CORS-safelisted, so a page on
 * another site cannot send any of them without a preflight, which CORS_ORIGINS decides; and this API
 * authenticates with keys in headers, never cookies, so a request a cross-site page *can* send (no such
 * header) carries no credentials. The key headers admit what clients send by default (urql's and
 * Apollo's GET queries carry the key); the others are the CSRF headers clients send of their own
 * accord (Yoga's, Apollo's). Everything else stays refused: 403 `Required CSRF header(s) not present`.
 */
export const CSRF_SAFE_HEADERS = ['authorization', 'x-api-key', 'x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

export function hardeningPlugins(maxBodyBytes: number): Plugin[] {
  return [
    useThrownValidationErrorsAsResults,
    useCSRFPrevention({ requestHeaders: CSRF_SAFE_HEADERS }),
    useJsonBodyOnly(maxBodyBytes),
    useBoundedVariables,
    maxTokensPlugin({ n: GRAPHQL_LIMITS.tokens }) as Plugin,
    maxDepthPlugin({ n: GRAPHQL_LIMITS.depth, ignoreIntrospection: true, flattenFragments: false }) as Plugin,
    maxAliasesPlugin({ n: GRAPHQL_LIMITS.aliases }) as Plugin,
    maxDirectivesPlugin({ n: GRAPHQL_LIMITS.directives }) as Plugin,
    costLimitPlugin({ maxCost: GRAPHQL_LIMITS.cost, ignoreIntrospection: true }) as Plugin,
  ];
}
