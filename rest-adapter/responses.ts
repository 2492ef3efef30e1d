// The one table from GraphQL outcomes to the legacy contract's statuses and messages, and the
// Organization object in the contract's snake_case shape and key order.

export type ContractResponse = Readonly<{ status: number; body: unknown; headers?: Record<string, string> }>;

export type GraphQLOrganization = {
  __typename: 'Organization';
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  registerable: boolean | null;
  deleted: number;
  partnerConfiguration: unknown;
};

export type CreateOrganizationResult =
  | GraphQLOrganization
  | { __typename: 'OrganizationNameTakenError'; message: string }
  | { __typename: 'ValidationError'; message: string; field: string };

const message = (status: number, text: string): ContractResponse => ({ status, body: { message: text } });

/** Upstream's key order: id, name, created_at, updated_at, registerable, deleted, partner_configuration. */
export function toContractOrganization(org: GraphQLOrganization) {
  return {
    id: org.id,
    name: org.name,
    created_at: org.createdAt,
    updated_at: org.updatedAt,
    registerable: org.registerable,
    deleted: org.deleted,
    partner_configuration: org.partnerConfiguration,
  };
}

/** Each member of the `CreateOrganizationResult` union. */
export const RESULT_RESPONSES: Record<CreateOrganizationResult['__typename'], (result: any) => ContractResponse> = {
  Organization: (org: GraphQLOrganization) => ({ status: 200, body: toContractOrganization(org) }),
  OrganizationNameTakenError: (error: { message: string }) => message(400, error.message),
  // A broken name rule is upstream's 400; a misused Idempotency-Key is ours, 422 as is usual for it.
  ValidationError: (error: { message: string; field: string }) => message(error.field === 'idempotencyKey' ? 422 : 400, error.message),
};

/**
 * The contract's answer to a GraphQL error with a known `extensions.code`, or undefined (a failure of
 * ours). RATE_LIMITED (ours; upstream has no limit) is a 429 with the error's message and `Retry-After`.
 */
export function errorCodeResponse(error: { message: string; extensions?: Record<string, unknown> }): ContractResponse | undefined {
  const code = error.extensions?.code;
  if (code === 'RATE_LIMITED') {
    return { ...message(429, error.message), headers: { 'retry-after': String(error.extensions!.retryAfterSeconds) } };
  }
  // The caller's input, refused by the schema (e.g. a variable it cannot coerce): its own words, as a 400.
  if (code === 'BAD_USER_INPUT') return message(400, error.message);
  return typeof code === 'string' ? ERROR_CODE_RESPONSES[code] : undefined;
}

/** GraphQL error codes (`extensions.code`) the contract answers with its own status; others are ours. */
export const ERROR_CODE_RESPONSES: Record<string, ContractResponse> = {
  UNAUTHENTICATED: message(401, 'Unauthorized'),
  // A failure of ours that Yoga masked (and logged, with the request id, as it masked it).
  INTERNAL_SERVER_ERROR: message(500, 'Internal server error'),
  SERVICE_UNAVAILABLE: { ...message(503, 'Service Unavailable: the database is not reachable, try again shortly'), headers: { 'retry-after': '1' } },
};

/** The viewer's standing with the `TR-Organization` organization. */
export const ORGANIZATION_ACCESS_RESPONSES: Record<'NOT_MEMBER' | 'NOT_FOUND', ContractResponse> = {
  NOT_MEMBER: message(403, 'Forbidden'),
  NOT_FOUND: message(404, 'Not Found: Organization not found'),
};

/** Upstream's fixed third part of a `Json Deserialization Error`, by its type. */
export const JSON_ERROR_SOLUTIONS = {
  'Content type header error': 'Ensure the content type request header of the HTTP request is set as `Content-Type: application/json`.',
  'Payload error': 'Check that the JSON payload matches the expected structure.',
  'Syntax error in JSON': 'Fix syntax errors in the JSON payload to adhere to JSON formatting rules.',
  'Data error in JSON': 'Ensure that the data in the JSON payload is valid and consistent with the expected schema.',
  'Unexpected end of JSON input': 'Ensure that the JSON payload is complete and not truncated.',
  'Other JSON payload error': "Inspect the JSON payload and the server's handling of JSON requests for any issues.",
} as const;

export const CONTRACT_ERRORS = {
  unauthorized: ERROR_CODE_RESPONSES.UNAUTHENTICATED!,
  badOrganizationHeader: message(400, 'Could not convert Organization to UUID'),
  notFound: message(404, 'Not Found'),
  methodNotAllowed: (allow: string): ContractResponse => ({ ...message(405, 'Method Not Allowed'), headers: { allow } }),
  payloadTooLarge: (limit: number) => message(413, `Payload Too Large: the request body is larger than ${limit} bytes`),
  internal: ERROR_CODE_RESPONSES.INTERNAL_SERVER_ERROR!,
  /** nginx's 499: the client closed the connection before the answer (nobody reads this body). */
  clientClosedRequest: message(499, 'Client Closed Request'),
  json: (type: keyof typeof JSON_ERROR_SOLUTIONS, detail: string) =>
    message(400, `Json Deserialization Error: *Type* : ${type} | *Message* : ${detail} | ${JSON_ERROR_SOLUTIONS[type]}`),
};
