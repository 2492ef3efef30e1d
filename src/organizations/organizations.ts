// The organization domain: validate, create, find. Throws domain errors; knows no HTTP or GraphQL.
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { Membership, MembershipRole } from '../entities/membership.entity.js';
import { ORGANIZATION_NAME_CONSTRAINT, Organization } from '../entities/organization.entity.js';
import type { User } from '../entities/user.entity.js';

export const MAX_ORGANIZATION_NAME_LENGTH = 255;

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

const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * The name rules, stated once for GraphQL and REST. Length counts Unicode code points; blank names,
 * control characters (Cc: C0, DEL, C1) and lone surrogates (PostgreSQL cannot store them) are refused.
 * Anything else is stored exactly as sent.
 */
export function validateOrganizationName(name: string): void {
  if (name.trim() === '') throw new ValidationError('name', 'Organization name must not be empty or only white space');
  if (!name.isWellFormed()) throw new ValidationError('name', 'Organization name must not contain lone surrogates');
  if (CONTROL_CHARACTER.test(name)) throw new ValidationError('name', 'Organization name must not contain control characters');
  let length = 0;
  for (const _ of name) length++;
  if (length > MAX_ORGANIZATION_NAME_LENGTH) {
    throw new ValidationError('name', `Organization name must be at most ${MAX_ORGANIZATION_NAME_LENGTH} characters, got ${length}`);
  }
}

/**
 * Creates the organization and the creator's owner membership in one transaction. A taken name is
 * decided by the unique constraint, so it holds across instances and under races.
 */
export async function createOrganization(em: EntityManager, owner: User, name: string): Promise<Organization> {
  validateOrganizationName(name);
  const organization = new Organization();
  organization.name = name;
  try {
    await em.transactional(async (tx) => {
      tx.persist(organization);
      tx.create(Membership, { user: owner.id, organization, role: MembershipRole.owner });
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && isNameConstraint(error)) {
      throw new OrganizationNameTakenError(name);
    }
    throw error;
  }
  return organization;
}

function isNameConstraint(error: UniqueConstraintViolationException): boolean {
  return (error as unknown as { constraint?: string }).constraint === ORGANIZATION_NAME_CONSTRAINT;
}

/** The organization, or null when it does not exist, is deleted, or the user is not a member. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export async function findOrganizationForMember(em: EntityManager, userId: string, organizationId: string): Promise<Organization | null> {
  if (!isUuid(organizationId)) return null;
  const membership = await em.findOne(
    Membership,
    { user: userId, organization: { id: organizationId, deleted: 0 } },
    { populate: ['organization'] },
  );
  return membership ? membership.organization.getEntity() : null;
}

export type OrganizationAccess = 'MEMBER' | 'NOT_MEMBER' | 'NOT_FOUND';

/** How a user stands with an organization: member, not a member, or no such live organization. */
export async function organizationAccess(em: EntityManager, userId: string, organizationId: string): Promise<OrganizationAccess> {
  if (!isUuid(organizationId)) return 'NOT_FOUND';
  const organization = await em.findOne(Organization, { id: organizationId, deleted: 0 }, { fields: ['id'] });
  if (!organization) return 'NOT_FOUND';
  const memberships = await em.count(Membership, { user: userId, organization: organizationId });
  return memberships > 0 ? 'MEMBER' : 'NOT_MEMBER';
}

export async function listOrganizationsForMember(em: EntityManager, userId: string): Promise<Organization[]> {
  const memberships = await em.find(
    Membership,
    { user: userId, organization: { deleted: 0 } },
    { populate: ['organization'], orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return memberships.map((m) => m.organization.getEntity());
}
