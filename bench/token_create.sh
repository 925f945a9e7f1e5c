#!/usr/bin/env bash
# Token throughput with durable storage: 32 connections POST auth/token/create (root token, body
# {"policies":["default"],"ttl":"1h"}) for DURATION against a dev server whose storage is a SQLite
# file on disk (-dev-storage), then GET auth/token/lookup-self with one of the created tokens.
# Prints creations/s and lookups/s; the single-writer fdatasync rate of the same filesystem is
# measured first and printed as context (creations per fdatasync).
# Usage: bench/token_create.sh   (env: DURATION, THREADS, CONNS, WARMUP, PROBE_SECONDS, BENCH_TMPDIR)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
PROBE_SECONDS="${PROBE_SECONDS:-2}"
ROOT="bench-root-token"
bench_mktemp tmp
fs="$(stat -f -c %T "$tmp")"
echo "token_create: scratch dir $tmp (filesystem $fs)"
[[ "$fs" != tmpfs ]] || echo "token_create: WARNING: $tmp is a tmpfs; fdatasync costs nothing there" >&2

fsync_probe_setup "$tmp"
fsync_ops="$("${FSYNC_PROBE[@]}" "$tmp/fsync_probe.dat" "$PROBE_SECONDS")"
rm -f "$tmp/fsync_probe.dat"

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$ROOT" "$port" -dev-storage="$tmp/coffer.db"
A="$COFFER_ADDR"
accessors() {
  local out
  out="$(http_expect 200 GET "$A/v1/auth/token/accessors?list=true" "$ROOT")" || exit 1
  json_get data.keys <<<"$out" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}
before="$(accessors)"

cat >"$tmp/create.lua" <<'LUA'
-- Every request creates a token: POST /v1/auth/token/create with the root token.
wrk.method = "POST"
wrk.path = "/v1/auth/token/create"
wrk.body = '{"policies":["default"],"ttl":"1h"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Vault-Token"] = os.getenv("BENCH_TOKEN") or ""
LUA
export BENCH_TOKEN="$ROOT"
run_wrk "$tmp/wrk-create.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$tmp/create.lua" "$A"
parse_wrk "$tmp/wrk-create.txt"
create_rps="$WRK_RPS" create_lat="$WRK_LAT_AVG" create_bad="$((WRK_NON2XX + WRK_ERRORS))"
created=$(($(accessors) - before))

# One token created like the ones above, looked up by itself (the default policy grants read on
# auth/token/lookup-self, hence GET: a POST needs update there).
TOKEN="$(create_token "$A" "$ROOT" '{"policies":["default"],"ttl":"1h"}')"
http_expect 200 GET "$A/v1/auth/token/lookup-self" "$TOKEN" >/dev/null
wrk_get "$tmp/wrk-lookup.txt" "$A/v1/auth/token/lookup-self" "$TOKEN"
lookup_rps="$WRK_RPS" lookup_lat="$WRK_LAT_AVG" lookup_bad="$((WRK_NON2XX + WRK_ERRORS))"
bench_stop "$COFFER_PID"
db_bytes=0
for f in "$tmp"/coffer.db*; do [[ -f "$f" ]] && db_bytes=$((db_bytes + $(stat -c %s "$f"))); done

printf 'token_create: fdatasync (1 writer, 8 KB) %s ops/s on this filesystem (context)\n' "$fsync_ops"
printf 'token_create: coffer %s creations/s with %s connections (avg latency %s, %s errors/non-2xx, %s new accessors stored, db %s bytes)\n' \
  "$create_rps" "$CONNS" "$create_lat" "$create_bad" "$created" "$db_bytes"
printf 'token_create: %s creations per fdatasync; target >= 5000 creations/s\n' "$(ratio "$create_rps" "$fsync_ops")"
printf 'token_create: coffer %s lookups/s, GET auth/token/lookup-self, one token among %s (avg latency %s, %s errors/non-2xx)\n' \
  "$lookup_rps" "$((before + created + 1))" "$lookup_lat" "$lookup_bad"
result token_create_rps "$create_rps"
result token_create_fsync_ratio "$(ratio "$create_rps" "$fsync_ops")"
result token_create_errors "$create_bad"
result token_create_stored "$created"
result token_lookup_rps "$lookup_rps"
result token_lookup_errors "$lookup_bad"
