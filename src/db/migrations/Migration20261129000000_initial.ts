import { Migration } from '@mikro-orm/migrations';

export class Migration20261129000000_initial extends Migration {
  override async up(): Promise<void> {
    // The gateway role's statement_timeout (STATEMENT_TIMEOUT_MS) is for requests, not migrations.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create table "organizations" ("id" uuid not null, "name" text not null, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, "registerable" boolean null default true, "deleted" int not null default 0, "partner_configuration" jsonb not null default '{}', constraint "organizations_pkey" primary key ("id"));`);
    this.addSql(`alter table "organizations" add constraint "organizations_name_key" unique ("name");`);

    this.addSql(`create table "users" ("id" uuid not null, "email" text not null, "name" text null, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_key" unique ("email");`);

    this.addSql(`create table "user_organizations" ("id" uuid not null, "user_id" uuid not null, "organization_id" uuid not null, "role" int not null, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, constraint "user_organizations_pkey" primary key ("id"));`);
    this.addSql(`create index "user_organizations_organization_id_index" on "user_organizations" ("organization_id");`);
    this.addSql(`alter table "user_organizations" add constraint "user_organizations_user_id_organization_id_key" unique ("user_id", "organization_id");`);

    this.addSql(`create table "api_keys" ("id" uuid not null, "user_id" uuid not null, "label" text not null, "role" int not null, "hash" text not null, "created_at" timestamptz(3) not null, "expires_at" timestamptz(3) null, "last_used_at" timestamptz(3) null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_hash_key" unique ("hash");`);

    this.addSql(`alter table "user_organizations" add constraint "user_organizations_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_organizations" add constraint "user_organizations_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_keys" cascade;`);
    this.addSql(`drop table if exists "user_organizations" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "organizations" cascade;`);
  }
}
