#!/usr/bin/env bash
# KV v2 read throughput with a non-root token: the token holds one 10-rule ACL policy (the read rule
# for secret/data/bench among nine decoys with globs and + segments), so every request pays for token
# lookup and policy evaluation. Compared with nginx serving a static file of exactly the bytes of
# Coffer's response body, both measured in this run with the same wrk load.
# Prints req/s for both and the ratio coffer/nginx.
# Usage: bench/kv2_policy_read.sh   (env: DURATION, THREADS, CONNS, WARMUP)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk nginx
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
ROOT="bench-root-token"
bench_mktemp tmp

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$ROOT" "$port"
A="$COFFER_ADDR"

# Ten rules; only the first matches the benchmarked path. None of the others matches it, so the
# answer does not depend on Coffer's precedence between rules.
read -r -d '' POLICY <<'HCL' || true
path "secret/data/bench" {
  capabilities = ["read"]
}
path "secret/metadata/bench" {
  capabilities = ["read", "list"]
}
path "secret/data/bench/*" {
  capabilities = ["read"]
}
path "secret/data/apps/+/config" {
  capabilities = ["read"]
}
path "secret/data/apps/payments/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/data/+/shared/*" {
  capabilities = ["read", "list"]
}
path "secret/data/admin/*" {
  capabilities = ["deny"]
}
path "database/creds/+" {
  capabilities = ["read"]
}
path "pki/issue/internal-*" {
  capabilities = ["create", "update"]
}
path "transit/encrypt/payments" {
  capabilities = ["update"]
}
HCL
put_policy "$A" "$ROOT" bench10 "$POLICY"
TOKEN="$(create_token "$A" "$ROOT" '{"policies":["bench10"]}')"

value="$(bench_secret_json)"
http_expect 200,204 POST "$A/v1/secret/data/bench" "$ROOT" "{\"data\":$value}" >/dev/null
mkdir -p "$tmp/www/v1/secret/data"
HTTP_OUT="$tmp/www/v1/secret/data/bench" http_expect 200 GET "$A/v1/secret/data/bench" "$TOKEN" >/dev/null
body_bytes="$(stat -c %s "$tmp/www/v1/secret/data/bench")"
# The token is not root: a path outside its policy must be refused.
http_expect 403 GET "$A/v1/secret/data/other" "$TOKEN" >/dev/null
echo "kv2_policy_read: token with policy bench10 (10 rules) reads secret/data/bench (200) and is refused secret/data/other (403)"
echo "kv2_policy_read: value ${#value} bytes serialized; response body $body_bytes bytes (nginx serves the same bytes)"

wrk_get "$tmp/wrk-coffer.txt" "$A/v1/secret/data/bench" "$TOKEN"
coffer_rps="$WRK_RPS" coffer_lat="$WRK_LAT_AVG" coffer_bad="$((WRK_NON2XX + WRK_ERRORS))"
# Stop Coffer before measuring nginx: both share the machine's cores with wrk.
bench_stop "$COFFER_PID"

start_nginx_static "$tmp"
wrk_get "$tmp/wrk-nginx.txt" "$NGINX_ADDR/v1/secret/data/bench" "$TOKEN"
nginx_rps="$WRK_RPS" nginx_lat="$WRK_LAT_AVG" nginx_bad="$((WRK_NON2XX + WRK_ERRORS))"

r="$(ratio "$coffer_rps" "$nginx_rps")"
printf 'kv2_policy_read: coffer %s req/s (avg latency %s, %s errors/non-2xx)\n' "$coffer_rps" "$coffer_lat" "$coffer_bad"
printf 'kv2_policy_read: nginx  %s req/s (avg latency %s, %s errors/non-2xx)\n' "$nginx_rps" "$nginx_lat" "$nginx_bad"
printf 'kv2_policy_read: ratio coffer/nginx = %s (target >= 0.7)\n' "$r"
result kv2_read_coffer_rps "$coffer_rps"
result kv2_read_nginx_rps "$nginx_rps"
result kv2_read_ratio "$r"
result kv2_read_errors "$coffer_bad"
result kv2_read_body_bytes "$body_bytes"
