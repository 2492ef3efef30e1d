import { Migration } from '@mikro-orm/migrations';

/** Server processes with live update subscribers (src/entities/live-listener.entity.ts). */
export class Migration20261206200000_live_listeners extends Migration {
  override async up(): Promise<void> {
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create table "live_listeners" ("id" uuid not null, "seen_at" timestamptz(3) not null, constraint "live_listeners_pkey" primary key ("id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "live_listeners";`);
  }
}
