// The domain's errors: each is a member of a GraphQL result union (src/schema/errors.ts) and has one
// REST answer (rest-adapter/responses.ts). They know no HTTP or GraphQL.

export class OrganizationNameTakenError extends Error {
  constructor(readonly organizationName: string) {
    super(`An organization named "${organizationName}" already exists`);
    this.name = 'OrganizationNameTakenError';
  }
}

export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

const NOT_FOUND_MESSAGES = {
  organization: 'Organization not found: no live organization with this id that you belong to',
  user: 'User not found: nobody with this e-mail address has an account',
  member: 'Member not found: this user does not belong to the organization',
  apiKey: 'API key not found: no key with this id that you may manage',
} as const;

/**
 * Nothing the caller may see has this id: no such live organization, or the caller is not a member of
 * it (a non-member learns nothing about it), or no such user, member or API key.
 */
export class NotFoundError extends Error {
  constructor(readonly resource: 'organization' | 'user' | 'member' | 'apiKey') {
    super(NOT_FOUND_MESSAGES[resource]);
    this.name = 'NotFoundError';
  }
}

/** The caller's role in the organization (capped by its API key's role) does not allow this. */
export class NotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAllowedError';
  }
}

/** A live organization keeps at least one owner. */
export class LastOwnerError extends Error {
  constructor() {
    super('Cannot remove the last owner of the organization');
    this.name = 'LastOwnerError';
  }
}
