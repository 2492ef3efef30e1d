-- pgbench script: the gateway's create statement (src/organizations/organizations.ts,
-- insertOrganizationWithOwner), one organization and its owner membership per transaction, every name new.
-- Run by bench/pgbench-create.sh, which sets :owner to a user it created.
\set n random(1, 2000000000)
with org as (
  insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
  values (gen_random_uuid(), 'pgbench ' || :client_id::text || ' ' || :n::text || ' ' || txid_current(), now(), now(), true, 0, '{}'::jsonb)
  returning *
), owner as (
  insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
  select gen_random_uuid(), :owner::uuid, org.id, 2, org.created_at, org.created_at from org
)
select * from org;
