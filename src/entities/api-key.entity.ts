import { randomUUID } from 'node:crypto';
import { defineEntity, type Opt, type Ref } from '@mikro-orm/core';
import { Organization, OrganizationSchema } from './organization.entity.js';
import { User, UserSchema } from './user.entity.js';

/** Upstream's numeric API key roles. */
export const ApiKeyRole = { read: 0, admin: 1, owner: 2 } as const;
export type ApiKeyRoleName = keyof typeof ApiKeyRole;
export type ApiKeyRole = (typeof ApiKeyRole)[ApiKeyRoleName];

/**
 * A user's key (acts as that user wherever they are a member, capped by its role) or an organization's
 * key (acts only in that organization, with its role): exactly one of `user` and `organization`.
 */
export class ApiKey {
  id: string = randomUUID();
  user: Ref<User> | null = null;
  organization: Ref<Organization> | null = null;
  /** Who made an organization key (null once that user is gone; the key stays). */
  createdBy: Ref<User> | null = null;
  label!: string;
  role!: ApiKeyRole;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash!: string;
  /** Prefix and last four characters (`tro_…Ab12`), to recognise a key; null for keys made before hints. */
  hint: string | null = null;
  createdAt: Date & Opt = new Date();
  updatedAt: Date & Opt = new Date();
  expiresAt: Date | null = null;
  lastUsedAt: Date | null = null;
  revokedAt: Date | null = null;
}

export const ApiKeySchema = defineEntity({
  class: ApiKey,
  tableName: 'api_keys',
  indexes: [
    { name: 'api_keys_user_id_index', properties: ['user', 'createdAt', 'id'] },
    { name: 'api_keys_organization_id_index', properties: ['organization', 'createdAt', 'id'] },
  ],
  checks: [{ name: 'api_keys_one_owner_check', expression: '("user_id" is null) <> ("organization_id" is null)' }],
  properties: (p) => ({
    id: p.uuid().primary(),
    user: p.manyToOne(UserSchema).ref().nullable().deleteRule('cascade').updateRule('cascade'),
    organization: p.manyToOne(OrganizationSchema).ref().nullable().deleteRule('cascade').updateRule('cascade'),
    createdBy: p.manyToOne(UserSchema).ref().nullable().deleteRule('set null').updateRule('cascade').index('api_keys_created_by_id_index'),
    label: p.text(),
    role: p.integer(),
    hash: p.text().unique('api_keys_hash_key'),
    hint: p.text().nullable(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
    expiresAt: p.datetime(3).nullable(),
    lastUsedAt: p.datetime(3).nullable(),
    revokedAt: p.datetime(3).nullable(),
  }),
});
