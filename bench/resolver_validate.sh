#!/usr/bin/env bash
# `coffer secrets validate` (whole process) with 200 Vault secrets spread over 50 KV v2 paths
# (4 keys each), against the same command with 1 Vault secret, in the same run, on a local dev
# server. The resolver reads the 50 paths once each (lookups at one path share a request) on a
# pool of threads over pooled connections. Also measured: the same 200 secrets resolved one
# request at a time (hidden flags -no-coalesce -parallel=1), the naive baseline.
# Prints mean wall time per process and the ratios 200/1 (target <= 2) and 200 one-at-a-time/200.
# Usage: bench/resolver_validate.sh   (env: RUNS, default 40)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need_coffer

RUNS="${RUNS:-40}"
ROUNDS=4
TOKEN="bench-root-token"
bench_mktemp tmp

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$TOKEN" "$port"

# 50 paths x 4 keys, written in one Python process.
"$PY" - "$COFFER_ADDR" "$TOKEN" <<'PYEOF'
import json, sys, urllib.request
addr, token = sys.argv[1], sys.argv[2]
for p in range(50):
    body = json.dumps({"data": {f"k{k}": f"value-{p}-{k}" for k in range(4)}}).encode()
    req = urllib.request.Request(f"{addr}/v1/secret/data/bench/p{p}", data=body, method="POST",
                                 headers={"X-Vault-Token": token, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
PYEOF

mkdir -p "$tmp/many" "$tmp/one"
{
  echo "secrets:"
  for ((p = 0; p < 50; p++)); do
    for ((k = 0; k < 4; k++)); do
      printf '  - name: S_%d_%d\n    source: vault\n    vaultPath: secret/data/bench/p%d\n    vaultKey: k%d\n    required: true\n' \
        "$p" "$k" "$p" "$k"
    done
  done
} >"$tmp/many/coffer.yaml"
printf 'secrets:\n  - name: ONE\n    source: vault\n    vaultPath: secret/data/bench/p0\n    vaultKey: k0\n    required: true\n' \
  >"$tmp/one/coffer.yaml"

export VAULT_ADDR="$COFFER_ADDR" VAULT_TOKEN="$TOKEN" HOME="$tmp"
unset VAULT_MAX_RETRIES VAULT_NAMESPACE VAULT_FORMAT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

many=(secrets validate -no-cache -c "$tmp/many/coffer.yaml")
one=(secrets validate -no-cache -c "$tmp/one/coffer.yaml")
serial=(secrets validate -no-cache -no-coalesce -parallel=1 -c "$tmp/many/coffer.yaml")
for cmd in many one serial; do
  declare -n c="$cmd"
  out="$("$COFFER_BIN" "${c[@]}")" || die "validate ($cmd) failed: $out"
  [[ "$(grep -c '^\[OK\]' <<<"$out")" == $([[ $cmd == one ]] && echo 1 || echo 200) ]] || die "validate ($cmd): wrong output"
done
echo "resolver_validate: secrets validate, 200 vault secrets over 50 paths vs 1 secret, $RUNS runs each"

now_ns() { date +%s%N; }
many_ns=0
one_ns=0
serial_ns=0
per_round=$((RUNS / ROUNDS))
for ((r = 0; r < ROUNDS; r++)); do
  t0="$(now_ns)"
  for ((i = 0; i < per_round; i++)); do "$COFFER_BIN" "${many[@]}" >/dev/null; done
  t1="$(now_ns)"
  for ((i = 0; i < per_round; i++)); do "$COFFER_BIN" "${one[@]}" >/dev/null; done
  t2="$(now_ns)"
  for ((i = 0; i < per_round; i++)); do "$COFFER_BIN" "${serial[@]}" >/dev/null; done
  t3="$(now_ns)"
  many_ns=$((many_ns + t1 - t0))
  one_ns=$((one_ns + t2 - t1))
  serial_ns=$((serial_ns + t3 - t2))
done
n=$((per_round * ROUNDS))
ms() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.2f", t / n / 1e6 }'; }
many_ms="$(ms "$many_ns")"
one_ms="$(ms "$one_ns")"
serial_ms="$(ms "$serial_ns")"
r_one="$(ratio "$many_ms" "$one_ms")"
r_serial="$(ratio "$serial_ms" "$many_ms")"
printf 'resolver_validate: 200 secrets / 50 paths  %s ms per process\n' "$many_ms"
printf 'resolver_validate: 1 secret                %s ms per process\n' "$one_ms"
printf 'resolver_validate: 200 one-at-a-time       %s ms per process\n' "$serial_ms"
printf 'resolver_validate: ratio 200/1 = %s (target <= 2); one-at-a-time/coalesced = %s\n' "$r_one" "$r_serial"
result resolver_validate_200_ms "$many_ms"
result resolver_validate_1_ms "$one_ms"
result resolver_validate_serial_ms "$serial_ms"
result resolver_validate_ratio "$r_one"
result resolver_validate_serial_ratio "$r_serial"
