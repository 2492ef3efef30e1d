import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ApiKeySchema } from '../entities/api-key.entity.js';
import { CreateRateLimitSchema } from '../entities/create-rate-limit.entity.js';
import { IdempotencyKeySchema } from '../entities/idempotency-key.entity.js';
import { LiveListenerSchema } from '../entities/live-listener.entity.js';
import { MembershipSchema } from '../entities/membership.entity.js';
import { OrganizationSchema } from '../entities/organization.entity.js';
import { UserSchema } from '../entities/user.entity.js';

export const entities = [UserSchema, OrganizationSchema, MembershipSchema, ApiKeySchema, IdempotencyKeySchema, CreateRateLimitSchema, LiveListenerSchema];

export function ormConfig(clientUrl: string, overrides: Partial<Options> = {}): Partial<Options> {
  return defineConfig({
    clientUrl,
    entities,
    migrations: { tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, snapshot: false },
    ensureDatabase: false,
    allowGlobalContext: false,
    debug: false,
    colors: false,
    ...overrides,
  });
}
