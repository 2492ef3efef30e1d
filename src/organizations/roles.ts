// Who may do what in an organization: the one table the domain consults (README, "Roles"). GraphQL
// and REST both reach these rules through the domain, so they cannot disagree.
import { MembershipRole } from '../entities/membership.entity.js';
import type { ApiKeyRole } from '../entities/api-key.entity.js';

export type Role = MembershipRole;

/** The least role an action needs; the rules that compare two members are below the table. */
export const REQUIRED_ROLE = Object.freeze({
  /** See the organization, its members and their e-mails. */
  read: MembershipRole.user,
  /** Rename, change the partner configuration. */
  update: MembershipRole.owner,
  /** Soft-delete (its name becomes free). */
  delete: MembershipRole.owner,
  /** Add a member (with a role at most the caller's), remove one (whose role is at most the caller's). */
  manageMembers: MembershipRole.admin,
  /** Create, list, revoke and rotate API keys (of the organization, or one's own): see the key rules below. */
  manageKeys: MembershipRole.admin,
} satisfies Record<string, Role>);

export type OrganizationAction = keyof typeof REQUIRED_ROLE;

/**
 * The role a request acts with in an organization: its membership role, capped by the API key's role
 * (a read key acts as a user everywhere, an admin key at most as an admin), as upstream caps user keys.
 */
export function effectiveRole(membershipRole: number, keyRole: ApiKeyRole): Role {
  const membership = membershipRole === MembershipRole.owner || membershipRole === MembershipRole.admin ? membershipRole : MembershipRole.user;
  return Math.min(membership, keyRole) as Role;
}

export function allows(role: Role, action: OrganizationAction): boolean {
  return role >= REQUIRED_ROLE[action];
}

/** Adding: the new member's role may not exceed the caller's. */
export const mayGrant = (caller: Role, granted: Role) => allows(caller, 'manageMembers') && granted <= caller;

/** Removing: anyone may leave; otherwise an admin removes users and admins, an owner anyone. */
export const mayRemove = (caller: Role, target: Role, self: boolean) => self || (allows(caller, 'manageMembers') && target <= caller);

/**
 * A new key (or a rotated key's successor): the caller may manage keys and the key's role is at most
 * the caller's. The caller's role is its role where the key will act: in the organization for an
 * organization's key, its own key's role for a user's key.
 */
export const mayCreateKey = (caller: Role, keyRole: Role) => allows(caller, 'manageKeys') && keyRole <= caller;

/** Revoking: a key may always revoke itself; otherwise the caller manages keys and the key's role is at most the caller's. */
export const mayRevokeKey = (caller: Role, keyRole: Role, self: boolean) => self || (allows(caller, 'manageKeys') && keyRole <= caller);

export const ROLE_NAMES = Object.freeze({ [MembershipRole.owner]: 'OWNER', [MembershipRole.admin]: 'ADMIN', [MembershipRole.user]: 'USER' } as const);
export type RoleName = (typeof ROLE_NAMES)[Role];
export const roleFromName = (name: RoleName): Role => (name === 'OWNER' ? MembershipRole.owner : name === 'ADMIN' ? MembershipRole.admin : MembershipRole.user);
