#!/usr/bin/env bash
# Durable write throughput: 32 concurrent writers POST distinct keys to a dev server whose storage is
# a SQLite file (synchronous=FULL, group commit), compared with the single-writer fdatasync rate of
# the same filesystem, measured in this run before and after the load (the mean is the baseline).
# Prints both and the ratio coffer/fdatasync.
# Usage: bench/durable_write.sh   (env: DURATION, THREADS, CONNS, PROBE_SECONDS, BENCH_TMPDIR)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
PROBE_SECONDS="${PROBE_SECONDS:-2}"
TOKEN="bench-root-token"
bench_mktemp tmp
fs="$(stat -f -c %T "$tmp")"
echo "durable_write: scratch dir $tmp (filesystem $fs)"
[[ "$fs" != tmpfs ]] || echo "durable_write: WARNING: $tmp is a tmpfs; fdatasync costs nothing there" >&2

# --- Baseline: one writer, 8 KB overwrite + fdatasync, as fast as the disk allows.
fsync_probe_setup "$tmp"
probe=("${FSYNC_PROBE[@]}")
fsync_before="$("${probe[@]}" "$tmp/fsync_probe.dat" "$PROBE_SECONDS")"

# --- Coffer with durable storage in the same directory.
port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$TOKEN" "$port" -dev-storage="$tmp/coffer.db"
mount_kv1 "$COFFER_ADDR" "$TOKEN" kv

cat >"$tmp/write.lua" <<'LUA'
-- POSTs a small JSON object to a key no other request uses: /v1/kv/durable/<thread>-<n>.
local next_thread = 0
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local n = 0
local body = '{"user":"svc-bench","password":"0123456789abcdef0123456789abcdef"}'
function init(args)
  wrk.headers["X-Vault-Token"] = os.getenv("BENCH_TOKEN") or ""
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  return wrk.format("POST", "/v1/kv/durable/" .. thread_id .. "-" .. n, nil, body)
end
LUA

export BENCH_TOKEN="$TOKEN"
run_wrk "$tmp/wrk-write.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$tmp/write.lua" "$COFFER_ADDR"
parse_wrk "$tmp/wrk-write.txt"
write_rps="$WRK_RPS" write_lat="$WRK_LAT_AVG" write_bad="$((WRK_NON2XX + WRK_ERRORS))"

# Count what was stored (a LIST of the folder), to show the writes were real.
out="$(http GET "$COFFER_ADDR/v1/kv/durable?list=true" "$TOKEN")"
stored="$("$PY" -c 'import json, sys
try: print(len(json.loads(sys.stdin.read())["data"]["keys"]))
except Exception: print("?")' <<<"${out#*$'\t'}")"
bench_stop "$COFFER_PID"
# Probe again after the load: a disk's fsync rate drifts, so the baseline is the mean of both.
fsync_after="$("${probe[@]}" "$tmp/fsync_probe.dat" "$PROBE_SECONDS")"
rm -f "$tmp/fsync_probe.dat"
fsync_ops=$(((fsync_before + fsync_after) / 2))
db_bytes=0
for f in "$tmp"/coffer.db*; do [[ -f "$f" ]] && db_bytes=$((db_bytes + $(stat -c %s "$f"))); done

r="$(ratio "$write_rps" "$fsync_ops")"
printf 'durable_write: fdatasync (1 writer, 8 KB) %s ops/s (before %s, after %s) via %s\n' \
  "$fsync_ops" "$fsync_before" "$fsync_after" "$(basename "${probe[-1]}")"
printf 'durable_write: coffer %s writes/s with %s connections (avg latency %s, %s errors/non-2xx, %s keys stored, db %s bytes)\n' \
  "$write_rps" "$CONNS" "$write_lat" "$write_bad" "$stored" "${db_bytes:-?}"
printf 'durable_write: ratio coffer/fdatasync = %s (target >= 3)\n' "$r"
result fsync_ops "$fsync_ops"
result durable_write_rps "$write_rps"
result durable_write_ratio "$r"
result durable_write_errors "$write_bad"
result durable_write_stored "$stored"
