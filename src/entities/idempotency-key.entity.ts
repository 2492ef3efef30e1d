import { defineEntity, type Opt, type Ref } from '@mikro-orm/core';
import { User, UserSchema } from './user.entity.js';

/**
 * A create request remembered by its caller-chosen key, so a retry returns the original answer.
 * Written in the same transaction as the organization it names, so both exist or neither does.
 */
export class IdempotencyKey {
  user!: Ref<User>;
  key!: string;
  /** SHA-256 of the request the key was first used with. */
  requestHash!: string;
  /** The organization the first request created (no foreign key: the record outlives nothing it needs). */
  organizationId!: string;
  createdAt: Date & Opt = new Date();
}

export const IdempotencyKeySchema = defineEntity({
  class: IdempotencyKey,
  tableName: 'idempotency_keys',
  properties: (p) => ({
    user: p.manyToOne(UserSchema).ref().primary().deleteRule('cascade').updateRule('cascade'),
    key: p.text().primary(),
    requestHash: p.text(),
    organizationId: p.uuid(),
    createdAt: p.datetime(3).index('idempotency_keys_created_at_index'),
  }),
});
