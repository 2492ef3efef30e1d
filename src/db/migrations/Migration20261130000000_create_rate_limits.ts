import { Migration } from '@mikro-orm/migrations';

/** Per-user token buckets for createOrganization (see src/organizations/rate-limit.ts). */
export class Migration20261130000000_create_rate_limits extends Migration {
  override async up(): Promise<void> {
    // The gateway role's statement_timeout (STATEMENT_TIMEOUT_MS) is for requests, not migrations.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create table "create_rate_limits" ("user_id" uuid not null, "tokens" double precision not null, "updated_at" timestamptz(6) not null, constraint "create_rate_limits_pkey" primary key ("user_id"));`);
    this.addSql(`alter table "create_rate_limits" add constraint "create_rate_limits_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "create_rate_limits" cascade;`);
  }
}
