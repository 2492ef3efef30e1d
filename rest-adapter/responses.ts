// The one table from GraphQL outcomes to the legacy contract's statuses and messages, and the
// Organization object in the contract's snake_case shape and key order.

export type ContractResponse = Readonly<{ status: number; body: unknown; headers?: Record<string, string> }>;

export type GraphQLOrganization = {
  __typename?: 'Organization';
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  registerable: boolean | null;
  deleted: number;
  partnerConfiguration: unknown;
};

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

/**
 * Upstream's "completed" partner configuration, what its GET shows: these nine keys, each the stored
 * value when the stored configuration is an object holding a string there, else the default; other
 * stored keys left out. Sorted, as serde_json prints a free JSON value.
 */
const PARTNER_CONFIGURATION_DEFAULTS = {
  CALENDAR_LINK: 'https://cal.com/nick.k',
  COMPANY_NAME: 'Trieve',
  COMPANY_URL: 'https://trieve.ai',
  DEMO_DOMAIN: 'demos.trieve.ai',
  EMAIL: 'humans@trieve.ai',
  FAVICON_URL: 'https://cdn.trieve.ai/favicon.ico',
  LINKEDIN_LINK: 'https://www.linkedin.com/company/trieveai',
  PHONE: '+16282224090',
  SLACK_LINK: 'https://join.slack.com/t/trievecommunityslack/shared_invite/zt-2v7zyxytf-zWLVgqI8avB5x5Br7INQgw',
} as const;

function completedPartnerConfiguration(stored: unknown): Record<string, string> {
  const given = stored !== null && typeof stored === 'object' && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  return Object.fromEntries(
    Object.entries(PARTNER_CONFIGURATION_DEFAULTS).map(([key, fallback]) => [key, typeof given[key] === 'string' ? (given[key] as string) : fallback]),
  );
}

/** A JSON value with its object keys sorted at every level (serde_json without preserve_order). */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
}

/** The Organization as upstream reads it back (its GET, its member lists): the partner configuration completed. */
const toCompletedOrganization = (org: GraphQLOrganization) => ({ ...toContractOrganization(org), partner_configuration: completedPartnerConfiguration(org.partnerConfiguration) });

/** GET /api/organization/{id}: the organization (completed configuration) with the plan upstream shows an organization without billing. */
export function toOrganizationWithPlan(org: GraphQLOrganization, now: string) {
  return {
    organization: toCompletedOrganization(org),
    plan: {
      type: 'flat',
      id: '00000000-0000-0000-0000-000000000000',
      stripe_id: '',
      chunk_count: 1000,
      user_count: 5,
      dataset_count: 2,
      message_count: 1000,
      amount: 0,
      created_at: now,
      updated_at: now,
      name: 'Free',
      visible: true,
      file_storage: 1048576,
      messages_per_month: 50,
    },
    subscription: null,
  };
}

export type GraphQLMember = {
  id: string;
  role: 'OWNER' | 'ADMIN' | 'USER';
  joinedAt: string;
  updatedAt: string;
  user: { id: string; email: string; name: string | null; createdAt: string };
};

const ROLE_NUMBERS = { OWNER: 2, ADMIN: 1, USER: 0 } as const;

/** The role numbers upstream uses (owner 2, admin 1, user 0), from the schema's enum. */
export const roleNumber = (role: GraphQLMember['role']): number => ROLE_NUMBERS[role];

/** GET /api/organization/users/{id}: upstream's SlimUser, with its one membership and the organization. */
export function toSlimUser(member: GraphQLMember, org: GraphQLOrganization) {
  return {
    id: member.user.id,
    name: member.user.name,
    email: member.user.email,
    created_at: member.user.createdAt,
    user_orgs: [
      {
        id: member.id,
        user_id: member.user.id,
        organization_id: org.id,
        role: roleNumber(member.role),
        created_at: member.joinedAt,
        updated_at: member.updatedAt,
        scopes: null,
      },
    ],
    orgs: [toCompletedOrganization(org)],
  };
}

export type GraphQLApiKey = { id: string; name: string; role: 'READ' | 'ADMIN' | 'OWNER'; createdAt: string; updatedAt: string };

/** The schema's ApiKeyRole names, by upstream's key role numbers (read 0, admin 1, owner 2). */
export const KEY_ROLE_NAMES = ['READ', 'ADMIN', 'OWNER'] as const;
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Upstream's ApiKeyRespBody (models.rs:4938-4965), in its order; this gateway has no key restrictions, so both lists are null. */
export function toApiKeyRespBody(key: GraphQLApiKey, organizationId: string) {
  return {
    id: key.id,
    organization_id: organizationId,
    name: key.name,
    role: KEY_ROLE_NAMES.indexOf(key.role),
    organization_ids: null,
    dataset_ids: null,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}

/** The error members of every result union, as the contract answers them (the same on every route). */
export const ERROR_MEMBER_RESPONSES: Record<string, (error: { message: string; field?: string; resource?: string }) => ContractResponse> = {
  OrganizationNameTakenError: (error) => message(400, error.message),
  // A broken name rule is upstream's 400; a misused Idempotency-Key is ours, 422 as is usual for it.
  ValidationError: (error) => message(error.field === 'idempotencyKey' ? 422 : 400, error.message),
  // The organization: gone meanwhile, as upstream's middleware says it; a member: upstream's role lookup failing.
  NotFoundError: (error) => (error.resource === 'member' ? message(400, 'Error loading user role') : ORGANIZATION_ACCESS_RESPONSES.NOT_FOUND),
  NotAllowedError: () => ORGANIZATION_ACCESS_RESPONSES.NOT_MEMBER,
  LastOwnerError: (error) => message(400, error.message),
};

/** A result union's answer: its success member mapped by `success`, an error member by the shared table. */
export function unionResponse<T extends { __typename: string }>(result: T, success: (value: T) => ContractResponse): ContractResponse {
  const error = ERROR_MEMBER_RESPONSES[result.__typename];
  return error ? error(result as unknown as { message: string }) : success(result);
}

/** 204: done, nothing to say (upstream's deletes). */
export const NO_CONTENT: ContractResponse = { status: 204, body: undefined };

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
