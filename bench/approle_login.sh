#!/usr/bin/env bash
# AppRole login throughput with durable storage: 32 connections POST auth/approle/login
# {role_id, secret_id} for DURATION against a dev server whose storage is a SQLite file on disk
# (-dev-storage). One role (bind_secret_id, policy "default", token_ttl 1h) and one secret ID with
# unlimited uses; every login checks the secret ID (HMAC lookup) and creates a token (a durable
# write). Then, same server and run, GET of a ~1.2 KB KV v1 secret with the root token as the
# in-run reference. Prints logins/s, KV reads/s, their ratio, and Vault's published
# vault-benchmark AppRole figure (~4,400 logins/s) as the target.
# Usage: bench/approle_login.sh   (env: DURATION, THREADS, CONNS, WARMUP, BENCH_TMPDIR)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
ROOT="bench-root-token"
TARGET=4400
bench_mktemp tmp
fs="$(stat -f -c %T "$tmp")"
echo "approle_login: scratch dir $tmp (filesystem $fs)"
[[ "$fs" != tmpfs ]] || echo "approle_login: WARNING: $tmp is a tmpfs; fdatasync costs nothing there" >&2

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$ROOT" "$port" -dev-storage="$tmp/coffer.db"
A="$COFFER_ADDR"

# The method, one role and one secret ID with unlimited uses (the defaults).
http_expect 200,204 POST "$A/v1/sys/auth/approle" "$ROOT" '{"type":"approle"}' >/dev/null
http_expect 200,204 POST "$A/v1/auth/approle/role/bench" "$ROOT" \
  '{"token_policies":"default","token_ttl":"1h","secret_id_num_uses":0}' >/dev/null
role_id="$(http_expect 200 GET "$A/v1/auth/approle/role/bench/role-id" "$ROOT" | json_get data.role_id)"
secret_id="$(http_expect 200 POST "$A/v1/auth/approle/role/bench/secret-id" "$ROOT" '{}' | json_get data.secret_id)"
login_body="$("$PY" -c 'import json, sys; print(json.dumps({"role_id": sys.argv[1], "secret_id": sys.argv[2]}), end="")' \
  "$role_id" "$secret_id")"
# A login must work before we measure it (and a wrong secret ID must not).
out="$(http_expect 200 POST "$A/v1/auth/approle/login" "" "$login_body")"
[[ "$(json_get auth.metadata.role_name <<<"$out")" == bench ]] || die "login answered without the role's metadata: $out"
http_expect 400 POST "$A/v1/auth/approle/login" "" "{\"role_id\":\"$role_id\",\"secret_id\":\"wrong\"}" >/dev/null

accessors() {
  local out
  out="$(http_expect 200 GET "$A/v1/auth/token/accessors?list=true" "$ROOT")" || exit 1
  json_get data.keys <<<"$out" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}
before="$(accessors)"

# The body is built at run time from the environment: the credentials live only in this run.
cat >"$tmp/login.lua" <<'LUA'
-- Every request is an AppRole login: POST /v1/auth/approle/login, no token.
wrk.method = "POST"
wrk.path = "/v1/auth/approle/login"
wrk.body = os.getenv("BENCH_LOGIN_BODY") or ""
wrk.headers["Content-Type"] = "application/json"
LUA
export BENCH_LOGIN_BODY="$login_body"
if [[ "$WARMUP" != 0 ]]; then
  run_wrk "$tmp/wrk-login.warmup" -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$tmp/login.lua" "$A"
fi
run_wrk "$tmp/wrk-login.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$tmp/login.lua" "$A"
parse_wrk "$tmp/wrk-login.txt"
login_rps="$WRK_RPS" login_lat="$WRK_LAT_AVG" login_bad="$((WRK_NON2XX + WRK_ERRORS))"
created=$(($(accessors) - before))
# The secret ID is still good afterwards (unlimited uses).
http_expect 200 POST "$A/v1/auth/approle/login" "" "$login_body" >/dev/null

# Reference in the same run: KV v1 reads of a ~1.2 KB secret with the root token.
mount_kv1 "$A" "$ROOT" kv
http_expect 200,204 POST "$A/v1/kv/bench" "$ROOT" "$(bench_secret_json)" >/dev/null
wrk_get "$tmp/wrk-kv.txt" "$A/v1/kv/bench" "$ROOT"
kv_rps="$WRK_RPS" kv_lat="$WRK_LAT_AVG" kv_bad="$((WRK_NON2XX + WRK_ERRORS))"
bench_stop "$COFFER_PID"

r="$(ratio "$login_rps" "$kv_rps")"
printf 'approle_login: coffer %s logins/s with %s connections (avg latency %s, %s errors/non-2xx, %s tokens stored incl. warm-up)\n' \
  "$login_rps" "$CONNS" "$login_lat" "$login_bad" "$created"
printf 'approle_login: KV v1 read (same server, same run) %s req/s (avg latency %s, %s errors/non-2xx)\n' \
  "$kv_rps" "$kv_lat" "$kv_bad"
printf 'approle_login: logins/KV reads = %s; target ~%s logins/s (Vault'"'"'s published vault-benchmark AppRole figure) -> %s of it\n' \
  "$r" "$TARGET" "$(ratio "$login_rps" "$TARGET")"
result approle_login_rps "$login_rps"
result approle_login_kv_rps "$kv_rps"
result approle_login_ratio "$r"
result approle_login_errors "$login_bad"
