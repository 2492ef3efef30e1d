-- pgbench script: the gateway's create statement (src/organizations/organizations.ts,
-- insertOrganizationWithOwner, with the create limit on as by default: takeTokenSql in
-- src/organizations/rate-limit.ts, never reached), one organization and its owner membership per
-- transaction, every name new, one of 64 users at random. Run by bench/pgbench-create.sh, which made the users.
\set n random(1, 2000000000)
\set u random(1, 64)
with bucket as (
  insert into create_rate_limits as b (user_id, tokens, updated_at)
  values (('00000000-0000-4000-8000-0000000000' || lpad(:u::text, 2, '0'))::uuid, 1000000::float8 - 1, clock_timestamp())
  on conflict (user_id) do update set tokens = least(1000000::float8, b.tokens + 16666.7::float8 * greatest(0, extract(epoch from clock_timestamp() - b.updated_at))) - 1, updated_at = clock_timestamp()
  where least(1000000::float8, b.tokens + 16666.7::float8 * greatest(0, extract(epoch from clock_timestamp() - b.updated_at))) >= 1
  returning 1
), org as (
  insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
  select gen_random_uuid(), 'pgbench ' || :client_id::text || ' ' || :n::text || ' ' || txid_current(), now(), now(), true, 0, '{}'::jsonb
  where exists (select 1 from bucket)
  returning *
), owner as (
  insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
  select gen_random_uuid(), ('00000000-0000-4000-8000-0000000000' || lpad(:u::text, 2, '0'))::uuid, org.id, 2, org.created_at, org.created_at from org
), notified as (
  -- live updates: notifies only while a server process has subscribers (none here, as in the benchmark)
  select pg_notify('trieve_gateway_live', '{}') from org where exists (select 1 from live_listeners where seen_at > now() - interval '30 seconds')
)
select org.*, (select count(*) from notified) as notified from org;
