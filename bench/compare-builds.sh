#!/bin/bash
# Two builds of the gateway side by side on one PostgreSQL database, with one key of the old `tr-` shape
# (which every version accepts): alternating 5 s `wrk -t1 -c32` windows of REST and GraphQL creates, and
# each server's CPU per request from /proc. Usage (both folders built, e.g. a `git worktree` + `npm ci`):
#   bash bench/compare-builds.sh <old checkout> <new checkout>     (CONNECTIONS: wrk connections, default 32)
# Both run with the create limit on (never reached; CREATE_LIMIT_PER_MINUTE=0 turns it off).
# Needs psql and wrk; PG_URL (default postgres://postgres@127.0.0.1:5432) must allow creating a database.
set -e
OLD_DIR=$(cd "$1" && pwd); NEW_DIR=$(cd "$2" && pwd)
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=compare_builds_$$
psql "$PG/postgres" -qc "create database $DB"
URL=$PG/$DB
(cd "$NEW_DIR" && DATABASE_URL=$URL node bin/trieve-gateway.js migrate >/dev/null)
KEY=tr-$(node -e "const c=require('crypto');let s='';const a='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';for(let i=0;i<32;i++)s+=a[c.randomInt(62)];console.log(s)")
HASH=$(node -e "console.log(require('crypto').createHash('sha256').update(process.argv[1]).digest('hex'))" $KEY)
psql "$URL" -qc "insert into users (id, email, created_at, updated_at) values ('11111111-1111-4111-8111-111111111111', 'cmp@example.com', now(), now()); insert into api_keys (id, user_id, label, role, hash, created_at, updated_at) values (gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 'cmp', 2, '$HASH', now(), now());"
start() { (cd "$1" && DATABASE_URL=$URL PORT=$2 LOG_LEVEL=info MIGRATE_ON_START=false CREATE_LIMIT_PER_MINUTE=${CREATE_LIMIT_PER_MINUTE:-1000000} CREATE_LIMIT_BURST=1000000 exec node bin/trieve-gateway.js serve > /dev/null) & echo $!; }
OLD=$(start "$OLD_DIR" 18101); NEW=$(start "$NEW_DIR" 18102)
trap 'kill $OLD $NEW 2>/dev/null; sleep 1; psql "$PG/postgres" -qc "drop database if exists $DB with (force)"' EXIT
sleep 4
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
TCK=$(getconf CLK_TCK)
window() { # name pid port path body
  local before=$(cpu $2)
  local out=$(BENCH_PATH=$4 BENCH_AUTH="Bearer $KEY" BENCH_BODY="$5" BENCH_PREFIX="$1-$RANDOM$RANDOM" wrk -t1 -c${CONNECTIONS:-32} -d${SECS:-5}s --latency -s "$NEW_DIR/bench/create.lua" http://127.0.0.1:$3 | grep RESULT)
  local after=$(cpu $2)
  read _ req us p50 p99 err <<< "$out"
  awk -v n=$1 -v r=$req -v us=$us -v p50=$p50 -v p99=$p99 -v e=$err -v c=$((after-before)) -v t=$TCK 'BEGIN{printf "%-12s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  server CPU %4.0f µs/request\n", n, r/(us/1e6), p50, p99, e, c/t*1e6/r}'
}
REST='{"name": "%s"}'
GQL='{"query":"mutation C($n: String!) { createOrganization(input: {name: $n}) { __typename } }","variables":{"n":"%s"}}'
SECS=2 window warm-old $OLD 18101 /api/organization "$REST" >/dev/null; SECS=2 window warm-new $NEW 18102 /api/organization "$REST" >/dev/null
for rep in 1 2 3; do
  if [ $((rep % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for who in $order; do
    if [ $who = old ]; then pid=$OLD port=18101; else pid=$NEW port=18102; fi
    window "$who-rest" $pid $port /api/organization "$REST"
    window "$who-graphql" $pid $port /graphql "$GQL"
  done
done
