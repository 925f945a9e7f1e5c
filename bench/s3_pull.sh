#!/usr/bin/env bash
# Pull of N (default 500) secrets from a local s3rver in one `coffer s3 pull NAME... --export`
# process (one pooled keep-alive connection, each object fetched, parsed, its DEK unwrapped with
# age X25519 and the value decrypted), against a same-run baseline: one curl process fetching the
# same N objects with SigV4 over one keep-alive connection and doing no crypto at all.
# Prints the time per secret for both and the ratio coffer/curl. The cache is off.
# Coffer runs twice per round: sequentially (--parallel 1, one connection) and with PARALLEL
# requests in flight (default 4, each on its own pooled connection).
# Usage: bench/s3_pull.sh   (env: N, default 500; ROUNDS, default 3, best round kept; PARALLEL)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_traps
need curl node
need_coffer
S3RVER="$REPO_DIR/tests/node_modules/.bin/s3rver"
[[ -x "$S3RVER" ]] || die "s3rver not installed; run scripts/bootstrap (npm install in tests/)"

N="${N:-500}"
ROUNDS="${ROUNDS:-3}"
PARALLEL="${PARALLEL:-4}"
bench_mktemp tmp
mkdir -p "$tmp/data" "$tmp/home" "$tmp/work"
port="$(free_port)"
"$S3RVER" --directory "$tmp/data" --address 127.0.0.1 --port "$port" --silent >"$tmp/s3rver.log" 2>&1 &
bench_track $!
endpoint="http://127.0.0.1:$port"
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null "$endpoint/" && break
  sleep 0.1
done

export HOME="$tmp/home" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
cd "$tmp/work"
"$COFFER_BIN" s3 init --bucket bench --endpoint "$endpoint" --key-file "$tmp/master.key" --create-bucket \
  >/dev/null 2>&1 || die "coffer s3 init failed"
names=()
: >"$tmp/work/bench.env"
for ((i = 0; i < N; i++)); do
  names+=("SECRET_$i")
  printf 'SECRET_%d=value-%d-%s\n' "$i" "$i" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" >>"$tmp/work/bench.env"
done
"$COFFER_BIN" s3 push-from-env bench.env --no-cache >/dev/null 2>&1 || die "push-from-env failed"
urls=()
for n in "${names[@]}"; do urls+=("$endpoint/bench/secrets/$n.json"); done

echo "s3_pull: $N secrets, s3rver $(node -p "require('$REPO_DIR/tests/node_modules/s3rver/package.json').version")"
now_ns() { date +%s%N; }
best_coffer=0
best_par=0
best_curl=0
for ((r = 0; r < ROUNDS; r++)); do
  tp="$(now_ns)"
  "$COFFER_BIN" s3 pull --no-cache --parallel "$PARALLEL" --export "${names[@]}" >"$tmp/out-par.sh"
  t0="$(now_ns)"
  "$COFFER_BIN" s3 pull --no-cache --parallel 1 --export "${names[@]}" >"$tmp/out.sh"
  t1="$(now_ns)"
  # curl 7.88 does not send the x-amz-content-sha256 header S3 requires; give it (empty body).
  curl -s -f --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "${urls[@]}" >/dev/null
  t2="$(now_ns)"
  c=$((t1 - t0)) b=$((t2 - t1)) p=$((t0 - tp))
  ((best_coffer == 0 || c < best_coffer)) && best_coffer=$c
  ((best_par == 0 || p < best_par)) && best_par=$p
  ((best_curl == 0 || b < best_curl)) && best_curl=$b
done
[[ "$(grep -c '^export SECRET_' "$tmp/out.sh")" == "$N" ]] || die "coffer did not export $N secrets"
coffer_ms="$(awk -v t="$best_coffer" -v n="$N" 'BEGIN { printf "%.3f", t / n / 1e6 }')"
par_ms="$(awk -v t="$best_par" -v n="$N" 'BEGIN { printf "%.3f", t / n / 1e6 }')"
cmp -s "$tmp/out.sh" "$tmp/out-par.sh" || die "parallel and sequential pulls differ"
curl_ms="$(awk -v t="$best_curl" -v n="$N" 'BEGIN { printf "%.3f", t / n / 1e6 }')"
r="$(ratio "$coffer_ms" "$curl_ms")"
printf 's3_pull: coffer %s ms per secret (fetch + parse + age unwrap + decrypt; %d in one process)\n' "$coffer_ms" "$N"
printf 's3_pull: coffer %s ms per secret with --parallel %s\n' "$par_ms" "$PARALLEL"
printf 's3_pull: curl   %s ms per object (fetch only, SigV4, one process)\n' "$curl_ms"
printf 's3_pull: ratio coffer/curl = %s\n' "$r"
result s3_pull_coffer_ms "$coffer_ms"
result s3_pull_parallel_ms "$par_ms"
result s3_pull_curl_ms "$curl_ms"
result s3_pull_ratio "$r"
