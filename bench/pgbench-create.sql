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
), notified as (
  -- live updates: notifies only while a server process has subscribers (none here, as in the benchmark)
  select pg_notify('trieve_gateway_live', '{}') from org where exists (select 1 from live_listeners where seen_at > now() - interval '30 seconds')
)
select org.*, (select count(*) from notified) as notified from org;
