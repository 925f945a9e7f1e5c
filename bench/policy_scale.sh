#!/usr/bin/env bash
# Policy evaluation cost: KV v2 reads of secret/data/bench with a token holding 1,000 ACL policies of
# 20 rules each (the read rule is in the last one) against a token holding only that last policy,
# on the same dev server in this run, with the same wrk load. Prints req/s for both and the ratio
# many/one. Usage: bench/policy_scale.sh   (env: DURATION, THREADS, CONNS, WARMUP, POLICIES, RULES)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need wrk
need_coffer

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
POLICIES="${POLICIES:-1000}"
RULES="${RULES:-20}"
ROOT="bench-root-token"
bench_mktemp tmp

port="$(free_port)"
start_coffer_dev "$tmp/coffer.log" "$ROOT" "$port"
A="$COFFER_ADDR"
http_expect 200,204 POST "$A/v1/secret/data/bench" "$ROOT" "{\"data\":$(bench_secret_json)}" >/dev/null
read -r TOKEN_MANY TOKEN_ONE setup_s < <("$PY" "$BENCH_DIR/policy_scale.py" "$A" "$ROOT" "$POLICIES" "$RULES" || echo FAILED)
[[ "$TOKEN_MANY" != FAILED && -n "$TOKEN_ONE" ]] || die "setting up $POLICIES policies failed (see above)"
# Both tokens read the secret, and neither is root.
http_expect 200 GET "$A/v1/secret/data/bench" "$TOKEN_MANY" >/dev/null
http_expect 200 GET "$A/v1/secret/data/bench" "$TOKEN_ONE" >/dev/null
http_expect 403 GET "$A/v1/secret/data/other" "$TOKEN_MANY" >/dev/null
echo "policy_scale: $POLICIES policies x $RULES rules written in ${setup_s}s ($(ratio "$POLICIES" "$setup_s") policies/s); both tokens read secret/data/bench"

wrk_get "$tmp/wrk-one.txt" "$A/v1/secret/data/bench" "$TOKEN_ONE"
one_rps="$WRK_RPS" one_lat="$WRK_LAT_AVG" one_bad="$((WRK_NON2XX + WRK_ERRORS))"
wrk_get "$tmp/wrk-many.txt" "$A/v1/secret/data/bench" "$TOKEN_MANY"
many_rps="$WRK_RPS" many_lat="$WRK_LAT_AVG" many_bad="$((WRK_NON2XX + WRK_ERRORS))"
bench_stop "$COFFER_PID"

r="$(ratio "$many_rps" "$one_rps")"
printf 'policy_scale: token with 1 policy        %s req/s (avg latency %s, %s errors/non-2xx)\n' "$one_rps" "$one_lat" "$one_bad"
printf 'policy_scale: token with %s policies %s req/s (avg latency %s, %s errors/non-2xx)\n' "$POLICIES" "$many_rps" "$many_lat" "$many_bad"
printf 'policy_scale: ratio %s policies / 1 policy = %s (target >= 0.5)\n' "$POLICIES" "$r"
result policy_scale_one_rps "$one_rps"
result policy_scale_many_rps "$many_rps"
result policy_scale_ratio "$r"
result policy_scale_errors "$((one_bad + many_bad))"
