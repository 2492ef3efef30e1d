// Every migration, in order. Add new ones here (created with the MikroORM migrator, checked in), each
// starting with `set local statement_timeout = 0` (STATEMENT_TIMEOUT_MS is for requests, see ../orm.ts).
import { Migration20261129000000_initial } from './Migration20261129000000_initial.js';
import { Migration20261129010000_idempotency_keys } from './Migration20261129010000_idempotency_keys.js';
import { Migration20261129020000_membership_page_index } from './Migration20261129020000_membership_page_index.js';
import { Migration20261130000000_create_rate_limits } from './Migration20261130000000_create_rate_limits.js';
import { Migration20261206000000_live_organization_names } from './Migration20261206000000_live_organization_names.js';
import { Migration20261206100000_api_key_lifecycle } from './Migration20261206100000_api_key_lifecycle.js';
import { Migration20261206200000_live_listeners } from './Migration20261206200000_live_listeners.js';

export const migrationsList = [
  { name: 'Migration20261129000000_initial', class: Migration20261129000000_initial },
  { name: 'Migration20261129010000_idempotency_keys', class: Migration20261129010000_idempotency_keys },
  { name: 'Migration20261129020000_membership_page_index', class: Migration20261129020000_membership_page_index },
  { name: 'Migration20261130000000_create_rate_limits', class: Migration20261130000000_create_rate_limits },
  { name: 'Migration20261206000000_live_organization_names', class: Migration20261206000000_live_organization_names },
  { name: 'Migration20261206100000_api_key_lifecycle', class: Migration20261206100000_api_key_lifecycle },
  { name: 'Migration20261206200000_live_listeners', class: Migration20261206200000_live_listeners },
];
