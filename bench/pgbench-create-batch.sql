-- pgbench script: the gateway's shared create statement (src/organizations/organizations.ts,
-- insertOrganizationsWithOwners, with the create limit on as by default: takeTokensSql in
-- src/organizations/rate-limit.ts, never reached) carrying 10 creates of users among 64, every name new.
-- Run by bench/pgbench-create.sh, which made the users.
\set n random(1, 2000000000)
\set u random(0, 63)
with input as (
  select g as ord, gen_random_uuid() as id, 'pgbench ' || :client_id::text || ' ' || :n::text || ' ' || g || ' ' || txid_current() as name,
    ('00000000-0000-4000-8000-0000000000' || lpad((1 + (:u + g) % 64)::text, 2, '0'))::uuid as user_id, gen_random_uuid() as member_id, '{}' as payload
  from generate_series(0, 9) g
), live_names as (
  select o.name from organizations o where o.name = any (array(select name from input)) and o.deleted = 0
), checked as (
  select i.*, i.name in (select name from live_names) as taken_before from input i
), candidate as (
  select distinct on (i.name) i.* from checked i where not i.taken_before order by i.name, i.ord
), wants as (
  select user_id, count(*)::int as n from candidate group by user_id
), bucket as (
  insert into create_rate_limits as b (user_id, tokens, updated_at)
  select user_id, 1000000::float8 - n, clock_timestamp() from wants where n <= 1000000 order by user_id
  on conflict (user_id) do update set tokens = least(1000000::float8, b.tokens + 16666.7::float8 * greatest(0, extract(epoch from clock_timestamp() - b.updated_at))) - (1000000::float8 - excluded.tokens), updated_at = clock_timestamp()
  where least(1000000::float8, b.tokens + 16666.7::float8 * greatest(0, extract(epoch from clock_timestamp() - b.updated_at))) >= 1000000::float8 - excluded.tokens
  returning b.user_id
), granted as (
  select c.* from candidate c where c.user_id in (select user_id from bucket)
), org as (
  insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
  select g.id, g.name, now(), now(), true, 0, '{}'::jsonb from granted g order by g.name
  on conflict (name) where deleted = 0 do nothing
  returning *
), owner as (
  insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
  select g.member_id, g.user_id, org.id, 2, org.created_at, org.created_at from org join granted g on g.id = org.id
), notified as (
  select pg_notify('trieve_gateway_live', i.payload) from org join input i on i.id = org.id where exists (select 1 from live_listeners where seen_at > now() - interval '30 seconds')
)
select i.ord, i.taken_before, org.*, i.id in (select id from candidate) as candidate, i.id in (select id from granted) as granted, (select count(*) from notified) as notified
from checked i left join org on org.id = i.id order by i.ord;
