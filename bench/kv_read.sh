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
value="$("$PY" -c '
import json
v = {"username": "svc-payments", "password": "hunter2-but-longer-and-random-9f8e7d6c5b4a",
     "url": "postgres://db.internal:5432/payments", "notes": ""}
v["notes"] = "x" * (1200 - len(json.dumps(v, separators=(",", ":"))))
print(json.dumps(v, separators=(",", ":")), end="")')"
out="$(http POST "$COFFER_ADDR/v1/kv/bench" "$TOKEN" "$value")"
[[ "${out%%$'\t'*}" == 204 || "${out%%$'\t'*}" == 200 ]] || die "writing kv/bench failed: $out"
mkdir -p "$tmp/www"
out="$(HTTP_OUT="$tmp/www/bench.json" http GET "$COFFER_ADDR/v1/kv/bench" "$TOKEN")"
[[ "${out%%$'\t'*}" == 200 ]] || die "reading kv/bench failed: $out"
body_bytes="$(stat -c %s "$tmp/www/bench.json")"
echo "kv_read: value ${#value} bytes serialized; response body $body_bytes bytes (nginx serves the same bytes)"

cat >"$tmp/token.lua" <<'LUA'
-- Adds the Vault token header to every request (nginx ignores it).
wrk.headers["X-Vault-Token"] = os.getenv("BENCH_TOKEN") or ""
LUA

export BENCH_TOKEN="$TOKEN"
run_wrk "$tmp/wrk-warm.txt" -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$tmp/token.lua" "$COFFER_ADDR/v1/kv/bench"
run_wrk "$tmp/wrk-coffer.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$tmp/token.lua" "$COFFER_ADDR/v1/kv/bench"
parse_wrk "$tmp/wrk-coffer.txt"
coffer_rps="$WRK_RPS" coffer_lat="$WRK_LAT_AVG" coffer_bad="$((WRK_NON2XX + WRK_ERRORS))"
# Stop Coffer before measuring nginx: both share the machine's cores with wrk.
bench_stop "$COFFER_PID"

# --- nginx: one worker, no access log, static file, keep-alive; a temp prefix so nothing system-wide is used.
nport="$(free_port)"
chmod 755 "$tmp" "$tmp/www"
chmod 644 "$tmp/www/bench.json"
for d in body proxy fastcgi uwsgi scgi; do mkdir -p "$tmp/nginx-$d"; done
cat >"$tmp/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=16;
  client_body_temp_path $tmp/nginx-body;
  proxy_temp_path $tmp/nginx-proxy;
  fastcgi_temp_path $tmp/nginx-fastcgi;
  uwsgi_temp_path $tmp/nginx-uwsgi;
  scgi_temp_path $tmp/nginx-scgi;
  server {
    listen 127.0.0.1:$nport;
    root $tmp/www;
  }
}
NGINX
nginx -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
bench_track "$nginx_pid"
if ! wait_http "http://127.0.0.1:$nport/bench.json" 10 "$nginx_pid"; then
  cat "$tmp/nginx.out" "$tmp/nginx-error.log" >&2 2>/dev/null || true
  die "nginx did not start"
fi
run_wrk "$tmp/wrk-warm.txt" -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$tmp/token.lua" "http://127.0.0.1:$nport/bench.json"
run_wrk "$tmp/wrk-nginx.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$tmp/token.lua" "http://127.0.0.1:$nport/bench.json"
parse_wrk "$tmp/wrk-nginx.txt"
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
