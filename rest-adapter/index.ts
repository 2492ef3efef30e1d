// The legacy REST contract as a thin layer over the GraphQL schema: each request runs fixed,
// pre-validated operations through Yoga's own envelop (same context factory, auth, per-request
// EntityManager and plugins) and maps the results with one table. The routes are declared in
// routes.ts; this file is the one pipeline they all go through, in upstream's order.
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../src/context.js';
import { BodyTooLargeError, isClientAbort, readBodyWithLimit } from '../src/http/body-limit.js';
import { jsonResponse } from '../src/http/json-response.js';
import { parseUuidLoosely } from '../src/uuid.js';
import { isJsonContentType, decodeBody } from './body.js';
import { HANDLERS, type Run } from './handlers.js';
import { prepareRestDocuments, type RestOperationName } from './operation.js';
import { parsePathUuid } from './path-uuid.js';
import { readQuery } from './query.js';
import { CONTRACT_ERRORS, errorCodeResponse, ORGANIZATION_ACCESS_RESPONSES, roleNumber, type ContractResponse, type GraphQLMember } from './responses.js';
import { resolve, type Check, type Match } from './routes.js';

export type RestAdapterOptions = Readonly<{
  maxBodyBytes: number;
  /** Where failures of ours are reported (with the request id, via the logger's own scope). */
  logError(error: unknown, message: string): void;
  /** A client that went away mid-request (debug level: not a failure of ours). */
  logClientAbort(): void;
}>;

/** Paths under /api that belong to someone else (health probes); everything else under /api is ours. */
const NOT_OURS = new Set(['/api/health', '/api/ready', '/api/live']);

/**
 * GraphQL errors the contract table has no answer for: a 500, logged with their codes (and the request
 * id, from the logger's scope). Errors of ours were already masked, and logged whole, by Yoga.
 */
class UnmappedErrors extends Error {
  readonly codes: string[];
  constructor(readonly operation: RestOperationName, errors: readonly GraphQLError[]) {
    super(`${operation}: GraphQL errors without a contract answer`);
    this.name = 'UnmappedErrors';
    this.codes = errors.map((error) => String(error.extensions?.code ?? 'none'));
  }
}

/** A contract answer thrown from inside a step: the pipeline stops there and answers it. */
class Answer extends Error {
  constructor(readonly response: ContractResponse) {
    super('answered');
  }
}

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped']>;

/** What upstream's auth middleware learnt from TR-Organization: the organization and the caller's role there. */
type Caller = { signedIn: boolean; organizationId: string | null; role: number | null };

