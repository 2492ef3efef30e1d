import { Migration } from '@mikro-orm/migrations';

/** Keyset pagination of a user's organizations (viewer.organizations): (user_id, created_at, id). */
export class Migration20261129020000_membership_page_index extends Migration {
  override async up(): Promise<void> {
    // The gateway role's statement_timeout (STATEMENT_TIMEOUT_MS) is for requests, not migrations.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create index "user_organizations_user_id_created_at_id_index" on "user_organizations" ("user_id", "created_at", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "user_organizations_user_id_created_at_id_index";`);
  }
}
