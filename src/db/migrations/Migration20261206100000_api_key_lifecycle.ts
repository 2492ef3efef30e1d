import { Migration } from '@mikro-orm/migrations';

/**
 * API keys get a lifecycle: organization keys (one organization, no user; they outlive the member who
 * made them), revocation, a hint to recognise a key by, and an update time. Exactly one of `user_id` and
 * `organization_id` is set. Existing keys are user keys and stay valid; they have no hint (only their
 * hash was ever stored).
 */
export class Migration20261206100000_api_key_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`alter table "api_keys" alter column "user_id" drop not null;`);
    this.addSql(
      `alter table "api_keys" add column "organization_id" uuid null, add column "created_by_id" uuid null, add column "hint" text null, ` +
        `add column "revoked_at" timestamptz(3) null, add column "updated_at" timestamptz(3) null;`,
    );
    this.addSql(`update "api_keys" set "updated_at" = "created_at";`);
    this.addSql(`alter table "api_keys" alter column "updated_at" set not null;`);
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade on delete set null;`,
    );
    this.addSql(`alter table "api_keys" add constraint "api_keys_one_owner_check" check (("user_id" is null) <> ("organization_id" is null));`);
    // Lists page by (created_at, id) within a user's or an organization's keys.
    this.addSql(`drop index "api_keys_user_id_index";`);
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id", "created_at", "id");`);
    this.addSql(`create index "api_keys_organization_id_index" on "api_keys" ("organization_id", "created_at", "id");`);
    this.addSql(`create index "api_keys_created_by_id_index" on "api_keys" ("created_by_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "api_keys" where "user_id" is null;`);
    this.addSql(`drop index "api_keys_created_by_id_index";`);
    this.addSql(`drop index "api_keys_organization_id_index";`);
    this.addSql(`drop index "api_keys_user_id_index";`);
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id");`);
    this.addSql(`alter table "api_keys" drop constraint "api_keys_one_owner_check", drop constraint "api_keys_created_by_id_foreign", drop constraint "api_keys_organization_id_foreign";`);
    this.addSql(`alter table "api_keys" drop column "organization_id", drop column "created_by_id", drop column "hint", drop column "revoked_at", drop column "updated_at";`);
    this.addSql(`alter table "api_keys" alter column "user_id" set not null;`);
  }
}
