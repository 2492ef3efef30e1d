import { Migration } from '@mikro-orm/migrations';

/**
 * Names are unique among live organizations (deleted = 0): a deleted organization frees its name. The
 * unique constraint becomes a partial unique index of the same name, which the create and rename match
 * when they convert a violation into OrganizationNameTakenError. Every existing database is valid under
 * it (its names were unique among all organizations).
 */
export class Migration20261206000000_live_organization_names extends Migration {
  override async up(): Promise<void> {
    // The gateway's statement_timeout (STATEMENT_TIMEOUT_MS) is for requests, not migrations.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`alter table "organizations" drop constraint "organizations_name_key";`);
    this.addSql(`create unique index "organizations_name_key" on "organizations" ("name") where "deleted" = 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "organizations_name_key";`);
    this.addSql(`alter table "organizations" add constraint "organizations_name_key" unique ("name");`);
  }
}
