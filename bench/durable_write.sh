#!/usr/bin/env bash
# Durable write throughput: 32 concurrent writers POST distinct keys to a dev server whose storage is
# a SQLite file (synchronous=FULL, group commit), compared with the single-writer fdatasync rate of
# the same filesystem (the probe file sits beside the SQLite file), measured in this run by
# PROBE_RUNS short probes right before and PROBE_RUNS right after the load. A disk's fsync rate can
# swing tenfold within minutes, so the baseline is the median of all the probes and their spread
# (min-max) is printed with the ratio it allows.
# Prints both and the ratio coffer/fdatasync (against the median).
# Usage: bench/durable_write.sh   (env: DURATION, THREADS, CONNS, PROBE_RUNS, PROBE_SECONDS, BENCH_TMPDIR)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
PROBE_RUNS="${PROBE_RUNS:-3}"        # probes before the load, and as many after it
PROBE_SECONDS="${PROBE_SECONDS:-1}"  # length of each probe
TOKEN="bench-root-token"
bench_mktemp tmp
fs="$(stat -f -c %T "$tmp")"
echo "durable_write: scratch dir $tmp (filesystem $fs)"
[[ "$fs" != tmpfs ]] || echo "durable_write: WARNING: $tmp is a tmpfs; fdatasync costs nothing there" >&2

# --- Baseline: one writer, 8 KB overwrite + fdatasync, as fast as the disk allows, in the directory
# of the SQLite file; PROBE_RUNS short probes now and PROBE_RUNS more right after the load.
fsync_probe_setup "$tmp"
FSYNC_SAMPLES=()
fsync_probes "$tmp/fsync_probe.dat" "$PROBE_RUNS" "$PROBE_SECONDS"

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
# Probe again right after the load: a disk's fsync rate drifts, so the baseline is the median of
# the probes on both sides, and their spread says how far to trust the ratio.
fsync_probes "$tmp/fsync_probe.dat" "$PROBE_RUNS" "$PROBE_SECONDS"
read -r fsync_ops fsync_min fsync_max < <(sample_stats "${FSYNC_SAMPLES[@]}")
n_before="$PROBE_RUNS"
fsync_before="${FSYNC_SAMPLES[*]:0:n_before}" fsync_after="${FSYNC_SAMPLES[*]:n_before}"
db_bytes=0
for f in "$tmp"/coffer.db*; do [[ -f "$f" ]] && db_bytes=$((db_bytes + $(stat -c %s "$f"))); done

r="$(ratio "$write_rps" "$fsync_ops")"
printf 'durable_write: fdatasync (1 writer, 8 KB) median %s ops/s of %s probes of %ss, spread %s-%s (x%s) (before: %s; after: %s) via %s, %s\n' \
  "$fsync_ops" "${#FSYNC_SAMPLES[@]}" "$PROBE_SECONDS" "$fsync_min" "$fsync_max" \
  "$(ratio "$fsync_max" "$fsync_min")" "${fsync_before// /, }" "${fsync_after// /, }" \
  "$(basename "${FSYNC_PROBE[-1]}")" "$fs"
printf 'durable_write: coffer %s writes/s with %s connections (avg latency %s, %s errors/non-2xx, %s keys stored, db %s bytes)\n' \
  "$write_rps" "$CONNS" "$write_lat" "$write_bad" "$stored" "${db_bytes:-?}"
printf 'durable_write: ratio coffer/fdatasync = %s against the median (%s-%s over the probes'"'"' spread) (target >= 3)\n' \
  "$r" "$(ratio "$write_rps" "$fsync_max")" "$(ratio "$write_rps" "$fsync_min")"
result fsync_ops "$fsync_ops"
result fsync_ops_min "$fsync_min"
result fsync_ops_max "$fsync_max"
result durable_write_rps "$write_rps"
result durable_write_ratio "$r"
result durable_write_errors "$write_bad"
result durable_write_stored "$stored"
