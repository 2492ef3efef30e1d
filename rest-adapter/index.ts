// The legacy REST contract (POST /api/organization) as a thin layer over the GraphQL schema: each
// request runs fixed, pre-validated operations through Yoga's own envelop (same context factory,
// auth, per-request EntityManager and plugins) and maps the result with one table.
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import { BodyTooLargeError, isClientAbort, readBodyWithLimit } from '../src/http/body-limit.js';
import type { Context } from '../src/context.js';
import { jsonResponse } from '../src/http/json-response.js';
import { parseUuidLoosely } from '../src/uuid.js';
import openapi from './openapi.json' with { type: 'json' };
import { isJsonContentType, parseCreateOrganizationPayload } from './body.js';
import { prepareRestDocuments, type RestOperationName } from './operation.js';
import {
  CONTRACT_ERRORS,
  errorCodeResponse,
  ORGANIZATION_ACCESS_RESPONSES,
  RESULT_RESPONSES,
  type ContractResponse,
  type CreateOrganizationResult,
} from './responses.js';

export type RestAdapterOptions = Readonly<{
  maxBodyBytes: number;
  /** Where failures of ours are reported (with the request id, via the logger's own scope). */
  logError(error: unknown, message: string): void;
  /** A client that went away mid-request (debug level: not a failure of ours). */
  logClientAbort(): void;
}>;

const OPENAPI_DOCUMENT = openapi as Record<string, unknown>;

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

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped']>;

export function useRestAdapter(options: RestAdapterOptions): Plugin {
  let yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  let documents: Record<RestOperationName, DocumentNode>;

  const runner = (enveloped: Enveloped, contextValue: unknown) => async (operationName: RestOperationName, variableValues?: Record<string, unknown>) => {
    const result = (await enveloped.execute({
      schema: enveloped.schema as GraphQLSchema,
      document: documents[operationName],
      operationName,
      variableValues,
      contextValue,
    })) as ExecutionResult<Record<string, any>>;
    if (result.errors?.length) {
      for (const error of result.errors) {
        const known = errorCodeResponse(error);
        if (known) return { response: known } as const;
      }
      throw new UnmappedErrors(operationName, result.errors);
    }
    return { data: result.data! } as const;
  };

  async function createOrganization(request: Request, serverContext: Record<string, unknown>): Promise<ContractResponse> {
    const enveloped = yoga.getEnveloped({ request, ...serverContext });
    const contextValue = await enveloped.contextFactory();
    const run = runner(enveloped, contextValue);

    // Upstream's order: its auth middleware handles TR-Organization (alias x-organization) first, before
    // credentials are required; then actix refuses a wrong content type; then the user is required;
    // then the body. A valid request with credentials still runs one operation (the create).
    const organizationHeader = request.headers.get('tr-organization') ?? request.headers.get('x-organization');
    if (organizationHeader !== null) {
      const organizationId = parseUuidLoosely(organizationHeader);
      if (organizationId === null) return CONTRACT_ERRORS.badOrganizationHeader;
      const caller = await run('RestCallerInOrganization', { organizationId });
      if (caller.response) return caller.response;
      const access = caller.data.organizationAccess as 'MEMBER' | 'NOT_MEMBER' | 'NOT_FOUND' | null;
      if (access === 'NOT_FOUND') return ORGANIZATION_ACCESS_RESPONSES.NOT_FOUND;
      if (caller.data.viewer && access === 'NOT_MEMBER') return ORGANIZATION_ACCESS_RESPONSES.NOT_MEMBER;
    }
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return CONTRACT_ERRORS.json('Content type header error', 'Content type error');
    }
    // Without credentials upstream answers 401 before it looks at the body, so the body of an anonymous
    // request is never read or decoded. Who the caller is was settled by Yoga's context factory.
    if (!(contextValue as unknown as Context).viewer) return CONTRACT_ERRORS.unauthorized;

    const payload = parseCreateOrganizationPayload(await readBodyWithLimit(request, options.maxBodyBytes));
    if ('status' in payload) return payload;

    const idempotencyKey = request.headers.get('idempotency-key');
    const created = await run('RestCreateOrganization', { input: { name: payload.name, idempotencyKey } });
    if (created.response) return created.response;
    const result = created.data.createOrganization as CreateOrganizationResult;
    return RESULT_RESPONSES[result.__typename](result);
  }

  async function route(request: Request, url: URL, serverContext: Record<string, unknown>): Promise<ContractResponse> {
    if (url.pathname === '/api/organization') {
      if (request.method !== 'POST') return CONTRACT_ERRORS.methodNotAllowed('POST');
      return createOrganization(request, serverContext);
    }
    if (url.pathname === '/api/openapi.json') {
      if (request.method !== 'GET' && request.method !== 'HEAD') return CONTRACT_ERRORS.methodNotAllowed('GET, HEAD');
      return { status: 200, body: { ...OPENAPI_DOCUMENT, servers: [{ url: url.origin, description: 'This gateway' }] } };
    }
    return CONTRACT_ERRORS.notFound;
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
        if (error instanceof BodyTooLargeError) {
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
      endResponse(jsonResponse(fetchAPI, response.body, response.status, response.headers, request.method !== 'HEAD'));
    },
  };
}
