#!/usr/bin/env bash
# Idle memory: start `coffer server -dev`, leave it idle for 2 s, read VmRSS from /proc/PID/status.
# Usage: bench/idle_rss.sh   (env: IDLE_SECONDS)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need_coffer

IDLE_SECONDS="${IDLE_SECONDS:-2}"
bench_mktemp tmp
port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "bench-root-token" "$port"
sleep "$IDLE_SECONDS"
rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$COFFER_PID/status")"
hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$COFFER_PID/status")"
threads="$(awk '/^Threads:/ {print $2}' "/proc/$COFFER_PID/status")"
bench_stop "$COFFER_PID"
rss_mb="$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
hwm_mb="$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
printf 'idle_rss: coffer server -dev VmRSS %s MB after %ss idle (peak %s MB, %s threads; target < 20 MB)\n' \
  "$rss_mb" "$IDLE_SECONDS" "$hwm_mb" "$threads"
result idle_rss_mb "$rss_mb"
