import { randomUUID } from 'node:crypto';
import { defineEntity, type Opt, type Ref } from '@mikro-orm/core';
import { User, UserSchema } from './user.entity.js';

/** Upstream's numeric API key roles. */
export const ApiKeyRole = { read: 0, admin: 1, owner: 2 } as const;
export type ApiKeyRoleName = keyof typeof ApiKeyRole;
export type ApiKeyRole = (typeof ApiKeyRole)[ApiKeyRoleName];

export class ApiKey {
  id: string = randomUUID();
  user!: Ref<User>;
  label!: string;
  role!: ApiKeyRole;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash!: string;
  createdAt: Date & Opt = new Date();
  expiresAt: Date | null = null;
  lastUsedAt: Date | null = null;
}

export const ApiKeySchema = defineEntity({
  class: ApiKey,
  tableName: 'api_keys',
  properties: (p) => ({
    id: p.uuid().primary(),
    user: p.manyToOne(UserSchema).ref().deleteRule('cascade').updateRule('cascade').index('api_keys_user_id_index'),
    label: p.text(),
    role: p.integer(),
    hash: p.text().unique('api_keys_hash_key'),
    createdAt: p.datetime(3),
    expiresAt: p.datetime(3).nullable(),
    lastUsedAt: p.datetime(3).nullable(),
  }),
});
