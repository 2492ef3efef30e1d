import { defineEntity, type Ref } from '@mikro-orm/core';
import { User, UserSchema } from './user.entity.js';

/**
 * A user's token bucket for creating organizations (CREATE_LIMIT_PER_MINUTE, CREATE_LIMIT_BURST): the
 * tokens left at `updatedAt`. Read and written only inside the create statement, under its row lock,
 * so every instance sharing the database counts against the same bucket.
 */
export class CreateRateLimit {
  user!: Ref<User>;
  tokens!: number;
  updatedAt!: Date;
}

export const CreateRateLimitSchema = defineEntity({
  class: CreateRateLimit,
  tableName: 'create_rate_limits',
  properties: (p) => ({
    user: p.manyToOne(UserSchema).ref().primary().deleteRule('cascade').updateRule('cascade'),
    tokens: p.double(),
    updatedAt: p.datetime(6),
  }),
});
