# Shared helpers for the bench/ scripts. Source it; do not run it.
# Every process a script starts is recorded with bench_track and ended by bench_cleanup (EXIT trap),
# by its own pid, so an interrupted run leaves nothing behind.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
COFFER_BIN="${COFFER_BIN:-$REPO_DIR/build/bin/coffer}"
# Debian's python3 (the one on PATH may be a pyenv build); only the standard library is used.
PY="${BENCH_PYTHON:-/usr/bin/python3}"
[[ -x "$PY" ]] || PY="$(command -v python3)"

_bench_pids=()
_bench_dirs=()

bench_track() { _bench_pids+=("$1"); }

bench_cleanup() {
  local pid
  for pid in "${_bench_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${_bench_pids[@]}"; do
    # Give each process up to 5 s to stop cleanly, then force it.
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  _bench_pids=()
  local d
  for d in "${_bench_dirs[@]}"; do rm -rf -- "$d"; done
  _bench_dirs=()
}

# Installs the traps; call once at the top of every script.
bench_traps() {
  trap 'echo "bench: $(basename "$0"): line $LINENO failed: $BASH_COMMAND" >&2' ERR
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

die() { echo "bench: $*" >&2; exit 1; }

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found; run scripts/bootstrap --bench (or make bench)"
  done
}

need_coffer() {
  [[ -x "$COFFER_BIN" ]] || die "no coffer binary at $COFFER_BIN; build it first (make build) or set COFFER_BIN"
}

# A directory for scratch files on a real disk: /tmp unless it is a tmpfs (where fdatasync is free
# and the durability numbers would mean nothing), then the repo's build dir. BENCH_TMPDIR overrides.
# Usage: bench_mktemp VAR  (sets VAR; not in a $(...) subshell, so the cleanup list keeps the dir)
bench_mktemp() {
  local base="${BENCH_TMPDIR:-}"
  if [[ -z "$base" ]]; then
    base=/tmp
    if [[ "$(stat -f -c %T /tmp 2>/dev/null)" == tmpfs ]]; then
      base="$REPO_DIR/build"
      mkdir -p "$base"
    fi
  fi
  local d
  d="$(mktemp -d "$base/coffer-bench.XXXXXX")"
  _bench_dirs+=("$d")
  printf -v "$1" '%s' "$d"
}

# Prints a loopback TCP port that is free right now.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# http METHOD URL [TOKEN] [BODY]: prints "STATUS<TAB>BODY"; never fails on HTTP errors.
# With HTTP_OUT=FILE in the environment the exact response bytes are also saved there.
http() {
  "$PY" - "$@" <<'PYEOF'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else ""
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(url, data=body, method=method)
if token:
    req.add_header("X-Vault-Token", token)
if body is not None:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        status, data = r.status, r.read()
except urllib.error.HTTPError as e:
    status, data = e.code, e.read()
except Exception as e:
    status, data = 0, str(e).encode()
import os
if os.environ.get("HTTP_OUT"):
    with open(os.environ["HTTP_OUT"], "wb") as f:
        f.write(data)
sys.stdout.write("%d\t%s" % (status, data.decode("utf-8", "replace")))
PYEOF
}

