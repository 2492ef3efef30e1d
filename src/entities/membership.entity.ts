import { randomUUID } from 'node:crypto';
import { defineEntity, type Opt, type Ref } from '@mikro-orm/core';
import { Organization, OrganizationSchema } from './organization.entity.js';
import { User, UserSchema } from './user.entity.js';

/** Upstream's numeric roles in an organization. */
export const MembershipRole = { user: 0, admin: 1, owner: 2 } as const;
export type MembershipRole = (typeof MembershipRole)[keyof typeof MembershipRole];

export class Membership {
  id: string = randomUUID();
  user!: Ref<User>;
  organization!: Ref<Organization>;
  role!: MembershipRole;
  createdAt: Date & Opt = new Date();
  updatedAt: Date & Opt = new Date();
}

export const MembershipSchema = defineEntity({
  class: Membership,
  tableName: 'user_organizations',
  uniques: [{ name: 'user_organizations_user_id_organization_id_key', properties: ['user', 'organization'] }],
  // Serves keyset pagination of a user's organizations, oldest membership first.
  indexes: [{ name: 'user_organizations_user_id_created_at_id_index', properties: ['user', 'createdAt', 'id'] }],
  properties: (p) => ({
    id: p.uuid().primary(),
    user: p.manyToOne(UserSchema).ref().deleteRule('cascade').updateRule('cascade'),
    organization: p.manyToOne(OrganizationSchema).ref().deleteRule('cascade').updateRule('cascade').index('user_organizations_organization_id_index'),
    role: p.integer(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3).onUpdate(() => new Date()),
  }),
});
