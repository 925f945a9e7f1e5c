#!/usr/bin/env bash
# KV read throughput over HTTP: Coffer (dev server, KV v1) against nginx serving a static file of
# exactly the same bytes as Coffer's response body, both measured in this run with the same wrk load.
# Prints req/s for both and the ratio coffer/nginx. Usage: bench/kv_read.sh   (env: DURATION, THREADS, CONNS)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk nginx
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
TOKEN="bench-root-token"
bench_mktemp tmp

# --- Coffer: write one ~1.2 KB JSON object, then fetch the response body a client would get.
port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$TOKEN" "$port"
mount_kv1 "$COFFER_ADDR" "$TOKEN" kv
value="$(bench_secret_json)"
http_expect 200,204 POST "$COFFER_ADDR/v1/kv/bench" "$TOKEN" "$value" >/dev/null
mkdir -p "$tmp/www"
HTTP_OUT="$tmp/www/bench.json" http_expect 200 GET "$COFFER_ADDR/v1/kv/bench" "$TOKEN" >/dev/null
body_bytes="$(stat -c %s "$tmp/www/bench.json")"
echo "kv_read: value ${#value} bytes serialized; response body $body_bytes bytes (nginx serves the same bytes)"

wrk_get "$tmp/wrk-coffer.txt" "$COFFER_ADDR/v1/kv/bench" "$TOKEN"
coffer_rps="$WRK_RPS" coffer_lat="$WRK_LAT_AVG" coffer_bad="$((WRK_NON2XX + WRK_ERRORS))"
# Stop Coffer before measuring nginx: both share the machine's cores with wrk.
bench_stop "$COFFER_PID"

# --- nginx: the same bytes from a static file, the same load (the token header is sent too, and ignored).
start_nginx_static "$tmp"
wrk_get "$tmp/wrk-nginx.txt" "$NGINX_ADDR/bench.json" "$TOKEN"
nginx_rps="$WRK_RPS" nginx_lat="$WRK_LAT_AVG" nginx_bad="$((WRK_NON2XX + WRK_ERRORS))"

r="$(ratio "$coffer_rps" "$nginx_rps")"
printf 'kv_read: coffer %s req/s (avg latency %s, %s errors/non-2xx)\n' "$coffer_rps" "$coffer_lat" "$coffer_bad"
printf 'kv_read: nginx  %s req/s (avg latency %s, %s errors/non-2xx)\n' "$nginx_rps" "$nginx_lat" "$nginx_bad"
printf 'kv_read: ratio coffer/nginx = %s (target >= 0.8)\n' "$r"
result kv_read_coffer_rps "$coffer_rps"
result kv_read_nginx_rps "$nginx_rps"
result kv_read_ratio "$r"
result kv_read_errors "$coffer_bad"
result kv_read_body_bytes "$body_bytes"