# wait_http URL SECONDS PID: waits until URL answers 200 (or PID dies).
wait_http() {
  local url="$1" secs="$2" pid="$3" i out
  for ((i = 0; i < secs * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    out="$(http GET "$url")"
    [[ "${out%%$'\t'*}" == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# mount_kv1 ADDR TOKEN PATH: mounts a KV version 1 engine at PATH (dev mode has KV v2 at secret/).
mount_kv1() {
  local out
  out="$(http POST "$1/v1/sys/mounts/$3" "$2" '{"type":"kv","options":{"version":"1"}}')"
  [[ "${out%%$'\t'*}" == 204 ]] || die "mounting KV v1 at $3 failed: $out"
}

# start_coffer_dev LOG TOKEN PORT [extra server flags...]: starts a dev server, sets COFFER_PID and
# COFFER_ADDR, and waits until sys/health answers 200.
start_coffer_dev() {
  local log="$1" token="$2" port="$3"
  shift 3
  "$COFFER_BIN" server -dev -dev-listen-address="127.0.0.1:$port" -dev-root-token-id="$token" \
    -log-level=warn "$@" >"$log" 2>&1 &
  COFFER_PID=$!
  bench_track "$COFFER_PID"
  COFFER_ADDR="http://127.0.0.1:$port"
  if ! wait_http "$COFFER_ADDR/v1/sys/health" 20 "$COFFER_PID"; then
    echo "bench: coffer server did not become healthy; its output:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}

# bench_stop PID: stops one process we started (SIGTERM) and waits for it.
bench_stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# run_wrk OUTFILE wrk-args...: runs wrk in the background and waits for it, so a signal
# reaches our trap at once instead of after the run.
run_wrk() {
  local out="$1"
  shift
  wrk "$@" >"$out" 2>&1 &
  local pid=$!
  bench_track "$pid"
  wait "$pid" || { cat "$out" >&2; die "wrk failed"; }
}

# Parses a wrk report: sets WRK_RPS, WRK_NON2XX, WRK_ERRORS, WRK_LAT_AVG.
parse_wrk() {
  local f="$1"
  WRK_RPS="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")"
  WRK_NON2XX="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")"
  WRK_NON2XX="${WRK_NON2XX:-0}"
  WRK_ERRORS="$(awk '/Socket errors:/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n }' "$f")"
  WRK_ERRORS="${WRK_ERRORS:-0}"
  WRK_LAT_AVG="$(awk '$1 == "Latency" {print $2; exit}' "$f")"
  [[ -n "$WRK_RPS" ]] || { cat "$f" >&2; die "could not read Requests/sec from wrk output"; }
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# result KEY VALUE: records a number for bench/run's summary (when BENCH_RESULTS is set).
result() {
  if [[ -n "${BENCH_RESULTS:-}" ]]; then echo "$1=$2" >>"$BENCH_RESULTS"; fi
}

# http_expect CODES METHOD URL [TOKEN] [BODY]: like http, but CODES (comma-separated, e.g. 200,204)
# must include the status; otherwise it stops the script naming the request and the answer.
# Prints the response body.
http_expect() {
  local codes="$1" out status
  shift
  out="$(http "$@")"
  status="${out%%$'\t'*}"
  [[ ",$codes," == *",$status,"* ]] || die "$1 $2 answered $status (expected $codes): ${out#*$'\t'}"
  printf '%s' "${out#*$'\t'}"
}

# json_get DOTTED.PATH: reads JSON on stdin and prints the value at the path (list indexes are
# numbers; lists and objects are printed as JSON).
json_get() {
  "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v), end="")' "$1"
}

# bench_secret_json: prints the ~1.2 KB JSON object (compact, no newline) the read benchmarks store.
bench_secret_json() {
  "$PY" -c '
import json
v = {"username": "svc-payments", "password": "hunter2-but-longer-and-random-9f8e7d6c5b4a",
     "url": "postgres://db.internal:5432/payments", "notes": ""}
v["notes"] = "x" * (1200 - len(json.dumps(v, separators=(",", ":"))))
print(json.dumps(v, separators=(",", ":")), end="")'
}

# put_policy ADDR TOKEN NAME HCL: writes an ACL policy (sys/policy/NAME).
put_policy() {
  local body
  body="$("$PY" -c 'import json, sys; print(json.dumps({"policy": sys.argv[1]}), end="")' "$4")"
  http_expect 200,204 POST "$1/v1/sys/policy/$3" "$2" "$body" >/dev/null
}

# create_token ADDR TOKEN BODY: auth/token/create with BODY (JSON); prints the new client token.
create_token() {
  local out
  out="$(http_expect 200 POST "$1/v1/auth/token/create" "$2" "$3")" || exit 1
  json_get auth.client_token <<<"$out"
}

# start_nginx_static DIR: starts nginx (one worker, no access log, keep-alive, everything under DIR)
# serving the files in DIR/www as application/json; sets NGINX_PID and NGINX_ADDR and waits until
# it answers. The baseline of the read benchmarks.
start_nginx_static() {
  local dir="$1" port d probe
  port="$(free_port)"
  chmod 755 "$dir" "$dir/www"
  find "$dir/www" -type f -exec chmod 644 {} +
  probe="$(cd "$dir/www" && find . -type f -print -quit)"
  for d in body proxy fastcgi uwsgi scgi; do mkdir -p "$dir/nginx-$d"; done
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=16;
  client_body_temp_path $dir/nginx-body;
  proxy_temp_path $dir/nginx-proxy;
  fastcgi_temp_path $dir/nginx-fastcgi;
  uwsgi_temp_path $dir/nginx-uwsgi;
  scgi_temp_path $dir/nginx-scgi;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
  }
}
NGINX
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
  NGINX_PID=$!
  bench_track "$NGINX_PID"
  NGINX_ADDR="http://127.0.0.1:$port"
  if ! wait_http "$NGINX_ADDR/${probe#./}" 10 "$NGINX_PID"; then
    cat "$dir/nginx.out" "$dir/nginx-error.log" >&2 2>/dev/null || true
    die "nginx did not start"
  fi
}

# wrk_get OUTFILE URL TOKEN: GET URL with header X-Vault-Token: TOKEN, a WARMUP run (default 2s,
# "0" skips it) then a DURATION run, THREADS threads, CONNS connections (defaults 10s, 2, 32);
# the measured report goes to OUTFILE and is parsed (WRK_RPS, WRK_NON2XX, WRK_ERRORS, WRK_LAT_AVG).
wrk_get() {
  local out="$1" url="$2" token="$3"
  local load=(-t"${THREADS:-2}" -c"${CONNS:-32}" -H "X-Vault-Token: $token")
  if [[ "${WARMUP:-2s}" != 0 ]]; then
    run_wrk "$out.warmup" "${load[@]}" -d"${WARMUP:-2s}" "$url"
  fi
  run_wrk "$out" "${load[@]}" -d"${DURATION:-10s}" "$url"
  parse_wrk "$out"
}

# fsync_probe_setup DIR: sets FSYNC_PROBE (an array: the command) to the single-writer 8 KB
# overwrite + fdatasync probe, compiled into DIR from fsync_probe.c (fsync_probe.py without a C
# compiler). Run it as "${FSYNC_PROBE[@]}" FILE SECONDS; it prints ops/s.
fsync_probe_setup() {
  if command -v cc >/dev/null 2>&1 && cc -O2 -o "$1/fsync_probe" "$BENCH_DIR/fsync_probe.c" 2>"$1/cc.log"; then
    FSYNC_PROBE=("$1/fsync_probe")
  else
    FSYNC_PROBE=("$PY" "$BENCH_DIR/fsync_probe.py")
  fi
}

# fsync_probes FILE RUNS SECONDS: runs the probe (fsync_probe_setup first) RUNS times for SECONDS
# each on FILE, removes FILE, and appends each ops/s figure to the array FSYNC_SAMPLES.
fsync_probes() {
  local file="$1" runs="$2" secs="$3" i
  for ((i = 0; i < runs; i++)); do
    FSYNC_SAMPLES+=("$("${FSYNC_PROBE[@]}" "$file" "$secs")")
  done
  rm -f "$file"
}

# sample_stats N...: prints "MEDIAN MIN MAX" of the numbers (the median of an even count is the
# mean of the middle two, rounded).
sample_stats() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "0 0 0"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.0f %s %s\n", m, v[1], v[NR] }'
}
