#!/usr/bin/env bash
# Whole-process latency of the CLI: `coffer kv get -field=x secret/app` against a local dev server
# (KV v2 at secret/), compared in the same run with curl doing the same GET with the token header.
# Both run N times back to back, alternating in rounds so drift hits both equally; prints the mean
# wall time per process for each and the ratio coffer/curl (target <= 1.5).
# Note: the CLI makes two requests (sys/internal/ui/mounts to detect the KV version, then the
# read), as Vault's CLI does; curl makes one.
# If `kv get` is not available in this build, falls back to `read -field=x secret/data/app`, then
# to `token lookup -field=id` (and says which one it measured).
# Usage: bench/cli_get.sh   (env: RUNS, default 200)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need curl
need_coffer

RUNS="${RUNS:-200}"
ROUNDS=4
TOKEN="bench-root-token"
bench_mktemp tmp

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$TOKEN" "$port"
http_expect 200,204 POST "$COFFER_ADDR/v1/secret/data/app" "$TOKEN" '{"data":{"x":"bench-value"}}' >/dev/null

export VAULT_ADDR="$COFFER_ADDR" VAULT_TOKEN="$TOKEN" HOME="$tmp"
unset VAULT_MAX_RETRIES VAULT_NAMESPACE VAULT_FORMAT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# Pick the command to measure and the equivalent curl request.
cli=(kv get -field=x secret/app)
curl_path="/v1/secret/data/app"
expect="bench-value"
label="kv get -field=x secret/app"
if [[ "$("$COFFER_BIN" "${cli[@]}" 2>/dev/null || true)" != "$expect" ]]; then
  cli=(read -field=x secret/data/app)
  label="read -field=x secret/data/app (kv get unavailable)"
  if [[ "$("$COFFER_BIN" "${cli[@]}" 2>/dev/null || true)" != "$expect" ]]; then
    cli=(token lookup -field=id)
    curl_path="/v1/auth/token/lookup-self"
    expect="$TOKEN"
    label="token lookup -field=id (kv get and read unavailable)"
    [[ "$("$COFFER_BIN" "${cli[@]}")" == "$expect" ]] || die "the CLI cannot read from the dev server"
  fi
fi
echo "cli_get: measuring \`coffer $label\` vs curl GET $curl_path, $RUNS runs each"

now_ns() { date +%s%N; }
coffer_ns=0
curl_ns=0
per_round=$((RUNS / ROUNDS))
for ((r = 0; r < ROUNDS; r++)); do
  t0="$(now_ns)"
  for ((i = 0; i < per_round; i++)); do
    "$COFFER_BIN" "${cli[@]}" >/dev/null
  done
  t1="$(now_ns)"
  for ((i = 0; i < per_round; i++)); do
    curl -s -f -H "X-Vault-Token: $TOKEN" "$COFFER_ADDR$curl_path" -o /dev/null
  done
  t2="$(now_ns)"
  coffer_ns=$((coffer_ns + t1 - t0))
  curl_ns=$((curl_ns + t2 - t1))
done
n=$((per_round * ROUNDS))
coffer_ms="$(awk -v t="$coffer_ns" -v n="$n" 'BEGIN { printf "%.2f", t / n / 1e6 }')"
curl_ms="$(awk -v t="$curl_ns" -v n="$n" 'BEGIN { printf "%.2f", t / n / 1e6 }')"
r="$(ratio "$coffer_ms" "$curl_ms")"
printf 'cli_get: coffer %s ms per process (%s)\n' "$coffer_ms" "$label"
printf 'cli_get: curl   %s ms per process\n' "$curl_ms"
printf 'cli_get: ratio coffer/curl = %s (target <= 1.5)\n' "$r"
result cli_get_coffer_ms "$coffer_ms"
result cli_get_curl_ms "$curl_ms"
result cli_get_ratio "$r"
