// The membership domain: who belongs to an organization, with which role; adding and removing members
// under the rules of ../organizations/roles.ts, and the last-owner rule. Knows no HTTP or GraphQL.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MembershipRole } from '../entities/membership.entity.js';
import { publish } from '../live/events.js';
import { LastOwnerError, NotAllowedError, NotFoundError, ValidationError } from '../organizations/errors.js';
import { lockOrganizationFor, memberRoleSql, type Actor } from '../organizations/organizations.js';
import { mayGrant, mayRemove, type Role } from '../organizations/roles.js';
import { keysetSql, pageWindow, toPage, type Page, type PageArgs } from '../pagination.js';
import { isUuid } from '../uuid.js';

/** One membership as callers see it: the member's id and e-mail, the role, when they joined. */
export type Member = Readonly<{ id: string; organizationId: string; userId: string; email: string; name: string | null; role: Role; joinedAt: Date; updatedAt: Date; userCreatedAt: Date }>;

type MemberRow = { id: string; organization_id: string; user_id: string; email: string; name: string | null; role: number; created_at: Date; updated_at: Date; user_created_at: Date };

const MEMBER_COLUMNS = `m.id, m.organization_id, m.user_id, u.email, u.name, m.role, m.created_at, m.updated_at, u.created_at as user_created_at`;

function memberFromRow(row: MemberRow): Member {
  const role = row.role === MembershipRole.owner || row.role === MembershipRole.admin ? row.role : MembershipRole.user;
  return Object.freeze({
    id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role,
    joinedAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    userCreatedAt: new Date(row.user_created_at),
  });
}

/** Only a member of the live organization sees its members (a condition on `m`, the membership listed). */
function visibleTo(actor: Actor): { sql: string; params: unknown[] } {
  const member = memberRoleSql(actor);
  return { sql: `exists (select 1 from organizations o where o.id = m.organization_id and o.deleted = 0 and ${member.sql} is not null)`, params: member.params };
}

/**
 * One page of a live organization's members, earliest first, for a member of it (anyone else, or a
 * deleted organization, gets an empty page): the member check is part of the query.
 */
export async function pageMembers(em: EntityManager, actor: Actor, organizationId: string, args: PageArgs): Promise<Page<Member>> {
  const window = pageWindow(args);
  const keyset = keysetSql(window, 'm');
  const visible = visibleTo(actor);
  const rows = await em.execute<MemberRow[]>(
    `select ${MEMBER_COLUMNS} from user_organizations m join users u on u.id = m.user_id
     where m.organization_id = ? ${keyset.where} and ${visible.sql}
     ${keyset.orderLimit}`,
    [organizationId, ...keyset.whereParams, ...visible.params, ...keyset.limitParams],
  );
  return toPage(window, rows, (row) => [new Date(row.created_at), row.id], memberFromRow);
}

/** How many members the organization has, for a member of it (0 for anyone else). */
export async function countMembers(em: EntityManager, actor: Actor, organizationId: string): Promise<number> {
  const visible = visibleTo(actor);
  const [row] = await em.execute<Array<{ n: number }>>(
    `select count(*)::int as n from user_organizations m where m.organization_id = ? and ${visible.sql}`,
    [organizationId, ...visible.params],
  );
  return row!.n;
}

export type NewMember = Readonly<{ organizationId: string; email: string; role: Role }>;

/**
 * Adds a user who already has an account (admins and owners; never a role above the caller's): one
 * transaction under the organization's lock. Already a member: a ValidationError on `email`.
 */
export async function addMember(em: EntityManager, actor: Actor, input: NewMember): Promise<Member> {
  return em.transactional(async (tx) => {
    const role = await lockOrganizationFor(tx, actor, input.organizationId);
    if (!mayGrant(role, input.role)) throw new NotAllowedError('Only admins and owners may add members, with a role at most their own');
    const now = new Date();
    const [row] = await tx.execute<MemberRow[]>(
      `with added as (
         insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
         select ?, u.id, ?, ?, ?, ? from users u where u.email = ?
         on conflict (user_id, organization_id) do nothing
         returning *
       )
       select ${MEMBER_COLUMNS}, true as added from added m join users u on u.id = m.user_id
       union all
       select ${MEMBER_COLUMNS}, false from user_organizations m join users u on u.id = m.user_id
       where m.organization_id = ? and u.email = ?`,
      [randomUUID(), input.organizationId, input.role, now, now, input.email, input.organizationId, input.email],
    );
    if (!row) throw new NotFoundError('user');
    if (!(row as MemberRow & { added: boolean }).added) throw new ValidationError('email', 'This user is already a member of the organization');
    await publish(tx, 'MEMBER_ADDED', input.organizationId, row.user_id);
    return memberFromRow(row);
  });
}

/**
 * Removes a member (leaving is removing yourself): admins remove users and admins, owners anyone. The
 * last owner of a live organization stays; two owners removing each other at once take the
 * organization's lock in turn, so the second finds one owner left. Returns the removed membership.
 */
export async function removeMember(em: EntityManager, actor: Actor, organizationId: string, userId: string): Promise<Member> {
  return em.transactional(async (tx) => {
    const role = await lockOrganizationFor(tx, actor, organizationId);
    if (!isUuid(userId)) throw new NotFoundError('member');
    const [target] = await tx.execute<Array<MemberRow & { owners: number }>>(
      `select ${MEMBER_COLUMNS}, (select count(*)::int from user_organizations where organization_id = m.organization_id and role = ${MembershipRole.owner}) as owners
       from user_organizations m join users u on u.id = m.user_id where m.organization_id = ? and m.user_id = ?`,
      [organizationId, userId],
    );
    if (!target) throw new NotFoundError('member');
    const member = memberFromRow(target);
    if (!mayRemove(role, member.role, actor.userId !== null && userId === actor.userId)) throw new NotAllowedError('Only admins and owners may remove others, and only members whose role is at most their own');
    if (member.role === MembershipRole.owner && target.owners <= 1) throw new LastOwnerError();
    await tx.execute('delete from user_organizations where id = ?', [member.id]);
    await publish(tx, 'MEMBER_REMOVED', organizationId, member.userId);
    return member;
  });
}
