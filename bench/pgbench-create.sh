#!/usr/bin/env bash
# How many creates per second one PostgreSQL primary takes, with no gateway in front: pgbench runs the
# gateway's create statements, one create per statement and ten per shared statement, create limit on,
# in a scratch database the gateway migrated. The scripts are made from the gateway's own code
# (bench/pgbench-scripts.ts), so they are the statements it sends.
# Usage: bash bench/pgbench-create.sh [clients] [seconds]   (DATABASE_URL: a server, default local)
set -euo pipefail
cd "$(dirname "$0")/.."
server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
clients="${1:-32}"
seconds="${2:-20}"
db="gateway_pgbench_$$"
base="${server%/*}"
scripts=$(mktemp -d)
psql -q "$server" -c "create database $db"
trap 'psql -q "$server" -c "drop database if exists $db with (force)"; rm -rf "$scripts"' EXIT
npx tsx bench/pgbench-scripts.ts "$scripts"
DATABASE_URL="$base/$db" node bin/trieve-gateway.js migrate >/dev/null
# 64 users, ids 00000000-0000-4000-8000-0000000000NN (the scripts pick among them)
psql -q "$base/$db" -c "insert into users (id, email, created_at, updated_at) select ('00000000-0000-4000-8000-0000000000' || lpad(u::text, 2, '0'))::uuid, 'pgbench' || u || '@example.com', now(), now() from generate_series(1, 64) u"
echo "PostgreSQL $(psql -qAt "$server" -c 'show server_version'), synchronous_commit=$(psql -qAt "$server" -c 'show synchronous_commit'), fsync=$(psql -qAt "$server" -c 'show fsync'), $(nproc) cores"
for script in create create-batch; do
  per=1; [ "$script" = create-batch ] && per=10
  echo "$script ($per per statement):"
  out=$(pgbench -n -M extended -c "$clients" -j 2 -T "$seconds" -f "$scripts/$script.sql" "$base/$db")
  echo "$out" | grep -E 'number of clients|number of transactions actually|number of failed|latency average|tps' | sed "s/^/  /"
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  echo "  creates/s = $(awk -v t="$tps" -v p="$per" 'BEGIN { printf "%.0f", t * p }')"
done
