import { randomUUID } from 'node:crypto';
import { defineEntity, type Opt } from '@mikro-orm/core';

export class Organization {
  id: string = randomUUID();
  name!: string;
  createdAt: Date & Opt = new Date();
  updatedAt: Date & Opt = new Date();
  registerable: (boolean | null) & Opt = true;
  /** Soft-delete flag: 0 live, 1 deleted (upstream's shape). */
  deleted: number & Opt = 0;
  partnerConfiguration: Record<string, unknown> & Opt = {};
}

/**
 * The unique index that decides name collisions among live organizations (a deleted one frees its name);
 * its name is matched when converting the driver error.
 */
export const ORGANIZATION_NAME_CONSTRAINT = 'organizations_name_key';

export const OrganizationSchema = defineEntity({
  class: Organization,
  tableName: 'organizations',
  uniques: [
    {
      name: ORGANIZATION_NAME_CONSTRAINT,
      expression: `create unique index "${ORGANIZATION_NAME_CONSTRAINT}" on "organizations" ("name") where "deleted" = 0`,
    },
  ],
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.text(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3).onUpdate(() => new Date()),
    registerable: p.boolean().nullable().default(true),
    deleted: p.integer().default(0),
    partnerConfiguration: p.json<Record<string, unknown>>().defaultRaw(`'{}'::jsonb`),
  }),
});
