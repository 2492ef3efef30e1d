#!/usr/bin/env bash
# How many creates per second one PostgreSQL primary takes, with no gateway in front: pgbench runs the
# gateway's create statement (bench/pgbench-create.sql) in a scratch database the gateway migrated.
# Usage: bash bench/pgbench-create.sh [clients] [seconds]   (DATABASE_URL: a server, default local)
set -euo pipefail
cd "$(dirname "$0")/.."
server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
clients="${1:-32}"
seconds="${2:-20}"
db="gateway_pgbench_$$"
base="${server%/*}"
psql -q "$server" -c "create database $db"
trap 'psql -q "$server" -c "drop database if exists $db with (force)"' EXIT
DATABASE_URL="$base/$db" node bin/trieve-gateway.js migrate >/dev/null
owner=$(psql -qAt "$base/$db" -c "insert into users (id, email, created_at, updated_at) values (gen_random_uuid(), 'pgbench@example.com', now(), now()) returning id")
echo "PostgreSQL $(psql -qAt "$server" -c 'show server_version'), synchronous_commit=$(psql -qAt "$server" -c 'show synchronous_commit'), fsync=$(psql -qAt "$server" -c 'show fsync'), $(nproc) cores"
pgbench -n -M extended -c "$clients" -j 2 -T "$seconds" -D owner="$owner" -f bench/pgbench-create.sql "$base/$db" | grep -E 'number of clients|number of transactions actually|latency average|tps'
