import { Migration } from '@mikro-orm/migrations';

export class Migration20261129010000_idempotency_keys extends Migration {
  override async up(): Promise<void> {
    // The gateway role's statement_timeout (STATEMENT_TIMEOUT_MS) is for requests, not migrations.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create table "idempotency_keys" ("user_id" uuid not null, "key" text not null, "request_hash" text not null, "organization_id" uuid not null, "created_at" timestamptz(3) not null, constraint "idempotency_keys_pkey" primary key ("user_id", "key"));`);
    this.addSql(`create index "idempotency_keys_created_at_index" on "idempotency_keys" ("created_at");`);
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_keys" cascade;`);
  }
}