export function useRestAdapter(options: RestAdapterOptions): Plugin {
  let yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  let documents: Record<RestOperationName, DocumentNode>;

  const runner =
    (enveloped: Enveloped, contextValue: () => Promise<unknown>): Run =>
    async (operationName, variableValues) => {
      const result = (await enveloped.execute({
        schema: enveloped.schema as GraphQLSchema,
        document: documents[operationName],
        operationName,
        variableValues,
        contextValue: await contextValue(),
      })) as ExecutionResult<Record<string, any>>;
      if (result.errors?.length) {
        for (const error of result.errors) {
          const known = errorCodeResponse(error);
          if (known) throw new Answer(known);
        }
        throw new UnmappedErrors(operationName, result.errors);
      }
      return result.data!;
    };

  /**
   * Upstream's auth middleware, before routing: TR-Organization (alias x-organization), when sent, must
   * be a UUID (400) naming a live organization (404, with or without credentials) the caller belongs to (403).
   */
  async function middleware(request: Request, run: Run, signedIn: boolean): Promise<Caller> {
    const header = request.headers.get('tr-organization') ?? request.headers.get('x-organization');
    if (header === null) return { signedIn, organizationId: null, role: null };
    const organizationId = parseUuidLoosely(header);
    if (organizationId === null) throw new Answer(CONTRACT_ERRORS.badOrganizationHeader);
    const data = await run('RestCallerInOrganization', { organizationId });
    const access = data.organizationAccess as 'MEMBER' | 'NOT_MEMBER' | 'NOT_FOUND' | null;
    if (access === 'NOT_FOUND') throw new Answer(ORGANIZATION_ACCESS_RESPONSES.NOT_FOUND);
    // A key of another organization is signed in but has no `viewer` user: 403 all the same.
    if (signedIn && access === 'NOT_MEMBER') throw new Answer(ORGANIZATION_ACCESS_RESPONSES.NOT_MEMBER);
    const role = data.organization?.viewerRole as GraphQLMember['role'] | null | undefined;
    return { signedIn, organizationId, role: role ? roleNumber(role) : null };
  }

  /** One of the route's checks (routes.ts); throws the contract's answer when it fails. */
  function check(name: Check, request: Request, url: URL, match: Match, caller: Caller, uuids: Record<string, string>, query: Record<string, unknown>): void {
    const fail = (response: ContractResponse) => {
      throw new Answer(response);
    };
    switch (name) {
      case 'json':
        if (!isJsonContentType(request.headers.get('content-type'))) fail(CONTRACT_ERRORS.json('Content type header error', 'Content type error'));
        return;
      case 'path':
        for (const [param, text] of Object.entries(match.params)) {
          const parsed = parsePathUuid(text);
          if ('message' in parsed) fail({ status: 400, body: { message: parsed.message } });
          else uuids[param] = parsed.uuid;
        }
        return;
      case 'organization':
        if (caller.organizationId === null) fail(CONTRACT_ERRORS.unauthorized);
        return;
      case 'user':
        if (!caller.signedIn) fail(CONTRACT_ERRORS.unauthorized);
        return;
      case 'admin':
      case 'owner':
        if (!caller.signedIn || caller.organizationId === null || caller.role === null) fail(CONTRACT_ERRORS.unauthorized);
        if (caller.role! < (name === 'owner' ? 2 : 1)) fail(ORGANIZATION_ACCESS_RESPONSES.NOT_MEMBER);
        return;
      case 'sameOrganization':
        if (uuids.organizationId !== caller.organizationId) fail(ORGANIZATION_ACCESS_RESPONSES.NOT_MEMBER);
        return;
      case 'query': {
        const read = readQuery(url.searchParams, match.route.query ?? {});
        if ('message' in read) fail({ status: 400, body: { message: read.message } });
        else Object.assign(query, read.values);
        return;
      }
    }
  }

  async function route(request: Request, url: URL, serverContext: Record<string, unknown>): Promise<ContractResponse> {
    const found = resolve(request.method, url.pathname);
    const enveloped = yoga.getEnveloped({ request, ...serverContext });
    // Who the caller is, settled by Yoga's context factory (a key that is unknown or expired: nobody),
    // once and only when a step needs it (the OpenAPI document does not).
    let context: Promise<unknown> | undefined;
    const contextValue = () => (context ??= Promise.resolve(enveloped.contextFactory()));
    const run = runner(enveloped, contextValue);
    // The middleware runs before routing upstream, so its answers win even on unknown paths and methods.
    const caller =
      found && 'match' in found && !found.match.route.middleware
        ? undefined
        : await middleware(request, run, Boolean(((await contextValue()) as Context).viewer));
    if (!found) return CONTRACT_ERRORS.notFound;
    if ('allow' in found) return CONTRACT_ERRORS.methodNotAllowed(found.allow);
    const { route: spec } = found.match;
    const uuids: Record<string, string> = {};
    const query: Record<string, unknown> = {};
    for (const name of spec.checks) check(name, request, url, found.match, caller!, uuids, query);
    // The body last: every check above answers before a malformed body does.
    let body: Record<string, unknown> = {};
    if (spec.body) {
      const decoded = decodeBody(await readBodyWithLimit(request, options.maxBodyBytes), spec.body);
      if ('refused' in decoded) return decoded.refused;
      body = decoded.fields;
    }
    return HANDLERS[spec.handler]({ request, url, run, uuids, query, body, organizationId: caller?.organizationId ?? null });
  }

  return {
    onYogaInit({ yoga: instance }) {
      yoga = instance as unknown as typeof yoga;
      documents = prepareRestDocuments(instance.getEnveloped().schema as GraphQLSchema);
    },
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (!url.pathname.startsWith('/api/') || NOT_OURS.has(url.pathname)) return;
      let response: ContractResponse;
      try {
        response = await route(request, url, (serverContext ?? {}) as Record<string, unknown>);
      } catch (error) {
        if (error instanceof Answer) {
          response = error.response;
        } else if (error instanceof BodyTooLargeError) {
          response = CONTRACT_ERRORS.payloadTooLarge(options.maxBodyBytes);
        } else if (isClientAbort(error)) {
          // Nobody is left to read the answer; counted as the client's (499), not ours.
          options.logClientAbort();
          response = CONTRACT_ERRORS.clientClosedRequest;
        } else {
          // Errors from the context factory arrive already masked by Yoga (and logged there), with a code.
          const known = errorCodeResponse(error as { message: string; extensions?: Record<string, unknown> });
          if (error instanceof UnmappedErrors) {
            options.logError(error, 'REST adapter: GraphQL errors without a contract answer');
          } else if (!known && !(error instanceof GraphQLError)) {
            options.logError(error, 'REST adapter: internal error');
          }
          response = known ?? CONTRACT_ERRORS.internal;
        }
      }
      endResponse(
        response.body === undefined
          ? new fetchAPI.Response(null, { status: response.status, headers: response.headers }) // 204: no body, no content type
          : jsonResponse(fetchAPI, response.body, response.status, response.headers, request.method !== 'HEAD'),
      );
    },
  };
}
