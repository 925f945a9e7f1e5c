#!/usr/bin/env bash
# age file encryption throughput: `coffer age encrypt` / `coffer age decrypt` against Debian's
# `age` on the same SIZE_MB file (default 256), same run, output to /dev/null (stdout), input from
# the page cache. Each tool runs ROUNDS times (default 3), alternating; the best time counts.
# Also checks once that each tool decrypts the other's file to the original bytes.
# Usage: bench/age_encrypt.sh   (env: SIZE_MB, ROUNDS, COFFER_BIN)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need age age-keygen cmp
need_coffer

SIZE_MB="${SIZE_MB:-256}"
ROUNDS="${ROUNDS:-3}"
bench_mktemp tmp
age-keygen -o "$tmp/key.txt" 2>/dev/null
recipient="$(age-keygen -y "$tmp/key.txt")"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$tmp/plain"
"$COFFER_BIN" age encrypt -r "$recipient" -o "$tmp/coffer.age" "$tmp/plain"
age -r "$recipient" -o "$tmp/age.age" "$tmp/plain"
# Interop on the full file: each tool decrypts the other's output.
age -d -i "$tmp/key.txt" "$tmp/coffer.age" | cmp -s - "$tmp/plain" || die "age could not decrypt coffer's file"
"$COFFER_BIN" age decrypt -i "$tmp/key.txt" "$tmp/age.age" | cmp -s - "$tmp/plain" ||
  die "coffer could not decrypt age's file"

# seconds CMD...: wall time of one run (stdout to /dev/null), printed with 3 decimals.
seconds() {
  local t0 t1
  t0="$(date +%s%N)"
  "$@" >/dev/null
  t1="$(date +%s%N)"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }

ce="" ae="" cd="" ad=""
for ((i = 0; i < ROUNDS; i++)); do
  ce="$(min "$(seconds "$COFFER_BIN" age encrypt -r "$recipient" "$tmp/plain")" "$ce")"
  ae="$(min "$(seconds age -r "$recipient" "$tmp/plain")" "$ae")"
  cd="$(min "$(seconds "$COFFER_BIN" age decrypt -i "$tmp/key.txt" "$tmp/coffer.age")" "$cd")"
  ad="$(min "$(seconds age -d -i "$tmp/key.txt" "$tmp/age.age")" "$ad")"
done
mbps() { awk -v mb="$SIZE_MB" -v s="$1" 'BEGIN { printf "%.0f", mb / s }'; }
ce_mbps="$(mbps "$ce")" ae_mbps="$(mbps "$ae")" cd_mbps="$(mbps "$cd")" ad_mbps="$(mbps "$ad")"
enc_ratio="$(ratio "$ce_mbps" "$ae_mbps")"
dec_ratio="$(ratio "$cd_mbps" "$ad_mbps")"
printf 'age_encrypt: %s MB, best of %s: encrypt coffer %s MB/s (%ss), age %s MB/s (%ss), ratio %s; target >= 1.0\n' \
  "$SIZE_MB" "$ROUNDS" "$ce_mbps" "$ce" "$ae_mbps" "$ae" "$enc_ratio"
printf 'age_encrypt: %s MB, best of %s: decrypt coffer %s MB/s (%ss), age %s MB/s (%ss), ratio %s; target >= 1.0\n' \
  "$SIZE_MB" "$ROUNDS" "$cd_mbps" "$cd" "$ad_mbps" "$ad" "$dec_ratio"
result age_encrypt_coffer_mbps "$ce_mbps"
result age_encrypt_age_mbps "$ae_mbps"
result age_encrypt_ratio "$enc_ratio"
result age_decrypt_coffer_mbps "$cd_mbps"
result age_decrypt_age_mbps "$ad_mbps"
result age_decrypt_ratio "$dec_ratio"
