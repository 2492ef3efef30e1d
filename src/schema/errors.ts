// Errors meant for clients. Each domain error is a member of the mutation's result union; anything
// else is either a GraphQLError with a code (below) or masked as an internal error.
import { GraphQLError } from 'graphql';
import { LastOwnerError, NotAllowedError, NotFoundError, OrganizationNameTakenError, ValidationError } from '../organizations/errors.js';
import type { RateLimitedError } from '../organizations/rate-limit.js';
import { builder } from './builder.js';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'Something the client can fix; every error member of a result union implements it.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(OrganizationNameTakenError, {
  name: 'OrganizationNameTakenError',
  description: 'Organization names are unique, and this one is taken.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof OrganizationNameTakenError,
  fields: (t) => ({
    name: t.string({ description: 'The name that is taken.', resolve: (error) => error.organizationName }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An input value broke a rule; `message` says which.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The input field that broke the rule.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'Nothing you may see has this id: no such live organization (or you are not a member of it), user, member or API key.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    resource: t.string({ description: 'What was not found: `organization`, `user`, `member` or `apiKey`.', resolve: (error) => error.resource }),
  }),
});

builder.objectType(NotAllowedError, {
  name: 'NotAllowedError',
  description: "Your role in the organization (capped by your API key's role) does not allow this; see the README's role table.",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotAllowedError,
  fields: () => ({}),
});

builder.objectType(LastOwnerError, {
  name: 'LastOwnerError',
  description: 'A live organization keeps at least one owner: make another member owner first, or delete the organization.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof LastOwnerError,
  fields: () => ({}),
});

export function unauthenticated(): GraphQLError {
  return new GraphQLError('Authentication required: send an API key in the Authorization header', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}

/**
 * Too many creates (CREATE_LIMIT_PER_MINUTE): a top-level error, like UNAUTHENTICATED and
 * SERVICE_UNAVAILABLE, so that generic client retry logic handles it by code and HTTP status (429,
 * Retry-After) for every operation, rather than each caller matching one more union member.
 */
export function rateLimited(error: RateLimitedError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds: error.retryAfterSeconds,
      http: { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } },
    },
  });
}

export function serviceUnavailable(): GraphQLError {
  return new GraphQLError('Service temporarily unavailable: the database is not reachable. Try again shortly.', {
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '1' } } },
  });
}

/** The client closed the connection before its request was read: counted as its own (499), never logged as ours. */
export function clientClosedRequest(): GraphQLError {
  return new GraphQLError('Client closed the request', {
    extensions: { code: 'CLIENT_CLOSED_REQUEST', http: { status: 499 } },
  });
}

/** An argument the client must fix (outside a result union): `extensions.code: "BAD_USER_INPUT"`, HTTP 400 for graphql-response+json clients. */
export function badUserInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/** A connection's page, read by the domain: its ValidationError (a bad cursor or page size) is the client's BAD_USER_INPUT. */
export async function connectionPage<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ValidationError) throw badUserInput(error.message, error.field);
    throw error;
  }
}
