#!/usr/bin/env bash
# make bench: every benchmark, each printing its figures as ratios against a baseline measured in
# the same run. Needs the stack and services (started here if they are not running).
# BENCH_SEARCH_SIZE (default 1000000) sets the archive size of the search benchmark; 10000000 is
# the issue's target size and takes much longer on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/../services/env.sh"
cd "$cz_root"
bash scripts/services/up.sh
cz_services_env

run() {
  cz_step "bench $1"
  log "=== $1 ==="
  shift
  "$@"
}
run crypto npx tsx scripts/bench/crypto-bench.ts
run puller node --security-revert=CVE-2023-46809 --import tsx scripts/bench/puller-bench.ts
run keys npx tsx scripts/bench/keys-bench.ts
run recordings npx tsx scripts/bench/recordings-bench.ts --mib "${BENCH_RECORDING_MIB:-1024}"
run search env SIZE="${BENCH_SEARCH_SIZE:-1000000}" npx tsx scripts/bench/search-bench.ts
run lexicon npx tsx scripts/bench/lexicon-bench.ts
run compliance env BENCH_RESCAN_SIZE="${BENCH_RESCAN_SIZE:-100000}" npx tsx scripts/bench/compliance-bench.ts
